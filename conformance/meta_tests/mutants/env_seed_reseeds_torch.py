"""DET-6: ``ParallelGymAgent.seed(s)`` also calls ``torch.manual_seed(s)`` ("seed everything"),
which draws nothing from torch's global generator but resets it: the actions an actor beside
the env agent draws then depend on the env agent's seed. The DET-6 test seeded torch after
seeding the env agent, so nothing saw it; found by a helper writing bugs from the spec."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import ParallelGymAgent as _ParallelGymAgent

from mutants._base import reference_name

KILLED_BY = ["DET-6"]
TESTS = "test_determinism"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def seed(self, seed: int) -> ParallelGymAgent:
        super().seed(seed)
        torch.manual_seed(seed)
        return self
