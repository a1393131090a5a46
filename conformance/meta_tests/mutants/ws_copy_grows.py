"""B3: copy_n_last_steps(n > T) silently grows the workspace instead of raising."""

from __future__ import annotations

from typing import Any

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

KILLED_BY = ["WS-17"]
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
    def copy_n_last_steps(self, n: int, var_names: Any = None) -> None:
        if n > self.time_size():
            for name in list(self.keys()):
                row = self.get(name, 0)
                self.set(name, n - 1, torch.zeros_like(row))
            return
        super().copy_n_last_steps(n, var_names)
