"""The buffer flattens items of rank 2 or more to rank 1 ([T, N, prod(S)]) and never restores
their shape: samples of image-like items come back flat."""

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


def _flatten(name: str, value: torch.Tensor) -> torch.Tensor:
    value = value.detach()
    return value.flatten(2) if value.dim() > 3 else value


class ReplayBuffer(_ReplayBuffer):
    def put(self, workspace: Any) -> None:
        super().put(copy_workspace(workspace, _flatten))
