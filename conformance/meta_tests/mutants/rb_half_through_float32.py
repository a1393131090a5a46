"""The buffer keeps float16 and bfloat16 items in float32 storage and narrows them back when
they are read: every finite value, infinity, signed zero and quiet NaN comes back with its bits,
but a signaling NaN comes back quiet (the widening sets its quiet bit), so the bits differ
(RB-18). Killed only by a signaling NaN among the special values."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)
from bbrl_reference._replay_buffer import _MAX_SLOTS, _allocating, _Columns

from mutants._base import reference_name

KILLED_BY = ["RB-18"]
TESTS = "test_replay_buffer_surface"

_HALF = (torch.float16, torch.bfloat16)


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class _WideColumns(_Columns):
    """Columns storage whose half-precision variables are float32 tensors."""

    def __init__(self, schema: Any, max_size: int, device: torch.device) -> None:
        self.dtypes = {name: dtype for name, (_, dtype) in schema.fields.items()}
        self.tensors = {
            name: torch.zeros(
                (schema.time_size, max_size, *trailing),
                dtype=torch.float32 if dtype in _HALF else dtype,
                device=device,
            )
            for name, (trailing, dtype) in schema.fields.items()
        }

    def _narrow(self, values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {name: value.to(self.dtypes[name]) for name, value in values.items()}

    def gather(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        return self._narrow(super().gather(index))

    def items(self, size: int) -> dict[str, torch.Tensor]:
        return self._narrow(super().items(size))

    def views(self, size: int) -> dict[str, torch.Tensor]:
        return self._narrow(super().views(size))


class ReplayBuffer(_ReplayBuffer):
    def _allocate(self, op: str, schema: Any, device: torch.device) -> Any:
        if self.max_size > _MAX_SLOTS or not any(
            dtype in _HALF for _, dtype in schema.fields.values()
        ):
            return super()._allocate(op, schema, device)
        # the reference's guard: MemoryError before allocating what cannot fit (RB-22)
        nbytes = self.max_size * schema.item_nbytes * 2
        with _allocating(op, f"storage for {self.max_size} items", nbytes, device):
            return _WideColumns(schema, self.max_size, device)
