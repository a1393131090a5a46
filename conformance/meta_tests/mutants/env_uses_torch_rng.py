"""The env agent draws from torch's global generator at every step."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    ParallelGymAgent as _ParallelGymAgent,
)

from mutants._base import reference_name

KILLED_BY = ["DET-6"]
TESTS = "test_determinism"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def forward(self, t: int, **kwargs: Any) -> None:
        torch.rand(1)
        super().forward(t, **kwargs)
