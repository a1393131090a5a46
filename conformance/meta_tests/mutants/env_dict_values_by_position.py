"""Dict observations are matched to the space's keys by position (zip of the space's keys with
the observation's values): right when the env returns its keys in the space's order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
from bbrl_reference import (
    ParallelGymAgent as _ParallelGymAgent,
)
from gymnasium import spaces

from mutants._base import reference_name

# ENV-10 is the Dict clause (ENV-2 is every row); inside the generator an agent tree that
# raises is attributed to AG-2, so the hand-written Dict test is the one that names it.
KILLED_BY = ["ENV-10"]
TESTS = "test_env_agent"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class _ByPosition(gym.ObservationWrapper[Any, Any, Any]):
    def observation(self, observation: Any) -> Any:
        space = self.observation_space
        if isinstance(space, spaces.Dict) and isinstance(observation, dict):
            return dict(zip(space.spaces, observation.values(), strict=True))
        return observation


class ParallelGymAgent(_ParallelGymAgent):
    def __init__(self, make_env_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        def wrapped(**env_kwargs: Any) -> Any:
            return _ByPosition(make_env_fn(**env_kwargs))

        super().__init__(wrapped, *args, **kwargs)
