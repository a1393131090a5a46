"""A CartPole-shaped env whose step busy-computes for a set time (the heavy rollout benchmark).

Kept apart from bench_support and importing only gymnasium and numpy: worker processes of an
``AsyncVectorEnv`` started with ``spawn`` (importing torchrl switches multiprocessing to
``spawn``) import this module to build their env, and should not pay for torch and pytest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np

BUSY_ENV = "BBRLBenchBusy-v0"


class BusyEnv(gym.Env[np.ndarray, np.int64]):
    """Box(4) observations, Discrete(2) actions; each step spins for ``step_s`` seconds."""

    def __init__(self, step_s: float = 1e-3, length: int = 200) -> None:
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.step_s = step_s
        self.length = length
        self._t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._t = 0
        return self.np_random.uniform(-1, 1, 4).astype(np.float32), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        end = time.perf_counter() + self.step_s
        spins = 0
        while time.perf_counter() < end:
            spins += 1
        self._t += 1
        obs = self.np_random.uniform(-1, 1, 4).astype(np.float32)
        return obs, 1.0, False, self._t >= self.length, {}


def register() -> None:
    """Register :class:`BusyEnv` as ``BBRLBenchBusy-v0`` (idempotent)."""
    if BUSY_ENV not in gym.registry:
        gym.register(id=BUSY_ENV, entry_point=_make)


def _make(**kwargs: Any) -> BusyEnv:
    return BusyEnv(**kwargs)


def _build(make_env: Callable[..., gym.Env[Any, Any]] | None, step_s: float) -> gym.Env[Any, Any]:
    register()
    if make_env is None:
        return gym.make(BUSY_ENV, step_s=step_s)
    return make_env(BUSY_ENV, autoreset=True, step_s=step_s)


def factory(
    step_s: float, make_env: Callable[..., gym.Env[Any, Any]] | None = None
) -> Callable[[], gym.Env[Any, Any]]:
    """A picklable zero-argument factory: ``gym.make`` (default) or ``make_env(..., autoreset)``.

    It registers the env itself, so it also works in a freshly spawned worker process (whose
    ``sys.path`` is the parent's, so this module imports by name).
    """
    return partial(_build, make_env, step_s)
