"""A put of a workspace of batch size 0 returns early ("nothing to store"), so it does not fix
the schema: after a first put of no items (every pair filtered out), a put with another
variable, time size, item shape or dtype is accepted (RB-6)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)
from bbrl_reference import (
    Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["RB-6"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def put(self, workspace: Any) -> None:
        if isinstance(workspace, Workspace) and workspace.batch_size() == 0:
            self._check_put(workspace)  # checked against the schema, if any, but never fixes it
            return
        super().put(workspace)
