"""Conformance tests of spec/env-agent.md (ENV): ParallelGymAgent and make_env.

The env agent is checked row by row against the counting env shipped with the suite
(`bbrl_conformance.counting_env`): its observations say (env, episode, step), its rewards are a
known function of them, and it logs every action it consumes, so the expected rows and the
expected action log come from `CountingPlan.simulate`, never from the implementation.
CartPole-v1 and MountainCarContinuous-v0 serve `get_obs_and_actions_sizes`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises
from bbrl_conformance._clauses import clause
from bbrl_conformance.counting_env import (
    ENV_ID,
    MAX_ACTION,
    MAX_ENVS,
    CountingPlan,
    ObsKind,
    Row,
    action_agent,
    action_row,
    close_agent,
    discrete_code,
    episodes_used,
    expected_actions,
    rollout_source,
)

#: name -> (trailing shape, dtype) for the float obs of the counting env (spec table).
TABLE: dict[str, tuple[tuple[int, ...], torch.dtype]] = {
    "env/env_obs": ((3,), torch.float32),
    "env/reward": ((), torch.float32),
    "env/terminated": ((), torch.bool),
    "env/truncated": ((), torch.bool),
    "env/done": ((), torch.bool),
    "env/cumulated_reward": ((), torch.float32),
    "env/timestep": ((), torch.int64),
}


class Rollout:
    """An env agent over a counting plan, chained with the counting action agent."""

    def __init__(
        self, impl: Any, plan: CountingPlan, stack: contextlib.ExitStack, *, autoreset: bool
    ) -> None:
        self.impl = impl
        self.plan = plan
        self.autoreset = autoreset
        self.env_agent = impl.ParallelGymAgent(
            plan.factory(impl, autoreset=autoreset), num_envs=plan.num_envs
        )
        stack.callback(close_agent, self.env_agent)
        self.t_agent = impl.TemporalAgent(
            impl.Agents(self.env_agent, action_agent(impl, plan.num_envs, plan.action_kind))
        )

    def run(self, n_steps: int, ws: Any = None, **kwargs: Any) -> Any:
        ws = self.impl.Workspace() if ws is None else ws
        self.t_agent(ws, t=0, n_steps=n_steps, **kwargs)
        return ws

    def repro(self, n_steps: int) -> str:
        return rollout_source(self.plan, autoreset=self.autoreset, n_steps=n_steps)


@contextlib.contextmanager
def counting(
    impl: Any,
    lengths: Sequence[int | Sequence[int]],
    *,
    autoreset: bool,
    truncated: bool | Sequence[bool] = False,
    obs_kind: ObsKind = "float",
    action_kind: Any = "discrete",
) -> Iterator[Rollout]:
    """A Rollout over a fresh plan; the agent and the envs are closed afterwards."""
    with contextlib.ExitStack() as stack:
        plan = stack.enter_context(
            CountingPlan(lengths, truncated=truncated, obs_kind=obs_kind, action_kind=action_kind)
        )
        yield Rollout(impl, plan, stack, autoreset=autoreset)


def full(ws: Any, name: str, clause_id: str, repro: str) -> torch.Tensor:
    """``ws.get_full(name)``, failing ``clause_id`` if the variable is missing."""
    __tracebackhide__ = True
    keys = sorted(ws.keys())
    expect(name in keys, clause_id, f"variable {name!r} not written; keys are {keys}", repro)
    value = ws.get_full(name)
    expect(
        isinstance(value, torch.Tensor),
        clause_id,
        f"ws.get_full({name!r}) returned {type(value)}",
        repro,
    )
    return value  # type: ignore[no-any-return]


def row_kind(rows: Sequence[Row], t: int, autoreset: bool) -> tuple[str, str]:
    """(clause, description) of row ``t`` of one env."""
    row = rows[t]
    if t == 0:
        return "ENV-3", "first row of the rollout (reset)"
    if rows[t - 1].done:
        if autoreset:
            return "ENV-6", f"first row of episode {row.episode}, after the done row t={t - 1}"
        return "ENV-7", "frozen copy of the done row (autoreset=False), reward 0"
    if row.done and autoreset:
        return "ENV-5", f"done row: last step {row.step} of episode {row.episode}"
    return "ENV-4", f"step {row.step} of episode {row.episode}"


def expected_values(rows: Sequence[Row], t: int, b: int) -> dict[str, torch.Tensor]:
    row = rows[t]
    return {
        "env/env_obs": torch.tensor([b, row.episode, row.step], dtype=torch.float32),
        "env/reward": torch.tensor(row.reward, dtype=torch.float32),
        "env/terminated": torch.tensor(row.terminated),
        "env/truncated": torch.tensor(row.truncated),
        "env/done": torch.tensor(row.done),
        "env/cumulated_reward": torch.tensor(row.cumulated_reward, dtype=torch.float32),
        "env/timestep": torch.tensor(row.timestep, dtype=torch.int64),
    }


def check_rows(
    ws: Any,
    rollout: Rollout,
    n_rows: int,
    repro: str,
    *,
    first_episodes: Sequence[int] | None = None,
    clause_id: str | None = None,
) -> list[list[Row]]:
    """Every row of every env against the model; returns the model rows per env.

    ``clause_id`` replaces the per-row clause (ENV-3..ENV-7) when given (used by ENV-8).
    """
    __tracebackhide__ = True
    plan = rollout.plan
    num_envs = plan.num_envs
    setting = f"autoreset={rollout.autoreset}, lengths={plan.lengths_spec()}"
    if any(plan.truncated):
        setting += f", truncated={list(plan.truncated)}"
    tensors: dict[str, torch.Tensor] = {}
    for name, (shape, dtype) in TABLE.items():
        value = full(ws, name, clause_id or "ENV-2", repro)
        expect(
            tuple(value.shape) == (n_rows, num_envs, *shape) and value.dtype == dtype,
            clause_id or "ENV-2",
            f"{n_rows}-step rollout of {num_envs} envs ({setting}): ws.get_full({name!r}) has "
            f"shape {tuple(value.shape)} dtype {value.dtype}, expected shape "
            f"{(n_rows, num_envs, *shape)} dtype {dtype}",
            repro,
        )
        tensors[name] = value
    all_rows = []
    for b in range(num_envs):
        first = 0 if first_episodes is None else first_episodes[b]
        rows = plan.simulate(b, n_rows, autoreset=rollout.autoreset, first_episode=first)
        all_rows.append(rows)
        for t in range(n_rows):
            kind, description = row_kind(rows, t, rollout.autoreset)
            for name, want in expected_values(rows, t, b).items():
                got = tensors[name][t, b]
                expect_equal_tensors(
                    got,
                    want,
                    clause_id or kind,
                    f"{n_rows}-step rollout ({setting}): row t={t}, env b={b}, {name}: got "
                    f"{got.tolist()}, expected {want.tolist()} [{description}; obs is "
                    f"(env, episode, step)]" + (f" (row rule {kind})" if clause_id else ""),
                    repro,
                )
    return all_rows


def check_actions(
    rollout: Rollout,
    all_rows: Sequence[Sequence[Row]],
    repro: str,
    *,
    log_start: Sequence[int] | None = None,
    clause_id: str | None = None,
) -> None:
    """Each env consumed exactly the actions of its non-done rows, except the last row's."""
    __tracebackhide__ = True
    plan = rollout.plan
    for b, rows in enumerate(all_rows):
        start = 0 if log_start is None else log_start[b]
        got = plan.envs[b].actions[start:]
        want = expected_actions(plan, b, rows)
        if got == want:
            continue
        done_rows = [t for t, row in enumerate(rows) if row.done]
        extra = [entry for entry in got if entry not in want]
        if not rollout.autoreset:
            kind = "ENV-7"
        elif any(e[:2] == (rows[t].episode, rows[t].step) for e in extra for t in done_rows):
            kind = "ENV-6"
        else:
            kind = "ENV-4"
        formula = "1000*b + t" if plan.action_kind == "discrete" else "(b + t/4, -t/8)"
        expect(
            False,
            clause_id or kind,
            f"env b={b} consumed (episode, step_before, action) = {got}\nexpected {want}\n"
            f"(action[t, b] = {formula}"
            f"; done rows t={done_rows}, whose actions must not be sent; extra {extra}, "
            f"missing {[entry for entry in want if entry not in got]})",
            repro,
        )


