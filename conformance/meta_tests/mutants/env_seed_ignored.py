"""B11-like: seed(s) ignores s, so every seed gives the same rollouts."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agent,
    Agents,
    ReplayBuffer,
    TemporalAgent,
    Workspace,
    make_env,
)
from bbrl_reference import (
    ParallelGymAgent as _ParallelGymAgent,
)

KILLED_BY = ["DET-4"]
TESTS = "test_determinism"
__all__ = [
    "Agent",
    "Agents",
    "ParallelGymAgent",
    "ReplayBuffer",
    "TemporalAgent",
    "Workspace",
    "make_env",
]


class ParallelGymAgent(_ParallelGymAgent):
    def seed(self, seed: int) -> Any:
        return super().seed(1234)
