"""get_shuffled sorts the drawn slots (for memory locality): each batch holds uniformly drawn
items, but in slot order, so column 0 is biased to the oldest slots."""

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
            index = torch.randint(self._size, (batch_size,), generator=generator)
            return sample_at(self, index.sort().values)
        return super().get_shuffled(batch_size, generator)
