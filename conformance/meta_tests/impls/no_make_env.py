"""The reference without ``make_env``: the surface tests of make_env must fail, the rest pass."""

from typing import Any

import bbrl_reference
from bbrl_reference import (
    Agent,
    Agents,
    ParallelGymAgent,
    ReplayBuffer,
    TemporalAgent,
    Workspace,
)

__all__ = ["Agent", "Agents", "ParallelGymAgent", "ReplayBuffer", "TemporalAgent", "Workspace"]


def __getattr__(name: str) -> Any:
    """The reference's names other than make_env (PEP 562)."""
    if name == "make_env":
        raise AttributeError(name)
    return getattr(bbrl_reference, name)
