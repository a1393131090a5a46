"""get_shuffled draws slots in 0..max_size-1 and clamps them to the filled ones: uniform when
the buffer is full, but before that the newest slot takes every draw beyond size()."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name, sample_at

KILLED_BY = ["RB-9"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def get_shuffled(self, batch_size: int, generator: torch.Generator | None = None) -> Any:
        if type(batch_size) is int and batch_size > 0 and self._size > 0:
            index = torch.randint(self.max_size, (batch_size,), generator=generator)
            return sample_at(self, index.clamp(max=self._size - 1))
        return super().get_shuffled(batch_size, generator)