# ---------------------------------------------------------------------------------------------
# ENV-1: make_env and how ParallelGymAgent builds its envs


@clause("ENV-1")
def test_make_env_builds_through_gymnasium_make(impl: Any) -> None:
    with CountingPlan([3]) as plan:
        env = impl.make_env(ENV_ID, plan=plan.key)
        try:
            expect(
                len(plan.envs) == 1 and env.unwrapped is plan.envs[0],
                "ENV-1",
                f"impl.make_env({ENV_ID!r}, plan=...) returned {env!r}, whose unwrapped env is "
                f"not the one gymnasium.make built with the keyword argument plan=...",
                f"{plan.factory_source(False)}env = impl.make_env({ENV_ID!r}, plan=plan.key)\n"
                "print(env.unwrapped, plan.envs)",
            )
        finally:
            env.close()
    env = impl.make_env("CartPole-v1", max_episode_steps=2)
    try:
        env.reset(seed=0)
        truncated = [env.step(0)[3] for _ in range(2)]
        expect(
            truncated == [False, True],
            "ENV-1",
            f"impl.make_env('CartPole-v1', max_episode_steps=2): truncated over two steps = "
            f"{truncated}, expected [False, True] (kwargs go to gymnasium.make)",
            "env = impl.make_env('CartPole-v1', max_episode_steps=2)\nenv.reset(seed=0)\n"
            "print([env.step(0)[3] for _ in range(2)])",
        )
    finally:
        env.close()


