"""Independent ParallelGymAgent and make_env, written from spec/ alone without reading the
reference.

It exists to check that the suite's env-agent tests (ENV, DET, TR-10) demand no more than the
spec. Every other public name comes from ``bbrl_reference`` (PEP 562). It deliberately differs
from a straightforward implementation where the spec leaves freedom:

- one backend only, a plain Python loop over the envs in the calling process, declared as
  ``sync``; the constructor takes no ``timeout`` or ``backend`` keyword at all, so those raise
  ``TypeError`` (ENV-18's alternative for a keyword not taken);
- the per-env state lives in a list of small dataclasses (``_Slot``), one per env, each with
  its own autoreset flag (read from the env built, so a factory may mix envs);
- ``make_env`` marks its env with an attribute (found again through wrappers with
  ``get_wrapper_attr``) instead of wrapping it in an autoreset wrapper;
- an unseeded agent resets its envs with no seed at all (each env's own random stream);
- rows are built with torch (``torch.stack`` of per-env tensors); the cumulated reward is
  accumulated as a Python float (float64) and rounded to float32 when written;
- a ``Discrete`` action is sent as a Python ``int``; a ``Box`` action as a numpy array in the
  action variable's own dtype (bfloat16 widened to float32);
- a failed write is undone afterwards (``clear`` / ``set`` of the old row / ``set_full`` of the
  truncated variable) instead of being prevented by checks beforehand;
- its own exception classes, subclassing the builtin types the spec names (ERR-9).
"""

# ruff: noqa: E501  (its error messages stay on one line each, as their author wrote them)

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import bbrl_reference
import gymnasium
import numpy as np
import torch

IMPLEMENTATION_NAME = "independent-env-agent"
CONFORMANCE_BACKENDS: dict[str, dict[str, Any]] = {"sync": {}}
CONFORMANCE_VECTOR_BACKENDS: tuple[str, ...] = ()  # else PEP 562 would hand out the reference's

_AUTORESET_MARK = "_independent_bbrl_autoreset"
_SEED_MAX = 2**64 - 1


def __getattr__(name: str) -> Any:
    """Every public name this module does not define is the reference's (PEP 562)."""
    if name in bbrl_reference.__all__:
        return getattr(bbrl_reference, name)
    raise AttributeError(name)


# --------------------------------------------------------------------------- exceptions (ERR-9)


class EnvAgentProblem(Exception):
    """Base of the exceptions this module raises."""


class EnvAgentArgumentTypeError(EnvAgentProblem, TypeError):
    """An argument of the wrong Python type or dtype."""


class EnvAgentArgumentValueError(EnvAgentProblem, ValueError):
    """An argument with a bad value or shape."""


class EnvAgentStateError(EnvAgentProblem, RuntimeError):
    """A call the agent's state does not allow."""


class EnvCrashed(EnvAgentProblem, RuntimeError):
    """An env raised in reset or step (ENV-20)."""


class EnvReturnedWrongType(EnvAgentProblem, TypeError):
    """An env returned a value of the wrong type or dtype (ENV-21)."""


class EnvReturnedWrongShape(EnvAgentProblem, ValueError):
    """An env returned a value of the wrong shape or keys (ENV-21)."""


