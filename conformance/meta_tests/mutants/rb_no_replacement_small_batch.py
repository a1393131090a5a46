"""get_shuffled draws without replacement (a permutation) when batch_size <= size(), so a
batch never holds an item twice; larger batches are drawn with replacement."""

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
        if type(batch_size) is int and 0 < batch_size <= self._size:
            return sample_at(self, torch.randperm(self._size, generator=generator)[:batch_size])
        return super().get_shuffled(batch_size, generator)
