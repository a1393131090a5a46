"""load_state_dict restores the items but not the write position of a wrapped ring: the
restored buffer then evicts an item that is not the oldest."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

# Written for the program generator, whose clause for it varied between machines (the
# first differing value of a generated program); the hand-written tests of TESTS now
# catch it deterministically, under the clause below.
KILLED_BY = ["RB-12"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def load_state_dict(self, state: Any) -> None:
        state = dict(state)
        state["position"] = state["size"] % state["max_size"]
        super().load_state_dict(state)
