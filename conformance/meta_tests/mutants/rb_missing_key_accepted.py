"""B5: a put missing a variable of the schema is silently accepted."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-6"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def put(self, workspace: Any) -> None:
        try:
            super().put(workspace)
        except KeyError:
            return
