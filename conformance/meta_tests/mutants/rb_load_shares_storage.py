"""load_state_dict adopts the storage of the buffer the state came from instead of copying its
items (a zero-copy load): a put into either buffer afterwards changes the other one."""

from __future__ import annotations

from collections.abc import Mapping
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


class _Variables(dict):  # type: ignore[type-arg]
    """The state's variables, carrying the storage they were read from."""

    storage: Any = None


class ReplayBuffer(_ReplayBuffer):
    def state_dict(self) -> Any:
        state: dict[str, Any] = dict(super().state_dict())
        variables = _Variables(state["variables"])
        variables.storage = self._storage
        state["variables"] = variables
        return state

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        super().load_state_dict(state)
        storage = getattr(state["variables"], "storage", None)
        if storage is not None:
            self._storage = storage  # the bug: shared with the buffer the state came from
