"""Integer observations pass through float64 on their way to the workspace: int64 values
beyond 2**53 come back changed; small integers survive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from bbrl_reference import (
    ParallelGymAgent as _ParallelGymAgent,
)

from mutants._base import reference_name

# Written for the program generator, whose clause for it varied between machines (the
# first differing value of a generated program); the hand-written tests of TESTS now
# catch it deterministically, under the clause below.
KILLED_BY = ["ENV-9"]
TESTS = "test_env_agent"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def _through_float(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _through_float(v) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype == np.int64:
        return value.astype(np.float64).astype(np.int64)
    return value


class _ThroughFloat(gym.ObservationWrapper[Any, Any, Any]):
    def observation(self, observation: Any) -> Any:
        return _through_float(observation)


class ParallelGymAgent(_ParallelGymAgent):
    def __init__(self, make_env_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        def wrapped(**env_kwargs: Any) -> Any:
            return _ThroughFloat(make_env_fn(**env_kwargs))

        super().__init__(wrapped, *args, **kwargs)
