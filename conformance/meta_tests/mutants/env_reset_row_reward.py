"""The row after a done holds reward 1 instead of 0 (reset row and frozen row)."""

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

KILLED_BY = ["ENV-6", "ENV-7"]
TESTS = "test_env_agent"
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
    def forward(self, t: int, **kwargs: Any) -> None:
        super().forward(t, **kwargs)
        if t > 0:
            done = self.workspace.get("env/done", t - 1)
            reward = self.workspace.get("env/reward", t).clone()
            reward[done] = 1.0
            self.workspace.set("env/reward", t, reward)
