"""The reference with a ``make_env`` that takes no arguments: the test of make_env's call shape
(ENV-1) fails, everything else passes. A failing implementation for the ledger's meta tests."""

from typing import Any

import bbrl_reference
from bbrl_reference import Agent, Agents, ParallelGymAgent, ReplayBuffer, TemporalAgent, Workspace

__all__ = [
    "Agent",
    "Agents",
    "ParallelGymAgent",
    "ReplayBuffer",
    "TemporalAgent",
    "Workspace",
    "make_env",
]


def make_env() -> Any:
    raise TypeError("this make_env takes no arguments")


def __getattr__(name: str) -> Any:
    """The reference's other names (bbrl's agent conveniences, AG-17..AG-24), PEP 562."""
    return getattr(bbrl_reference, name)
