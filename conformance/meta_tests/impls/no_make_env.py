"""The reference without ``make_env``: the surface tests of make_env must fail, the rest pass."""

from bbrl_reference import (
    Agent,
    Agents,
    ParallelGymAgent,
    ReplayBuffer,
    TemporalAgent,
    Workspace,
)

__all__ = ["Agent", "Agents", "ParallelGymAgent", "ReplayBuffer", "TemporalAgent", "Workspace"]
