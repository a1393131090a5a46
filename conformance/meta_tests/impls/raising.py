"""The reference, except that ``Workspace.time_size`` raises: an exception inside the
implementation (not a checked failure) while the tests of WS-1 run."""

from typing import Any

import bbrl_reference
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


def __getattr__(name: str) -> Any:
    """The reference's other names (bbrl's agent conveniences, AG-17..AG-24), PEP 562."""
    return getattr(bbrl_reference, name)
