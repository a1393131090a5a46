"""clear() without a name removes nothing."""

from __future__ import annotations

from bbrl_reference import (
    Agent,
    Agents,
    ParallelGymAgent,
    ReplayBuffer,
    TemporalAgent,
    make_env,
)
from bbrl_reference import (
    Workspace as _Workspace,
)

# The tests see the variables left behind through keys() (WS-12).
KILLED_BY = ["WS-12"]
TESTS = "test_workspace"
__all__ = [
    "Agent",
    "Agents",
    "ParallelGymAgent",
    "ReplayBuffer",
    "TemporalAgent",
    "Workspace",
    "make_env",
]


class Workspace(_Workspace):
    def clear(self, var_name: str | None = None) -> None:
        if var_name is not None:
            super().clear(var_name)
