"""The vector backend passes the user's seed itself at every reset instead of one drawn per
rollout from SeedSequence (DET-8): every rollout starts from the same states."""

from __future__ import annotations

from typing import Any

import numpy as np
from bbrl_reference import ParallelGymAgent as _ParallelGymAgent
from bbrl_reference._backends import VectorBackend

from mutants._base import reference_name

KILLED_BY = ["DET-8"]
TESTS = "test_determinism"
CONFORMANCE_BACKENDS = {"vector": {"backend": "vector"}}
CONFORMANCE_VECTOR_BACKENDS = ("vector",)


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class _FixedSeed(VectorBackend):
    user_seed: int | None = None

    def reset(self, t: int, seeds: np.random.SeedSequence | None) -> None:
        obs, _ = self._vec.reset(seed=self.user_seed)  # the seed as given, every rollout
        self.rows.write_obs_batch(obs, t)
        self.rows.clear()
        self._returns.fill(0)


class ParallelGymAgent(_ParallelGymAgent):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self._backend, VectorBackend):
            self._backend.__class__ = _FixedSeed

    def seed(self, seed: int) -> Any:
        result = super().seed(seed)
        if isinstance(self._backend, _FixedSeed):
            self._backend.user_seed = int(seed)
        return result
