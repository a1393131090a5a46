"""The env agent draws from torch's global generator at every step."""

from __future__ import annotations

from typing import Any

import torch
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

KILLED_BY = ["DET-6"]
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
    def forward(self, t: int, **kwargs: Any) -> None:
        torch.rand(1)
        super().forward(t, **kwargs)
