"""RB-19: get_shuffled without a generator draws from torch's global generator, not the
buffer's own."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-19"]
TESTS = "test_replay_buffer_surface"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def get_shuffled(self, batch_size: int, generator: Any = None) -> Any:
        if generator is None:
            generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
        return super().get_shuffled(batch_size, generator)
