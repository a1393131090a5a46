"""B5: a put missing a variable of the schema is silently accepted."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agent,
    Agents,
    ParallelGymAgent,
    TemporalAgent,
    Workspace,
    make_env,
)
from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

KILLED_BY = ["RB-6"]
TESTS = "test_replay_buffer"
__all__ = [
    "Agent",
    "Agents",
    "ParallelGymAgent",
    "ReplayBuffer",
    "TemporalAgent",
    "Workspace",
    "make_env",
]


class ReplayBuffer(_ReplayBuffer):
    def put(self, workspace: Any) -> None:
        try:
            super().put(workspace)
        except KeyError:
            return
