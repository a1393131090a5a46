"""load_state_dict takes the size from the write position: a restored buffer that had wrapped
around holds fewer items than it should."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-12"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def load_state_dict(self, state: Any) -> None:
        state = dict(state)
        if state["position"] > 0:
            state["size"] = state["position"]
        super().load_state_dict(state)