@clause("ENV-1")
@pytest.mark.parametrize("num_envs", [1, 3])
def test_env_agent_builds_its_envs_in_order(impl: Any, num_envs: int) -> None:
    with counting(impl, [2] * num_envs, autoreset=True) as rollout:
        repro = rollout.repro(1)
        expect(
            len(rollout.plan.envs) == num_envs,
            "ENV-1",
            f"ParallelGymAgent(factory, num_envs={num_envs}) called the factory "
            f"{len(rollout.plan.envs)} times, expected {num_envs}",
            repro,
        )
        ws = rollout.run(1)
        ids = full(ws, "env/env_obs", "ENV-1", repro)[0, :, 0].tolist()
        expect(
            ids == [float(b) for b in range(num_envs)],
            "ENV-1",
            f"env ids in row 0 of env/env_obs by batch column: {ids}, expected "
            f"{list(range(num_envs))} (column b is the b-th env built)",
            repro,
        )


@clause("ENV-1")
def test_make_env_args_are_passed_to_the_factory(impl: Any) -> None:
    with CountingPlan([1, 2]) as plan, contextlib.ExitStack() as stack:
        env_agent = impl.ParallelGymAgent(
            functools.partial(impl.make_env, env_name=ENV_ID, autoreset=True),
            num_envs=2,
            make_env_args={"plan": plan.key},
        )
        stack.callback(close_agent, env_agent)
        expect(
            [env.env_id for env in plan.envs] == [0, 1],
            "ENV-1",
            f"ParallelGymAgent(partial(make_env, env_name=..., autoreset=True), num_envs=2, "
            f"make_env_args={{'plan': key}}) built {len(plan.envs)} counting envs, expected 2",
            f"import functools\n{plan.factory_source(True)}"
            "env_agent = impl.ParallelGymAgent(functools.partial("
            f"impl.make_env, env_name={ENV_ID!r}, autoreset=True), num_envs=2, "
            "make_env_args={'plan': plan.key})\nprint(plan.envs)",
        )


# ---------------------------------------------------------------------------------------------
# ENV-2 .. ENV-7: rows of one rollout


