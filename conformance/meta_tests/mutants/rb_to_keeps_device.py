"""RB-17 (bbrl 1.0.1): to() moves the items but rb.device still names the old device."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-17"]
TESTS = "test_replay_buffer_surface"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    _stale: torch.device | None = None

    def to(self, device: Any) -> Any:
        stale = self.device
        super().to(device)
        self._stale = stale
        return self

    @property
    def device(self) -> torch.device:
        return self._device if self._stale is None else self._stale
