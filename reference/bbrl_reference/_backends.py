"""How :class:`ParallelGymAgent` steps its envs (ENV-13, ENV-16, ENV-17): three backends.

A backend owns its envs and writes what one reset or one step of all of them returns into a
:class:`Rows` staging area, numpy rows reused from step to step; the agent then copies the rows
into the workspace in one atomic write. Every backend has the same small interface
(:class:`Backend`): ``reset(t, seeds)``, ``step(t, actions)``, ``close()``.

* :class:`SyncBackend` loops over gymnasium envs in this process. The next-step autoreset of
  ENV-5..ENV-7 is done here: an env done at row ``t-1`` is reset at row ``t`` (autoreset) or left
  frozen (no autoreset), and is not sent the action of row ``t-1``.
* :class:`AsyncBackend` keeps one env per worker process and drives each worker with a small
  pipe protocol (commands ``step``, ``reset``, ``close``): it sends the commands, collects every
  answer (bounded by ``timeout``; a dead worker is seen through its process sentinel), then runs
  :class:`SyncBackend`'s loop over the answers, so both write the same rows by construction. A
  worker that died, timed out or was interrupted mid-exchange is replaced at the next reset.
* :class:`VectorBackend` steps one gymnasium ``VectorEnv`` in next-step autoreset mode (gymnasium's
  native vector envs, EnvPool, batch envs), with the episode bookkeeping done in numpy.

Every output is checked against the spaces before it is staged (ENV-21), and an env that raises
becomes an :class:`EnvError` naming the env and ``t`` with the env's exception as cause (ENV-20).
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import pickle
import signal
import time
import traceback
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, NoReturn, cast

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from . import _validation as v
from ._errors import (
    EnvError,
    EnvOutputShapeError,
    EnvOutputTypeError,
    EnvTimeoutError,
    InvalidArgumentError,
    InvalidStateError,
)
from ._names import (
    ENV_CUMULATED_REWARD,
    ENV_DONE,
    ENV_OBS,
    ENV_REWARD,
    ENV_TERMINATED,
    ENV_TIMESTEP,
    ENV_TRUNCATED,
)

Env = gym.Env[Any, Any]  # gymnasium's own signatures use Any for observations and actions
Space = gym.Space[Any]

AUTORESET_ATTRIBUTE = "bbrl_autoreset"
"""Attribute that :func:`make_env` sets on the env it returns (True for autoreset)."""

OP = "ParallelGymAgent"

#: How long ``close()`` waits for idle workers to close their envs when there is no timeout.
CLOSE_GRACE_S = 5.0


def is_autoreset(env: object) -> bool:
    """The ``bbrl_autoreset`` mark of ``env``, else whether it is wrapped in ``Autoreset``."""
    flag = getattr(env, AUTORESET_ATTRIBUTE, None)
    if flag is not None:
        return bool(flag)
    layer = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, gym.wrappers.Autoreset):
            return True
        layer = layer.env
    return False


def _where(k: int | None, t: int) -> str:
    return f"at t={t}" if k is None else f"of env {k} at t={t}"


def _env_failure(k: int | None, t: int, what: str, exc: BaseException) -> EnvError:
    """The error of an env that raised in ``what`` (``reset`` or ``step``); its cause is ``exc``."""
    who = "the vector env" if k is None else f"env {k}"
    return EnvError(f"{OP}: {who} raised in {what} at t={t}: {type(exc).__name__}: {exc}", k, t)


def _bad_type(
    k: int | None, t: int, what: str, expected: str, value: object, dtype: object = None
) -> NoReturn:
    """The TypeError of ENV-21; ``dtype``, when given, is the dtype found in ``value``."""
    shown = type(value).__name__ if dtype is None else f"{type(value).__name__} of dtype {dtype}"
    got = f"{shown} {value!r}"[:200]
    raise EnvOutputTypeError(v.message(OP, f"{what} {_where(k, t)}", expected, got), k, t)


def _bad_shape(k: int | None, t: int, what: str, expected: str, got: object) -> NoReturn:
    raise EnvOutputShapeError(v.message(OP, f"{what} {_where(k, t)}", expected, got), k, t)


# ------------------------------------------------------------------------- staging rows
class _Leaf:
    """One observation variable: its name, its path in a Dict observation, its numpy row, and
    what an env may return for it (ENV-21)."""

    __slots__ = ("discrete", "kinds", "name", "path", "row", "shape", "space_dtype")

    def __init__(self, name: str, path: tuple[str, ...], space: Space, n: int) -> None:
        self.name = name
        self.path = path
        self.discrete = isinstance(space, spaces.Discrete)
        self.space_dtype: np.dtype[Any]
        dtype: np.dtype[Any]
        if self.discrete:
            self.shape: tuple[int, ...] = ()
            self.space_dtype = np.dtype(np.int64)
            self.kinds = "iu"
            dtype = self.space_dtype
        else:
            self.shape = tuple(space.shape or ())
            self.space_dtype = np.dtype(space.dtype)
            kind = self.space_dtype.kind
            self.kinds = "b" if kind == "b" else "biu" if kind in "iu" else "iuf"
            dtype = np.dtype(np.float32) if kind == "f" else self.space_dtype
        self.row = np.zeros((n, *self.shape), dtype=dtype)

    def check(self, value: object, k: int | None, t: int, batch: int | None) -> object:
        """``value`` if it fits this leaf (one env's, or a batch of ``batch``), else raise."""
        what = f"observation {self.name!r}"
        shape = self.shape if batch is None else (batch, *self.shape)
        if self.discrete and batch is None:
            if isinstance(value, int | np.integer) and not isinstance(value, bool):
                return value
            if not (isinstance(value, np.ndarray) and value.shape == ()):
                _bad_type(k, t, what, "an integer (Discrete space)", value)
        if isinstance(value, np.ndarray):
            array = value
        else:
            try:
                array = np.asarray(value)
            except ValueError:  # a ragged nest of sequences
                _bad_shape(k, t, what, f"shape {shape}", "a ragged sequence")
        if array.dtype.kind not in self.kinds:
            expected = {
                "b": "a bool dtype",
                "biu": "an integer or bool dtype",
                "iu": "an integer dtype",
            }.get(self.kinds, "an integer or floating dtype")
            _bad_type(k, t, what, f"{expected} ({self.space_dtype} space)", value, array.dtype)
        if array.shape != shape:
            _bad_shape(k, t, what, f"shape {shape}", array.shape)
        return array


def _obs_leaves(space: Space, name: str, path: tuple[str, ...], n: int) -> list[_Leaf]:
    if isinstance(space, spaces.Dict):
        leaves: list[_Leaf] = []
        for key, sub in space.spaces.items():
            leaves += _obs_leaves(sub, f"{name}/{key}", (*path, key), n)
        return leaves
    if isinstance(space, spaces.Discrete | spaces.Box | spaces.MultiBinary | spaces.MultiDiscrete):
        return [_Leaf(name, path, space, n)]
    raise TypeError(
        v.message(
            OP,
            f"observation space of {name!r}",
            "Box, Discrete, MultiBinary, MultiDiscrete or Dict",
            space,
        )
    )


def _dict_keys(space: Space) -> dict[tuple[str, ...], tuple[str, ...]]:
    """path -> sorted keys of every Dict (sub)space, for the key check of ENV-21."""
    found: dict[tuple[str, ...], tuple[str, ...]] = {}

    def visit(sub: Space, path: tuple[str, ...]) -> None:
        if isinstance(sub, spaces.Dict):
            found[path] = tuple(sorted(sub.spaces))
            for key, inner in sub.spaces.items():
                visit(inner, (*path, key))

    visit(space, ())
    return found


class Rows:
    """The rows of one time step (ENV-2), staged as numpy arrays reused from step to step.

    ``outputs`` lists ``(variable name, row)`` in the order the agent writes them.
    """

    def __init__(self, observation_space: Space, n: int) -> None:
        self.n = n
        self.leaves = _obs_leaves(observation_space, ENV_OBS, (), n)
        names = [leaf.name for leaf in self.leaves]
        if len(set(names)) < len(names):  # a key "a/b" next to a nested "a" -> "b" (ENV-10)
            twice = sorted({name for name in names if names.count(name) > 1})
            raise InvalidArgumentError(
                v.message(OP, "observation space", "Dict keys naming one variable each", twice)
            )
        self._dicts = _dict_keys(observation_space)
        self.reward = np.zeros(n, dtype=np.float32)
        self.terminated = np.zeros(n, dtype=np.bool_)
        self.truncated = np.zeros(n, dtype=np.bool_)
        self.done = np.zeros(n, dtype=np.bool_)
        self.cumulated = np.zeros(n, dtype=np.float32)
        self.timestep = np.zeros(n, dtype=np.int64)
        leaves = self.leaves
        #: the observation leaf when the observation is one array (not a Dict)
        self.single = leaves[0] if len(leaves) == 1 and not leaves[0].path else None
        self.outputs: list[tuple[str, np.ndarray]] = [(leaf.name, leaf.row) for leaf in leaves]
        self.outputs += [
            (ENV_REWARD, self.reward),
            (ENV_DONE, self.done),
            (ENV_TERMINATED, self.terminated),
            (ENV_TRUNCATED, self.truncated),
            (ENV_CUMULATED_REWARD, self.cumulated),
            (ENV_TIMESTEP, self.timestep),
        ]

    def clear(self) -> None:
        """Zero every row but the observations (the rows of a reset, ENV-3)."""
        for row in (self.reward, self.cumulated, self.timestep):
            row.fill(0)
        for flags in (self.terminated, self.truncated, self.done):
            flags.fill(False)

    def _parts(self, obs: object, k: int | None, t: int) -> list[object]:
        """The value of every leaf in ``obs``, after checking the Dict structure (ENV-21)."""
        if self.single is not None:
            return [obs]
        for path, keys in self._dicts.items():
            node = obs
            for key in path:
                node = node[key]  # type: ignore[index]  # checked at the level above
            where = "observation" + "".join(f"[{key!r}]" for key in path)
            if not isinstance(node, Mapping):
                _bad_type(k, t, where, "a mapping (Dict space)", node)
            if len(node) != len(keys) or not all(key in node for key in keys):
                given = sorted(map(repr, node))  # repr: keys need not be str, nor comparable
                _bad_shape(k, t, where, f"the keys {list(keys)}", f"[{', '.join(given)}]")
        parts = []
        for leaf in self.leaves:
            value = obs
            for key in leaf.path:
                value = value[key]  # type: ignore[index]
            parts.append(value)
        return parts

    def write_obs(self, k: int, obs: object, t: int) -> None:
        """Check env ``k``'s observation and stage it at column ``k``."""
        for leaf, value in zip(self.leaves, self._parts(obs, k, t), strict=True):
            leaf.row[k] = leaf.check(value, k, t, None)

    def write_obs_batch(self, batch: object, t: int) -> None:
        """Check a vector env's batched observation and stage it."""
        single = self.single
        if (  # the common case, checked in a few attribute reads
            single is not None
            and type(batch) is np.ndarray
            and batch.dtype is single.space_dtype
            and batch.shape == single.row.shape
        ):
            single.row[...] = batch
            return
        n = self.n
        for leaf, value in zip(self.leaves, self._parts(batch, None, t), strict=True):
            array = leaf.check(value, None, t, n)
            np.copyto(leaf.row, array, casting="unsafe")  # type: ignore[arg-type]


def _reward(value: object, k: int | None, t: int) -> float:
    """``value`` as a float if it is a real number (ENV-21), else raise."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an int beyond float's range: it rounds to +-inf
            return math.inf if value > 0 else -math.inf
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iuf":
        return float(value)
    _bad_type(k, t, "reward", "a real number", value)


def _flag(value: object, what: str, k: int | None, t: int) -> bool:
    """``value`` if it is a bool or a numpy bool (ENV-21), else raise."""
    if isinstance(value, bool | np.bool_) or (
        isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind == "b"
    ):
        return bool(value)
    _bad_type(k, t, what, "a bool", value)


def _pair(result: object, k: int, t: int) -> object:
    """The observation of a ``reset`` result, which must be an ``(obs, info)`` pair."""
    if type(result) is not tuple or len(result) != 2:
        _bad_type(k, t, "reset result", "a tuple (observation, info)", result)
    return result[0]


# ------------------------------------------------------------------------------ backends
class Backend(ABC):
    """What :class:`ParallelGymAgent` needs from a way of stepping ``num_envs`` envs."""

    num_envs: int
    observation_space: Space
    action_space: Space
    autoreset: bool
    rows: Rows
    #: whether ``reset`` honours a seed (EnvPool fixes its seeds when it is made)
    seedable: bool = True
    #: where the envs are, for the error of :attr:`envs`
    where = "envs stepped one by one in this process"

    @property
    def envs(self) -> list[Env]:
        """The env objects, when they live in this process one by one (ENV-29)."""
        raise InvalidStateError(
            v.message(OP, "envs", "envs stepped one by one in this process", self.where)
        )

    @abstractmethod
    def reset(self, t: int, seeds: np.random.SeedSequence | None) -> None:
        """Reset every env (seeded from ``seeds``, DET-5/DET-8) and stage row ``t``."""

    @abstractmethod
    def step(self, t: int, actions: np.ndarray) -> None:
        """Send ``actions[b]`` to every env ``b`` that is not done, and stage row ``t``."""

    @abstractmethod
    def close(self) -> None:
        """Release the envs (idempotent)."""


def _per_env_seeds(seeds: np.random.SeedSequence | None, n: int) -> list[int]:
    """DET-5's reset seeds; fresh OS entropy for an agent that was never seeded."""
    sequence = np.random.SeedSequence() if seeds is None else seeds
    return [int(s) for s in sequence.generate_state(n)]


class _LoopBackend(Backend):
    """A Python loop over env-like objects (``reset(seed=)``, ``step(action)``), writing
    straight into the staging rows.

    Per-env episode state lives in Python lists (faster scalar access than numpy). The loop's
    common case (an ndarray observation of the space's shape and dtype, a ``float`` reward,
    ``bool`` flags) costs a few type checks per env; anything else takes the checking path of
    ENV-21.
    """

    def __init__(
        self,
        envs: Sequence[Any],
        observation_space: Space,
        action_space: Space,
        autoreset: bool,
    ) -> None:
        n = len(envs)
        self.num_envs = n
        self._envs = list(envs)
        self.observation_space = observation_space
        self.action_space = action_space
        self.autoreset = autoreset
        self.rows = Rows(observation_space, n)
        self._done = [False] * n
        self._returns = [0.0] * n
        self._timestep = [0] * n
        single = self.rows.single
        self._fast_shape = single.shape if single is not None else None
        self._fast_dtype = single.space_dtype if single is not None else None

    def reset(self, t: int, seeds: np.random.SeedSequence | None) -> None:
        per_env = _per_env_seeds(seeds, self.num_envs)
        rows = self.rows
        for k, env in enumerate(self._envs):
            try:
                result = env.reset(seed=per_env[k])
            except Exception as exc:
                raise _env_failure(k, t, "reset", exc) from exc
            rows.write_obs(k, _pair(result, k, t), t)
        rows.clear()
        n = self.num_envs
        self._done, self._returns, self._timestep = [False] * n, [0.0] * n, [0] * n

    def step(self, t: int, actions: np.ndarray) -> None:
        items = list(actions)  # numpy scalars (Discrete) or row views (Box)
        autoreset = self.autoreset
        done, returns, timestep = self._done, self._returns, self._timestep
        rows = self.rows
        terminated, truncated, done_row = rows.terminated, rows.truncated, rows.done
        reward = [0.0] * self.num_envs
        single = rows.single
        obs_row = single.row if single is not None else None
        shape, dtype = self._fast_shape, self._fast_dtype
        for k, env in enumerate(self._envs):
            if done[k]:
                if not autoreset:
                    continue  # frozen row: only the reward (0) changes (ENV-7)
                try:
                    result = env.reset()
                except Exception as exc:
                    raise _env_failure(k, t, "reset", exc) from exc
                obs = _pair(result, k, t)
                returns[k] = 0.0
                timestep[k] = 0
                done[k] = False
                terminated[k] = truncated[k] = done_row[k] = False
            else:
                try:
                    result = env.step(items[k])
                except Exception as exc:
                    raise _env_failure(k, t, "step", exc) from exc
                try:
                    if type(result) is not tuple:
                        raise TypeError
                    obs, r, term, trunc, _ = result
                except (TypeError, ValueError):  # not a tuple, or not of 5
                    _bad_type(k, t, "step result", "a tuple of 5", result)
                if type(r) is not float:
                    r = _reward(r, k, t)
                if type(term) is not bool:
                    term = _flag(term, "terminated", k, t)
                if type(trunc) is not bool:
                    trunc = _flag(trunc, "truncated", k, t)
                reward[k] = r
                returns[k] += r
                timestep[k] += 1
                if term or trunc:
                    done[k] = True
                    terminated[k] = term
                    truncated[k] = trunc
                    done_row[k] = True
            if (
                obs_row is not None
                and type(obs) is np.ndarray
                and obs.dtype is dtype  # numpy's builtin dtypes are singletons
                and obs.shape == shape
            ):
                obs_row[k] = obs
            else:
                rows.write_obs(k, obs, t)
        rows.reward[:] = reward
        rows.cumulated[:] = returns
        rows.timestep[:] = timestep


class SyncBackend(_LoopBackend):
    """The envs themselves, stepped one by one in this process (the default backend)."""

    @classmethod
    def build(
        cls, make_env_fn: Callable[..., Any], kwargs: Mapping[str, object], n: int
    ) -> SyncBackend:
        """Build ``n`` envs with ``make_env_fn(**kwargs)`` (ENV-1); close them on any error."""
        envs: list[Env] = []
        try:
            for k in range(n):
                env = checked_env(make_env_fn(**kwargs))
                envs.append(env)
                if k:
                    check_same(describe(envs[0]), describe(env), k)
            return cls(envs, *describe(envs[0]))
        except BaseException:
            for env in envs:
                env.close()
            raise

    @property
    def envs(self) -> list[Env]:
        return list(self._envs)

    def close(self) -> None:
        for env in self._envs:
            env.close()


def checked_env(env: object) -> Env:
    """``env`` if it is a gymnasium env, else TypeError."""
    if not isinstance(env, gym.Env):
        raise TypeError(v.message(OP, "make_env_fn()", "a gymnasium.Env", type(env).__name__))
    return env


EnvInfo = tuple[Space, Space, bool]
"""What the agent needs to know of an env: observation space, action space, autoreset flag."""


def describe(env: Env) -> EnvInfo:
    """``(observation_space, action_space, autoreset)`` of ``env``."""
    return env.observation_space, env.action_space, is_autoreset(env)


def check_same(first: EnvInfo, other: EnvInfo, k: int) -> None:
    """Env ``k`` must have env 0's spaces and autoreset flag (ENV-1)."""
    for what, a, b in zip(
        ("observation space", "action space", "autoreset flag"), first, other, strict=True
    ):
        if a != b:
            raise InvalidArgumentError(v.message(OP, f"env {k} {what}", a, b))


# ----------------------------------------------------------------------- worker processes
def _send_error(conn: Connection, exc: BaseException) -> None:
    """Send ``exc`` (pickled when it can be, with the worker's traceback as a note) and a text
    summary of it."""
    trace = "".join(traceback.format_exception(exc))
    exc.add_note(f"worker traceback:\n{trace}")
    summary = f"{type(exc).__name__}: {exc}\n(worker traceback)\n{trace}"
    try:
        blob: bytes | None = pickle.dumps(exc)
    except Exception:
        blob = None
    conn.send(("error", blob, summary))


def _serve(conn: Connection, make_env_fn: Callable[..., Any], kwargs: Mapping[str, object]) -> None:
    """The worker's loop: build one env, then answer ``step``, ``reset`` and ``close``."""
    try:
        env = checked_env(make_env_fn(**kwargs))
        conn.send(("ok", describe(env)))
    except Exception as exc:
        _send_error(conn, exc)
        return
    while True:
        try:
            command, argument = conn.recv()
        except (EOFError, OSError):  # the agent is gone
            return
        try:
            result: object
            if command == "step":
                result = env.step(argument)
                if type(result) is tuple and len(result) == 5:
                    result = (*result[:4], {})  # info is dropped (ENV-2)
            elif command == "reset":
                result = env.reset(seed=argument)
                if type(result) is tuple and len(result) == 2:
                    result = (result[0], {})
            else:  # "close"
                env.close()
                conn.send(("ok", None))
                return
            conn.send(("ok", result))
        except Exception as exc:
            _send_error(conn, exc)


def _worker_main(
    conn: Connection, make_env_fn: Callable[..., Any], kwargs: Mapping[str, object]
) -> None:
    """Entry point of a worker process: Ctrl-C is the agent's to handle, not the workers'."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _serve(conn, make_env_fn, kwargs)
    except OSError:
        pass  # the agent closed its end while we answered
    finally:
        conn.close()


class _Worker:
    """One worker process, its end of the pipe, and whether an answer is still owed."""

    __slots__ = ("busy", "conn", "process")

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.busy = False


def _stop(worker: _Worker) -> None:
    """Kill the worker's process and reap it (no zombie is left)."""
    process = worker.process
    if process.is_alive():
        process.kill()
    process.join()  # SIGKILL cannot be ignored: this returns once the kernel has ended it
    process.close()  # releases its sentinel
    worker.conn.close()


def _shutdown(workers: list[_Worker | None], grace: float) -> None:
    """Close every worker: idle ones close their env (within ``grace`` s), others are killed."""
    idle = []
    for worker in workers:
        if worker is not None and not worker.busy and worker.process.is_alive():
            with contextlib.suppress(OSError):  # a worker dying meanwhile is killed below
                worker.conn.send(("close", None))
                idle.append(worker)
    deadline = time.monotonic() + grace
    for worker in idle:
        worker.process.join(max(0.0, deadline - time.monotonic()))
    for index, worker in enumerate(workers):
        if worker is not None:
            _stop(worker)
            workers[index] = None


class _Answer:
    """Stands for the env of one worker in :class:`SyncBackend`'s loop: returns (or raises)
    the answer the worker gave to the command already sent."""

    __slots__ = ("error", "value")

    def __init__(self) -> None:
        self.value: object = None
        self.error: BaseException | None = None

    def take(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value

    def reset(self, *, seed: int | None = None) -> Any:
        return self.take()

    def step(self, action: Any) -> Any:
        return self.take()


def _unpickled_error(blob: bytes | None, summary: str) -> BaseException:
    """The worker's exception, or a RuntimeError with its summary if it cannot be rebuilt."""
    if blob is not None:
        try:
            error = pickle.loads(blob)
            if isinstance(error, BaseException):
                return error
        except Exception:
            pass
    return RuntimeError(summary)


class AsyncBackend(_LoopBackend):
    """One env per worker process; :class:`SyncBackend`'s loop runs over the workers' answers.

    A call sends one command to each worker concerned, then receives every answer, in env
    order, waiting on the worker's pipe and on its process sentinel (so a dead worker is seen at
    once) for at most ``timeout`` seconds in all. Workers that died, timed out, or were left
    with an answer owed (an interrupt) are killed and replaced at the next :meth:`reset`.
    """

    where = "envs in worker processes"

    def __init__(
        self,
        make_env_fn: Callable[..., Any],
        kwargs: Mapping[str, object],
        n: int,
        timeout: float | None,
        context: str | None,
    ) -> None:
        self._make = make_env_fn
        self._kwargs = dict(kwargs)
        self._ctx: Any = multiprocessing.get_context(context)  # BaseContext lacks Process
        self.timeout = timeout
        self._workers: list[_Worker | None] = [None] * n
        grace = CLOSE_GRACE_S if timeout is None else timeout
        self._finalizer = weakref.finalize(self, _shutdown, self._workers, grace)
        try:
            infos = self._start(range(n), 0)
            for k in range(1, n):
                check_same(infos[0], infos[k], k)
        except BaseException:
            self._finalizer()
            raise
        super().__init__([_Answer() for _ in range(n)], *infos[0])

    def _start(self, indices: Sequence[int], t: int) -> dict[int, EnvInfo]:
        """Start a worker for each index and wait until it has built its env."""
        for k in indices:
            parent, child = self._ctx.Pipe()
            process = self._ctx.Process(
                target=_worker_main,
                args=(child, self._make, self._kwargs),
                name=f"bbrl-env-{k}",
                daemon=True,
            )
            worker = _Worker(process, parent)
            self._workers[k] = worker
            process.start()
            child.close()
            worker.busy = True
        answers = self._collect(list(indices), t, "make_env_fn()")
        return {k: cast(EnvInfo, answer.take()) for k, answer in answers.items()}

    def _collect(self, indices: list[int], t: int, what: str) -> dict[int, _Answer]:
        """Receive one answer from each worker of ``indices`` (ENV-24, ENV-25).

        Every answer is received before anything is raised, so the workers that did answer
        are ready for the next command; dead or late workers are stopped.
        """
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        answers: dict[int, _Answer] = {}
        failed: dict[int, EnvError] = {}
        for k in indices:
            worker = cast(_Worker, self._workers[k])  # started, or replaced at the last reset
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = wait([worker.conn, worker.process.sentinel], remaining)
            message = None
            with contextlib.suppress(EOFError, OSError):  # the worker died: no answer
                if ready and worker.conn.poll():
                    message = worker.conn.recv()
            if message is None:
                if ready:
                    worker.process.join(CLOSE_GRACE_S)
                    failed[k] = EnvError(
                        f"{OP}: the worker process of env {k} died during {what} at t={t} "
                        f"(exit code {worker.process.exitcode})",
                        k,
                        t,
                    )
                else:
                    failed[k] = EnvTimeoutError(
                        f"{OP}: the worker process of env {k} did not answer {what} within "
                        f"{self.timeout} s at t={t}; it was stopped",
                        k,
                        t,
                    )
                _stop(worker)
                self._workers[k] = None
                continue
            worker.busy = False
            answer = _Answer()
            if message[0] == "ok":
                answer.value = message[1]
            else:
                answer.error = _unpickled_error(message[1], message[2])
            answers[k] = answer
        if failed:
            first = failed[min(failed)]
            raise first
        return answers

    def _exchange(self, commands: dict[int, tuple[str, object]], t: int, what: str) -> None:
        """Send each worker its command, then put the answers where the loop reads them."""
        for k, command in commands.items():
            worker = cast(_Worker, self._workers[k])  # replaced at the last reset
            worker.busy = True
            with contextlib.suppress(OSError):  # a dead worker: _collect reports it
                worker.conn.send(command)
        answers = self._collect(list(commands), t, what)
        slots = self._envs
        for k, answer in answers.items():
            slots[k] = answer

    def reset(self, t: int, seeds: np.random.SeedSequence | None) -> None:
        self._replace_broken(t)
        per_env = _per_env_seeds(seeds, self.num_envs)
        self._exchange({k: ("reset", per_env[k]) for k in range(self.num_envs)}, t, "reset")
        super().reset(t, None)

    def step(self, t: int, actions: np.ndarray) -> None:
        autoreset = self.autoreset
        commands: dict[int, tuple[str, object]] = {}
        for k, done in enumerate(self._done):
            if not done:
                commands[k] = ("step", actions[k])
            elif autoreset:
                commands[k] = ("reset", None)
        self._exchange(commands, t, "step")
        super().step(t, actions)

    def _replace_broken(self, t: int) -> None:
        """Replace every worker that died or still owes an answer (after a failure)."""
        broken = []
        for k, worker in enumerate(self._workers):
            if worker is None or worker.busy:
                if worker is not None:
                    _stop(worker)
                    self._workers[k] = None
                broken.append(k)
        if broken:
            infos = self._start(broken, t)
            first = (self.observation_space, self.action_space, self.autoreset)
            for k in broken:
                check_same(first, infos[k], k)

    def close(self) -> None:
        self._finalizer()


# ----------------------------------------------------------------------------- vector envs
def _is_envpool(vec: object) -> bool:
    """Whether ``vec`` is an EnvPool env (its classes are made in ``abc``, its mixins are
    EnvPool's)."""
    return any(cls.__module__.split(".")[0] == "envpool" for cls in type(vec).__mro__)


class VectorBackend(Backend):
    """One gymnasium ``VectorEnv`` in next-step autoreset mode (ENV-17).

    Next-step mode means: the step after an env's done row resets that env and ignores its
    action (ENV-6), with reward 0 and both flags False. The episode bookkeeping (returns,
    timesteps, flags of the rows) is done in numpy, a fixed number of array operations per
    step whatever the number of envs.
    """

    autoreset = True
    where = "envs in one vector env"

    def __init__(self, vec: VectorEnv[Any, Any, Any]) -> None:
        mode = vec.metadata.get("autoreset_mode")
        if mode != AutoresetMode.NEXT_STEP:
            raise InvalidArgumentError(
                v.message(
                    OP,
                    "the vector env's metadata['autoreset_mode']",
                    AutoresetMode.NEXT_STEP,
                    mode,
                )
            )
        self._vec = vec
        self.num_envs = n = int(vec.num_envs)
        self.observation_space = vec.single_observation_space
        self.action_space = vec.single_action_space
        self.seedable = not _is_envpool(vec)
        self.rows = Rows(self.observation_space, n)
        self._returns = np.zeros(n, dtype=np.float64)
        self._r64 = np.zeros(n, dtype=np.float64)
        self._one = np.ones(n, dtype=np.int64)

    def reset(self, t: int, seeds: np.random.SeedSequence | None) -> None:
        seed = None if seeds is None else int(seeds.generate_state(1)[0])
        try:
            result = self._vec.reset(seed=seed)
        except Exception as exc:
            raise _env_failure(None, t, "reset", exc) from exc
        if type(result) is not tuple or len(result) != 2:
            _bad_type(None, t, "reset result", "a tuple (observation, info)", result)
        self.rows.write_obs_batch(result[0], t)
        self.rows.clear()
        self._returns.fill(0)

    def _batch(self, value: object, what: str, kinds: str, t: int) -> np.ndarray:
        if not isinstance(value, np.ndarray) or value.dtype.kind not in kinds:
            expected = "an array of bools" if kinds == "b" else "an array of real numbers"
            _bad_type(None, t, what, expected, value)
        if value.shape != (self.num_envs,):
            _bad_shape(None, t, what, f"shape {(self.num_envs,)}", value.shape)
        return value

    def step(self, t: int, actions: np.ndarray) -> None:
        try:
            result = self._vec.step(actions)
        except Exception as exc:
            raise _env_failure(None, t, "step", exc) from exc
        if type(result) is not tuple or len(result) != 5:
            _bad_type(None, t, "step result", "a tuple of 5", result)
        obs, r, term, trunc, _ = result
        r = self._batch(r, "reward", "iuf", t)
        term = self._batch(term, "terminated", "b", t)
        trunc = self._batch(trunc, "truncated", "b", t)
        rows = self.rows
        rows.write_obs_batch(obs, t)
        # The envs done at t-1 were reset, not stepped (ENV-6): their rows get reward 0, return
        # 0, timestep 0 and no flags, whatever the vector env reported (ENV-33). They are
        # masked by assignment, not by a multiplication by 0, which would turn an infinite
        # reward or return into NaN (ENV-35). Each numpy call runs on one dtype and gets `out`
        # by position (a mixed-dtype loop, or a keyword argument, costs measurably more).
        done = rows.done
        r64 = self._r64
        r64[...] = r
        np.putmask(r64, done, 0.0)
        rows.reward[...] = r64
        returns = self._returns  # float64, summing the rewards as reported, as the loop does
        np.putmask(returns, done, 0.0)
        np.add(returns, r64, returns)
        rows.cumulated[...] = returns
        timestep = rows.timestep
        np.putmask(timestep, done, -1)
        np.add(timestep, self._one, timestep)
        # a flag of row t is the env's flag where the env was not done at t-1: flag > done
        np.greater(term, done, rows.terminated)
        np.greater(trunc, done, rows.truncated)
        np.logical_or(rows.terminated, rows.truncated, done)

    def close(self) -> None:
        self._vec.close()  # the agent calls it once


def check_timeout(timeout: object) -> float | None:
    """``timeout`` as seconds: None, or a positive finite int or float (ENV-25)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(
            v.message(
                OP, "argument 'timeout'", "None or a number of seconds", type(timeout).__name__
            )
        )
    seconds = float(timeout)
    if not (seconds > 0 and math.isfinite(seconds)):
        raise InvalidArgumentError(
            v.message(OP, "argument 'timeout'", "a positive finite number of seconds", timeout)
        )
    return seconds
