"""size() counts every item ever put, not min(put, max_size)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-3"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def _columns(ws: Any) -> int:
    return int(ws.get_full(next(iter(ws.keys()))).shape[1])


class ReplayBuffer(_ReplayBuffer):
    def __init__(self, max_size: int, device: Any = None) -> None:
        super().__init__(max_size, device)
        self._total = 0

    def put(self, workspace: Any) -> None:
        super().put(workspace)
        self._total += _columns(workspace)

    def size(self) -> int:
        return self._total
