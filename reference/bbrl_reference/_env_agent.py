"""The parallel gymnasium env agent and ``make_env`` (spec ENV, DET).

Backends (not specified; documented here):

* ``"sync"`` (default): a Python loop over ``num_envs`` gymnasium envs that writes straight into
  preallocated numpy rows, then one row copy per output variable into the workspace. The
  next-step autoreset logic is done here: an env that was done at row ``t-1`` is reset at row
  ``t`` (autoreset) or left frozen (no autoreset), and is not sent the action of row ``t-1``.
* ``"async"``: :class:`gymnasium.vector.AsyncVectorEnv` (one worker process per env) in
  ``NEXT_STEP`` autoreset mode, for envs whose step dominates the cost. Without autoreset the
  outputs of a finished env are ignored until the next rollout; the worker still resets it,
  which does not change any row because every rollout starts with seeded resets. Both backends
  write identical rows for the same seed and actions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from types import TracebackType
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AsyncVectorEnv, AutoresetMode

from . import _validation as v
from ._agents import Agent
from ._errors import DTypeError, InvalidArgumentError, InvalidStateError, ShapeError
from ._names import (
    ACTION,
    ENV_CUMULATED_REWARD,
    ENV_DONE,
    ENV_OBS,
    ENV_REWARD,
    ENV_TERMINATED,
    ENV_TIMESTEP,
    ENV_TRUNCATED,
)
from ._workspace import Workspace

AUTORESET_ATTRIBUTE = "bbrl_autoreset"
"""Attribute that :func:`make_env` sets on the env it returns (True for autoreset)."""

_INT64 = np.dtype(np.int64)

Env = gym.Env[Any, Any]  # gymnasium's own signatures use Any for observations and actions


def make_env(env_name: str, autoreset: bool = False, **kwargs: object) -> Env:
    """``gymnasium.make(env_name, **kwargs)``, marked for :class:`ParallelGymAgent` (ENV-1).

    The mark is the attribute ``bbrl_autoreset`` on the returned env. An env without the mark is
    treated as ``autoreset=False``, unless it is wrapped in ``gymnasium.wrappers.Autoreset``.
    """
    if not isinstance(env_name, str):
        raise TypeError(v.message("make_env", "argument 'env_name'", "a str", type(env_name)))
    env = gym.make(env_name, **kwargs)  # type: ignore[arg-type]
    setattr(env, AUTORESET_ATTRIBUTE, bool(autoreset))
    return env


def _is_autoreset(env: Env) -> bool:
    flag = getattr(env, AUTORESET_ATTRIBUTE, None)
    if flag is not None:
        return bool(flag)
    layer: object = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, gym.wrappers.Autoreset):
            return True
        layer = layer.env
    return False


class _Leaf:
    """One observation variable: its name, its path in a Dict observation, its numpy row."""

    __slots__ = ("name", "path", "row")

    def __init__(self, name: str, path: tuple[str, ...], row: np.ndarray) -> None:
        self.name = name
        self.path = path
        self.row = row


def _obs_leaves(space: gym.Space[Any], name: str, path: tuple[str, ...], n: int) -> list[_Leaf]:
    if isinstance(space, spaces.Dict):
        leaves: list[_Leaf] = []
        for key, sub in space.spaces.items():
            leaves += _obs_leaves(sub, f"{name}/{key}", (*path, key), n)
        return leaves
    if isinstance(space, spaces.Discrete):
        return [_Leaf(name, path, np.zeros(n, dtype=np.int64))]
    if isinstance(space, spaces.Box | spaces.MultiBinary | spaces.MultiDiscrete):
        dtype = np.dtype(space.dtype)
        if np.issubdtype(dtype, np.floating):
            dtype = np.dtype(np.float32)
        return [_Leaf(name, path, np.zeros((n, *space.shape), dtype=dtype))]
    raise TypeError(
        v.message(
            "ParallelGymAgent",
            f"observation space of {name!r}",
            "Box, Discrete, MultiBinary, MultiDiscrete or Dict",
            space,
        )
    )


def _size(space: gym.Space[Any], what: str) -> int:
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.Box) and len(space.shape) == 1:
        return int(space.shape[0])
    raise TypeError(
        v.message("get_obs_and_actions_sizes", what, "a Discrete or a 1-D Box space", space)
    )


class ParallelGymAgent(Agent):
    """Runs ``num_envs`` gymnasium envs and writes their rows into the workspace (ENV-1..ENV-15).

    At ``t == 0`` every env is reset (with seeds drawn as in DET-5); at ``t > 0`` the agent reads
    ``action`` at row ``t - 1``, steps the envs and writes row ``t`` of ``env/env_obs``,
    ``env/reward``, ``env/done``, ``env/terminated``, ``env/truncated``,
    ``env/cumulated_reward`` and ``env/timestep``. Close it with :meth:`close` or use it as a
    context manager.
    """

    def __init__(
        self,
        make_env_fn: Callable[..., Env],
        num_envs: int,
        make_env_args: Mapping[str, object] | None = None,
        *,
        backend: Literal["sync", "async"] = "sync",
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        op = "ParallelGymAgent"
        if not callable(make_env_fn):
            raise TypeError(v.message(op, "argument 'make_env_fn'", "a callable", make_env_fn))
        self.num_envs = v.check_int(op, "num_envs", num_envs, 1)
        if backend not in ("sync", "async"):
            raise InvalidArgumentError(
                v.message(op, "argument 'backend'", "'sync' or 'async'", repr(backend))
            )
        self.backend = backend
        kwargs = dict(make_env_args or {})
        n = self.num_envs
        first = self._checked_env(make_env_fn(**kwargs))
        self._envs: list[Env] = [first]
        self._vec: AsyncVectorEnv | None = None
        try:  # on any error, close what was built (no leaked envs or worker processes)
            self.observation_space: gym.Space[Any] = first.observation_space
            self.action_space: gym.Space[Any] = first.action_space
            self.autoreset = _is_autoreset(first)
            self._leaves = _obs_leaves(self.observation_space, ENV_OBS, (), n)
            self._discrete_action = isinstance(self.action_space, spaces.Discrete)
            action_shape = self.action_space.shape
            action_dtype = self.action_space.dtype
            if self._discrete_action or action_shape is None or action_dtype is None:
                if not self._discrete_action:
                    raise TypeError(
                        v.message(op, "action space", "Discrete or Box", first.action_space)
                    )
                action_shape, action_dtype = (), np.dtype(np.int64)
            if backend == "sync":
                for k in range(1, n):
                    env = self._checked_env(make_env_fn(**kwargs))
                    self._envs.append(env)
                    self._check_same(first, env, k)
            else:
                first.close()
                self._envs = []
                self._vec = AsyncVectorEnv(
                    [partial(make_env_fn, **kwargs) for _ in range(n)],
                    autoreset_mode=AutoresetMode.NEXT_STEP,
                )
        except BaseException:
            for env in self._envs:
                env.close()
            raise
        self._action_shape: tuple[int, ...] = tuple(action_shape)
        self._action_row_shape = (n, *self._action_shape)
        self._action_dtype = np.dtype(action_dtype)
        # rows of the current time step, reused from step to step
        self._reward = np.zeros(n, dtype=np.float32)
        self._terminated = np.zeros(n, dtype=np.bool_)
        self._truncated = np.zeros(n, dtype=np.bool_)
        self._done = np.zeros(n, dtype=np.bool_)
        self._cumulated = np.zeros(n, dtype=np.float32)
        self._timestep = np.zeros(n, dtype=np.int64)
        self._returns = np.zeros(n, dtype=np.float64)  # cumulated reward in double precision
        # sync backend: per-env state as python lists (faster scalar access than numpy)
        self._done_list = [False] * n
        self._return_list = [0.0] * n
        self._timestep_list = [0] * n
        # the observation row when it is one array (not a Dict), written per env in the loop
        leaves = self._leaves
        self._single_obs = leaves[0].row if len(leaves) == 1 and not leaves[0].path else None
        self._outputs: list[tuple[str, np.ndarray]] = [
            (leaf.name, leaf.row) for leaf in self._leaves
        ]
        self._outputs += [
            (ENV_REWARD, self._reward),
            (ENV_DONE, self._done),
            (ENV_TERMINATED, self._terminated),
            (ENV_TRUNCATED, self._truncated),
            (ENV_CUMULATED_REWARD, self._cumulated),
            (ENV_TIMESTEP, self._timestep),
        ]
        self._seed: int | None = None
        self._rollout = 0
        self._started = False
        self._closed = False

    @staticmethod
    def _checked_env(env: object) -> Env:
        if not isinstance(env, gym.Env):
            raise TypeError(
                v.message(
                    "ParallelGymAgent", "make_env_fn()", "a gymnasium.Env", type(env).__name__
                )
            )
        return env

    @staticmethod
    def _check_same(first: Env, env: Env, k: int) -> None:
        op = "ParallelGymAgent"
        if env.observation_space != first.observation_space:
            raise InvalidArgumentError(
                v.message(
                    op, f"env {k} observation space", first.observation_space, env.observation_space
                )
            )
        if env.action_space != first.action_space:
            raise InvalidArgumentError(
                v.message(op, f"env {k} action space", first.action_space, env.action_space)
            )
        if _is_autoreset(env) != _is_autoreset(first):
            raise InvalidArgumentError(
                v.message(op, f"env {k} autoreset flag", _is_autoreset(first), _is_autoreset(env))
            )

    # ------------------------------------------------------------------ public
    def seed(self, seed: int) -> ParallelGymAgent:
        """Fix the seeds of the following rollouts (DET-1..DET-5); return ``self``.

        Rollout ``r`` (the ``r``-th call at ``t == 0`` after this call, from 0) resets env ``k``
        with ``SeedSequence(entropy=seed, spawn_key=(r,)).generate_state(num_envs)[k]``.
        Without a seed every rollout draws fresh OS entropy.
        """
        self._seed = v.check_int("seed", "seed", seed, 0)
        self._rollout = 0
        return self

    def get_obs_and_actions_sizes(self) -> tuple[int, int]:
        """``(observation size, action size)``: ``shape[0]`` of a 1-D Box, ``n`` of a Discrete."""
        return (
            _size(self.observation_space, "observation space"),
            _size(self.action_space, "action space"),
        )

    def close(self) -> None:
        """Close every env (and the worker processes of the async backend); idempotent."""
        if self._closed:
            return
        self._closed = True
        for env in self._envs:
            env.close()
        if self._vec is not None:
            self._vec.close()

    def __enter__(self) -> ParallelGymAgent:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ----------------------------------------------------------------- forward
    def forward(self, t: int, **kwargs: object) -> None:
        """Reset (``t == 0``) or step the envs, then write row ``t`` (ENV-2..ENV-8, ENV-14)."""
        op = "ParallelGymAgent"
        workspace = self.workspace
        if workspace is None:
            self._not_bound("forward")
        if type(t) is not int or t < 0:
            t = v.check_int(op, "t", t, 0)
        if self._closed:
            raise InvalidStateError(v.message(op, "agent", "an open agent", "closed"))
        if t == 0:
            self._reset_all()
        elif not self._started:
            raise InvalidStateError(
                v.message(op, "argument 't'", "a first call at t=0 (the envs need a reset)", t)
            )
        else:
            actions = self._read_actions(workspace, t - 1)
            if self._vec is None:
                self._step_sync(actions)
            else:
                self._step_async(self._vec, actions)
        workspace._set_numpy_rows(t, self._outputs)

    def _reset_seeds(self) -> list[int]:
        if self._seed is None:
            sequence = np.random.SeedSequence()
        else:
            sequence = np.random.SeedSequence(entropy=self._seed, spawn_key=(self._rollout,))
            self._rollout += 1
        return [int(s) for s in sequence.generate_state(self.num_envs)]

    def _reset_all(self) -> None:
        seeds: list[int | None] = list(self._reset_seeds())
        if self._vec is None:
            for k, env in enumerate(self._envs):
                obs, _ = env.reset(seed=seeds[k])
                self._write_obs(k, obs)
        else:
            batch, _ = self._vec.reset(seed=seeds)
            self._write_obs_batch(batch, None)
        for row in (self._reward, self._cumulated, self._returns, self._timestep):
            row.fill(0)
        for flags in (self._terminated, self._truncated, self._done):
            flags.fill(False)
        n = self.num_envs
        self._done_list, self._return_list, self._timestep_list = [False] * n, [0.0] * n, [0] * n
        self._started = True

    def _write_obs(self, k: int, obs: object) -> None:
        for leaf in self._leaves:
            value = obs
            for key in leaf.path:
                value = value[key]  # type: ignore[index]
            leaf.row[k] = value

    def _write_obs_batch(self, batch: object, keep: np.ndarray | None) -> None:
        for leaf in self._leaves:
            value = batch
            for key in leaf.path:
                value = value[key]  # type: ignore[index]
            array = np.asarray(value)
            if keep is None:
                np.copyto(leaf.row, array, casting="unsafe")
            else:
                where = keep.reshape(keep.shape + (1,) * (array.ndim - 1))
                np.copyto(leaf.row, array, casting="unsafe", where=where)

    def _read_actions(self, workspace: Workspace, t: int) -> Sequence[object] | np.ndarray:
        """Row ``t`` of ``action`` as numpy scalars (sync Discrete) or a fresh numpy array."""
        op = "ParallelGymAgent"
        array = workspace._numpy_row(ACTION, t)
        if array is None:  # not a plain CPU variable: go through torch (validates t)
            array = workspace._row(ACTION, t).detach().cpu().numpy()
        if array.shape != self._action_row_shape:
            expected = list(self._action_row_shape)
            raise ShapeError(
                v.message(op, v.variable(ACTION), f"shape {expected} at row {t}", array.shape)
            )
        if self._discrete_action:
            dtype = array.dtype
            if dtype != _INT64:
                if dtype.kind not in "iub":
                    raise DTypeError(
                        v.message(op, v.variable(ACTION), "an integer dtype (Discrete)", dtype)
                    )
                array = array.astype(_INT64)
            if self._vec is None:
                # numpy int64 scalars, not python ints: gymnasium's Discrete.contains (run by
                # the env checker on every step) is ~1 us cheaper for them than for an int.
                actions: list[object] = list(array)
                return actions
        return array.astype(self._action_dtype)

    def _step_sync(self, actions: Sequence[object] | np.ndarray) -> None:
        autoreset = self.autoreset
        done, returns, timestep = self._done_list, self._return_list, self._timestep_list
        terminated, truncated, done_row = self._terminated, self._truncated, self._done
        reward = [0.0] * self.num_envs
        single = self._single_obs
        for k, env in enumerate(self._envs):
            if done[k]:
                if not autoreset:
                    continue  # frozen row: only the reward (0) changes
                obs, _ = env.reset()
                returns[k] = 0.0
                timestep[k] = 0
                done[k] = False
                terminated[k] = truncated[k] = done_row[k] = False
            else:
                obs, step_reward, term, trunc, _ = env.step(actions[k])
                r = float(step_reward)
                reward[k] = r
                returns[k] += r
                timestep[k] += 1
                if term or trunc:
                    done[k] = True
                    terminated[k] = term
                    truncated[k] = trunc
                    done_row[k] = True
            if single is not None:
                single[k] = obs
            else:
                self._write_obs(k, obs)
        self._reward[:] = reward
        self._cumulated[:] = returns
        self._timestep[:] = timestep

    def _step_async(self, vec: AsyncVectorEnv, actions: Sequence[object] | np.ndarray) -> None:
        batch, r, term, trunc, _ = vec.step(np.asarray(actions))
        was_done = self._done.copy()
        live = ~was_done
        reset = was_done & self.autoreset
        self._write_obs_batch(batch, None if self.autoreset else live)
        self._reward[:] = np.where(live, r, 0.0)
        self._returns[:] = np.where(reset, 0.0, self._returns + np.where(live, r, 0.0))
        self._cumulated[:] = self._returns
        self._timestep[:] = np.where(reset, 0, self._timestep + live)
        for flags, new in ((self._terminated, term), (self._truncated, trunc)):
            flags[:] = np.where(live, new, flags & ~reset)
        self._done[:] = self._terminated | self._truncated
