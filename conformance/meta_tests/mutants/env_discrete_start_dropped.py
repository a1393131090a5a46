"""Discrete observations are written as the index in the space (obs - start): right for the
usual start=0, wrong for Discrete(n, start=s) with s != 0."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
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


class _AsIndex(gym.ObservationWrapper[Any, Any, Any]):
    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        space = env.observation_space
        self.start = int(space.start) if isinstance(space, spaces.Discrete) else 0
        if isinstance(space, spaces.Discrete):
            self.observation_space = spaces.Discrete(int(space.n))

    def observation(self, observation: Any) -> Any:
        return observation - self.start if self.start else observation


class ParallelGymAgent(_ParallelGymAgent):
    def __init__(self, make_env_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        def wrapped(**env_kwargs: Any) -> Any:
            return _AsIndex(make_env_fn(**env_kwargs))

        super().__init__(wrapped, *args, **kwargs)
