"""B6: get_shuffled on an empty buffer raises a RuntimeError."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-10"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def get_shuffled(self, batch_size: int, generator: Any = None) -> Any:
        if self.size() == 0:
            raise RuntimeError("random_ expects 'from' to be less than 'to'")
        return super().get_shuffled(batch_size, generator)
