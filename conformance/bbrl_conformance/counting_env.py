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
``gymnasium.make``, and each construction of :class:`CountingEnv` with that key takes the next
env id (0, 1, ..., B-1) of the plan registered under the key. The plan keeps the envs, so a
test can read ``plan.envs[k].actions`` (the ground truth of what reached ``env.step``).

:func:`simulate` is the pure-Python model of what an env agent must write for one env of a plan
(spec/env-agent.md), used as the oracle of the row-by-row tests.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

ENV_ID = "bbrl_conformance/Counting-v0"

ObsKind = Literal["float", "float64", "uint8", "int32", "bool", "discrete", "dict"]
ActionKind = Literal["discrete", "box"]
OBS_KINDS: tuple[ObsKind, ...] = ("float", "float64", "uint8", "int32", "bool", "discrete", "dict")

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

# key -> plan; a plan is removed by CountingPlan.close().
_PLANS: dict[str, CountingPlan] = {}
_keys = itertools.count()

Action = int | tuple[float, ...]


def reward(env_id: int, episode: int, step_after: int) -> float:
    """Reward of the step of env ``env_id`` that reaches ``step_after`` in ``episode``."""
    return float(10_000 * env_id + 100 * episode + step_after)


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


class CountingEnv(gym.Env[Any, Any]):
    """One env of a :class:`CountingPlan`; build it with ``gymnasium.make(ENV_ID, plan=key)``.

    Attributes a test may read: ``env_id``, ``episode`` (-1 before the first reset), ``step``,
    ``actions`` (every consumed action as ``(episode, step_before, action)``), ``reset_seeds``
    (the ``seed`` argument of every reset), ``closed``.
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's convention)

    def __init__(self, plan: str) -> None:
        if plan not in _PLANS:
            raise KeyError(f"CountingEnv: no counting plan registered under key {plan!r}")
        self.plan = _PLANS[plan]
        self.env_id = self.plan._claim(self)
        self.observation_space = observation_space(self.plan.obs_kind)
        self.action_space = action_space(self.plan.action_kind)
        self.episode = -1
        self.step_index = 0
        self.actions: list[tuple[int, int, Action]] = []
        self.reset_seeds: list[int | None] = []
        self.closed = False

    def episode_length(self, episode: int) -> int:
        """Length of episode ``episode`` of this env."""
        return self.plan.episode_length(self.env_id, episode)

    def _obs(self) -> Any:
        return observation(self.plan.obs_kind, self.env_id, self.episode, self.step_index)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        if self.episode + 1 >= MAX_EPISODES:
            raise RuntimeError(
                f"CountingEnv {self.env_id}: more than {MAX_EPISODES} episodes, the "
                "observation encoding would overflow (use fewer steps or longer episodes)"
            )
        self.reset_seeds.append(seed)
        self.episode += 1
        self.step_index = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self.episode < 0:
            raise RuntimeError(f"CountingEnv {self.env_id}: step() called before reset()")
        logged = _normalise_action(self.plan.action_kind, action)
        self.actions.append((self.episode, self.step_index, logged))
        if self.step_index + 1 >= MAX_STEPS:
            raise RuntimeError(
                f"CountingEnv {self.env_id}: more than {MAX_STEPS - 1} steps in one episode"
            )
        self.step_index += 1
        # Stepping past the end (a bug of the caller) keeps counting and keeps reporting the
        # end, so the action log shows the extra consumed actions.
        done = self.step_index >= self.episode_length(self.episode)
        truncated = done and self.plan.truncated[self.env_id]
        terminated = done and not truncated
        r = reward(self.env_id, self.episode, self.step_index)
        return self._obs(), r, terminated, truncated, {}

    def close(self) -> None:
        self.closed = True
        super().close()


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
    """Episode lengths, endings and spaces of a batch of counting envs, registered by key.

    ``lengths[k]`` is env k's episode length, or a sequence of lengths used in turn by its
    episodes (cycled); ``truncated`` (one bool, or one per env) says whether env k's episodes
    end with ``truncated=True`` instead of ``terminated=True``. Use it as a context manager, or
    call :meth:`close`, to close its envs and unregister it.
    """

    def __init__(
        self,
        lengths: Sequence[int | Sequence[int]],
        *,
        truncated: bool | Sequence[bool] = False,
        obs_kind: ObsKind = "float",
        action_kind: ActionKind = "discrete",
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
        observation_space(obs_kind)  # validates the kind
        action_space(action_kind)
        self.lengths: tuple[tuple[int, ...], ...] = tuple(cycles)
        self.truncated: tuple[bool, ...] = tuple(bool(f) for f in flags)
        self.obs_kind: ObsKind = obs_kind
        self.action_kind: ActionKind = action_kind
        self.key = f"plan-{next(_keys)}"
        self.envs: list[CountingEnv] = []
        _PLANS[self.key] = self

    @property
    def num_envs(self) -> int:
        return len(self.lengths)

    def episode_length(self, env_id: int, episode: int) -> int:
        cycle = self.lengths[env_id]
        return cycle[episode % len(cycle)]

    def _claim(self, env: CountingEnv) -> int:
        if len(self.envs) >= self.num_envs:
            raise RuntimeError(
                f"CountingPlan {self.key}: planned {self.num_envs} envs, but env number "
                f"{len(self.envs) + 1} was constructed (build the env agent with "
                f"num_envs={self.num_envs}, once per plan)"
            )
        self.envs.append(env)
        return len(self.envs) - 1

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
            r = reward(env_id, episode, step)
            cum += r
            done = step >= self.episode_length(env_id, episode)
            trunc = done and self.truncated[env_id]
            row = Row(episode, step, r, cum, done, done and not trunc, trunc, step, not done)
        return rows

    def close(self) -> None:
        """Close every env of the plan and unregister it (idempotent)."""
        for env in self.envs:
            if not env.closed:
                env.close()
        _PLANS.pop(self.key, None)

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
    plan: CountingPlan, env_id: int, rows: Sequence[Row], t_offset: int = 0
) -> list[tuple[int, int, Action]]:
    """The log entries env ``env_id`` must gain over a rollout with these rows, row ``i`` being
    time ``t_offset + i``: the action of every row that is consumed, except the last row's."""
    return [
        (row.episode, row.step, action_value(plan.action_kind, t_offset + i, env_id))
        for i, row in enumerate(rows[:-1])
        if row.consumed
    ]


def rollout_source(
    plan: CountingPlan, *, autoreset: bool, n_steps: int, seed: int | None = None
) -> str:
    """A standalone snippet (``impl`` = the implementation module) running the rollout that a
    test ran, for reproducers."""
    seed_line = f"env_agent.seed({seed})\n" if seed is not None else ""
    return (
        "import torch\n"
        + plan.factory_source(autoreset, imports="CountingPlan, action_agent")
        + f"env_agent = impl.ParallelGymAgent(factory, num_envs={plan.num_envs})\n"
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
        disable_env_checker=True,
    )
