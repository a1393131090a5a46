"""The parallel gymnasium env agent and ``make_env`` (spec ENV, DET).

:class:`ParallelGymAgent` holds the spec's logic only: a call at ``t == 0`` resets every env, a
call at ``t > 0`` reads and checks the action row ``t - 1`` and steps the envs, and either call
writes row ``t`` in one atomic write, or nothing (ENV-19). How the envs are stepped is a
backend's business (``_backends``): ``"sync"`` (a loop in this process, the default),
``"async"`` (one worker process per env) or ``"vector"`` (one gymnasium ``VectorEnv``), or a
``VectorEnv`` given by the caller.

After a call that failed once the envs were touched, the agent refuses every call at ``t > 0``
until a call at ``t == 0`` (ENV-22): it never steps an env twice for one row.
"""

from __future__ import annotations

import functools
import inspect
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, NoReturn

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import VectorEnv

from . import _validation as v
from ._agents import Agent
from ._backends import (
    AUTORESET_ATTRIBUTE,
    AsyncBackend,
    Backend,
    Env,
    Space,
    SyncBackend,
    VectorBackend,
    check_timeout,
)
from ._errors import DTypeError, InvalidArgumentError, InvalidStateError, ShapeError
from ._names import ACTION
from ._workspace import Workspace

_INT64 = np.dtype(np.int64)
_UINT64 = np.dtype(np.uint64)
_INT64_MAX = 2**63 - 1
OP = "ParallelGymAgent"
MAX_SEED = 2**64 - 1
"""The largest seed accepted (DET-9): torch's bound."""

BackendName = Literal["sync", "async", "vector"]
Wrapper = Callable[[Env], Env]


def make_env(
    env_name: str,
    autoreset: bool = False,
    wrappers: Sequence[Wrapper] | None = (),
    **kwargs: object,
) -> Env:
    """``gymnasium.make(env_name, **kwargs)`` wrapped in ``wrappers`` in order (ENV-1, ENV-27).

    ``[W1, W2]`` gives ``W2(W1(env))``. The env returned is marked for :class:`ParallelGymAgent`
    with the attribute ``bbrl_autoreset``; an env without the mark is treated as
    ``autoreset=False``, unless it is wrapped in ``gymnasium.wrappers.Autoreset``.
    """
    op = "make_env"
    if not isinstance(env_name, str):
        raise TypeError(v.message(op, "argument 'env_name'", "a str", type(env_name).__name__))
    if not isinstance(autoreset, bool):
        raise TypeError(v.message(op, "argument 'autoreset'", "a bool", repr(autoreset)))
    layers = _wrappers(wrappers)
    env: Env = gym.make(env_name, **kwargs)  # type: ignore[arg-type]
    for k, wrapper in enumerate(layers):
        wrapped: object = wrapper(env)
        if not isinstance(wrapped, gym.Env):
            env.close()
            raise TypeError(
                v.message(op, f"wrappers[{k}](env)", "a gymnasium.Env", type(wrapped).__name__)
            )
        env = wrapped
    setattr(env, AUTORESET_ATTRIBUTE, bool(autoreset))
    return env


def _wrappers(wrappers: object) -> tuple[Wrapper, ...]:
    if wrappers is None:
        return ()
    if not isinstance(wrappers, list | tuple) or not all(callable(w) for w in wrappers):
        raise TypeError(
            v.message("make_env", "argument 'wrappers'", "a list of callables", repr(wrappers))
        )
    return tuple(wrappers)


def check_seed(op: str, seed: object) -> int:
    """``seed`` as an int in ``0 <= seed <= 2**64 - 1`` (DET-9)."""
    value = v.check_int(op, "seed", seed, 0)
    if value > MAX_SEED:
        raise InvalidArgumentError(v.message(op, "argument 'seed'", "<= 2**64 - 1", value))
    return value


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(v.message(OP, f"argument {name!r}", "a bool", repr(value)))
    return value


