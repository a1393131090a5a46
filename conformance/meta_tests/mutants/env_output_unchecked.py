"""Env outputs are converted instead of checked: a reward "1.0" becomes 1.0, terminated="no"
becomes True, a None observation becomes NaN (bbrl's behaviour)."""

from __future__ import annotations

from typing import Any

import numpy as np
from bbrl_reference import ParallelGymAgent as _ParallelGymAgent
from bbrl_reference._backends import SyncBackend

from mutants._base import reference_name

KILLED_BY = ["ENV-21"]
TESTS = "test_env_failures"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class _Lenient:
    """Wraps an env and casts whatever it returns into the expected types."""

    def __init__(self, env: Any, shape: tuple[int, ...]) -> None:
        self.env = env
        self.shape = shape

    def reset(self, **kwargs: Any) -> Any:
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> Any:
        result = (*self.env.step(action), {})
        obs, r, term, trunc = result[:4]
        flat = np.asarray(obs if obs is not None else np.nan, dtype=np.float32).reshape(-1)
        obs = np.resize(flat, self.shape).astype(np.float32)
        return obs, float(r), bool(term), bool(trunc), {}


class ParallelGymAgent(_ParallelGymAgent):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        backend = self._backend
        if type(backend) is SyncBackend and backend.rows.single is not None:
            shape = backend.rows.single.shape
            backend._envs = [_Lenient(env, shape) for env in backend._envs]
