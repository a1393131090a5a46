"""Growing a variable fills the gap rows with ones instead of zeros."""

from __future__ import annotations

import torch
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

KILLED_BY = ["WS-3"]
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
    def set(self, var_name: str, t: int, value: torch.Tensor) -> None:
        if var_name in self:
            size = self.get_full(var_name).shape[0]
            for gap in range(size, t):
                super().set(var_name, gap, torch.ones_like(value))
        super().set(var_name, t, value)
