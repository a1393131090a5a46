"""RB-26: load empties the buffer before it reads the file, so a refused file loses the items."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-26"]
TESTS = "test_replay_buffer_persistence"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def load(self, path: Any) -> Any:
        self._position = self._size = 0
        return super().load(path)
