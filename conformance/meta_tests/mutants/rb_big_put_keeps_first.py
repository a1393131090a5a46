"""B4-like: a put of N > max_size items keeps the first max_size."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)
from bbrl_reference import (
    Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["RB-5"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def __init__(self, max_size: int, device: Any = None) -> None:
        super().__init__(max_size, device)
        self._max = max_size

    def put(self, workspace: Any) -> None:
        names = list(workspace.keys())
        if names and workspace.get_full(names[0]).shape[1] > self._max:
            head = Workspace()
            for name in names:
                head.set_full(name, workspace.get_full(name)[:, : self._max])
            workspace = head
        super().put(workspace)
