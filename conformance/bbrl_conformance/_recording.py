"""Ground truth for the end-to-end programs: what the gymnasium envs really did.

A program builds its envs the way bbrl's notebooks and course code do, through ``make_env``,
and records them in one of two ways: course code passes ``wrappers=[...]`` to ``make_env``
(``bbrl_utils`` always does), so it appends :meth:`EnvRecorder.wrap` to the wrappers; code that
calls ``make_env(env_name, autoreset=...)`` alone (notebook 03) names the recording env
instead, ``make_env(autoreset=..., **recorder.env("CartPole-v1"))``: the env id
:data:`RECORDED_ENV_ID` with keyword arguments, which ``make_env`` hands to ``gymnasium.make``
(ENV-1). Every env built then logs each ``reset`` and ``step`` it performs (observation,
reward, flags, and the action it received), in the order the envs were built, which is the
order of the batch (ENV-1).

:class:`EnvRecorder` turns those logs into the rows an env agent must write (spec/env-agent.md),
one model row per env event, and :meth:`EnvRecorder.check_rows` compares a workspace with them:
observations, rewards, flags, cumulated rewards, timesteps, and the actions the envs consumed.
The recorder also lists every real transition, for exactly-once checks of ``get_transitions``
and of the replay buffer fed by it (TR-10).

Like the counting env's action log, this reads the envs of the main process: it assumes the
envs are stepped in-process (the default of every known implementation).
"""

from __future__ import annotations

import collections
import itertools
import weakref
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from bbrl_conformance._assertions import expect

RECORDED_ENV_ID = "bbrl_conformance/Recorded-v0"

ENV_VARIABLES = (
    "env/env_obs",
    "env/reward",
    "env/cumulated_reward",
    "env/terminated",
    "env/truncated",
    "env/done",
    "env/timestep",
)

Action = int | tuple[float, ...]


def _action(action: object) -> Action:
    """The logged form of an action: an int (Discrete) or a tuple of floats (Box)."""
    arr = np.asarray(action)
    if arr.shape == () and np.issubdtype(arr.dtype, np.integer):
        return int(arr)
    return tuple(float(v) for v in arr.reshape(-1).tolist())


def action_of_row(row: torch.Tensor) -> Action:
    """The logged form of one env's row of the ``action`` variable."""
    if row.dim() == 0 and not row.dtype.is_floating_point:
        return int(row.item())
    return tuple(float(v) for v in row.reshape(-1).tolist())


@dataclass(frozen=True)
class Event:
    """One ``reset`` (``action`` is None) or ``step`` of one env, as the env returned it."""

    obs: np.ndarray
    reward: float
    terminated: bool
    truncated: bool
    action: Action | None


@dataclass(frozen=True)
class ModelRow:
    """The row an env agent writes for one env event (spec/env-agent.md, autoreset layout)."""

    event: Event
    reward: float
    cumulated_reward: float
    timestep: int

    @property
    def done(self) -> bool:
        return self.event.terminated or self.event.truncated


class _Recording(gym.Wrapper[Any, Any, Any, Any]):
    """Logs every reset and step of the env it wraps into ``log``."""

    def __init__(self, env: gym.Env[Any, Any], log: list[Event]) -> None:
        super().__init__(env)
        self._log = log

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._log.append(Event(np.array(obs, copy=True), 0.0, False, False, None))
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        event = Event(
            np.array(obs, copy=True),
            float(reward),
            bool(terminated),
            bool(truncated),
            _action(action),
        )
        self._log.append(event)
        return obs, reward, terminated, truncated, info


def _make_recorded(env_id: str, recorder: str, **kwargs: Any) -> gym.Env[Any, Any]:
    """Entry point of :data:`RECORDED_ENV_ID`: ``gymnasium.make(env_id)``, recorded."""
    found = _RECORDERS.get(recorder)
    if found is None:
        raise KeyError(f"{RECORDED_ENV_ID}: no EnvRecorder with key {recorder!r}")
    return found.wrap(gym.make(env_id, **kwargs))


