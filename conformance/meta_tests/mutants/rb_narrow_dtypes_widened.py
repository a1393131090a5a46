"""The buffer stores float16 and bfloat16 as float32, int8 and int16 as int32 (the dtypes its
storage has), and samples come back in the widened dtype."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import copy_workspace, reference_name

KILLED_BY = ["RB-8"]
TESTS = "test_replay_buffer"

_WIDER = {
    torch.float16: torch.float32,
    torch.bfloat16: torch.float32,
    torch.int8: torch.int32,
    torch.int16: torch.int32,
}


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def _widen(name: str, value: torch.Tensor) -> torch.Tensor:
    return value.detach().to(_WIDER.get(value.dtype, value.dtype))


class ReplayBuffer(_ReplayBuffer):
    def put(self, workspace: Any) -> None:
        super().put(copy_workspace(workspace, _widen))
