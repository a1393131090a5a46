"""The gymnasium env of the generated env family (``bbrl_conformance._model.envfamily``).

Two ids are registered: ``bbrl_conformance/Generated-v0`` (no time limit unless
``max_episode_steps`` is passed to ``gymnasium.make``) and
``bbrl_conformance/GeneratedLimited-v0`` (a ``TimeLimit`` of ``REGISTERED_LIMIT`` steps from its
registration). Both take the env's :class:`EnvConfig` as ``config``, so an implementation builds
them through its own ``make_env(env_name, autoreset=..., config=config)``. The config is a
frozen dataclass: an env built in a worker process after pickling behaves the same.
"""

from __future__ import annotations

import collections
from typing import Any, SupportsFloat, cast

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from bbrl_conformance._model.env_agent import EnvSetup
from bbrl_conformance._model.envfamily import (
    NOISE_RANGE,
    RESET_CODE,
    BoxObs,
    DictObs,
    EnvConfig,
    Leaf,
    ObsSpec,
    decode_action,
    ends,
    flag_value,
    noise_target,
    obs_value,
    reward_value,
)

__all__ = ["ENV_ID", "LIMITED_ID", "REGISTERED_LIMIT", "GeneratedEnv", "make_arguments"]

ENV_ID = "bbrl_conformance/Generated-v0"
LIMITED_ID = "bbrl_conformance/GeneratedLimited-v0"
REGISTERED_LIMIT = 4


def _leaf_space(spec: Leaf) -> gym.Space[Any]:
    if isinstance(spec, BoxObs):
        dtype = np.dtype(spec.dtype)
        if dtype.kind == "b":
            return spaces.Box(0, 1, shape=spec.shape, dtype=dtype)
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            return spaces.Box(int(info.min), int(info.max), shape=spec.shape, dtype=dtype)
        return spaces.Box(-np.inf, np.inf, shape=spec.shape, dtype=dtype)
    return spaces.Discrete(spec.n, start=spec.start)


def observation_space(spec: ObsSpec) -> gym.Space[Any]:
    if isinstance(spec, DictObs):
        entries = collections.OrderedDict((k, _leaf_space(v)) for k, v in spec.entries)
        return spaces.Dict(entries)
    return _leaf_space(spec)


class GeneratedEnv(gym.Env[Any, Any]):
    """One env of the family; build it with ``gymnasium.make(ENV_ID, config=config)``."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's convention)

    def __init__(self, config: EnvConfig) -> None:
        self.config = config
        self.observation_space = observation_space(config.obs)
        action = config.action
        if action.kind == "discrete":
            self.action_space = spaces.Discrete(action.n, start=action.start)
        else:
            self.action_space = spaces.Box(-np.inf, np.inf, shape=action.shape, dtype=np.float32)
        self.step_index = 0
        self.code = RESET_CODE
        self.noise: int | None = None

    def _obs(self) -> object:
        return obs_value(self.config.obs, self.step_index, self.code, self.noise)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[object, dict[str, Any]]:
        super().reset(seed=seed)
        self.step_index = 0
        self.code = RESET_CODE
        self.noise = None
        if self.config.noisy and noise_target(self.config.obs) is not None:
            self.noise = int(self.np_random.integers(0, NOISE_RANGE))
        return self._obs(), {"note": "info dicts are dropped by env agents"}

    def step(self, action: object) -> tuple[object, SupportsFloat, bool, bool, dict[str, Any]]:
        code = decode_action(self.config.action, action)
        self.step_index += 1
        self.code = code
        terminated, truncated = ends(code)
        limit = self.config.own_limit
        if limit is not None and self.step_index >= limit:
            truncated = True
        reward = cast(SupportsFloat, reward_value(self.config.reward, self.step_index, code))
        kind = self.config.flags
        term, trunc = flag_value(kind, terminated), flag_value(kind, truncated)
        return self._obs(), reward, term, trunc, {"code": code}  # type: ignore[return-value]


def make_arguments(setup: EnvSetup) -> tuple[str, dict[str, object]]:
    """The env id and the ``gymnasium.make`` keyword arguments (besides ``config``) giving the
    time limit of ``setup``."""
    if setup.registered:
        if setup.time_limit != REGISTERED_LIMIT:
            raise ValueError(
                f"EnvSetup: a registered time limit is {REGISTERED_LIMIT}, got {setup.time_limit}"
            )
        return LIMITED_ID, {}
    if setup.time_limit is None:
        return ENV_ID, {}
    return ENV_ID, {"max_episode_steps": setup.time_limit}


for _id, _limit in ((ENV_ID, None), (LIMITED_ID, REGISTERED_LIMIT)):
    if _id not in gym.registry:
        gym.register(
            id=_id,
            entry_point="bbrl_conformance.generated_env:GeneratedEnv",
            max_episode_steps=_limit,
            disable_env_checker=True,
        )