@clause("ENV-2", "ENV-3", "ENV-4")
@pytest.mark.parametrize("n_steps", [1, 4])
def test_every_call_writes_every_variable(impl: Any, n_steps: int) -> None:
    with counting(impl, [2, 3], autoreset=True) as rollout:
        ws = rollout.run(n_steps)
        repro = rollout.repro(n_steps)
        written = set(ws.keys())
        expect(
            set(TABLE) <= written,
            "ENV-2",
            f"after a {n_steps}-step rollout the workspace holds {sorted(written)}, "
            f"missing {sorted(set(TABLE) - written)}",
            repro,
        )
        check_rows(ws, rollout, n_steps, repro)


@clause("ENV-3", "ENV-4")
@pytest.mark.parametrize("autoreset", [True, False])
def test_call_at_t0_resets_every_env(impl: Any, autoreset: bool) -> None:
    with counting(impl, [1, 2, 3], autoreset=autoreset) as rollout:
        ws = rollout.run(1)
        check_rows(ws, rollout, 1, rollout.repro(1))
        seeds = [len(env.reset_seeds) for env in rollout.plan.envs]
        expect(
            seeds == [1, 1, 1],
            "ENV-3",
            f"resets per env after one call at t=0: {seeds}, expected [1, 1, 1]",
            rollout.repro(1),
        )


@clause("ENV-4", "ENV-11", "ENV-3")
def test_steps_within_episodes(impl: Any) -> None:
    with counting(impl, [10, 9], autoreset=True) as rollout:
        ws = rollout.run(6)
        repro = rollout.repro(6)
        rows = check_rows(ws, rollout, 6, repro)
        check_actions(rollout, rows, repro)


@clause("ENV-5", "ENV-6", "ENV-3", "ENV-4")
@pytest.mark.parametrize("truncated", [False, True], ids=["terminated", "truncated"])
def test_autoreset_done_row_then_reset_row(impl: Any, truncated: bool) -> None:
    with counting(impl, [3, 2], autoreset=True, truncated=truncated) as rollout:
        ws = rollout.run(8)
        repro = rollout.repro(8)
        rows = check_rows(ws, rollout, 8, repro)
        check_actions(rollout, rows, repro)


@clause("ENV-5", "ENV-3", "ENV-4")
def test_terminated_and_truncated_are_reported_per_env(impl: Any) -> None:
    with counting(impl, [2, 2], autoreset=True, truncated=[False, True]) as rollout:
        ws = rollout.run(3)
        repro = rollout.repro(3)
        check_rows(ws, rollout, 3, repro)
        flags = [
            full(ws, name, "ENV-5", repro)[2].tolist()
            for name in ("env/terminated", "env/truncated", "env/done")
        ]
        expect(
            flags == [[True, False], [False, True], [True, True]],
            "ENV-5",
            f"row 2 (both envs end, env 0 terminated, env 1 truncated): [terminated, truncated, "
            f"done] by env = {flags}, expected [[True, False], [False, True], [True, True]]",
            repro,
        )


@clause("ENV-6")
def test_done_row_action_is_not_sent(impl: Any) -> None:
    with counting(impl, [2], autoreset=True) as rollout:
        rollout.run(8)
        log = rollout.plan.envs[0].actions
        # Rows 2 and 5 are done rows: their actions (2 and 5) must never reach env.step.
        want = [(0, 0, 0), (0, 1, 1), (1, 0, 3), (1, 1, 4), (2, 0, 6)]
        expect(
            log == want,
            "ENV-6",
            f"one env, episodes of length 2, 8 steps, action[t] = t: the env consumed "
            f"(episode, step_before, action) = {log}, expected {want} (actions 2 and 5, "
            "written at the done rows t=2 and t=5, are not sent)",
            rollout.repro(8),
        )


