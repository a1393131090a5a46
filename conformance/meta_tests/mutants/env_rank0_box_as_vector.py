"""A Box observation of shape () is written as shape (1,) per env (np.atleast_1d): the
variable is [T, B, 1] instead of [T, B]."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from bbrl_reference import (
    ParallelGymAgent as _ParallelGymAgent,
)
from gymnasium import spaces

from mutants._base import reference_name

# Written for the program generator, whose clause for it varied between machines (the
# first differing value of a generated program); the hand-written tests of TESTS now
# catch it deterministically, under the clause below.
KILLED_BY = ["ENV-9"]
TESTS = "test_env_agent"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class _AtLeast1d(gym.ObservationWrapper[Any, Any, Any]):
    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        space = env.observation_space
        if isinstance(space, spaces.Box) and space.shape == ():
            low, high = np.atleast_1d(space.low), np.atleast_1d(space.high)
            self.observation_space = spaces.Box(low, high, shape=(1,), dtype=space.dtype)

    def observation(self, observation: Any) -> Any:
        return np.atleast_1d(observation) if np.ndim(observation) == 0 else observation


class ParallelGymAgent(_ParallelGymAgent):
    def __init__(self, make_env_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        def wrapped(**env_kwargs: Any) -> Any:
            return _AtLeast1d(make_env_fn(**env_kwargs))

        super().__init__(wrapped, *args, **kwargs)
