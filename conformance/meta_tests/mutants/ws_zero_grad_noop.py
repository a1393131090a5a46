"""zero_grad does nothing: variables keep their autograd history."""

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

KILLED_BY = ["WS-14"]
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
    def zero_grad(self) -> None:
        pass
