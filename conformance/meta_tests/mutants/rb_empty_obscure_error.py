"""B6: get_shuffled on an empty buffer raises a RuntimeError."""

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

KILLED_BY = ["RB-10"]
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
    def get_shuffled(self, batch_size: int, generator: Any = None) -> Any:
        if self.size() == 0:
            raise RuntimeError("random_ expects 'from' to be less than 'to'")
        return super().get_shuffled(batch_size, generator)