@dataclass
class _EnvState:
    """One env's log and the model rows derived from it."""

    log: list[Event] = field(default_factory=list)
    rows: list[ModelRow] = field(default_factory=list)
    checked: int = 0  # model rows already matched against a workspace

    def update(self) -> None:
        for event in self.log[len(self.rows) :]:
            if event.action is None:
                self.rows.append(ModelRow(event, 0.0, 0.0, 0))
            else:
                last = self.rows[-1]
                reward = float(np.float32(event.reward))
                self.rows.append(
                    ModelRow(event, reward, last.cumulated_reward + event.reward, last.timestep + 1)
                )


_RECORDERS: weakref.WeakValueDictionary[str, EnvRecorder] = weakref.WeakValueDictionary()
_keys = itertools.count()


class EnvRecorder:
    """Pass ``recorder.wrap`` last in ``make_env(..., wrappers=[...])``, or build the envs with
    ``make_env(**recorder.env(env_id), ...)``: env ``b`` of the batch is the ``b``-th env
    recorded."""

    def __init__(self) -> None:
        self._envs: list[_EnvState] = []
        self.key = f"recorder-{next(_keys)}"
        _RECORDERS[self.key] = self

    def env(self, env_id: str) -> dict[str, str]:
        """``make_env`` keyword arguments building a recorded ``env_id``: ``env_name`` (the
        recording env) and the arguments it passes to ``gymnasium.make``."""
        return {"env_name": RECORDED_ENV_ID, "env_id": env_id, "recorder": self.key}

    def wrap(self, env: gym.Env[Any, Any]) -> gym.Env[Any, Any]:
        """Wrap ``env`` so that it logs its resets and steps (a ``wrappers=`` entry)."""
        state = _EnvState()
        self._envs.append(state)
        return _Recording(env, state.log)

    @property
    def num_envs(self) -> int:
        return len(self._envs)

    def rows(self, b: int) -> list[ModelRow]:
        """The model rows of env ``b``, one per event so far."""
        state = self._envs[b]
        state.update()
        return list(state.rows)

    def steps(self) -> int:
        """How many steps (real transitions) all envs performed so far."""
        return sum(1 for s in self._envs for e in s.log if e.action is not None)

    def episode_returns(self, b: int) -> list[float]:
        """The returns of the episodes env ``b`` finished so far, in order."""
        return [row.cumulated_reward for row in self.rows(b) if row.done]

    def transitions(self) -> collections.Counter[tuple[bytes, bytes, Action, float]]:
        """Every real transition so far as ``(obs bytes, next obs bytes, action, reward)``."""
        found: collections.Counter[tuple[bytes, bytes, Action, float]] = collections.Counter()
        for b in range(self.num_envs):
            rows = self.rows(b)
            for before, after in itertools.pairwise(rows):
                action = after.event.action
                if action is not None:
                    found[
                        (
                            before.event.obs.tobytes(),
                            after.event.obs.tobytes(),
                            action,
                            after.reward,
                        )
                    ] += 1
        return found

    def check_rows(
        self,
        ws: Any,
        *,
        autoreset: bool,
        first_row: int,
        setting: str,
        repro: str,
    ) -> None:
        """Rows ``first_row..T-1`` of ``ws`` are the rows of the env events since the last check.

        With ``autoreset`` every new row is one event (a step, or the reset after a done row);
        without it, the rows after a done row repeat it with reward 0 and no event happens
        (ENV-7). Row ``first_row - 1`` must exist when ``first_row > 0``: its action is the one
        the first new step consumed (the epoch loop's copied row).
        """
        __tracebackhide__ = True
        names = set(ws.keys())
        full = {name: ws[name] for name in (*ENV_VARIABLES, "action") if name in names}
        obs = full["env/env_obs"]
        T = int(obs.shape[0])
        for b in range(self.num_envs):
            state = self._envs[b]
            state.update()
            new = state.rows[state.checked :]
            where = f"{setting}: env {b}"
            n_rows = T - first_row
            expect(
                len(new) == n_rows if autoreset else 1 <= len(new) <= n_rows,
                "ENV-4",
                f"{where}: rows {first_row}..{T - 1} of the workspace ({n_rows} rows) came with "
                f"{len(new)} env events (resets and steps); "
                + (
                    "with autoreset every row is one event"
                    if autoreset
                    else "without autoreset every row up to the episode's end is one event"
                ),
                repro,
            )
            for i, row in enumerate(new):
                t = first_row + i
                self._check_row(full, b, t, row, where, repro)
                previous_done = bool(full["env/done"][t - 1, b]) if t > 0 else False
                if row.event.action is None:
                    expect(
                        t == 0 or (autoreset and previous_done),
                        "ENV-6",
                        f"{where}: the env was reset for row {t}, but row {t - 1} is not done "
                        "(or the env is not in autoreset mode)",
                        repro,
                    )
                else:
                    expect(
                        t > 0 and not previous_done,
                        "ENV-6" if autoreset else "ENV-7",
                        f"{where}: the env was stepped for row {t} after a done row",
                        repro,
                    )
                    sent = action_of_row(full["action"][t - 1, b])
                    expect(
                        row.event.action == sent,
                        "ENV-4",
                        f"{where}: the env received action {row.event.action!r} for row {t}, but "
                        f"row {t - 1} of 'action' holds {sent!r}",
                        repro,
                    )
            if not autoreset:
                last = new[-1]
                for t in range(first_row + len(new), T):
                    expect(
                        last.done,
                        "ENV-4",
                        f"{where}: row {t} has no env event, but the episode was not over",
                        repro,
                    )
                    frozen = ModelRow(last.event, 0.0, last.cumulated_reward, last.timestep)
                    self._check_row(full, b, t, frozen, where + " (after its episode ended)", repro)
            state.checked = len(state.rows)

    @staticmethod
    def _check_row(
        full: dict[str, torch.Tensor], b: int, t: int, row: ModelRow, where: str, repro: str
    ) -> None:
        __tracebackhide__ = True
        clause_id = "ENV-3" if t == 0 else ("ENV-6" if row.event.action is None else "ENV-4")
        actual = {
            "env/env_obs": full["env/env_obs"][t, b].detach().numpy(),
            "env/reward": float(full["env/reward"][t, b]),
            "env/terminated": bool(full["env/terminated"][t, b]),
            "env/truncated": bool(full["env/truncated"][t, b]),
            "env/done": bool(full["env/done"][t, b]),
            "env/timestep": int(full["env/timestep"][t, b]),
        }
        expected: dict[str, object] = {
            "env/env_obs": row.event.obs,
            "env/reward": row.reward,
            "env/terminated": row.event.terminated,
            "env/truncated": row.event.truncated,
            "env/done": row.done,
            "env/timestep": row.timestep,
        }
        for name, value in expected.items():
            got = actual[name]
            same = (
                np.array_equal(np.asarray(got, dtype=np.float32), np.asarray(value, np.float32))
                if name == "env/env_obs"
                else got == value
            )
            expect(
                bool(same),
                clause_id,
                f"{where}, row {t}: {name} = {got!r}, but the env's event gives {value!r}",
                repro,
            )
        cumulated = float(full["env/cumulated_reward"][t, b])
        expect(
            bool(np.isclose(cumulated, row.cumulated_reward, rtol=1e-5, atol=1e-4)),
            clause_id,
            f"{where}, row {t}: env/cumulated_reward = {cumulated!r}, but the episode's rewards "
            f"so far sum to {row.cumulated_reward!r}",
            repro,
        )


