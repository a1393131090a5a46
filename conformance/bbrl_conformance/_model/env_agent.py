"""The env agent of spec/env-agent.md (``ParallelGymAgent``) over the generated env family.

The model keeps, per env of the batch, the state of its episode (steps taken, the last code,
the return so far, the noise of the episode) and the row it wrote last. A call at ``t`` writes
row ``t`` into a :class:`WorkspaceModel` exactly as ENV-2..ENV-8 say. The noise of a noisy env is
drawn by the env from its reset seed, which the spec does not fix for an unseeded agent (and
fixes only as a SHOULD, DET-5, for a seeded one): the caller supplies it at each reset row,
through ``noise(t, b)``, and checks the DET clauses on what it supplied.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bbrl_conformance._model.envfamily import (
    RESET_CODE,
    EnvConfig,
    decode_action,
    ends,
    obs_rows,
    obs_variables,
    reward_float,
)
from bbrl_conformance._model.values import MArray, MValue
from bbrl_conformance._model.workspace import (
    ModelError,
    Reason,
    Unspecified,
    WorkspaceModel,
)

__all__ = ["FLAG_NAMES", "EnvAgentModel", "EnvSetup"]

FLAG_NAMES = ("env/terminated", "env/truncated", "env/done")
#: the variables every env agent writes besides its observation variables (ENV-2)
SCALAR_VARIABLES: dict[str, tuple[str, tuple[int, ...]]] = {
    "env/reward": ("float32", ()),
    "env/terminated": ("bool", ()),
    "env/truncated": ("bool", ()),
    "env/done": ("bool", ()),
    "env/cumulated_reward": ("float32", ()),
    "env/timestep": ("int64", ()),
}

NoiseSource = Callable[[int, int], int | None]


@dataclass(frozen=True)
class EnvSetup:
    """What ``make_env`` builds: the env's config and the ``TimeLimit`` its wrapper applies,
    if any: from the env's registration (``registered``) or from ``max_episode_steps``."""

    config: EnvConfig
    time_limit: int | None = None
    registered: bool = False


def _scalars(
    reward: float, terminated: bool, truncated: bool, cum: float, timestep: int
) -> dict[str, MArray]:
    """One env's entries of the variables other than the observation."""
    values: dict[str, object] = {
        "env/reward": reward,
        "env/terminated": terminated,
        "env/truncated": truncated,
        "env/done": terminated or truncated,
        "env/cumulated_reward": cum,
        "env/timestep": timestep,
    }
    return {n: np.array(values[n], dtype=SCALAR_VARIABLES[n][0]) for n in SCALAR_VARIABLES}


@dataclass
class _Episode:
    step: int = 0
    code: int = RESET_CODE
    cum: float = 0.0
    noise: int | None = None


