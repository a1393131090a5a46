"""get(name, t) with t < 0 indexes from the end, as bbrl does (D1)."""

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

KILLED_BY = ["ERR-2"]
TESTS = "test_errors"
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
    def get(self, var_name: str, t: int) -> torch.Tensor:
        if t < 0 and var_name in self:
            return super().get(var_name, self.get_full(var_name).shape[0] + t)
        return super().get(var_name, t)