@clause("ENV-7", "ENV-3", "ENV-4")
@pytest.mark.parametrize("truncated", [False, True], ids=["terminated", "truncated"])
def test_no_autoreset_rows_freeze_after_done(impl: Any, truncated: bool) -> None:
    with counting(impl, [3, 1], autoreset=False, truncated=truncated) as rollout:
        ws = rollout.run(7)
        repro = rollout.repro(7)
        rows = check_rows(ws, rollout, 7, repro)
        check_actions(rollout, rows, repro)


@clause("ENV-7", "TA-2", "ENV-3", "ENV-4")
def test_no_autoreset_stop_on_done(impl: Any) -> None:
    with counting(impl, [4, 2], autoreset=False) as rollout:
        ws = rollout.impl.Workspace()
        rollout.t_agent(ws, t=0, stop_variable="env/done")
        repro = rollout.repro(5).replace("n_steps=5", "stop_variable='env/done'")
        size = full(ws, "env/done", "TA-2", repro).shape[0]
        expect(
            size == 5,
            "TA-2",
            f"t_agent(ws, t=0, stop_variable='env/done') with episodes of lengths [4, 2] and "
            f"autoreset=False wrote {size} rows, expected 5 (env 0 is done at row 4, the last "
            "env to finish; that row is kept)",
            repro,
        )
        rows = check_rows(ws, rollout, 5, repro)
        check_actions(rollout, rows, repro)


# ---------------------------------------------------------------------------------------------
# ENV-8: independent envs, ENV-14: successive rollouts


