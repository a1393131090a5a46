"""The buffer stores every variable as float64 and casts back on sampling (one storage dtype
for all variables): exact for every dtype but int64 values beyond 2**53."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import copy_workspace, reference_name

KILLED_BY = ["RB-8"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def _through_float64(name: str, value: torch.Tensor) -> torch.Tensor:
    return value.detach().to(torch.float64).to(value.dtype)


class ReplayBuffer(_ReplayBuffer):
    def put(self, workspace: Any) -> None:
        self._check_put(workspace)  # the schema errors first, as the reference
        super().put(copy_workspace(workspace, _through_float64))
