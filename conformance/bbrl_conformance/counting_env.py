"""A deterministic counting environment shipped with the conformance suite.

Every observation says where it comes from: which env (``env_id``), which episode of that env
(``episode``, the number of resets before it, so the first episode is 0) and how many steps
have been taken in that episode (``step``, 0 right after a reset). Episode lengths are chosen
per env (optionally a cycle of lengths, one per episode), every episode ends with
``terminated`` or with ``truncated`` as chosen per env, the reward of a step is a known
function of (env, episode, step), and every action the env actually consumes is logged.

Implementations under test build the env themselves, through their own ``make_env``, the way
the notebook does::

    plan = CountingPlan(lengths=[3, 2])
    env_agent = impl.ParallelGymAgent(plan.factory(impl, autoreset=True), num_envs=2)

``ParallelGymAgent`` calls the factory once per env with no env index, so the plan hands out
env ids itself: ``plan.factory`` passes ``plan=<key>`` through ``make_env`` to
``gymnasium.make``, and each construction of :class:`CountingEnv` with that key claims the
lowest free env id (0, 1, ..., B-1) of the plan; an id is free again when its env is closed or
its process is gone (so a worker that replaces a dead one takes its id over).

The plan lives in a directory (the key is its path), so envs built in worker processes take
part too: each env appends every event (claim, reset seed, consumed action, close) to its own
log file there, and the test process reads ``plan.envs[k].actions``, ``.reset_seeds``,
``.pids`` from those logs (the ground truth of what reached ``env.step``, in any process).

:class:`CountingVectorEnv`, registered as the env's vector entry point, is the same plan as one
gymnasium ``VectorEnv`` in next-step autoreset mode (what ``gymnasium.make_vec(ENV_ID, n,
vectorization_mode="vector_entry_point", plan=key)`` builds); its sub-envs log like single envs.

A plan can inject faults at a state ``(env, episode, step)``: ``step`` raises, returns a
malformed value, sleeps, or ends the worker process (see :data:`FAULTS`).

:func:`simulate` is the pure-Python model of what an env agent must write for one env of a plan
(spec/env-agent.md), used as the oracle of the row-by-row tests.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import math
import os
import shutil
import tempfile
import time
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

ENV_ID = "bbrl_conformance/Counting-v0"

ObsKind = Literal["float", "float64", "uint8", "int32", "bool", "discrete", "dict"]
ActionKind = Literal["discrete", "box"]
OBS_KINDS: tuple[ObsKind, ...] = ("float", "float64", "uint8", "int32", "bool", "discrete", "dict")

#: What a fault at state (env, episode, step) does to the ``step`` from that state (a fault at
#: step -1 fires in the ``reset`` that starts the episode, for "raise" and "reset-bare" only).
#: A fault fires once
#: (the first env to reach its state, in any process):
#: "raise" raises :class:`CountingEnvFailure` (the action is not consumed), "raise-unpicklable"
#: :class:`CountingEnvCodedFailure` (which pickle cannot rebuild); "slow" sleeps
#: SLOW_S seconds, then steps; "hang" sleeps HANG_S seconds and "exit" ends the process with
#: ``os._exit(3)`` (both only in a process other than the plan's: in the test process they
#: raise instead); the others step, then return a malformed value: "obs-shape" (one number
#: too many), "obs-none" (``None``), "reward-str" (``"1.0"``), "terminated-str" (``"no"``),
#: "truncated-int" (``1``), "result-short" (a 4-tuple), "obs-float" (the observation, or a
#: Dict observation's "step", as float64: a Python float for "discrete"), "obs-ragged" (a
#: ragged nested list), "obs-keys" (a Dict observation without its "step" key), "obs-key-int"
#: (a Dict observation with an extra key 0, not a str), "reward-bool"
#: (``True``), "reward-shape" (an array of shape [2], for a batch [B + 1]); "reset-bare" makes
#: the ``reset`` return the observation alone, not the pair (observation, info). A vector env
#: makes its whole batch malformed the same way. "close-hang", at step -2 of episode 0, fires in
#: ``close``: it sleeps HANG_S seconds there (only in a worker process, like "hang").
Fault = Literal[
    "raise",
    "raise-unpicklable",
    "slow",
    "hang",
    "exit",
    "obs-shape",
    "obs-none",
    "reward-str",
    "terminated-str",
    "truncated-int",
    "result-short",
    "obs-float",
    "obs-ragged",
    "obs-keys",
    "obs-key-int",
    "reward-bool",
    "reward-shape",
    "reset-bare",
    "close-hang",
]
FAULTS: tuple[Fault, ...] = get_args(Fault)
SLOW_S = 5.0
#: the reward a vector env of a ``noisy_resets`` plan reports for a sub-env it resets: infinite
#: in a floating reward array (masking it by a multiplication by 0 gives NaN, not 0), 7 in an
#: integer one
NOISY_RESET_REWARD = math.inf
NOISY_RESET_REWARD_INT = 7
#: the dtypes a vector env's reward array may have (``CountingPlan(vector_reward_dtype=...)``)
VECTOR_REWARD_DTYPES = ("float64", "float32", "int64", "int32")
HANG_S = 600.0

#: Encoding limits: ids, episodes and steps must stay below these so that every obs kind
#: (uint8 included) and the Discrete code represent them exactly.
MAX_ENVS = 64
MAX_EPISODES = 100
MAX_STEPS = 100
#: Size of the Discrete action space (actions 0..MAX_ACTION-1).
MAX_ACTION = 1_000_000
#: The counting action agent refuses t >= MAX_ROLLOUT (a runaway rollout fails, not hangs).
MAX_ROLLOUT = 1000
#: Shape of a Box action.
BOX_ACTION_SHAPE = (2,)

Action = int | tuple[float, ...]


class CountingEnvFailure(RuntimeError):
    """What a "raise" fault raises (a test checks it comes back as the ``__cause__``)."""


class CountingEnvCodedFailure(RuntimeError):
    """What a "raise-unpicklable" fault raises: its constructor takes two arguments, but its
    ``args`` hold the message only, so unpickling it (as a worker process's exception is sent
    back) fails (ENV-20's fallback)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"code {code}: {text}")


class PlanKey(str):
    """A plan's key (its directory). A ``str``; unpickling one in a worker process imports this
    module, which registers the counting env there too."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return (PlanKey, (str(self),))


def reward(env_id: int, episode: int, step_after: int) -> float:
    """Reward of the step of env ``env_id`` that reaches ``step_after`` in ``episode``."""
    return float(10_000 * env_id + 100 * episode + step_after)


#: the last reward of episode 0 of env ``k`` in a ``nonfinite_rewards`` plan: NONFINITE[k % 3]
NONFINITE = (math.inf, -math.inf, math.nan)


def plan_reward(
    env_id: int, episode: int, step_after: int, length: int, nonfinite: bool = False
) -> float:
    """:func:`reward`, except that with ``nonfinite`` the last step (``step_after == length``)
    of episode 0 gives ``NONFINITE[env_id % 3]``: that episode's return is not finite, and the
    next episodes must not inherit it (ENV-35)."""
    if nonfinite and episode == 0 and step_after == length:
        return NONFINITE[env_id % 3]
    return reward(env_id, episode, step_after)


def discrete_code(env_id: int, episode: int, step: int) -> int:
    """The Discrete observation of (env_id, episode, step)."""
    return 10_000 * env_id + 100 * episode + step


def observation(kind: ObsKind, env_id: int, episode: int, step: int) -> Any:
    """The observation the env returns in state (env_id, episode, step), for obs kind ``kind``.

    float/float64/uint8/int32: ``[env_id, episode, step]`` with that dtype; bool: the parities
    ``[env_id odd, episode odd, step odd]``; discrete: ``np.int64(discrete_code(...))``;
    dict: ``{"ids": float32 [env_id, episode, step], "step": int32 [step]}``.
    """
    ids = [env_id, episode, step]
    if kind == "float":
        return np.array(ids, dtype=np.float32)
    if kind == "float64":
        return np.array(ids, dtype=np.float64)
    if kind == "uint8":
        return np.array(ids, dtype=np.uint8)
    if kind == "int32":
        return np.array(ids, dtype=np.int32)
    if kind == "bool":
        return np.array([v % 2 == 1 for v in ids], dtype=np.bool_)
    if kind == "discrete":
        return np.int64(discrete_code(env_id, episode, step))
    if kind == "dict":
        return {
            "ids": np.array(ids, dtype=np.float32),
            "step": np.array([step], dtype=np.int32),
        }
    raise ValueError(f"observation: unknown obs kind {kind!r}, expected one of {OBS_KINDS}")


def observation_space(kind: ObsKind) -> spaces.Space[Any]:
    """The observation space of obs kind ``kind`` (every :func:`observation` belongs to it)."""
    top = float(max(MAX_ENVS, MAX_EPISODES, MAX_STEPS))
    if kind == "float":
        return spaces.Box(0.0, top, shape=(3,), dtype=np.float32)
    if kind == "float64":
        return spaces.Box(0.0, top, shape=(3,), dtype=np.float64)
    if kind == "uint8":
        return spaces.Box(0, 255, shape=(3,), dtype=np.uint8)
    if kind == "int32":
        return spaces.Box(0, int(top), shape=(3,), dtype=np.int32)
    if kind == "bool":
        return spaces.Box(0, 1, shape=(3,), dtype=np.bool_)
    if kind == "discrete":
        return spaces.Discrete(discrete_code(MAX_ENVS, 0, 0))
    if kind == "dict":
        return spaces.Dict(
            {
                "ids": spaces.Box(0.0, top, shape=(3,), dtype=np.float32),
                "step": spaces.Box(0, MAX_STEPS, shape=(1,), dtype=np.int32),
            }
        )
    raise ValueError(f"observation_space: unknown obs kind {kind!r}, expected one of {OBS_KINDS}")


def action_space(kind: ActionKind) -> spaces.Space[Any]:
    """Discrete(MAX_ACTION), or a float32 Box of shape BOX_ACTION_SHAPE."""
    if kind == "discrete":
        return spaces.Discrete(MAX_ACTION)
    if kind == "box":
        return spaces.Box(-1000.0, 1000.0, shape=BOX_ACTION_SHAPE, dtype=np.float32)
    raise ValueError(f"action_space: unknown action kind {kind!r}, expected 'discrete' or 'box'")


def _normalise_action(kind: ActionKind, action: object) -> Action:
    """The logged form of an action: an int (Discrete) or a tuple of floats (Box).

    Raises TypeError for an action that is not an integer (Discrete) or cannot be read as an
    array of shape BOX_ACTION_SHAPE (Box), so a wrong action fails loudly in the env.
    """
    arr = np.asarray(action)
    if kind == "discrete":
        if arr.shape != () or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(
                f"CountingEnv.step: a Discrete action must be an integer scalar, "
                f"got {type(action).__name__} {action!r}"
            )
        return int(arr)
    if arr.shape != BOX_ACTION_SHAPE or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(
            f"CountingEnv.step: a Box action must be a numeric array of shape "
            f"{BOX_ACTION_SHAPE}, got {type(action).__name__} {action!r}"
        )
    return tuple(float(v) for v in arr.tolist())


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, exited but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _read_plan(key: str) -> dict[str, Any]:
    path = Path(key) / "plan.json"
    try:
        return cast("dict[str, Any]", json.loads(path.read_text()))
    except (OSError, ValueError):
        raise KeyError(f"CountingEnv: no counting plan registered under key {key!r}") from None


def _claim(directory: Path, num_envs: int, token: str) -> int:
    """Claim the lowest free env id: never claimed, released by a close, or whose owner
    process is gone. Claims are files created with O_EXCL, so two processes never share one."""
    for _ in range(100):
        for k in range(num_envs):
            path = directory / f"env-{k}.claim"
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                with contextlib.suppress(OSError, ValueError):
                    pid = int(path.read_text().split(":")[0])
                    if not _pid_alive(pid):  # stale: its owner died without closing
                        os.rename(path, directory / f"env-{k}.stale-{uuid.uuid4().hex}")
                continue
            with os.fdopen(fd, "w") as f:
                f.write(token)
            return k
        time.sleep(0.01)  # a stale claim was just renamed away: look again
    raise RuntimeError(
        f"CountingPlan {directory}: planned {num_envs} envs, but env number {num_envs + 1} was "
        f"constructed while the first {num_envs} are open (build the env agent with "
        f"num_envs={num_envs}, once per plan)"
    )


class _Log:
    """Append-only JSON-lines log of one env id (one ``os.write`` per event)."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, *event: object) -> None:
        if self._fd >= 0:
            os.write(self._fd, (json.dumps(event) + "\n").encode())

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


#: in-process envs of each plan directory, closed by CountingPlan.close()
_LIVE: dict[str, weakref.WeakSet[CountingEnv]] = {}


class CountingEnv(gym.Env[Any, Any]):
    """One env of a :class:`CountingPlan`; build it with ``gymnasium.make(ENV_ID, plan=key)``.

    Attributes: ``env_id``, ``episode`` (-1 before the first reset), ``step_index``, ``closed``.
    What it consumed is in the plan's logs (``plan.envs[env_id]``).
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's convention)

    def __init__(self, plan: str) -> None:
        data = _read_plan(plan)
        self.key = str(plan)
        self.lengths: list[list[int]] = data["lengths"]
        self.truncates: list[bool] = data["truncated"]
        self.obs_kind: ObsKind = data["obs_kind"]
        self.action_kind: ActionKind = data["action_kind"]
        self.owner_pid: int = data["pid"]
        self.faults = {(e, ep, st): kind for e, ep, st, kind in data["faults"]}
        self.noisy_resets: bool = data["noisy_resets"]
        self.vector_reward_dtype = np.dtype(data["vector_reward_dtype"])
        self.nonfinite_rewards: bool = data["nonfinite_rewards"]
        directory = Path(plan)
        self._token = f"{os.getpid()}:{uuid.uuid4().hex}"
        self.env_id = _claim(directory, len(self.lengths), self._token)
        self._claim_path = directory / f"env-{self.env_id}.claim"
        self._log = _Log(directory / f"env-{self.env_id}.log")
        self._log.write("claim", os.getpid())
        _LIVE.setdefault(self.key, weakref.WeakSet()).add(self)
        self.observation_space = observation_space(self.obs_kind)
        self.action_space = action_space(self.action_kind)
        self.episode = -1
        self.step_index = 0
        self.closed = False

    def episode_length(self, episode: int) -> int:
        """Length of episode ``episode`` of this env."""
        cycle = self.lengths[self.env_id]
        return cycle[episode % len(cycle)]

    def _obs(self) -> Any:
        return observation(self.obs_kind, self.env_id, self.episode, self.step_index)

    def _fault(self, episode: int, step: int) -> str | None:
        """The fault planned at (this env, episode, step), once only: a marker file in the plan
        directory records that it fired (in whichever process), so a replaced env or a retried
        call does not meet it again."""
        fault: str | None = self.faults.get((self.env_id, episode, step))
        if fault is None:
            return None
        marker = Path(self.key) / f"fault-{self.env_id}-{episode}-{step}.fired"
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return None
        except OSError:  # the plan is closed: nothing fires any more
            return None
        return fault

    def _stall(self, fault: str | None) -> None:
        """The faults that fire before anything changes: raise, sleep, end the process."""
        if fault == "raise":
            raise CountingEnvFailure("CountingEnv: injected failure in step")
        if fault == "raise-unpicklable":
            raise CountingEnvCodedFailure(7, "CountingEnv: injected failure in step")
        if fault == "slow":
            time.sleep(SLOW_S)
        elif fault in ("hang", "exit"):
            if os.getpid() == self.owner_pid:
                raise RuntimeError(
                    f"CountingEnv {self.env_id}: fault {fault!r} refused in the test process "
                    "(it is meant for envs in worker processes)"
                )
            if fault == "exit":
                os._exit(3)
            time.sleep(HANG_S)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        if self.episode + 1 >= MAX_EPISODES:
            raise RuntimeError(
                f"CountingEnv {self.env_id}: more than {MAX_EPISODES} episodes, the "
                "observation encoding would overflow (use fewer steps or longer episodes)"
            )
        fault = self._fault(self.episode + 1, -1)
        if fault == "raise":
            raise CountingEnvFailure("CountingEnv: injected failure in reset")
        self._log.write("reset", seed)
        self.episode += 1
        self.step_index = 0
        return self._obs() if fault == "reset-bare" else (self._obs(), {})

    def advance(self, action: Any) -> tuple[Any, float, bool, bool, str | None]:
        """Consume ``action``: ``(obs, reward, terminated, truncated, malformation)``, the last
        being the fault that must malform what is returned (None for a clean step)."""
        if self.episode < 0:
            raise RuntimeError(f"CountingEnv {self.env_id}: step() called before reset()")
        fault = self._fault(self.episode, self.step_index)
        self._stall(fault)
        logged = _normalise_action(self.action_kind, action)
        if self.step_index + 1 >= MAX_STEPS:
            raise RuntimeError(
                f"CountingEnv {self.env_id}: more than {MAX_STEPS - 1} steps in one episode"
            )
        self._log.write("step", self.episode, self.step_index, logged)
        self.step_index += 1
        # Stepping past the end (a bug of the caller) keeps counting and keeps reporting the
        # end, so the action log shows the extra consumed actions.
        done = self.step_index >= self.episode_length(self.episode)
        truncated = done and self.truncates[self.env_id]
        terminated = done and not truncated
        length = self.episode_length(self.episode)
        r = plan_reward(self.env_id, self.episode, self.step_index, length, self.nonfinite_rewards)
        malformed = fault if fault not in (None, "slow", "hang") else None
        return self._obs(), r, terminated, truncated, malformed

    def step(self, action: Any) -> Any:
        obs, r, term, trunc, malformed = self.advance(action)
        result: tuple[Any, ...] = (obs, r, term, trunc, {})
        if malformed is not None:
            result = _malform(malformed, result, batch=None)
        return result

    def close(self) -> None:
        if not self.closed and self._fault(0, -2) == "close-hang":
            self._stall("hang")
        if not self.closed:
            self.closed = True
            self._log.write("close")
            self._log.close()
            with contextlib.suppress(OSError):
                if self._claim_path.read_text() == self._token:
                    self._claim_path.unlink()  # the id is free again
        super().close()


def _malform(fault: str, result: tuple[Any, ...], batch: int | None) -> tuple[Any, ...]:
    """``result`` made malformed as ``fault`` says (for one env, or a batch of ``batch``)."""
    obs, r, term, trunc, info = result
    n = 1 if batch is None else batch
    if fault == "obs-shape":
        flat = np.asarray(obs["ids"] if isinstance(obs, dict) else obs)
        obs = np.concatenate([flat.reshape(n, -1), np.zeros((n, 1), flat.dtype)], axis=1)
        obs = obs[0] if batch is None else obs
    elif fault == "obs-none":
        obs = None
    elif fault == "reward-str":
        r = "1.0" if batch is None else np.array(["1.0"] * n)
    elif fault == "terminated-str":
        term = "no" if batch is None else np.array(["no"] * n)
    elif fault == "truncated-int":
        trunc = 1 if batch is None else np.ones(n, dtype=np.int64)
    elif fault == "obs-float":
        if isinstance(obs, dict):
            obs = {**obs, "step": np.asarray(obs["step"], dtype=np.float64)}
        else:
            obs = float(obs) if np.ndim(obs) == 0 and batch is None else np.asarray(obs, np.float64)
    elif fault == "obs-ragged":
        obs = [[0, 1], [2]] if batch is None else [[[0, 1], [2]]] * n
    elif fault == "obs-keys":
        obs = {key: value for key, value in obs.items() if key != "step"}
    elif fault == "obs-key-int":
        obs = {**obs, 0: obs["step"]}
    elif fault == "reward-bool":
        r = True if batch is None else np.ones(n, dtype=np.bool_)
    elif fault == "reward-shape":
        r = np.zeros(2) if batch is None else np.zeros(n + 1)
    else:  # "result-short"
        return obs, r, term, trunc
    return obs, r, term, trunc, info


class CountingVectorEnv(VectorEnv[Any, Any, Any]):
    """The envs of a plan as one gymnasium ``VectorEnv`` in next-step autoreset mode.

    Built by ``gymnasium.make_vec(ENV_ID, num_envs, vectorization_mode="vector_entry_point",
    plan=key)``. Its sub-envs are :class:`CountingEnv` objects (ids 0..n-1 in order) and log as
    single envs do; ``autoreset_mode=`` (a gymnasium ``AutoresetMode`` value) makes its
    metadata claim another autoreset mode; the plan's ``vector.log`` records every ``reset``
    seed it is given. An int seed ``s`` resets sub-env ``k`` with ``s + k`` (gymnasium's
    ``SyncVectorEnv`` convention).
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 (gymnasium's convention)
        "render_modes": [],
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int,
        plan: str,
        max_episode_steps: int | None = None,
        autoreset_mode: str | None = None,
    ) -> None:
        if autoreset_mode is not None:  # claims another mode (a test of ENV-30); steps the same
            self.metadata = {**self.metadata, "autoreset_mode": AutoresetMode(autoreset_mode)}
        self.envs: list[CountingEnv] = []
        try:
            for _ in range(num_envs):
                self.envs.append(CountingEnv(plan))
        except BaseException:
            for env in self.envs:
                env.close()
            raise
        self.num_envs = num_envs
        first = self.envs[0]
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(first.observation_space, num_envs)
        self.action_space = batch_space(first.action_space, num_envs)
        self._log = _Log(Path(plan) / "vector.log")
        self._done = np.zeros(num_envs, dtype=np.bool_)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> Any:
        self._log.write("reset", seed)
        if seed is None or isinstance(seed, int):
            seeds = [None if seed is None else seed + k for k in range(self.num_envs)]
        else:
            seeds = list(seed)
        results = [env.reset(seed=s) for env, s in zip(self.envs, seeds, strict=True)]
        self._done[:] = False
        obs = [r[0] if type(r) is tuple else r for r in results]
        if any(type(r) is not tuple for r in results):  # a "reset-bare" fault
            return self._stack(obs)
        return self._stack(obs), {}

    def _stack(self, items: list[Any]) -> Any:
        if isinstance(items[0], dict):
            return {key: np.stack([item[key] for item in items]) for key in items[0]}
        return np.stack(items)

    def step(self, actions: Any) -> Any:
        actions = np.asarray(actions)
        want = (
            (self.num_envs,)
            if self.envs[0].action_kind == "discrete"
            else (
                self.num_envs,
                *BOX_ACTION_SHAPE,
            )
        )
        if actions.shape != want:
            raise TypeError(
                f"CountingVectorEnv.step: actions must have shape {want}, got {actions.shape}"
            )
        n = self.num_envs
        obs: list[Any] = []
        rewards = np.zeros(n, dtype=self.envs[0].vector_reward_dtype)
        term = np.zeros(n, dtype=np.bool_)
        trunc = np.zeros(n, dtype=np.bool_)
        malformed = None
        for k, env in enumerate(self.envs):
            if self._done[k]:  # next-step autoreset: this step resets, the action is ignored
                obs.append(env.reset()[0])
                if env.noisy_resets:  # reported only: the sub-env is not done (see below)
                    floating = rewards.dtype.kind == "f"
                    noise = NOISY_RESET_REWARD if floating else NOISY_RESET_REWARD_INT
                    rewards[k], term[k], trunc[k] = noise, True, True
                continue
            o, r, te, tr, fault = env.advance(actions[k])
            obs.append(o)
            rewards[k], term[k], trunc[k] = r, te, tr
            malformed = malformed or fault
        self._done = (term | trunc) & ~self._done  # a reset sub-env is never done
        result: tuple[Any, ...] = (self._stack(obs), rewards, term, trunc, {})
        if malformed is not None:
            result = _malform(malformed, result, batch=n)
        return result

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()
        self._log.close()


class EnvRecord:
    """What the logs say about one env id of a plan (whichever process it ran in)."""

    def __init__(self, plan: CountingPlan, env_id: int) -> None:
        self.plan = plan
        self.env_id = env_id

    def events(self) -> list[list[Any]]:
        return self.plan._events(f"env-{self.env_id}.log")

    @property
    def actions(self) -> list[tuple[int, int, Action]]:
        """Every consumed action as ``(episode, step_before, action)``, in order."""
        out: list[tuple[int, int, Action]] = []
        for event in self.events():
            if event[0] == "step":
                action = event[3]
                out.append(
                    (event[1], event[2], tuple(action) if isinstance(action, list) else action)
                )
        return out

    @property
    def reset_seeds(self) -> list[int | None]:
        """The ``seed`` argument of every reset, in order."""
        return [event[1] for event in self.events() if event[0] == "reset"]

    @property
    def pids(self) -> list[int]:
        """The process of every env that claimed this id, in order."""
        return [event[1] for event in self.events() if event[0] == "claim"]

    @property
    def closed(self) -> bool:
        """Whether the last env that claimed this id was closed."""
        kinds = [event[0] for event in self.events() if event[0] in ("claim", "close")]
        return bool(kinds) and kinds[-1] == "close"

    def episode_after(self, position: int) -> int:
        """The episode that the first reset logged after event ``position`` started (the
        resets of the env holding the id since it claimed it, before that one)."""
        count = 0
        for index, event in enumerate(self.events()):
            if event[0] == "claim":
                count = 0
            elif event[0] == "reset":
                if index >= position:
                    return count
                count += 1
        return count

    def __repr__(self) -> str:
        return f"<counting env {self.env_id} of {self.plan.key}>"


@dataclass(frozen=True)
class Row:
    """What an env agent must write at one row for one env (spec/env-agent.md).

    ``consumed`` says whether the action written at this row must reach ``env.step`` at the
    next row.
    """

    episode: int
    step: int
    reward: float
    cumulated_reward: float
    done: bool
    terminated: bool
    truncated: bool
    timestep: int
    consumed: bool


class CountingPlan:
    """Episode lengths, endings, spaces and faults of a batch of counting envs.

    ``lengths[k]`` is env k's episode length, or a sequence of lengths used in turn by its
    episodes (cycled); ``truncated`` (one bool, or one per env) says whether env k's episodes
    end with ``truncated=True`` instead of ``terminated=True``; ``faults`` maps a state
    ``(env, episode, step)`` to one of :data:`FAULTS`; ``noisy_resets`` makes a vector env of
    the plan report reward :data:`NOISY_RESET_REWARD` (:data:`NOISY_RESET_REWARD_INT` in an
    integer array) and both flags True for each sub-env it resets during a step (gymnasium's
    next-step mode reports 0 and False there; the rows must not show it, ENV-33);
    ``vector_reward_dtype`` is the dtype of a vector env's reward array (one of
    :data:`VECTOR_REWARD_DTYPES`; the rewards are whole numbers, exact in each);
    ``nonfinite_rewards`` makes the last reward of each env's episode 0 infinite or NaN
    (:func:`plan_reward`, ENV-35). Use it as a context manager, or call :meth:`close`, to close
    its in-process envs and delete its directory (the logs are kept in memory, so ``envs`` can
    still be read).
    """

    def __init__(
        self,
        lengths: Sequence[int | Sequence[int]],
        *,
        truncated: bool | Sequence[bool] = False,
        obs_kind: ObsKind = "float",
        action_kind: ActionKind = "discrete",
        faults: Mapping[tuple[int, int, int], Fault] | None = None,
        noisy_resets: bool = False,
        vector_reward_dtype: str = "float64",
        nonfinite_rewards: bool = False,
    ) -> None:
        if not 1 <= len(lengths) <= MAX_ENVS:
            raise ValueError(f"CountingPlan: expected 1..{MAX_ENVS} envs, got {len(lengths)}")
        cycles: list[tuple[int, ...]] = []
        for k, spec in enumerate(lengths):
            cycle = (spec,) if isinstance(spec, int) else tuple(spec)
            if not cycle or any(not 1 <= n < MAX_STEPS for n in cycle):
                raise ValueError(
                    f"CountingPlan: lengths[{k}] must be in 1..{MAX_STEPS - 1}, got {spec!r}"
                )
            cycles.append(cycle)
        flags = [truncated] * len(cycles) if isinstance(truncated, bool) else list(truncated)
        if len(flags) != len(cycles):
            raise ValueError(
                f"CountingPlan: truncated has {len(flags)} entries, expected {len(cycles)}"
            )
        if vector_reward_dtype not in VECTOR_REWARD_DTYPES:
            raise ValueError(
                f"CountingPlan: vector_reward_dtype must be one of {VECTOR_REWARD_DTYPES}, got "
                f"{vector_reward_dtype!r}"
            )
        if nonfinite_rewards and np.dtype(vector_reward_dtype).kind != "f":
            raise ValueError(
                "CountingPlan: nonfinite_rewards needs a floating vector_reward_dtype, got "
                f"{vector_reward_dtype!r}"
            )
        observation_space(obs_kind)  # validates the kind
        action_space(action_kind)
        for state, kind in (faults or {}).items():
            if kind not in FAULTS:
                raise ValueError(f"CountingPlan: unknown fault {kind!r}, expected one of {FAULTS}")
            if len(state) != 3:
                raise ValueError(
                    f"CountingPlan: a fault state is (env, episode, step), got {state}"
                )
        self.lengths: tuple[tuple[int, ...], ...] = tuple(cycles)
        self.truncated: tuple[bool, ...] = tuple(bool(f) for f in flags)
        self.obs_kind: ObsKind = obs_kind
        self.action_kind: ActionKind = action_kind
        self.faults: dict[tuple[int, int, int], Fault] = dict(faults or {})
        self.noisy_resets = bool(noisy_resets)
        self.vector_reward_dtype = vector_reward_dtype
        self.nonfinite_rewards = bool(nonfinite_rewards)
        self.dir = Path(tempfile.mkdtemp(prefix="bbrl-counting-"))
        self.key = PlanKey(self.dir)
        data = {
            "lengths": [list(c) for c in cycles],
            "truncated": list(self.truncated),
            "obs_kind": obs_kind,
            "action_kind": action_kind,
            "faults": [[*state, kind] for state, kind in self.faults.items()],
            "noisy_resets": self.noisy_resets,
            "vector_reward_dtype": self.vector_reward_dtype,
            "nonfinite_rewards": self.nonfinite_rewards,
            "pid": os.getpid(),
        }
        (self.dir / "plan.json").write_text(json.dumps(data))
        self._final: dict[str, list[list[Any]]] | None = None

    @property
    def num_envs(self) -> int:
        return len(self.lengths)

    def episode_length(self, env_id: int, episode: int) -> int:
        cycle = self.lengths[env_id]
        return cycle[episode % len(cycle)]

    def _events(self, name: str) -> list[list[Any]]:
        if self._final is not None:
            return self._final.get(name, [])
        path = self.dir / name
        try:
            text = path.read_text()
        except FileNotFoundError:
            return []
        # a line being written by another process may be incomplete: keep whole lines only
        return [json.loads(line) for line in text.split("\n")[:-1]]

    @property
    def envs(self) -> list[EnvRecord]:
        """A record of every env id that was claimed, by id."""
        if self._final is not None:
            names = self._final
        else:
            names = {p.name: [] for p in self.dir.glob("env-*.log")}
        ids = sorted(int(name[4:-4]) for name in names if name.startswith("env-"))
        return [EnvRecord(self, k) for k in ids]

    @property
    def vectorized(self) -> bool:
        """Whether a :class:`CountingVectorEnv` of this plan was built."""
        if self._final is not None:
            return "vector.log" in self._final
        return (self.dir / "vector.log").exists()

    @property
    def vector_reset_seeds(self) -> list[Any]:
        """The ``seed`` argument of every reset of the plan's vector env, in order."""
        return [event[1] for event in self._events("vector.log") if event[0] == "reset"]

    def in_process(self) -> bool:
        """Whether every env of the plan was built in this process."""
        return all(pid == os.getpid() for record in self.envs for pid in record.pids)

    def factory(self, impl: Any, autoreset: bool) -> Callable[[], Any]:
        """``functools.partial(impl.make_env, env_name=ENV_ID, autoreset=..., plan=key)``."""
        return cast(
            "Callable[[], Any]",
            functools.partial(impl.make_env, env_name=ENV_ID, autoreset=autoreset, plan=self.key),
        )

    def factory_source(self, autoreset: bool, imports: str = "CountingPlan") -> str:
        """Source text building this plan and its factory (``impl`` = the implementation
        module), for reproducers; ``imports`` is what it imports from this module."""
        kwargs = f"{list(self.lengths_spec())!r}"
        if any(self.truncated):
            kwargs += f", truncated={list(self.truncated)!r}"
        if self.obs_kind != "float":
            kwargs += f", obs_kind={self.obs_kind!r}"
        if self.action_kind != "discrete":
            kwargs += f", action_kind={self.action_kind!r}"
        if self.faults:
            kwargs += f", faults={self.faults!r}"
        if self.noisy_resets:
            kwargs += ", noisy_resets=True"
        if self.vector_reward_dtype != "float64":
            kwargs += f", vector_reward_dtype={self.vector_reward_dtype!r}"
        if self.nonfinite_rewards:
            kwargs += ", nonfinite_rewards=True"
        return (
            f"from bbrl_conformance.counting_env import {imports}\n"
            f"plan = CountingPlan({kwargs})\n"
            f"factory = plan.factory(impl, autoreset={autoreset})\n"
        )

    def lengths_spec(self) -> list[int | list[int]]:
        return [c[0] if len(c) == 1 else list(c) for c in self.lengths]

    def simulate(
        self, env_id: int, n_rows: int, *, autoreset: bool, first_episode: int = 0
    ) -> list[Row]:
        """The rows an env agent must write for env ``env_id`` in a rollout of ``n_rows`` rows
        started at t=0 (reset into episode ``first_episode``), actions of done rows ignored."""
        rows: list[Row] = []
        episode, step, cum = first_episode, 0, 0.0
        row = Row(episode, 0, 0.0, 0.0, False, False, False, 0, True)
        for _ in range(n_rows):
            rows.append(row)
            if row.done:
                if autoreset:
                    episode, step, cum = episode + 1, 0, 0.0
                    row = Row(episode, 0, 0.0, 0.0, False, False, False, 0, True)
                else:
                    row = Row(
                        episode,
                        step,
                        0.0,
                        cum,
                        True,
                        row.terminated,
                        row.truncated,
                        step,
                        False,
                    )
                continue
            step += 1
            length = self.episode_length(env_id, episode)
            r = plan_reward(env_id, episode, step, length, self.nonfinite_rewards)
            cum += r
            done = step >= length
            trunc = done and self.truncated[env_id]
            row = Row(episode, step, r, cum, done, done and not trunc, trunc, step, not done)
        return rows

    def close(self) -> None:
        """Close the plan's envs of this process, keep the logs in memory and delete the
        directory (idempotent)."""
        if self._final is not None:
            return
        for env in list(_LIVE.pop(str(self.key), ())):
            env.close()
        self._final = {path.name: self._events(path.name) for path in self.dir.glob("*.log")}
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> CountingPlan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def episodes_used(rows: Sequence[Row]) -> int:
    """How many resets a rollout with these rows performed (1 + autoreset resets)."""
    return 1 + sum(1 for a, b in itertools.pairwise(rows) if b.episode != a.episode)


def action_value(kind: ActionKind, t: int, b: int) -> Action:
    """The action that :func:`action_agent` writes at row ``t`` for env ``b``, as the env logs
    it: ``1000 * b + t`` (Discrete), ``(b + t / 4, -t / 8)`` (Box, exact in float32)."""
    if kind == "discrete":
        return 1000 * b + t
    return (b + t / 4, -t / 8)


def action_row(kind: ActionKind, t: int, num_envs: int) -> torch.Tensor:
    """Row ``t`` of ``action``: int64 ``[B]`` (Discrete) or float32 ``[B, 2]`` (Box)."""
    if kind == "discrete":
        return torch.tensor([action_value(kind, t, b) for b in range(num_envs)], dtype=torch.int64)
    return torch.tensor([action_value(kind, t, b) for b in range(num_envs)], dtype=torch.float32)


def action_agent(impl: Any, num_envs: int, kind: ActionKind = "discrete") -> Any:
    """An ``impl.Agent`` writing ``action_row(kind, t, num_envs)`` as ``action`` at each ``t``."""

    class CountingActionAgent(impl.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kwargs: Any) -> None:
            if t >= MAX_ROLLOUT:
                # a rollout that should have stopped long ago (e.g. a stop_variable ignored)
                raise RuntimeError(f"counting action agent: runaway rollout, called at t={t}")
            self.set(("action", t), action_row(kind, t, num_envs))

    return CountingActionAgent()


def expected_actions(
    plan: CountingPlan,
    env_id: int,
    rows: Sequence[Row],
    t_offset: int = 0,
    column: int | None = None,
) -> list[tuple[int, int, Action]]:
    """The log entries env ``env_id`` must gain over a rollout with these rows, row ``i`` being
    time ``t_offset + i``: the action of every row that is consumed, except the last row's.
    ``column`` is the env's batch column (its id unless a worker backend placed it elsewhere)."""
    b = env_id if column is None else column
    return [
        (row.episode, row.step, action_value(plan.action_kind, t_offset + i, b))
        for i, row in enumerate(rows[:-1])
        if row.consumed
    ]


def rollout_source(
    plan: CountingPlan,
    *,
    autoreset: bool,
    n_steps: int,
    seed: int | None = None,
    backend: str = "",
) -> str:
    """A standalone snippet (``impl`` = the implementation module) running the rollout that a
    test ran, for reproducers; ``backend`` is extra keyword-argument source for the agent."""
    seed_line = f"env_agent.seed({seed})\n" if seed is not None else ""
    return (
        "import torch\n"
        + plan.factory_source(autoreset, imports="CountingPlan, action_agent")
        + f"env_agent = impl.ParallelGymAgent(factory, num_envs={plan.num_envs}{backend})\n"
        + seed_line
        + "t_agent = impl.TemporalAgent(impl.Agents(env_agent, "
        f"action_agent(impl, {plan.num_envs}, {plan.action_kind!r})))\n"
        "ws = impl.Workspace()\n"
        f"t_agent(ws, t=0, n_steps={n_steps})\n"
        "for name in sorted(ws.keys()):\n"
        "    print(name, ws.get_full(name).transpose(0, 1).tolist())\n"
        "print([env.actions for env in plan.envs])  # (episode, step_before, action) consumed\n"
    )


def close_agent(agent: object) -> None:
    """Call ``agent.close()`` when the implementation offers one (it may own env workers)."""
    close = getattr(agent, "close", None)
    if callable(close):
        close()


if ENV_ID not in gym.registry:
    gym.register(
        id=ENV_ID,
        entry_point="bbrl_conformance.counting_env:CountingEnv",
        vector_entry_point="bbrl_conformance.counting_env:CountingVectorEnv",
        disable_env_checker=True,
    )
