"""Agent.seed accepts only seeds below 2**32 (numpy's legacy seed range) and raises ValueError
for larger ones, although every s >= 0 is a seed (ERR-7 rejects only s < 0)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agent as _Agent,
)

from mutants._base import reference_name

KILLED_BY = ["AG-6"]
TESTS = "test_agents"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Agent(_Agent):
    def seed(self, seed: Any) -> Any:
        if isinstance(seed, int) and seed >= 2**32:
            raise ValueError(f"seed: expected 0 <= seed < 2**32, got {seed}")
        return super().seed(seed)
