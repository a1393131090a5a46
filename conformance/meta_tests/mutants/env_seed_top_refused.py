"""The seed bound is off by one: seed(2**64 - 1) raises ValueError."""

from __future__ import annotations

from typing import Any

from bbrl_reference import ParallelGymAgent as _ParallelGymAgent

from mutants._base import reference_name

KILLED_BY = ["DET-9"]
TESTS = "test_determinism"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def seed(self, seed: Any) -> Any:
        if int(seed) >= 2**64 - 1:
            raise ValueError(f"seed: expected < 2**64 - 1, got {seed}")
        return super().seed(seed)
