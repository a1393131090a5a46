"""B11-like: seed(s) ignores s, so every seed gives the same rollouts."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ParallelGymAgent as _ParallelGymAgent,
)

from mutants._base import reference_name

KILLED_BY = ["DET-4"]
TESTS = "test_determinism"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def seed(self, seed: int) -> Any:
        return super().seed(1234)