def transitions_of(tr: Any) -> collections.Counter[tuple[bytes, bytes, Action, float]]:
    """The transitions of a ``get_transitions()`` workspace, keyed like
    :meth:`EnvRecorder.transitions`."""
    obs = tr["env/env_obs"].detach()
    actions = tr["action"].detach()
    rewards = tr["env/reward"].detach()
    found: collections.Counter[tuple[bytes, bytes, Action, float]] = collections.Counter()
    for j in range(int(obs.shape[1])):
        key = (
            obs[0, j].numpy().astype(np.float32).tobytes(),
            obs[1, j].numpy().astype(np.float32).tobytes(),
            action_of_row(actions[0, j]),
            float(rewards[1, j]),
        )
        found[key] += 1
    return found


def counter_difference(
    got: collections.Counter[tuple[bytes, bytes, Action, float]],
    want: collections.Counter[tuple[bytes, bytes, Action, float]],
) -> tuple[int, int]:
    """``(extra, missing)``: transitions in ``got`` beyond ``want``, and the reverse."""
    return sum((got - want).values()), sum((want - got).values())


if RECORDED_ENV_ID not in gym.registry:
    gym.register(
        id=RECORDED_ENV_ID,
        entry_point="bbrl_conformance._recording:_make_recorded",
        disable_env_checker=True,
        order_enforce=False,
    )
