"""The reference, except that ``Workspace.time_size`` raises: an exception inside the
implementation (not a checked failure) while the tests of WS-1 run."""

from typing import Any

from bbrl_reference import Agent, Agents, ParallelGymAgent, ReplayBuffer, TemporalAgent, make_env
from bbrl_reference import Workspace as _Workspace

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
    def time_size(self) -> Any:
        raise RuntimeError("time_size is broken in this implementation")