@clause("ENV-8", "ENV-3", "ENV-4")
@given(
    lengths=st.lists(
        st.one_of(
            st.integers(1, 5),
            st.lists(st.integers(1, 4), min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=4,
    ),
    data=st.data(),
)
def test_envs_are_independent(impl: Any, lengths: list[int | list[int]], data: Any) -> None:
    truncated = data.draw(
        st.lists(st.booleans(), min_size=len(lengths), max_size=len(lengths)), label="truncated"
    )
    autoreset = data.draw(st.booleans(), label="autoreset")
    n_steps = data.draw(st.integers(1, 12), label="n_steps")
    with counting(impl, lengths, autoreset=autoreset, truncated=truncated) as rollout:
        ws = rollout.run(n_steps)
        repro = rollout.repro(n_steps)
        rows = check_rows(ws, rollout, n_steps, repro, clause_id="ENV-8")
        check_actions(rollout, rows, repro, clause_id="ENV-8")


@clause("ENV-14", "ENV-3", "ENV-4")
@pytest.mark.parametrize("autoreset", [True, False])
@pytest.mark.parametrize("same_workspace", [False, True], ids=["new-ws", "same-ws"])
def test_second_rollout_from_t0(impl: Any, autoreset: bool, same_workspace: bool) -> None:
    with counting(impl, [3, 2], autoreset=autoreset) as rollout:
        ws = rollout.run(5)
        plan = rollout.plan
        first = [plan.simulate(b, 5, autoreset=autoreset) for b in range(2)]
        starts = [episodes_used(rows) for rows in first]
        log_start = [len(env.actions) for env in plan.envs]
        ws2 = rollout.run(5, ws if same_workspace else None)
        repro = rollout.repro(5) + (
            f"ws2 = {'ws' if same_workspace else 'impl.Workspace()'}\n"
            "t_agent(ws2, t=0, n_steps=5)  # second rollout: each env starts a new episode\n"
            "for name in sorted(ws2.keys()):\n"
            "    print(name, ws2.get_full(name).transpose(0, 1).tolist())\n"
            "print([env.actions for env in plan.envs])\n"
        )
        rows = check_rows(ws2, rollout, 5, repro, first_episodes=starts, clause_id="ENV-14")
        check_actions(rollout, rows, repro, log_start=log_start, clause_id="ENV-14")


@clause("ENV-15")
def test_call_at_t_positive_before_reset_raises(impl: Any) -> None:
    with counting(impl, [3], autoreset=True) as rollout:
        ws = impl.Workspace()
        ws.set("action", 0, action_row("discrete", 0, 1))
        expect_raises(
            RuntimeError,
            "ENV-15",
            "env_agent(ws, t=1) on a fresh ParallelGymAgent (never called at t=0), with "
            "action[0] written",
            lambda: rollout.env_agent(ws, t=1),
            f"import torch\n{rollout.plan.factory_source(True)}"
            "env_agent = impl.ParallelGymAgent(factory, num_envs=1)\nws = impl.Workspace()\n"
            "ws.set('action', 0, torch.tensor([0]))\n"
            "env_agent(ws, t=1)  # expected RuntimeError",
        )


# ---------------------------------------------------------------------------------------------
# ENV-9 .. ENV-11: observation dtypes, Dict observations, actions


def _expected_obs(kind: ObsKind, b: int, row: Row) -> torch.Tensor:
    ids = [b, row.episode, row.step]
    if kind in ("float", "float64"):
        return torch.tensor(ids, dtype=torch.float32)
    if kind == "uint8":
        return torch.tensor(ids, dtype=torch.uint8)
    if kind == "int32":
        return torch.tensor(ids, dtype=torch.int32)
    if kind == "bool":
        return torch.tensor([v % 2 == 1 for v in ids], dtype=torch.bool)
    return torch.tensor(discrete_code(*ids), dtype=torch.int64)


@clause("ENV-9")
@pytest.mark.parametrize("kind", ["float", "float64", "uint8", "int32", "bool", "discrete"])
def test_observation_dtypes(impl: Any, kind: ObsKind) -> None:
    with counting(impl, [2, 3], autoreset=True, obs_kind=kind) as rollout:
        ws = rollout.run(4)
        repro = rollout.repro(4)
        obs = full(ws, "env/env_obs", "ENV-9", repro)
        want_dtype = _expected_obs(kind, 0, rollout.plan.simulate(0, 1, autoreset=True)[0]).dtype
        want_shape = (4, 2) if kind == "discrete" else (4, 2, 3)
        expect(
            tuple(obs.shape) == want_shape and obs.dtype == want_dtype,
            "ENV-9",
            f"{kind} observations ({rollout.plan.envs[0].observation_space}): env/env_obs has "
            f"shape {tuple(obs.shape)} dtype {obs.dtype}, expected shape {want_shape} dtype "
            f"{want_dtype}",
            repro,
        )
        for b in range(2):
            for t, row in enumerate(rollout.plan.simulate(b, 4, autoreset=True)):
                want = _expected_obs(kind, b, row)
                expect_equal_tensors(
                    obs[t, b],
                    want,
                    "ENV-9",
                    f"{kind} observations: env/env_obs row t={t}, env b={b} (episode "
                    f"{row.episode}, step {row.step}): got {obs[t, b].tolist()}, expected "
                    f"{want.tolist()}",
                    repro,
                )


@clause("ENV-10")
def test_dict_observations_are_flattened(impl: Any) -> None:
    with counting(impl, [2, 3], autoreset=True, obs_kind="dict") as rollout:
        ws = rollout.run(4)
        repro = rollout.repro(4)
        keys = sorted(ws.keys())
        expect(
            "env/env_obs" not in keys and {"env/env_obs/ids", "env/env_obs/step"} <= set(keys),
            "ENV-10",
            f"Dict observation space {{'ids': Box float32 (3,), 'step': Box int32 (1,)}}: "
            f"workspace keys {keys}, expected env/env_obs/ids and env/env_obs/step instead "
            "of env/env_obs",
            repro,
        )
        ids = full(ws, "env/env_obs/ids", "ENV-10", repro)
        step = full(ws, "env/env_obs/step", "ENV-10", repro)
        want_ids = torch.zeros(4, 2, 3)
        want_step = torch.zeros(4, 2, 1, dtype=torch.int32)
        for b in range(2):
            for t, row in enumerate(rollout.plan.simulate(b, 4, autoreset=True)):
                want_ids[t, b] = torch.tensor([b, row.episode, row.step])
                want_step[t, b, 0] = row.step
        expect_equal_tensors(
            ids, want_ids, "ENV-10", "env/env_obs/ids over 4 rows, [T, B, 3] float32", repro
        )
        expect_equal_tensors(
            step, want_step, "ENV-10", "env/env_obs/step over 4 rows, [T, B, 1] int32", repro
        )


@clause("ENV-11", "ENV-3", "ENV-4")
@pytest.mark.parametrize("autoreset", [True, False])
def test_box_actions_reach_the_envs(impl: Any, autoreset: bool) -> None:
    with counting(impl, [3, 4], autoreset=autoreset, action_kind="box") as rollout:
        ws = rollout.run(6)
        repro = rollout.repro(6)
        rows = [rollout.plan.simulate(b, 6, autoreset=autoreset) for b in range(2)]
        check_actions(rollout, rows, repro, clause_id="ENV-11")
        check_rows(ws, rollout, 6, repro)


# ---------------------------------------------------------------------------------------------
# ENV-12: get_obs_and_actions_sizes


def _sizes(impl: Any, factory: Any, stack: contextlib.ExitStack) -> Any:
    env_agent = impl.ParallelGymAgent(factory, num_envs=1)
    stack.callback(close_agent, env_agent)
    return env_agent.get_obs_and_actions_sizes()


@clause("ENV-12")
@pytest.mark.parametrize(
    ("env_name", "expected"),
    [("CartPole-v1", (4, 2)), ("MountainCarContinuous-v0", (2, 1))],
    ids=["CartPole-v1", "MountainCarContinuous-v0"],
)
def test_obs_and_action_sizes(impl: Any, env_name: str, expected: tuple[int, int]) -> None:
    with contextlib.ExitStack() as stack:
        got = _sizes(impl, functools.partial(impl.make_env, env_name=env_name), stack)
        expect(
            isinstance(got, tuple)
            and len(got) == 2
            and all(type(v) is int for v in got)
            and got == expected,
            "ENV-12",
            f"ParallelGymAgent(partial(make_env, env_name={env_name!r}), num_envs=1)"
            f".get_obs_and_actions_sizes() = {got!r} (types "
            f"{[type(v).__name__ for v in got] if isinstance(got, tuple) else type(got)}), "
            f"expected {expected} as Python ints",
            "import functools\n"
            f"env_agent = impl.ParallelGymAgent(functools.partial(impl.make_env, "
            f"env_name={env_name!r}), num_envs=1)\n"
            "print(env_agent.get_obs_and_actions_sizes())",
        )


@clause("ENV-12")
def test_obs_and_action_sizes_discrete_obs_box_actions(impl: Any) -> None:
    with (
        CountingPlan([2], obs_kind="discrete", action_kind="box") as plan,
        contextlib.ExitStack() as stack,
    ):
        got = _sizes(impl, plan.factory(impl, autoreset=False), stack)
        expected = (discrete_code(MAX_ENVS, 0, 0), 2)
        expect(
            isinstance(got, tuple) and all(type(v) is int for v in got) and got == expected,
            "ENV-12",
            f"counting env with Discrete({expected[0]}) obs and Box (2,) actions: "
            f"get_obs_and_actions_sizes() = {got!r}, expected {expected} as Python ints",
            f"{plan.factory_source(False)}env_agent = impl.ParallelGymAgent(factory, "
            "num_envs=1)\nprint(env_agent.get_obs_and_actions_sizes())",
        )
    with CountingPlan([2]) as plan, contextlib.ExitStack() as stack:
        got = _sizes(impl, plan.factory(impl, autoreset=True), stack)
        expect(
            got == (3, MAX_ACTION) and all(type(v) is int for v in got),
            "ENV-12",
            f"counting env with Box (3,) obs and Discrete({MAX_ACTION}) actions: "
            f"get_obs_and_actions_sizes() = {got!r}, expected (3, {MAX_ACTION})",
            f"{plan.factory_source(True)}env_agent = impl.ParallelGymAgent(factory, "
            "num_envs=1)\nprint(env_agent.get_obs_and_actions_sizes())",
        )