def _vector_env(
    make_env_fn: Callable[..., Env], kwargs: Mapping[str, object], n: int
) -> VectorEnv[Any, Any, Any]:
    """``gymnasium.make_vec`` of the env that ``make_env_fn`` would build (ENV-17).

    ``make_env_fn`` must be ``make_env`` partially applied, so that the env name and arguments
    can be read; what a vector env cannot honour is refused (ENV-18).
    """
    if not (isinstance(make_env_fn, functools.partial) and make_env_fn.func is make_env):
        raise InvalidArgumentError(
            v.message(
                OP,
                "argument 'make_env_fn' with backend='vector'",
                "functools.partial(make_env, env_name, ...), whose env name gymnasium.make_vec "
                "can build (or pass a gymnasium VectorEnv as backend)",
                make_env_fn,
            )
        )
    call = inspect.signature(make_env).bind(*make_env_fn.args, **{**make_env_fn.keywords, **kwargs})
    call.apply_defaults()
    arguments = dict(call.arguments)
    env_name = arguments.pop("env_name")
    autoreset = arguments.pop("autoreset")
    wrappers = _wrappers(arguments.pop("wrappers"))
    env_kwargs = dict(arguments.pop("kwargs"))
    if not isinstance(env_name, str):
        raise TypeError(v.message(OP, "env_name", "a str", type(env_name).__name__))
    for problem, expected, got in (
        (autoreset is not True, "autoreset=True (a vector env resets its envs itself)", autoreset),
        (bool(wrappers), "no wrappers (they wrap single envs)", wrappers),
        (
            gym.spec(env_name).vector_entry_point is None,
            "an env with a vector implementation (a vector_entry_point)",
            f"{env_name!r}, which has none: use backend='sync' or 'async'",
        ),
    ):
        if problem:
            raise InvalidArgumentError(v.message(OP, "backend 'vector'", expected, got))
    return gym.make_vec(env_name, n, vectorization_mode="vector_entry_point", **env_kwargs)


def _size(space: Space, what: str) -> int:
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.Box) and len(space.shape) == 1:
        return int(space.shape[0])
    raise TypeError(
        v.message("get_obs_and_actions_sizes", what, "a Discrete or a 1-D Box space", space)
    )