class EnvAgentModel:
    """``ParallelGymAgent(make_env_fn, num_envs)`` with ``autoreset`` chosen in ``make_env``."""

    def __init__(self, setup: EnvSetup, num_envs: int, autoreset: bool) -> None:
        if num_envs < 1:
            raise ModelError([Reason(ValueError, "ERR-7", f"num_envs={num_envs} < 1")])
        self.setup = setup
        self.num_envs = num_envs
        self.autoreset = autoreset
        self.started = False
        self.episodes = [_Episode() for _ in range(num_envs)]
        #: the row written last, per variable ([B, *S])
        self.last_rows: dict[str, MArray] = {}
        #: the noise of every env at each call at t = 0, in order (for the DET clauses)
        self.first_noises: list[tuple[int | None, ...]] = []

    def copy(self) -> EnvAgentModel:
        return copy.deepcopy(self)

    def variables(self) -> dict[str, tuple[str, tuple[int, ...]]]:
        """Every variable the agent writes, with (dtype, item shape)."""
        return {**obs_variables(self.setup.config.obs), **SCALAR_VARIABLES}

    def continues(self, ws: WorkspaceModel, t: int) -> bool:
        """Whether row ``t-1`` of ``ws`` is the row the agent wrote last, so that a call at
        ``t > 0`` continues its rollout whether it reads its state from the workspace or keeps
        it itself (the spec does not say which)."""
        if t <= 0 or not self.started:
            return False
        for name, row in self.last_rows.items():
            var = ws.vars.get(name)
            if var is None or var.time_size < t or not np.array_equal(var.rows[t - 1], row):
                return False
        return True

    def _reset(self, b: int, noise: int | None) -> dict[str, MArray]:
        self.episodes[b] = _Episode(noise=noise)
        row = obs_rows(self.setup.config.obs, 0, RESET_CODE, noise)
        row.update(_scalars(0.0, False, False, 0.0, 0))
        return {k: np.asarray(v) for k, v in row.items()}

    def _step(self, b: int, code: int) -> dict[str, MArray]:
        config, episode = self.setup.config, self.episodes[b]
        episode.step += 1
        episode.code = code
        terminated, truncated = ends(code)
        for limit in (config.own_limit, self.setup.time_limit):
            if limit is not None and episode.step >= limit:
                truncated = True
        reward = reward_float(config.reward, episode.step, code)
        episode.cum += reward
        row = obs_rows(config.obs, episode.step, code, episode.noise)
        row.update(_scalars(reward, terminated, truncated, episode.cum, episode.step))
        return {k: np.asarray(v) for k, v in row.items()}

    def _frozen(self, b: int) -> dict[str, MArray]:
        row = {name: rows[b].copy() for name, rows in self.last_rows.items()}
        row["env/reward"] = np.array(0.0, dtype=np.float32)
        return row

    def call(self, ws: WorkspaceModel, t: int, noise: NoiseSource) -> list[str]:
        """The agent called at ``t`` on ``ws``. Returns, per env, the kind of row written:
        ``reset`` (the first call at t = 0, ENV-3), ``rerun`` (a later one, ENV-14), ``step``
        (ENV-4), ``done`` (a step ending the episode, ENV-5), ``autoreset`` (ENV-6) or
        ``frozen`` (ENV-7)."""
        per_env: list[dict[str, MArray]] = []
        kinds: list[str] = []
        if t == 0:
            for b in range(self.num_envs):
                per_env.append(self._reset(b, noise(t, b)))
                kinds.append("rerun" if self.started else "reset")
            self.first_noises.append(tuple(e.noise for e in self.episodes))
        else:
            action = ws.vars.get("action")
            reasons: list[Reason] = []
            if not self.started:
                why = f"a call at t={t} before any call at t=0"
                reasons.append(Reason(RuntimeError, "ENV-15", why))
            if action is None:
                raise ModelError([*reasons, Reason(KeyError, "ERR-8", "no 'action' variable")])
            if reasons:
                raise ModelError(reasons)
            if action.time_size < t:
                raise Unspecified("an action variable without row t-1")
            if action.rows[t - 1].shape[0] != self.num_envs:
                why = f"action batch {action.rows[t - 1].shape[0]} != num_envs {self.num_envs}"
                raise ModelError([Reason(ValueError, "ERR-7", why)])
            if not self.continues(ws, t):
                raise Unspecified("a call at t > 0 that does not continue the last row")
            spec = self.setup.config.action
            if spec.kind == "discrete":
                codes = np.asarray(action.rows[t - 1]).reshape(self.num_envs, -1)
                if codes.dtype.kind in "iu" and any(
                    not spec.start <= int(c) < spec.start + spec.n for c in codes.reshape(-1)
                ):
                    why = f"an action outside [{spec.start}, {spec.start + spec.n})"
                    raise ModelError([Reason(ValueError, "ENV-23", why)])
            for b in range(self.num_envs):
                if not bool(self.last_rows["env/done"][b]):
                    row = self._step(b, decode_action(spec, action.rows[t - 1][b]))
                    per_env.append(row)
                    kinds.append("done" if bool(row["env/done"]) else "step")
                elif self.autoreset:
                    per_env.append(self._reset(b, noise(t, b)))
                    kinds.append("autoreset")
                else:
                    per_env.append(self._frozen(b))
                    kinds.append("frozen")
        rows = {name: np.stack([entry[name] for entry in per_env]) for name in self.variables()}
        for name, (dtype, _) in self.variables().items():
            ws.set(name, t, MValue(dtype, rows[name]))
        self.started = True
        self.last_rows = rows
        return kinds
