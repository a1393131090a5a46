"""RB-25: load restores the items but not the generator, so a resumed run samples otherwise."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-25"]
TESTS = "test_replay_buffer_persistence"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def load(self, path: Any) -> Any:
        state = self.generator.get_state()
        super().load(path)
        self.generator.set_state(state)
        return self
