"""The env agent counts itself started by its rollout counter, which only a seeded agent
advances: an agent that was never seeded raises RuntimeError at every call at t > 0."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ParallelGymAgent as _ParallelGymAgent,
)

from mutants._base import reference_name

KILLED_BY = ["ERR-8"]
TESTS = "test_errors"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def forward(self, t: int, **kwargs: Any) -> None:
        super().forward(t, **kwargs)
        if t == 0 and self._rollout == 0:  # the bug: only seeded agents count rollouts
            self._refusal = "a first call at t=0 (the envs need a reset)"