class ParallelGymAgent(Agent):
    """Runs ``num_envs`` gymnasium envs and writes their rows into the workspace (ENV-1..ENV-29).

    At ``t == 0`` every env is reset (with seeds drawn as in DET-5, or DET-8 for a vector env); at
    ``t > 0`` the agent reads ``action`` at row ``t - 1``, steps the envs and writes row ``t`` of
    ``env/env_obs``, ``env/reward``, ``env/done``, ``env/terminated``, ``env/truncated``,
    ``env/cumulated_reward`` and ``env/timestep``.

    ``backend`` is ``"sync"``, ``"async"`` (worker processes; ``timeout`` bounds each reset and
    step, ``context`` names the multiprocessing start method), ``"vector"`` (gymnasium.make_vec
    of ``make_env``'s env name) or a gymnasium ``VectorEnv`` in next-step autoreset mode (then
    ``make_env_fn`` is None; the agent closes it). Close the agent with :meth:`close` or use it
    as a context manager.
    """

    def __init__(
        self,
        make_env_fn: Callable[..., Env] | None,
        num_envs: int,
        make_env_args: Mapping[str, object] | None = None,
        *,
        backend: BackendName | VectorEnv[Any, Any, Any] = "sync",
        timeout: float | None = None,
        context: str | None = None,
        include_last_state: bool = True,
        reward_at_t: bool = False,
        seed: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.num_envs = v.check_int(OP, "num_envs", num_envs, 1)
        given_vec = isinstance(backend, VectorEnv)
        if not given_vec and backend not in ("sync", "async", "vector"):
            raise InvalidArgumentError(
                v.message(
                    OP, "argument 'backend'", "'sync', 'async', 'vector' or a VectorEnv", backend
                )
            )
        if given_vec:
            if make_env_fn is not None:
                raise InvalidArgumentError(
                    v.message(OP, "argument 'make_env_fn'", "None with a VectorEnv", make_env_fn)
                )
        elif not callable(make_env_fn):
            raise TypeError(v.message(OP, "argument 'make_env_fn'", "a callable", make_env_fn))
        if not _check_bool("include_last_state", include_last_state):
            raise InvalidArgumentError(
                v.message(
                    OP,
                    "argument 'include_last_state'",
                    "True (the next-step layout of ENV-5/ENV-6 is the only one, B7)",
                    False,
                )
            )
        if _check_bool("reward_at_t", reward_at_t):
            raise InvalidArgumentError(
                v.message(
                    OP,
                    "argument 'reward_at_t'",
                    "False (row t holds the reward of the step that led to it, B8)",
                    True,
                )
            )
        seconds = check_timeout(timeout)
        for option, given in (("timeout", seconds), ("context", context)):
            if given is not None and backend != "async":
                raise InvalidArgumentError(
                    v.message(
                        OP, f"argument {option!r}", "worker processes (backend='async')", backend
                    )
                )
        if context is not None and context not in multiprocessing.get_all_start_methods():
            raise InvalidArgumentError(
                v.message(
                    OP,
                    "argument 'context'",
                    f"one of {multiprocessing.get_all_start_methods()}",
                    repr(context),
                )
            )
        if make_env_args is not None and not isinstance(make_env_args, Mapping):
            raise TypeError(
                v.message(OP, "argument 'make_env_args'", "a mapping", type(make_env_args).__name__)
            )
        first_seed = None if seed is None else check_seed(OP, seed)
        kwargs = dict(make_env_args or {})
        self._backend: Backend
        if isinstance(backend, VectorEnv):
            self._backend = VectorBackend(backend)
        elif backend == "vector":
            self._backend = VectorBackend(_vector_env(make_env_fn, kwargs, self.num_envs))  # type: ignore[arg-type]
        elif backend == "async":
            self._backend = AsyncBackend(make_env_fn, kwargs, self.num_envs, seconds, context)  # type: ignore[arg-type]
        else:
            self._backend = SyncBackend.build(make_env_fn, kwargs, self.num_envs)  # type: ignore[arg-type]
        b = self._backend
        if b.num_envs != self.num_envs:
            b.close()
            raise InvalidArgumentError(
                v.message(OP, "argument 'num_envs'", f"the VectorEnv's {b.num_envs}", num_envs)
            )
        self.backend = backend if isinstance(backend, str) else "vector"
        self.observation_space: Space = b.observation_space
        self.action_space: Space = b.action_space
        self.autoreset = b.autoreset
        self._rows = b.rows
        self._discrete_action = isinstance(self.action_space, spaces.Discrete)
        if isinstance(self.action_space, spaces.Discrete):
            self._action_low = int(self.action_space.start)
            low = self._action_low
            self._action_high = low + int(self.action_space.n)
            shape: tuple[int, ...] = ()
            self._action_dtype: np.dtype[Any] = _INT64
            self._action_span = np.full(self.num_envs, self._action_high - low, np.uint64)
            self._outside = np.zeros(self.num_envs, np.bool_)
        elif isinstance(self.action_space, spaces.Box):
            shape = self.action_space.shape
            self._action_dtype = np.dtype(self.action_space.dtype)
        else:
            b.close()
            raise TypeError(v.message(OP, "action space", "Discrete or Box", self.action_space))
        self._action_row_shape = (self.num_envs, *shape)
        self._seed: int | None = None
        self._rollout = 0
        #: why calls at t > 0 are refused: never reset, or an earlier call failed (ENV-22)
        self._refusal: str | None = "a first call at t=0 (the envs need a reset)"
        self._closed = False
        if first_seed is not None:
            self.seed(first_seed)

    # ------------------------------------------------------------------ public
    def seed(self, seed: int) -> ParallelGymAgent:
        """Fix the seeds of the following rollouts (DET-1..DET-5, DET-8, DET-9); return ``self``.

        Rollout ``r`` (the ``r``-th call at ``t == 0`` after this call, from 0) resets env ``k``
        with ``SeedSequence(entropy=seed, spawn_key=(r,)).generate_state(num_envs)[k]`` (a vector
        env with ``generate_state(1)[0]``). Without a seed every rollout draws fresh OS entropy
        (a vector env continues its own random stream).
        """
        value = check_seed("seed", seed)
        if not self._backend.seedable:
            raise InvalidArgumentError(
                v.message(
                    "seed",
                    "this vector env",
                    "a VectorEnv whose reset takes a seed",
                    "an EnvPool env, whose seeds are fixed when it is made: pass seed to "
                    "envpool.make",
                )
            )
        self._seed = value
        self._rollout = 0
        return self

    @property
    def envs(self) -> list[Env]:
        """The envs, ``envs[b]`` being env ``b``, when stepped in this process (ENV-29)."""
        return self._backend.envs

    def get_observation_space(self) -> Space:
        """The observation space of one env (ENV-29)."""
        return self.observation_space

    def get_action_space(self) -> Space:
        """The action space of one env (ENV-29)."""
        return self.action_space

    def is_continuous_action(self) -> bool:
        """Whether the action space is a ``Box`` (ENV-29)."""
        return isinstance(self.action_space, spaces.Box)

    def is_discrete_action(self) -> bool:
        """Whether the action space is a ``Discrete`` (ENV-29)."""
        return isinstance(self.action_space, spaces.Discrete)

    def get_obs_and_actions_sizes(self) -> tuple[int, int]:
        """``(observation size, action size)``: ``shape[0]`` of a 1-D Box, ``n`` of a Discrete."""
        return (
            _size(self.observation_space, "observation space"),
            _size(self.action_space, "action space"),
        )

    def close(self) -> None:
        """Close every env and stop the worker processes (idempotent, ENV-26)."""
        if self._closed:
            return
        self._closed = True
        self._backend.close()

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
        workspace = self.workspace
        if workspace is None:
            self._not_bound("forward")
        if type(t) is not int or t < 0:
            t = v.check_int(OP, "t", t, 0)
        if self._closed:
            raise InvalidStateError(v.message(OP, "agent", "an open agent", "closed"))
        backend = self._backend
        if t == 0:
            seeds = self._rollout_seeds()
            try:
                backend.reset(0, seeds)
                workspace._set_numpy_rows(0, self._rows.outputs)
            except BaseException as exc:
                self._refusal = self._failed(0, exc)
                raise
            self._refusal = None
            return
        if self._refusal is not None:
            raise InvalidStateError(v.message(OP, f"the call at t={t}", self._refusal, "none"))
        actions = self._read_actions(workspace, t - 1)  # checked before any env is touched
        try:
            backend.step(t, actions)
            workspace._set_numpy_rows(t, self._rows.outputs)
        except BaseException as exc:
            self._refusal = self._failed(t, exc)
            raise

    @staticmethod
    def _failed(t: int, exc: BaseException) -> str:
        return (
            f"a call at t=0 first: the call at t={t} failed after touching the envs "
            f"({type(exc).__name__}: {exc})"[:500]
        )

    def _rollout_seeds(self) -> np.random.SeedSequence | None:
        if self._seed is None:
            return None
        sequence = np.random.SeedSequence(entropy=self._seed, spawn_key=(self._rollout,))
        self._rollout += 1
        return sequence

    def _read_actions(self, workspace: Workspace, t: int) -> np.ndarray:
        """Row ``t`` of ``action``, checked (ERR-7, ENV-11, ENV-23), as a numpy array."""
        array = workspace._numpy_row(ACTION, t)
        if array is None:  # not a plain CPU variable: go through torch (validates t)
            row = workspace._row(ACTION, t).detach().cpu()
            if row.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds it exactly
                row = row.float()
            array = row.numpy()
        if array.shape != self._action_row_shape:
            expected = list(self._action_row_shape)
            raise ShapeError(
                v.message(OP, v.variable(ACTION), f"shape {expected} at row {t}", array.shape)
            )
        if not self._discrete_action:
            if array.dtype.kind not in "fiu":
                raise DTypeError(
                    v.message(OP, v.variable(ACTION), "a real dtype (Box)", array.dtype)
                )
            return array.astype(self._action_dtype)
        dtype = array.dtype
        low, high = self._action_low, self._action_high
        if dtype != _INT64:
            if dtype.kind not in "iub":
                raise DTypeError(
                    v.message(OP, v.variable(ACTION), "an integer dtype (Discrete)", dtype)
                )
            if dtype == _UINT64 and array.max(initial=0) > _INT64_MAX:  # int64 would wrap them
                self._out_of_range(t, array[array > _INT64_MAX])
            array = array.astype(_INT64)
        if self.num_envs <= 16:  # min/max of a short list beat numpy reductions
            values = array.tolist()
            outside = min(values) < low or max(values) >= high
        else:  # below low wraps around to a huge unsigned value; find beats a numpy reduction
            shifted = array if low == 0 else array - low
            above = np.greater_equal(shifted.view(np.uint64), self._action_span, self._outside)
            outside = above.tobytes().find(1) >= 0
        if outside:
            self._out_of_range(t, array[(array < low) | (array >= high)])
        return array

    def _out_of_range(self, t: int, bad: np.ndarray) -> NoReturn:
        low, high = self._action_low, self._action_high
        raise InvalidArgumentError(
            v.message(
                OP,
                v.variable(ACTION),
                f"values in [{low}, {high}) at row {t} (the Discrete action space)",
                bad.tolist(),
            )
        )