class MissingActionVariable(EnvAgentProblem, KeyError):
    """The workspace holds no `action` variable (ERR-8)."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class MissingActionRow(EnvAgentProblem, IndexError):
    """The `action` variable has no row `t-1` (ENV-31)."""


# --------------------------------------------------------------------------- make_env


def make_env(env_name: Any, autoreset: bool = False, wrappers: object = (), **kwargs: Any) -> Any:
    """``gymnasium.make(env_name, **kwargs)`` wrapped in ``wrappers`` in order (ENV-1, ENV-27)."""
    if not isinstance(autoreset, bool):
        raise EnvAgentArgumentTypeError(
            f"make_env: argument 'autoreset': expected a bool, got {type(autoreset).__name__} {autoreset!r}"
        )
    if isinstance(wrappers, (str, bytes)) or not isinstance(wrappers, Iterable):
        raise EnvAgentArgumentTypeError(
            f"make_env: argument 'wrappers': expected an iterable of callables, got {type(wrappers).__name__}"
        )
    wrapper_list = list(wrappers)
    for position, wrapper in enumerate(wrapper_list):
        if not callable(wrapper):
            raise EnvAgentArgumentTypeError(
                f"make_env: argument 'wrappers'[{position}]: expected a callable, got {type(wrapper).__name__}"
            )
    env = gymnasium.make(env_name, **kwargs)
    for wrapper in wrapper_list:
        env = wrapper(env)
    # an object refusing attributes: ParallelGymAgent then sees no autoreset
    with contextlib.suppress(Exception):
        setattr(env, _AUTORESET_MARK, autoreset)
    return env


def _env_autoresets(env: Any) -> bool:
    getter = getattr(env, "get_wrapper_attr", None)
    if callable(getter):
        try:
            return bool(getter(_AUTORESET_MARK))
        except AttributeError:
            return False
    return bool(getattr(env, _AUTORESET_MARK, False))


# --------------------------------------------------------------------------- observation layout


@dataclass(frozen=True)
class _Leaf:
    """One observation variable: its name, where its value sits in the observation, its space."""

    name: str
    path: tuple[str, ...]
    space: Any

    @property
    def torch_dtype(self) -> torch.dtype:
        if isinstance(self.space, gymnasium.spaces.Discrete):
            return torch.int64
        np_dtype = np.dtype(self.space.dtype)
        if np_dtype.kind == "f":
            return torch.float32
        return torch.from_numpy(np.zeros((), dtype=np_dtype)).dtype


def _leaves(space: Any, prefix: str, path: tuple[str, ...], out: list[_Leaf]) -> None:
    if isinstance(space, gymnasium.spaces.Dict):
        for key, sub in space.spaces.items():
            _leaves(sub, f"{prefix}/{key}", (*path, key), out)
    elif isinstance(space, (gymnasium.spaces.Box, gymnasium.spaces.Discrete)):
        out.append(_Leaf(prefix, path, space))
    else:
        raise EnvAgentArgumentTypeError(
            f"ParallelGymAgent: observation space at {prefix!r}: expected Box, Discrete or Dict, "
            f"got {type(space).__name__}"
        )


def _observation_leaves(space: Any) -> list[_Leaf]:
    out: list[_Leaf] = []
    _leaves(space, "env/env_obs", (), out)
    seen: dict[str, tuple[str, ...]] = {}
    for leaf in out:
        if leaf.name in seen:
            raise EnvAgentArgumentValueError(
                f"ParallelGymAgent: observation space: keys {seen[leaf.name]!r} and {leaf.path!r} "
                f"both give the variable name {leaf.name!r}; expected distinct names"
            )
        seen[leaf.name] = leaf.path
    return out


# --------------------------------------------------------------------------- per-env state


@dataclass
class _Slot:
    """What the agent knows of one env: the env, its autoreset flag, and its last row."""

    env: Any
    autoreset: bool
    # one tensor per observation leaf, already in the variable's dtype
    obs: tuple[torch.Tensor, ...] = ()
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    cumulated: float = 0.0
    timestep: int = 0

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated


# --------------------------------------------------------------------------- small checks


def _read_time(t: Any) -> int:
    """ENV-32: the int a `t` stands for."""
    if isinstance(t, (bool, np.bool_)):
        raise EnvAgentArgumentTypeError(
            f"ParallelGymAgent: argument 't': expected an integer, got a bool {t!r}"
        )
    if isinstance(t, torch.Tensor):
        if t.dim() != 0:
            raise EnvAgentArgumentTypeError(
                f"ParallelGymAgent: argument 't': expected an integer, got a tensor of shape {tuple(t.shape)}"
            )
        if t.dtype == torch.bool or t.dtype.is_floating_point or t.dtype.is_complex:
            raise EnvAgentArgumentTypeError(
                f"ParallelGymAgent: argument 't': expected an integer, got a tensor of dtype {t.dtype}"
            )
    if isinstance(t, np.ndarray) and t.dtype.kind not in "iu":
        raise EnvAgentArgumentTypeError(
            f"ParallelGymAgent: argument 't': expected an integer, got an array of dtype {t.dtype}"
        )
    try:
        value = operator.index(t)
    except TypeError:
        raise EnvAgentArgumentTypeError(
            f"ParallelGymAgent: argument 't': expected an integer, got {type(t).__name__} {t!r}"
        ) from None
    if value < 0:
        raise EnvAgentArgumentValueError(
            f"ParallelGymAgent: argument 't': expected t >= 0, got {value}"
        )
    return value


def _read_seed(s: Any) -> int:
    """DET-9: the int a seed stands for."""
    if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
        raise EnvAgentArgumentTypeError(
            f"ParallelGymAgent.seed: argument 'seed': expected an integer, got {type(s).__name__} {s!r}"
        )
    value = int(s)
    if not 0 <= value <= _SEED_MAX:
        raise EnvAgentArgumentValueError(
            f"ParallelGymAgent.seed: argument 'seed': expected 0 <= seed <= 2**64 - 1, got {value}"
        )
    return value


def _is_int_dtype(dtype: torch.dtype) -> bool:
    return dtype != torch.bool and not dtype.is_floating_point and not dtype.is_complex


# --------------------------------------------------------------------------- the agent


class ParallelGymAgent(bbrl_reference.Agent):
    """Steps `num_envs` gymnasium envs, one after the other, in the calling process."""

    def __init__(
        self,
        make_env_fn: Callable[..., Any],
        num_envs: int,
        make_env_args: Mapping[str, Any] | None = None,
        include_last_state: bool = True,
        reward_at_t: bool = False,
        seed: Any = None,
    ) -> None:
        super().__init__()
        if not callable(make_env_fn):
            raise EnvAgentArgumentTypeError(
                f"ParallelGymAgent: argument 'make_env_fn': expected a callable, got {type(make_env_fn).__name__}"
            )
        if isinstance(num_envs, (bool, np.bool_)):
            raise EnvAgentArgumentTypeError(
                f"ParallelGymAgent: argument 'num_envs': expected an int, got {num_envs!r}"
            )
        try:
            count = operator.index(num_envs)
        except TypeError:
            raise EnvAgentArgumentTypeError(
                f"ParallelGymAgent: argument 'num_envs': expected an int, got {type(num_envs).__name__} {num_envs!r}"
            ) from None
        if count < 1:
            raise EnvAgentArgumentValueError(
                f"ParallelGymAgent: argument 'num_envs': expected >= 1, got {count}"
            )
        if make_env_args is None:
            env_kwargs: dict[str, Any] = {}
        elif isinstance(make_env_args, Mapping):
            env_kwargs = dict(make_env_args)
        else:
            raise EnvAgentArgumentTypeError(
                f"ParallelGymAgent: argument 'make_env_args': expected a mapping or None, "
                f"got {type(make_env_args).__name__}"
            )
        for flag_name, flag, allowed in (
            ("include_last_state", include_last_state, True),
            ("reward_at_t", reward_at_t, False),
        ):
            if not isinstance(flag, bool):
                raise EnvAgentArgumentTypeError(
                    f"ParallelGymAgent: argument {flag_name!r}: expected a bool, got {type(flag).__name__} {flag!r}"
                )
            if flag is not allowed:
                raise EnvAgentArgumentValueError(
                    f"ParallelGymAgent: argument {flag_name!r}: only {allowed} is supported "
                    f"(the layout of {flag_name}={flag} is not specified), got {flag}"
                )
        seed_value = None if seed is None else _read_seed(seed)

        slots: list[_Slot] = []
        try:
            for _ in range(count):
                env = make_env_fn(**env_kwargs)
                slots.append(_Slot(env=env, autoreset=_env_autoresets(env)))
            self._observation_space = slots[0].env.observation_space
            self._action_space = slots[0].env.action_space
            self._leaves = _observation_leaves(self._observation_space)
        except BaseException:
            for slot in slots:
                with contextlib.suppress(Exception):
                    slot.env.close()
            raise
        self._slots = slots
        self._num_envs = count
        self._phase = "fresh"  # fresh | ready | broken | closed
        self._seed_value: int | None = None
        self._rollouts_since_seed = 0
        if seed_value is not None:
            self.seed(seed_value)

    # ---------------------------------------------------------------- inspection (ENV-12, ENV-29)

    @property
    def num_envs(self) -> int:
        return self._num_envs

    @property
    def envs(self) -> list[Any]:
        return [slot.env for slot in self._slots]

    def get_observation_space(self) -> Any:
        return self._observation_space

    def get_action_space(self) -> Any:
        return self._action_space

    def is_continuous_action(self) -> bool:
        return isinstance(self._action_space, gymnasium.spaces.Box)

    def is_discrete_action(self) -> bool:
        return isinstance(self._action_space, gymnasium.spaces.Discrete)

    @staticmethod
    def _size_of(space: Any, what: str) -> int:
        if isinstance(space, gymnasium.spaces.Discrete):
            return int(space.n)
        if isinstance(space, gymnasium.spaces.Box) and len(space.shape) == 1:
            return int(space.shape[0])
        raise EnvAgentArgumentValueError(
            f"ParallelGymAgent.get_obs_and_actions_sizes: {what} space: expected a Discrete or a "
            f"one-dimensional Box, got {space!r}"
        )

    def get_obs_and_actions_sizes(self) -> tuple[int, int]:
        return (
            self._size_of(self._observation_space, "observation"),
            self._size_of(self._action_space, "action"),
        )

    # ---------------------------------------------------------------- seeding (DET)

    def seed(self, seed: Any) -> ParallelGymAgent:
        self._seed_value = _read_seed(seed)
        self._rollouts_since_seed = 0
        return self

    def _next_reset_seeds(self) -> list[int | None]:
        if self._seed_value is None:
            return [None] * self._num_envs
        sequence = np.random.SeedSequence(
            entropy=self._seed_value, spawn_key=(self._rollouts_since_seed,)
        )
        self._rollouts_since_seed += 1
        return [int(v) for v in sequence.generate_state(self._num_envs)]

    # ---------------------------------------------------------------- closing (ENV-34)

    def close(self) -> None:
        if self._phase == "closed":
            return
        self._phase = "closed"
        for slot in self._slots:
            with contextlib.suppress(Exception):
                slot.env.close()

    # ---------------------------------------------------------------- the call

    def forward(self, t: Any = None, **kwargs: Any) -> None:
        step = _read_time(t)
        if self._phase == "closed":
            raise EnvAgentStateError(f"ParallelGymAgent: called at t={step} after close()")
        workspace = self.workspace
        if step == 0:
            self._run(workspace, step, None)
            return
        if self._phase == "fresh":
            raise EnvAgentStateError(
                f"ParallelGymAgent: called at t={step}, expected a call at t=0 first (no env was reset yet)"
            )
        if self._phase == "broken":
            raise EnvAgentStateError(
                f"ParallelGymAgent: called at t={step} after a failed call; expected a call at t=0 to reset the envs"
            )
        actions = self._read_actions(workspace, step)
        self._run(workspace, step, actions)

    # ---------------------------------------------------------------- actions (ENV-11, ENV-23, ENV-31)

    def _read_actions(self, workspace: Any, t: int) -> list[Any]:
        if "action" not in workspace:
            raise MissingActionVariable(
                f"ParallelGymAgent: variable 'action': expected in the workspace at t={t}, not found"
            )
        try:
            row = workspace.get("action", t - 1)
        except IndexError as error:
            raise MissingActionRow(
                f"ParallelGymAgent: variable 'action': expected a row {t - 1} for the call at t={t}, "
                f"the variable has fewer rows ({error})"
            ) from None
        if not isinstance(row, torch.Tensor):
            raise EnvAgentArgumentTypeError(
                f"ParallelGymAgent: variable 'action': expected a tensor, got {type(row).__name__}"
            )
        row = row.detach()
        if row.dim() == 0 or row.shape[0] != self._num_envs:
            raise EnvAgentArgumentValueError(
                f"ParallelGymAgent: variable 'action' row {t - 1}: expected batch size {self._num_envs}, "
                f"got shape {tuple(row.shape)}"
            )
        space = self._action_space
        if isinstance(space, gymnasium.spaces.Discrete):
            if not (row.dtype == torch.bool or _is_int_dtype(row.dtype)):
                raise EnvAgentArgumentTypeError(
                    f"ParallelGymAgent: variable 'action': expected an integer or bool dtype for a "
                    f"Discrete action space, got {row.dtype}"
                )
            if row.dim() != 1:
                raise EnvAgentArgumentValueError(
                    f"ParallelGymAgent: variable 'action': expected shape [{self._num_envs}] for a "
                    f"Discrete action space, got {tuple(row.shape)}"
                )
            low = int(space.start)
            high = low + int(space.n)
            values = [int(v) for v in row.cpu().tolist()]
            for b, value in enumerate(values):
                if not low <= value < high:
                    raise EnvAgentArgumentValueError(
                        f"ParallelGymAgent: variable 'action' row {t - 1}, env {b}: expected a value in "
                        f"[{low}, {high}) (the Discrete action space), got {value}"
                    )
            return values
        if isinstance(space, gymnasium.spaces.Box):
            if not (row.dtype.is_floating_point or _is_int_dtype(row.dtype)):
                raise EnvAgentArgumentTypeError(
                    f"ParallelGymAgent: variable 'action': expected a floating or integer dtype for a "
                    f"Box action space, got {row.dtype}"
                )
            expected = (self._num_envs, *space.shape)
            if tuple(row.shape) != expected:
                raise EnvAgentArgumentValueError(
                    f"ParallelGymAgent: variable 'action': expected shape {list(expected)} for the Box "
                    f"action space, got {list(row.shape)}"
                )
            if row.dtype == torch.bfloat16:
                row = row.to(torch.float32)
            row = row.cpu()
            return [row[b].numpy().copy() for b in range(self._num_envs)]
        row = row.cpu()
        return [row[b].numpy().copy() for b in range(self._num_envs)]

    # ---------------------------------------------------------------- env outputs (ENV-21)

    def _convert_observation(self, obs: Any, t: int, b: int) -> tuple[torch.Tensor, ...]:
        return tuple(
            self._convert_leaf(self._dig(obs, leaf, t, b), leaf, t, b) for leaf in self._leaves
        )

    def _dig(self, obs: Any, leaf: _Leaf, t: int, b: int) -> Any:
        value = obs
        space = self._observation_space
        walked: tuple[str, ...] = ()
        for key in leaf.path:
            if not isinstance(value, Mapping):
                raise EnvReturnedWrongType(
                    f"ParallelGymAgent: at t={t}, env b={b}: observation{''.join(f'[{k!r}]' for k in walked)}: "
                    f"expected a mapping for a Dict space, got {type(value).__name__}"
                )
            if set(value.keys()) != set(space.spaces.keys()):
                raise EnvReturnedWrongShape(
                    f"ParallelGymAgent: at t={t}, env b={b}: observation{''.join(f'[{k!r}]' for k in walked)}: "
                    f"expected keys {sorted(map(str, space.spaces.keys()))}, got {sorted(map(str, value.keys()))}"
                )
            value = value[key]
            space = space.spaces[key]
            walked = (*walked, key)
        return value

    def _convert_leaf(self, value: Any, leaf: _Leaf, t: int, b: int) -> torch.Tensor:
        where = f"ParallelGymAgent: at t={t}, env b={b}: observation {leaf.name!r}"
        space = leaf.space
        if isinstance(space, gymnasium.spaces.Discrete):
            if isinstance(value, np.ndarray):
                if value.dtype.kind not in "iu":
                    raise EnvReturnedWrongType(
                        f"{where}: expected an integer scalar, got an array of dtype {value.dtype}"
                    )
                if value.ndim != 0:
                    raise EnvReturnedWrongShape(
                        f"{where}: expected an integer scalar, got shape {value.shape}"
                    )
                value = value.item()
            elif isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise EnvReturnedWrongType(
                    f"{where}: expected an integer scalar, got {type(value).__name__} {value!r}"
                )
            return torch.tensor(int(value), dtype=torch.int64)
        # Box
        if isinstance(value, np.ndarray):
            array = value
        else:
            try:
                array = np.asarray(value)
            except Exception as error:
                raise EnvReturnedWrongType(
                    f"{where}: expected an array, got {type(value).__name__} that numpy cannot convert ({error})"
                ) from None
        kind = np.dtype(space.dtype).kind
        got = array.dtype.kind
        allowed = {"b": "b", "i": "iub", "u": "iub", "f": "iuf"}.get(kind, "iufb")
        if got not in allowed:
            raise EnvReturnedWrongType(
                f"{where}: expected an array of a dtype fit for a Box of {np.dtype(space.dtype)}, got {array.dtype}"
            )
        if tuple(array.shape) != tuple(space.shape):
            raise EnvReturnedWrongShape(
                f"{where}: expected shape {tuple(space.shape)}, got {tuple(array.shape)}"
            )
        if array.dtype.kind == "b" and kind in "iu":
            tensor = torch.from_numpy(np.array(array, dtype=np.dtype(space.dtype)))
        else:
            tensor = torch.as_tensor(np.array(array, copy=True))
        return tensor.to(leaf.torch_dtype)

    @staticmethod
    def _reward(value: Any, t: int, b: int) -> float:
        where = f"ParallelGymAgent: at t={t}, env b={b}: reward"
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "iuf":
                raise EnvReturnedWrongType(
                    f"{where}: expected a real number, got an array of dtype {value.dtype}"
                )
            if value.ndim != 0:
                raise EnvReturnedWrongShape(
                    f"{where}: expected a scalar, got an array of shape {value.shape}"
                )
            value = value.item()
        elif isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ):
            raise EnvReturnedWrongType(
                f"{where}: expected a real number, got {type(value).__name__} {value!r}"
            )
        if isinstance(value, (int, np.integer)):
            number = int(value)
            try:
                return float(number)
            except OverflowError:
                return math.inf if number > 0 else -math.inf
        return float(value)

    @staticmethod
    def _flag(value: Any, what: str, t: int, b: int) -> bool:
        where = f"ParallelGymAgent: at t={t}, env b={b}: {what}"
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, np.ndarray):
            if value.dtype.kind != "b":
                raise EnvReturnedWrongType(
                    f"{where}: expected a bool, got an array of dtype {value.dtype}"
                )
            if value.ndim != 0:
                raise EnvReturnedWrongShape(
                    f"{where}: expected a bool, got an array of shape {value.shape}"
                )
            return bool(value.item())
        raise EnvReturnedWrongType(
            f"{where}: expected a bool, got {type(value).__name__} {value!r}"
        )

    # ---------------------------------------------------------------- env interaction (ENV-20)

    def _reset_env(self, slot: _Slot, seed: int | None, t: int, b: int) -> _Slot:
        try:
            result = slot.env.reset() if seed is None else slot.env.reset(seed=seed)
        except Exception as error:
            raise EnvCrashed(
                f"ParallelGymAgent: at t={t}, env b={b}: reset() raised {type(error).__name__}: {error}"
            ) from error
        if not isinstance(result, tuple) or len(result) != 2:
            raise EnvReturnedWrongType(
                f"ParallelGymAgent: at t={t}, env b={b}: reset(): expected a pair (obs, info), got "
                f"{type(result).__name__}{f' of length {len(result)}' if isinstance(result, tuple) else ''}"
            )
        obs = self._convert_observation(result[0], t, b)
        return replace(
            slot, obs=obs, reward=0.0, terminated=False, truncated=False, cumulated=0.0, timestep=0
        )

    def _step_env(self, slot: _Slot, action: Any, t: int, b: int) -> _Slot:
        try:
            result = slot.env.step(action)
        except Exception as error:
            raise EnvCrashed(
                f"ParallelGymAgent: at t={t}, env b={b}: step() raised {type(error).__name__}: {error}"
            ) from error
        if not isinstance(result, tuple) or len(result) != 5:
            raise EnvReturnedWrongType(
                f"ParallelGymAgent: at t={t}, env b={b}: step(): expected a 5-tuple "
                f"(obs, reward, terminated, truncated, info), got {type(result).__name__}"
                f"{f' of length {len(result)}' if isinstance(result, tuple) else ''}"
            )
        obs_value, reward_value, terminated_value, truncated_value, _info = result
        obs = self._convert_observation(obs_value, t, b)
        reward = self._reward(reward_value, t, b)
        terminated = self._flag(terminated_value, "terminated", t, b)
        truncated = self._flag(truncated_value, "truncated", t, b)
        return replace(
            slot,
            obs=obs,
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            cumulated=slot.cumulated + reward,
            timestep=slot.timestep + 1,
        )

    def _run(self, workspace: Any, t: int, actions: list[Any] | None) -> None:
        touched = False
        try:
            new_slots: list[_Slot] = []
            if actions is None:  # t = 0: reset every env (ENV-3, ENV-14, DET-5)
                seeds = self._next_reset_seeds()
                touched = True
                for b, slot in enumerate(self._slots):
                    new_slots.append(self._reset_env(slot, seeds[b], t, b))
            else:
                for b, slot in enumerate(self._slots):
                    if not slot.done:
                        touched = True
                        new_slots.append(self._step_env(slot, actions[b], t, b))
                    elif slot.autoreset:  # ENV-6
                        touched = True
                        new_slots.append(self._reset_env(slot, None, t, b))
                    else:  # ENV-7
                        new_slots.append(replace(slot, reward=0.0))
            self._write(workspace, t, new_slots)
        except BaseException:
            if touched:
                self._phase = "broken"
            raise
        self._slots = new_slots
        self._phase = "ready"

    # ---------------------------------------------------------------- writing (ENV-2, ENV-19)

    def _rows(self, slots: list[_Slot]) -> list[tuple[str, torch.Tensor]]:
        rows = [
            (leaf.name, torch.stack([slot.obs[i] for slot in slots]))
            for i, leaf in enumerate(self._leaves)
        ]
        rows.append(
            (
                "env/reward",
                torch.tensor([s.reward for s in slots], dtype=torch.float64).to(torch.float32),
            )
        )
        rows.append(
            ("env/terminated", torch.tensor([s.terminated for s in slots], dtype=torch.bool))
        )
        rows.append(("env/truncated", torch.tensor([s.truncated for s in slots], dtype=torch.bool)))
        rows.append(("env/done", torch.tensor([s.done for s in slots], dtype=torch.bool)))
        rows.append(
            (
                "env/cumulated_reward",
                torch.tensor([s.cumulated for s in slots], dtype=torch.float64).to(torch.float32),
            )
        )
        rows.append(("env/timestep", torch.tensor([s.timestep for s in slots], dtype=torch.int64)))
        return rows

    def _write(self, workspace: Any, t: int, slots: list[_Slot]) -> None:
        undo: list[tuple[str, int | None, torch.Tensor | None]] = []
        try:
            for name, value in self._rows(slots):
                if name in workspace:
                    old_size = workspace.get_full(name).shape[0]
                    old_row = workspace.get(name, t).clone() if t < old_size else None
                    undo.append((name, old_size, old_row))
                else:
                    undo.append((name, None, None))
                workspace.set(name, t, value)
        except BaseException:
            for name, old_size, old_row in reversed(undo):
                try:
                    if old_size is None:
                        if name in workspace:
                            workspace.clear(name)
                    elif old_row is not None:
                        workspace.set(name, t, old_row)
                    else:
                        full = workspace.get_full(name)
                        if full.shape[0] != old_size:
                            workspace.set_full(name, full[:old_size].clone())
                except Exception:
                    pass
            raise
