"""RB-16: variables lists the items oldest first instead of by slot."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-16"]
TESTS = "test_replay_buffer_surface"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    @property
    def variables(self) -> dict[str, torch.Tensor]:
        by_slot = super().variables
        if not self.is_full:
            return by_slot
        start = self._position  # the oldest item's slot
        return {name: torch.roll(value, -start, 0) for name, value in by_slot.items()}
