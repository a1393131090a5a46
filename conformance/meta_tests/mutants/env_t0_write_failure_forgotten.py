"""A call at t=0 whose row write fails (a workspace holding an ``env/`` variable of another
dtype or batch size) has reset the envs, yet the agent forgets it: the next call at t > 0 steps
the new episodes into the old rollout's workspace, rows without their reset row (ENV-22)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import ParallelGymAgent as _ParallelGymAgent
from bbrl_reference._errors import EnvOutputShapeError, EnvOutputTypeError

from mutants._base import reference_name

KILLED_BY = ["ENV-22"]
TESTS = "test_env_failures"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def forward(self, t: int, **kwargs: Any) -> None:
        try:
            super().forward(t, **kwargs)
        except (TypeError, ValueError) as exc:
            if t == 0 and not isinstance(exc, EnvOutputTypeError | EnvOutputShapeError):
                self._refusal = None  # "the envs did reset": only the write failed
            raise
