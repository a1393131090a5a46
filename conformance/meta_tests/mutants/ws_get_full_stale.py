"""get_full caches its result and never refreshes it after a set."""

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

KILLED_BY = ["WS-6"]
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
    def __init__(self) -> None:
        super().__init__()
        self._stale: dict[str, torch.Tensor] = {}

    def get_full(self, var_name: str) -> torch.Tensor:
        if var_name not in self._stale:
            self._stale[var_name] = super().get_full(var_name)
        return self._stale[var_name]
