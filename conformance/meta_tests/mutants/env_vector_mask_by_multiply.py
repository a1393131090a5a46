"""The vector backend masks the rows of the envs it reset by multiplying by 0 (reward * live,
return * live): right for finite values, but an infinite reward reported for a reset env, or an
episode whose return became infinite, leaves NaN in the rows (inf * 0), and the NaN return
then stays in every later episode of that env."""

from __future__ import annotations

from typing import Any

import numpy as np
from bbrl_reference import ParallelGymAgent as _ParallelGymAgent
from bbrl_reference._backends import VectorBackend

from mutants._base import reference_name

KILLED_BY = ["ENV-35", "ENV-33"]
TESTS = "test_env_agent"
CONFORMANCE_BACKENDS = {"vector": {"backend": "vector"}}
CONFORMANCE_VECTOR_BACKENDS = ("vector",)


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class _MultiplyMask(VectorBackend):
    def step(self, t: int, actions: np.ndarray) -> None:
        result = self._vec.step(actions)
        obs, r, term, trunc, _ = result
        rows = self.rows
        rows.write_obs_batch(obs, t)
        live = ~rows.done
        np.multiply(r, live, out=rows.reward, casting="unsafe")
        self._returns *= live
        self._returns += rows.reward
        rows.cumulated[...] = self._returns
        rows.timestep[...] = (rows.timestep + 1) * live
        np.logical_and(term, live, out=rows.terminated)
        np.logical_and(trunc, live, out=rows.truncated)
        np.logical_or(rows.terminated, rows.truncated, out=rows.done)


class ParallelGymAgent(_ParallelGymAgent):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self._backend, VectorBackend):
            self._backend.__class__ = _MultiplyMask
