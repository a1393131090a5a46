"""Conformance tests of spec/env-agent.md (ENV): ParallelGymAgent and make_env.

The env agent is checked row by row against the counting env shipped with the suite
(`bbrl_conformance.counting_env`): its observations say (env, episode, step), its rewards are a
known function of them, and it logs every action it consumes (in any process), so the expected
rows and the expected action log come from `CountingPlan.simulate`, never from the
implementation. CartPole-v1 and MountainCarContinuous-v0 serve `get_obs_and_actions_sizes`.

Every test that builds an env agent runs once per backend the implementation declares
(`backend` fixture, ENV-16); the failure tests of ENV-19..ENV-26 are in test_env_failures.py.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bbrl_conformance._assertions import (
    expect,
    expect_equal_tensors,
    expect_message,
    expect_raises,
)
from bbrl_conformance._backends import Backend
from bbrl_conformance._clauses import clause
from bbrl_conformance._rollouts import (
    TABLE,
    check_actions,
    check_rows,
    counting,
    env_ids_in_row0,
    examples_for,
    full,
    refused_by_vector,
)
from bbrl_conformance.counting_env import (
    ENV_ID,
    MAX_ACTION,
    MAX_ENVS,
    ActionKind,
    CountingPlan,
    ObsKind,
    Row,
    action_agent,
    action_row,
    action_space,
    close_agent,
    discrete_code,
    episodes_used,
    observation_space,
    reward,
)


def refuses_no_autoreset(impl: Any, backend: Backend, plan_lengths: list[int]) -> bool:
    """True when ``backend`` is a vector backend that refuses ``autoreset=False`` (ENV-17)."""
    with CountingPlan(plan_lengths) as plan:
        return refused_by_vector(
            backend,
            lambda: backend.agent(impl, plan.factory(impl, autoreset=False), plan.num_envs),
            "autoreset=False",
            f"{plan.factory_source(False)}impl.ParallelGymAgent(factory, "
            f"num_envs={plan.num_envs}{backend.source()})  # expected: works, or ValueError",
        )


# ---------------------------------------------------------------------------------------------
# ENV-1: make_env and how ParallelGymAgent builds its envs


@clause("ENV-1")
def test_make_env_builds_through_gymnasium_make(impl: Any) -> None:
    with CountingPlan([3]) as plan:
        env = impl.make_env(ENV_ID, plan=plan.key)
        try:
            ids = [record.env_id for record in plan.envs]
            expect(
                ids == [0] and getattr(env.unwrapped, "env_id", None) == 0,
                "ENV-1",
                f"impl.make_env({ENV_ID!r}, plan=...) returned {env!r}; the plan's env ids are "
                f"{ids}: its unwrapped env is not the one gymnasium.make built with the keyword "
                "argument plan=...",
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


@clause("ENV-1", "ENV-13")
@pytest.mark.parametrize("num_envs", [1, 3])
def test_env_agent_builds_its_envs_in_order(impl: Any, backend: Backend, num_envs: int) -> None:
    with counting(impl, backend, [2] * num_envs, autoreset=True) as rollout:
        repro = rollout.repro(1)
        ws = rollout.run(1)
        built = len(rollout.plan.envs)
        expect(
            built == num_envs,
            "ENV-1",
            f"ParallelGymAgent(factory, num_envs={num_envs}{backend.source()}) built {built} "
            f"counting envs, expected {num_envs}",
            repro,
        )
        ids = [int(v) for v in full(ws, "env/env_obs", "ENV-1", repro)[0, :, 0].tolist()]
        if rollout.plan.in_process():
            expect(
                ids == list(range(num_envs)),
                "ENV-1",
                f"env ids in row 0 of env/env_obs by batch column: {ids}, expected "
                f"{list(range(num_envs))} (column b is the b-th env built)",
                repro,
            )
        else:
            expect(
                sorted(ids) == list(range(num_envs)),
                "ENV-13",
                f"envs built in worker processes: env ids in row 0 by batch column {ids}, "
                f"expected each of the {num_envs} envs in one column",
                repro,
            )


@clause("ENV-1")
def test_make_env_args_are_passed_to_the_factory(impl: Any, backend: Backend) -> None:
    with CountingPlan([1, 2]) as plan, contextlib.ExitStack() as stack:
        env_agent = backend.agent(
            impl,
            functools.partial(impl.make_env, env_name=ENV_ID, autoreset=True),
            2,
            make_env_args={"plan": plan.key},
        )
        stack.callback(close_agent, env_agent)
        env_agent(impl.Workspace(), t=0)
        expect(
            sorted(record.env_id for record in plan.envs) == [0, 1],
            "ENV-1",
            f"ParallelGymAgent(partial(make_env, env_name=..., autoreset=True), num_envs=2, "
            f"make_env_args={{'plan': key}}{backend.source()}) built {len(plan.envs)} counting "
            "envs, expected 2",
            f"import functools\n{plan.factory_source(True)}"
            "env_agent = impl.ParallelGymAgent(functools.partial("
            f"impl.make_env, env_name={ENV_ID!r}, autoreset=True), num_envs=2, "
            f"make_env_args={{'plan': plan.key}}{backend.source()})\nprint(plan.envs)",
        )


@clause("ENV-1", "ENV-16")
def test_factory_with_positional_arguments(impl: Any, backend: Backend) -> None:
    """make_env_fn is any callable: a partial giving env_name positionally builds the envs and
    writes the rows the keyword form writes, with every backend."""
    rows = []
    for positional in (False, True):
        with CountingPlan([2, 3]) as plan, contextlib.ExitStack() as stack:
            factory: Callable[[], Any]
            if positional:
                factory = functools.partial(impl.make_env, ENV_ID, autoreset=True, plan=plan.key)
            else:
                factory = plan.factory(impl, autoreset=True)
            env_agent = backend.agent(impl, factory, 2)
            stack.callback(close_agent, env_agent)
            env_agent.seed(4)
            ws = impl.Workspace()
            env_agent(ws, t=0)
            rows.append(sorted(ws.get("env/env_obs", 0).tolist()))
    expect(
        rows[0] == rows[1],
        "ENV-1",
        f"functools.partial(impl.make_env, ENV_ID, autoreset=True, plan=...) gave row 0 "
        f"observations {rows[1]}, the keyword form {rows[0]}",
        "import functools\nfrom bbrl_conformance.counting_env import ENV_ID, CountingPlan\n"
        "plan = CountingPlan([2, 3])\nfactory = functools.partial(impl.make_env, ENV_ID, "
        f"autoreset=True, plan=plan.key)\nenv_agent = impl.ParallelGymAgent(factory, "
        f"num_envs=2{backend.source()}).seed(4)\nws = impl.Workspace()\nenv_agent(ws, t=0)\n"
        "print(ws.get('env/env_obs', 0))",
    )


# ---------------------------------------------------------------------------------------------
# ENV-2 .. ENV-7: rows of one rollout


@clause("ENV-2", "ENV-3", "ENV-4")
@pytest.mark.parametrize("n_steps", [1, 4])
def test_every_call_writes_every_variable(impl: Any, backend: Backend, n_steps: int) -> None:
    with counting(impl, backend, [2, 3], autoreset=True) as rollout:
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


@clause("ENV-3", "ENV-4", "ENV-17")
@pytest.mark.parametrize("autoreset", [True, False])
def test_call_at_t0_resets_every_env(impl: Any, backend: Backend, autoreset: bool) -> None:
    if not autoreset and refuses_no_autoreset(impl, backend, [1, 2, 3]):
        return
    with counting(impl, backend, [1, 2, 3], autoreset=autoreset) as rollout:
        ws = rollout.run(1)
        check_rows(ws, rollout, 1, rollout.repro(1))
        resets = [len(record.reset_seeds) for record in rollout.plan.envs]
        expect(
            resets == [1, 1, 1],
            "ENV-3",
            f"resets per env after one call at t=0: {resets}, expected [1, 1, 1]",
            rollout.repro(1),
        )


@clause("ENV-4", "ENV-11", "ENV-3")
def test_steps_within_episodes(impl: Any, backend: Backend) -> None:
    with counting(impl, backend, [10, 9], autoreset=True) as rollout:
        ws = rollout.run(6)
        repro = rollout.repro(6)
        rows = check_rows(ws, rollout, 6, repro)
        check_actions(rollout, rows, repro)


@clause("ENV-5", "ENV-6", "ENV-3", "ENV-4")
@pytest.mark.parametrize("truncated", [False, True], ids=["terminated", "truncated"])
def test_autoreset_done_row_then_reset_row(impl: Any, backend: Backend, truncated: bool) -> None:
    with counting(impl, backend, [3, 2], autoreset=True, truncated=truncated) as rollout:
        ws = rollout.run(8)
        repro = rollout.repro(8)
        rows = check_rows(ws, rollout, 8, repro)
        check_actions(rollout, rows, repro)


@clause("ENV-5", "ENV-3", "ENV-4")
def test_terminated_and_truncated_are_reported_per_env(impl: Any, backend: Backend) -> None:
    with counting(impl, backend, [2, 2], autoreset=True, truncated=[False, True]) as rollout:
        ws = rollout.run(3)
        repro = rollout.repro(3)
        check_rows(ws, rollout, 3, repro)
        flags = [
            full(ws, name, "ENV-5", repro)[2].tolist()
            for name in ("env/terminated", "env/truncated", "env/done")
        ]
        want = [[True, False], [False, True], [True, True]]
        if rollout.columns != [0, 1]:  # a worker backend put env 1 in column 0
            want = [row[::-1] for row in want]
        expect(
            flags == want,
            "ENV-5",
            f"row 2 (both envs end, env 0 terminated, env 1 truncated; env ids by column "
            f"{rollout.columns}): [terminated, truncated, done] by column = {flags}, expected "
            f"{want}",
            repro,
        )


@clause("ENV-6")
def test_done_row_action_is_not_sent(impl: Any, backend: Backend) -> None:
    with counting(impl, backend, [2], autoreset=True) as rollout:
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


@clause("ENV-7", "ENV-3", "ENV-4", "ENV-17")
@pytest.mark.parametrize("truncated", [False, True], ids=["terminated", "truncated"])
def test_no_autoreset_rows_freeze_after_done(impl: Any, backend: Backend, truncated: bool) -> None:
    if refuses_no_autoreset(impl, backend, [3, 1]):
        return
    with counting(impl, backend, [3, 1], autoreset=False, truncated=truncated) as rollout:
        ws = rollout.run(7)
        repro = rollout.repro(7)
        rows = check_rows(ws, rollout, 7, repro)
        check_actions(rollout, rows, repro)


@clause("ENV-7", "TA-2", "ENV-3", "ENV-4", "ENV-17")
def test_no_autoreset_stop_on_done(impl: Any, backend: Backend) -> None:
    if refuses_no_autoreset(impl, backend, [4, 2]):
        return
    with counting(impl, backend, [4, 2], autoreset=False) as rollout:
        ws = impl.Workspace()
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


@clause("ENV-8", "ENV-3", "ENV-4", "ENV-17")
def test_envs_are_independent(impl: Any, backend: Backend) -> None:
    lengths_strategy = st.lists(
        st.one_of(st.integers(1, 5), st.lists(st.integers(1, 4), min_size=1, max_size=3)),
        min_size=1,
        max_size=4,
    )

    @settings(max_examples=examples_for(impl, backend))
    @given(lengths=lengths_strategy, data=st.data())
    def check(lengths: list[int | list[int]], data: Any) -> None:
        truncated = data.draw(
            st.lists(st.booleans(), min_size=len(lengths), max_size=len(lengths)),
            label="truncated",
        )
        autoreset = data.draw(st.booleans(), label="autoreset")
        n_steps = data.draw(st.integers(1, 12), label="n_steps")
        if not autoreset and refuses_no_autoreset(impl, backend, [1] * len(lengths)):
            return
        with counting(impl, backend, lengths, autoreset=autoreset, truncated=truncated) as rollout:
            ws = rollout.run(n_steps)
            repro = rollout.repro(n_steps)
            rows = check_rows(ws, rollout, n_steps, repro, clause_id="ENV-8")
            check_actions(rollout, rows, repro, clause_id="ENV-8")

    check()


# ---------------------------------------------------------------------------------------------
# ENV-36: the env agent keeps its envs' state itself

#: agents of ENV-36's test, run in this order at each t: env agent, RECORDER (a copy of the env
#: agent's row t), REWRITER (rewrites that row in the workspace), the counting action agent
ENV36_SOURCE = """\
class Recorder(impl.Agent):
    def __init__(self, names):
        super().__init__()
        self.rows = {name: [] for name in names}

    def forward(self, t, **kwargs):
        for name, rows in self.rows.items():
            rows.append(self.get((name, t)).clone())


class Rewriter(impl.Agent):
    def __init__(self, how):
        super().__init__()
        self.how = how

    def forward(self, t, **kwargs):
        done = self.get(("env/done", t))
        if self.how == "episodes_done":  # what EpisodesDone() does: a running OR, in place
            if t > 0:
                self.set(("env/done", t), done | self.get(("env/done", t - 1)))
            return
        self.set(("env/done", t), ~done)  # scramble: every env/ variable changed
        for name in ("env/terminated", "env/truncated"):
            self.set((name, t), ~self.get((name, t)))
        self.set(("env/reward", t), self.get(("env/reward", t)) + 7)
        self.set(("env/cumulated_reward", t), self.get(("env/cumulated_reward", t)) - 100)
        self.set(("env/timestep", t), self.get(("env/timestep", t)) + 50)
        self.set(("env/env_obs", t), -self.get(("env/env_obs", t)))
"""


@clause("ENV-36", "ENV-4", "ENV-6", "ENV-7", "ENV-17")
@pytest.mark.parametrize("autoreset", [True, False], ids=["autoreset", "no-autoreset"])
@pytest.mark.parametrize("how", ["episodes_done", "scramble"])
def test_rows_ignore_what_other_agents_write_in_env_variables(
    impl: Any, backend: Backend, autoreset: bool, how: str
) -> None:
    """An agent after the env agent rewrites its row ``t`` in the workspace, as
    ``EpisodesDone()`` does to ``env/done`` (``episodes_done``), or changes every ``env/``
    variable (``scramble``: flags flipped, other values shifted). The rows the env agent
    writes (copied before the rewrite) and the actions the envs consume must be the model's,
    as without the rewriter: its done envs and ENV-7's repeated values are its own."""
    lengths = [2, 3, 1]
    n_steps = 9
    if not autoreset and refuses_no_autoreset(impl, backend, lengths):
        return
    scope: dict[str, Any] = {"impl": impl}
    exec(ENV36_SOURCE, scope)
    names = list(TABLE)
    with counting(impl, backend, lengths, autoreset=autoreset) as rollout:
        plan = rollout.plan
        recorder = scope["Recorder"](names)
        agents = impl.Agents(
            rollout.env_agent,
            recorder,
            scope["Rewriter"](how),
            action_agent(impl, plan.num_envs, plan.action_kind),
        )
        impl.TemporalAgent(agents)(impl.Workspace(), t=0, n_steps=n_steps)
        repro = (
            "import torch\n"
            + plan.factory_source(autoreset, imports="CountingPlan, action_agent")
            + f"env_agent = impl.ParallelGymAgent(factory, num_envs={plan.num_envs}"
            + f"{backend.source()})\n"
            + ENV36_SOURCE
            + f"recorder = Recorder({names!r})\n"
            + "agents = impl.Agents(env_agent, recorder, Rewriter("
            + f"{how!r}), action_agent(impl, {plan.num_envs}, {plan.action_kind!r}))\n"
            + f"impl.TemporalAgent(agents)(impl.Workspace(), t=0, n_steps={n_steps})\n"
            + "for name, rows in recorder.rows.items():  # the env agent's rows\n"
            + "    print(name, torch.stack(rows).transpose(0, 1).tolist())\n"
            + "print([env.actions for env in plan.envs])  # (episode, step_before, action)\n"
        )
        written = impl.Workspace()
        for name, rows in recorder.rows.items():
            written.set_full(name, torch.stack(rows))
        rows = check_rows(written, rollout, n_steps, repro, clause_id="ENV-36")
        check_actions(rollout, rows, repro, clause_id="ENV-36")


@clause("ENV-14", "ENV-3", "ENV-4", "ENV-17")
@pytest.mark.parametrize("autoreset", [True, False])
@pytest.mark.parametrize("same_workspace", [False, True], ids=["new-ws", "same-ws"])
def test_second_rollout_from_t0(
    impl: Any, backend: Backend, autoreset: bool, same_workspace: bool
) -> None:
    if not autoreset and refuses_no_autoreset(impl, backend, [3, 2]):
        return
    with counting(impl, backend, [3, 2], autoreset=autoreset) as rollout:
        ws = rollout.run(5)
        repro = rollout.repro(5)
        first = check_rows(ws, rollout, 5, repro)
        starts = [0, 0]
        for b, env_id in enumerate(rollout.columns):
            starts[env_id] = episodes_used(first[b])
        plan = rollout.plan
        log_start = [len(record.actions) for record in plan.envs]
        ws2 = rollout.run(5, ws if same_workspace else None)
        repro += (
            f"ws2 = {'ws' if same_workspace else 'impl.Workspace()'}\n"
            "t_agent(ws2, t=0, n_steps=5)  # second rollout: each env starts a new episode\n"
            "for name in sorted(ws2.keys()):\n"
            "    print(name, ws2.get_full(name).transpose(0, 1).tolist())\n"
            "print([env.actions for env in plan.envs])\n"
        )
        rows = check_rows(ws2, rollout, 5, repro, first_episodes=starts, clause_id="ENV-14")
        check_actions(rollout, rows, repro, log_start=log_start, clause_id="ENV-14")


@clause("ENV-15")
def test_call_at_t_positive_before_reset_raises(impl: Any, backend: Backend) -> None:
    with counting(impl, backend, [3], autoreset=True) as rollout:
        ws = impl.Workspace()
        ws.set("action", 0, action_row("discrete", 0, 1))
        expect_raises(
            RuntimeError,
            "ENV-15",
            f"env_agent(ws, t=1) on a fresh ParallelGymAgent({backend.source()[2:]}) (never "
            "called at t=0), with action[0] written",
            lambda: rollout.env_agent(ws, t=1),
            f"import torch\n{rollout.plan.factory_source(True)}"
            f"env_agent = impl.ParallelGymAgent(factory, num_envs=1{backend.source()})\n"
            "ws = impl.Workspace()\nws.set('action', 0, torch.tensor([0]))\n"
            "env_agent(ws, t=1)  # expected RuntimeError",
        )


# ---------------------------------------------------------------------------------------------
# ENV-9 .. ENV-11: observation dtypes, Dict observations, actions


def _expected_obs(kind: ObsKind, env_id: int, row: Row) -> torch.Tensor:
    ids = [env_id, row.episode, row.step]
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
def test_observation_dtypes(impl: Any, backend: Backend, kind: ObsKind) -> None:
    with counting(impl, backend, [2, 3], autoreset=True, obs_kind=kind) as rollout:
        ws = rollout.run(4)
        repro = rollout.repro(4)
        obs = full(ws, "env/env_obs", "ENV-9", repro)
        want_dtype = _expected_obs(kind, 0, rollout.plan.simulate(0, 1, autoreset=True)[0]).dtype
        want_shape = (4, 2) if kind == "discrete" else (4, 2, 3)
        expect(
            tuple(obs.shape) == want_shape and obs.dtype == want_dtype,
            "ENV-9",
            f"{kind} observations ({observation_space(kind)}): env/env_obs has shape "
            f"{tuple(obs.shape)} dtype {obs.dtype}, expected shape {want_shape} dtype "
            f"{want_dtype}",
            repro,
        )
        columns = [0, 1] if rollout.plan.in_process() else env_ids_in_row0(ws, kind, 2, repro)
        for b, env_id in enumerate(columns):
            for t, row in enumerate(rollout.plan.simulate(env_id, 4, autoreset=True)):
                want = _expected_obs(kind, env_id, row)
                expect_equal_tensors(
                    obs[t, b],
                    want,
                    "ENV-9",
                    f"{kind} observations: env/env_obs row t={t}, env b={b} (env id {env_id}, "
                    f"episode {row.episode}, step {row.step}): got {obs[t, b].tolist()}, "
                    f"expected {want.tolist()}",
                    repro,
                )


@clause("ENV-10")
def test_dict_observations_are_flattened(impl: Any, backend: Backend) -> None:
    with counting(impl, backend, [2, 3], autoreset=True, obs_kind="dict") as rollout:
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
        columns = [0, 1]
        if not rollout.plan.in_process():
            columns = [int(v) for v in ids[0, :, 0].tolist()]
        want_ids = torch.zeros(4, 2, 3)
        want_step = torch.zeros(4, 2, 1, dtype=torch.int32)
        for b, env_id in enumerate(columns):
            for t, row in enumerate(rollout.plan.simulate(env_id, 4, autoreset=True)):
                want_ids[t, b] = torch.tensor([env_id, row.episode, row.step])
                want_step[t, b, 0] = row.step
        expect_equal_tensors(
            ids, want_ids, "ENV-10", "env/env_obs/ids over 4 rows, [T, B, 3] float32", repro
        )
        expect_equal_tensors(
            step, want_step, "ENV-10", "env/env_obs/step over 4 rows, [T, B, 1] int32", repro
        )


class NestedDictEnv(gym.Env[Any, Any]):
    """Observations ``{"a": {"b": [1.0]}, <other>: [2.0]}``, ``other`` given: ``"c"``, or
    ``"a/b"``, whose variable name collides with the nested key's. With ``fault``, each step's
    inner dict ``"a"`` is wrong: ``"extra"`` (a key ``"z"`` more), ``"missing"`` (no ``"b"``),
    ``"int-key"`` (a key ``0`` more) or ``"not-a-mapping"`` (an array)."""

    action_space = gym.spaces.Discrete(2)

    def __init__(self, other: str, fault: str | None = None) -> None:
        box = gym.spaces.Box(0.0, 9.0, (1,), np.float32)
        self.other, self.fault = other, fault
        self.observation_space = gym.spaces.Dict({"a": gym.spaces.Dict({"b": box}), other: box})

    def _obs(self, fault: str | None = None) -> dict[str, Any]:
        one = np.ones(1, dtype=np.float32)
        inner: Any = {"b": one}
        if fault == "extra":
            inner = {"b": one, "z": one}
        elif fault == "missing":
            inner = {}
        elif fault == "int-key":
            inner = {"b": one, 0: one}
        elif fault == "not-a-mapping":
            inner = one
        return {"a": inner, self.other: 2 * one}

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        return self._obs(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        return self._obs(self.fault), 0.0, False, False, {}


NESTED_SOURCE = (
    "import functools\nfrom typing import Any\nimport gymnasium as gym\nimport numpy as np\n"
    + inspect.getsource(NestedDictEnv).replace("gym.Env[Any, Any]", "gym.Env")
)


@clause("ENV-10")
def test_nested_dict_observations_and_colliding_names(impl: Any) -> None:
    """A nested Dict writes ``env/env_obs/a/b`` next to ``env/env_obs/c``; a space whose key
    ``"a/b"`` would give that name twice is refused with ValueError when the agent is built."""
    repro = NESTED_SOURCE + (
        "agent = impl.ParallelGymAgent(functools.partial(NestedDictEnv, 'c'), num_envs=2)\n"
        "ws = impl.Workspace()\nagent(ws, t=0)\nprint(sorted(ws.keys()))\n"
    )
    agent = impl.ParallelGymAgent(functools.partial(NestedDictEnv, "c"), num_envs=2)
    try:
        ws = impl.Workspace()
        agent(ws, t=0)
    finally:
        close_agent(agent)
    for name, value in (("env/env_obs/a/b", 1.0), ("env/env_obs/c", 2.0)):
        got = full(ws, name, "ENV-10", repro)
        expect_equal_tensors(
            got, torch.full((1, 2, 1), value), "ENV-10", f"{name} at t=0 (nested Dict)", repro
        )
    colliding = "functools.partial(NestedDictEnv, 'a/b')"
    expect_raises(
        ValueError,
        "ENV-10",
        f"impl.ParallelGymAgent({colliding}, num_envs=2) (keys 'a/b' and 'a' -> 'b')",
        lambda: impl.ParallelGymAgent(functools.partial(NestedDictEnv, "a/b"), num_envs=2),
        NESTED_SOURCE + f"impl.ParallelGymAgent({colliding}, num_envs=2)",
    )


#: a wrong inner dict of a nested Dict observation -> the builtin type ENV-21 requires
NESTED_FAULTS = {
    "extra": ValueError,
    "missing": ValueError,
    "int-key": ValueError,
    "not-a-mapping": TypeError,
}


@clause("ENV-21", "ENV-10")
@pytest.mark.parametrize("fault", sorted(NESTED_FAULTS))
def test_nested_dict_observation_is_checked_at_every_level(impl: Any, fault: str) -> None:
    """ENV-21's Dict rule holds inside a nested Dict: an inner mapping with a key more, a key
    less or a non-str key raises ValueError, an inner value that is no mapping TypeError, naming
    t (every env fails, so any b is right), instead of the extra key being dropped or the error
    escaping as another type."""
    error = NESTED_FAULTS[fault]
    make = f"functools.partial(NestedDictEnv, 'c', {fault!r})"
    repro = NESTED_SOURCE + (
        "import torch\n"
        f"agent = impl.ParallelGymAgent({make}, num_envs=2)\n"
        "ws = impl.Workspace()\nagent(ws, t=0)\n"
        "ws.set('action', 0, torch.zeros(2, dtype=torch.int64))\n"
        f"agent(ws, t=1)  # expected {error.__name__}\n"
    )
    agent = impl.ParallelGymAgent(functools.partial(NestedDictEnv, "c", fault), num_envs=2)
    try:
        ws = impl.Workspace()
        agent(ws, t=0)
        ws.set("action", 0, torch.zeros(2, dtype=torch.int64))
        exc = expect_raises(
            error,
            "ENV-21",
            f"a step returning a nested Dict observation whose inner dict is {fault}",
            functools.partial(agent, ws, t=1),
            repro,
        )
    finally:
        close_agent(agent)
    expect(
        re.search(r"\b1\b", str(exc)) is not None,
        "ENV-21",
        f"the error for the {fault} inner dict does not name t = 1: {exc}",
        repro,
    )


@clause("ENV-11", "ENV-3", "ENV-4", "ENV-17")
@pytest.mark.parametrize("autoreset", [True, False])
def test_box_actions_reach_the_envs(impl: Any, backend: Backend, autoreset: bool) -> None:
    if not autoreset and refuses_no_autoreset(impl, backend, [3, 4]):
        return
    with counting(impl, backend, [3, 4], autoreset=autoreset, action_kind="box") as rollout:
        ws = rollout.run(6)
        repro = rollout.repro(6)
        rows = check_rows(ws, rollout, 6, repro)
        check_actions(rollout, rows, repro, clause_id="ENV-11")


#: Discrete action dtypes other than int64, each with the largest value it holds that the
#: counting env's Discrete(MAX_ACTION) space accepts (uint8 255: read as int8 it would be -1).
_DISCRETE_ACTION_DTYPES = {
    "int8": (torch.int8, 127),
    "int16": (torch.int16, 32767),
    "int32": (torch.int32, MAX_ACTION - 1),
    "uint8": (torch.uint8, 255),
}


#: ENV-11's other accepted dtypes: id -> (action kind, dtype of the ``action`` variable)
_OTHER_ACTION_DTYPES: dict[str, tuple[ActionKind, torch.dtype]] = {
    "discrete-bool": ("discrete", torch.bool),
    "box-int64": ("box", torch.int64),
    "box-int16": ("box", torch.int16),
    "box-float64": ("box", torch.float64),
    "box-float16": ("box", torch.float16),
    "box-bfloat16": ("box", torch.bfloat16),
    "box-uint8": ("box", torch.uint8),
}


#: the source of ``_typed_action``'s value, for reproducers
_ACTION_SOURCE = {"discrete": "(t + b) % 2 == 1", "box": "[b + t, 2 * t]"}


def _typed_action(kind: ActionKind, dtype: torch.dtype, t: int, b: int) -> Any:
    """The value of ``action[t, b]`` in the test below: a bool (Discrete), or the pair
    ``(b + t, 2t)`` (Box), exact and not negative in every dtype of the table."""
    return (t + b) % 2 == 1 if kind == "discrete" else [b + t, 2 * t]


@clause("ENV-11")
@pytest.mark.parametrize("case", sorted(_OTHER_ACTION_DTYPES))
def test_bool_and_integer_actions_reach_the_envs(impl: Any, backend: Backend, case: str) -> None:
    """A bool action for a Discrete space reaches env b as the integer 0 or 1; an integer or
    other floating action for a Box space reaches it as its numbers."""
    kind, dtype = _OTHER_ACTION_DTYPES[case]
    with counting(impl, backend, [9, 9], autoreset=True, action_kind=kind) as rollout:
        ws = impl.Workspace()
        for t in range(4):
            rollout.env_agent(ws, t=t)
            row = [_typed_action(kind, dtype, t, b) for b in range(2)]
            ws.set("action", t, torch.tensor(row, dtype=dtype))
        rollout.env_agent(ws, t=4)
        columns = env_ids_in_row0(ws, "float", 2, "")
        want: list[list[tuple[int, int, Any]]] = [[], []]
        for b, env_id in enumerate(columns):
            for t in range(4):
                value = _typed_action(kind, dtype, t, b)
                sent = int(value) if kind == "discrete" else tuple(float(v) for v in value)
                want[env_id].append((0, t, sent))
        got = [record.actions for record in rollout.plan.envs]
        expect(
            got == want,
            "ENV-11",
            f"{kind} actions of dtype {dtype}: the envs consumed {got}, expected {want}",
            f"import torch\n{rollout.plan.factory_source(True)}env_agent = "
            f"impl.ParallelGymAgent(factory, num_envs=2{backend.source()})\n"
            "ws = impl.Workspace()\nfor t in range(4):\n    env_agent(ws, t=t)\n"
            f"    row = [{_ACTION_SOURCE[kind]} for b in range(2)]\n"
            f"    ws.set('action', t, torch.tensor(row, dtype={dtype}))\nenv_agent(ws, t=4)\n"
            "print([env.actions for env in plan.envs])",
        )


@clause("ENV-11")
@pytest.mark.parametrize("dtype_name", sorted(_DISCRETE_ACTION_DTYPES))
def test_discrete_actions_of_every_integer_dtype(
    impl: Any, backend: Backend, dtype_name: str
) -> None:
    """ENV-11 takes any integer action for a Discrete space: env b receives row b's value,
    including the dtype's largest value, at every step."""
    dtype, top = _DISCRETE_ACTION_DTYPES[dtype_name]
    n_rows = 4

    def value(t: int, b: int) -> int:
        return top if (t + b) % 2 == 0 else 10 * b + t

    class TypedActions(impl.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kwargs: Any) -> None:
            self.set(("action", t), torch.tensor([value(t, b) for b in range(2)], dtype=dtype))

    with counting(impl, backend, [6, 7], autoreset=True) as rollout:
        rollout.t_agent = impl.TemporalAgent(impl.Agents(rollout.env_agent, TypedActions()))
        repro = (
            rollout.repro(n_rows)
            + f"\n# with action[t, b] = ({top} if (t + b) % 2 == 0 else 10 * b + t) as "
            f"torch.{dtype_name} instead of the counting action agent's int64"
        )
        try:
            ws = rollout.run(n_rows)
        except Exception as exc:  # a rejected dtype: name the clause, not a bare exception
            expect(
                False,
                "ENV-11",
                f"Discrete actions of dtype {dtype_name} (backend {backend.name!r}): a "
                f"{n_rows}-step rollout raised {type(exc).__name__}: {exc}",
                repro,
            )
        all_rows = check_rows(ws, rollout, n_rows, repro)
        records = {record.env_id: record for record in rollout.plan.envs}
        for b, rows in enumerate(all_rows):
            env_id = rollout.columns[b]
            got = records[env_id].actions if env_id in records else []
            want = [
                (row.episode, row.step, value(t, b))
                for t, row in enumerate(rows[:-1])
                if row.consumed
            ]
            expect(
                got == want,
                "ENV-11",
                f"Discrete actions of dtype {dtype_name} (backend {backend.name!r}): env b={b} "
                f"(env id {env_id}) consumed (episode, step_before, action) = {got}, "
                f"expected {want}",
                repro,
            )


# ---------------------------------------------------------------------------------------------
# ENV-12: get_obs_and_actions_sizes


@clause("ENV-12", "ENV-17")
@pytest.mark.parametrize(
    ("env_name", "expected"),
    [("CartPole-v1", (4, 2)), ("MountainCarContinuous-v0", (2, 1))],
    ids=["CartPole-v1", "MountainCarContinuous-v0"],
)
def test_obs_and_action_sizes(
    impl: Any, backend: Backend, env_name: str, expected: tuple[int, int]
) -> None:
    factory = functools.partial(impl.make_env, env_name=env_name, autoreset=True)
    repro = (
        "import functools\n"
        f"env_agent = impl.ParallelGymAgent(functools.partial(impl.make_env, "
        f"env_name={env_name!r}, autoreset=True), num_envs=1{backend.source()})\n"
        "print(env_agent.get_obs_and_actions_sizes())"
    )
    if env_name != "CartPole-v1" and refused_by_vector(
        backend, lambda: backend.agent(impl, factory, 1), f"{env_name} (no vector env)", repro
    ):
        return
    env_agent = backend.agent(impl, factory, 1)
    try:
        got = env_agent.get_obs_and_actions_sizes()
    finally:
        close_agent(env_agent)
    expect(
        isinstance(got, tuple)
        and len(got) == 2
        and all(type(v) is int for v in got)
        and got == expected,
        "ENV-12",
        f"ParallelGymAgent(partial(make_env, env_name={env_name!r}), num_envs=1"
        f"{backend.source()}).get_obs_and_actions_sizes() = {got!r} (types "
        f"{[type(v).__name__ for v in got] if isinstance(got, tuple) else type(got)}), "
        f"expected {expected} as Python ints",
        repro,
    )


@clause("ENV-12")
def test_obs_and_action_sizes_discrete_obs_box_actions(impl: Any, backend: Backend) -> None:
    cases: list[tuple[ObsKind, ActionKind, tuple[int, int]]] = [
        ("discrete", "box", (discrete_code(MAX_ENVS, 0, 0), 2)),
        ("float", "discrete", (3, MAX_ACTION)),
    ]
    for obs_kind, action_kind, expected in cases:
        with CountingPlan([2], obs_kind=obs_kind, action_kind=action_kind) as plan:
            env_agent = backend.agent(impl, plan.factory(impl, autoreset=True), 1)
            try:
                got = env_agent.get_obs_and_actions_sizes()
            finally:
                close_agent(env_agent)
            expect(
                isinstance(got, tuple) and all(type(v) is int for v in got) and got == expected,
                "ENV-12",
                f"counting env with {observation_space(obs_kind)} obs and "
                f"{action_space(action_kind)} actions: get_obs_and_actions_sizes() = "
                f"{got!r}, expected {expected} as Python ints",
                f"{plan.factory_source(True)}env_agent = impl.ParallelGymAgent(factory, "
                f"num_envs=1{backend.source()})\nprint(env_agent.get_obs_and_actions_sizes())",
            )


# ---------------------------------------------------------------------------------------------
# ENV-16 .. ENV-18: backends


def _cartpole_rows(impl: Any, backend: Backend, seed: int) -> dict[str, torch.Tensor]:
    env_agent = backend.agent(
        impl, functools.partial(impl.make_env, env_name="CartPole-v1", autoreset=True), 3
    )
    try:
        env_agent.seed(seed)
        ws = impl.Workspace()
        for t in range(30):
            env_agent(ws, t=t)
            ws.set("action", t, torch.tensor([t % 2, (t // 3) % 2, 1]))
        return {name: ws.get_full(name).clone() for name in list(ws.keys())}
    finally:
        close_agent(env_agent)


_FIRST_ROWS: dict[tuple[str, int], dict[str, torch.Tensor]] = {}


@clause("ENV-16", "ENV-13")
def test_backends_write_the_same_rows(
    impl: Any, backend: Backend, all_backends: list[Backend]
) -> None:
    """Every backend that seeds its envs one by one (DET-5) writes the rows of the first such
    backend declared, for CartPole with the same seed and actions."""
    per_env = [b for b in all_backends if not b.vector]
    rows = _cartpole_rows(impl, backend, 11)
    repro = (
        "import functools, torch\nout = []\n"
        f"for kwargs in ({', '.join(repr(dict(b.kwargs)) for b in per_env)}):\n"
        "    env_agent = impl.ParallelGymAgent(functools.partial(impl.make_env, "
        "env_name='CartPole-v1', autoreset=True), 3, **kwargs).seed(11)\n"
        "    ws = impl.Workspace()\n    for t in range(30):\n        env_agent(ws, t=t)\n"
        "        ws.set('action', t, torch.tensor([t % 2, (t // 3) % 2, 1]))\n"
        "    out.append(ws.get_full('env/env_obs'))\nprint([torch.equal(out[0], o) for o in out])"
    )
    expect(
        set(TABLE) <= set(rows),
        "ENV-16",
        f"backend {backend.name!r}: 30 CartPole rows wrote {sorted(rows)}",
        repro,
    )
    if backend.vector or not per_env or backend == per_env[0]:
        return  # a vector env seeds its envs its own way (DET-8): nothing to compare with
    key = (per_env[0].name, 11)
    if key not in _FIRST_ROWS:
        _FIRST_ROWS[key] = _cartpole_rows(impl, per_env[0], 11)
    for name, want in _FIRST_ROWS[key].items():
        expect_equal_tensors(
            rows[name],
            want,
            "ENV-13",
            f"CartPole, 3 envs, seed(11), fixed actions, 30 rows: {name!r} of backend "
            f"{backend.name!r} differs from backend {per_env[0].name!r}",
            repro,
        )


@clause("ENV-17", "ENV-18")
def test_vector_backends_step_one_vector_env(impl: Any, backend: Backend) -> None:
    """A backend declared vector builds the counting env's vector implementation and refuses,
    or honours, autoreset=False; any other backend honours it (never refuses it)."""
    with CountingPlan([2, 3]) as plan, contextlib.ExitStack() as stack:
        repro = (
            f"{plan.factory_source(True)}env_agent = impl.ParallelGymAgent(factory, "
            f"num_envs=2{backend.source()})\nenv_agent(impl.Workspace(), t=0)\n"
            "print(plan.vectorized, [env.pids for env in plan.envs])"
        )
        env_agent = backend.agent(impl, plan.factory(impl, autoreset=True), 2)
        stack.callback(close_agent, env_agent)
        env_agent(impl.Workspace(), t=0)
        if backend.vector:
            expect(
                plan.vectorized and plan.in_process(),
                "ENV-17",
                f"backend {backend.name!r} is declared a vector backend, but the counting env "
                f"was not built as one VectorEnv in this process (vectorized: "
                f"{plan.vectorized}; processes of the envs: "
                f"{[record.pids for record in plan.envs]})",
                repro,
            )
    with CountingPlan([2, 3]) as plan:
        factory = plan.factory(impl, autoreset=False)
        repro = (
            f"{plan.factory_source(False)}try:\n    impl.ParallelGymAgent(factory, num_envs=2"
            f"{backend.source()})\n    print('autoreset=False accepted')\n"
            "except ValueError as exc:\n    print('autoreset=False refused:', exc)"
        )
        try:
            agent = backend.agent(impl, factory, 2)
        except ValueError as exc:
            expect(
                backend.vector,
                "ENV-17",
                f"backend {backend.name!r} (not a vector backend) refused autoreset=False: "
                f"{exc}; only a vector backend may refuse it",
                repro,
            )
            return
        close_agent(agent)


@clause("ENV-33", "ENV-6", "ENV-17")
@pytest.mark.parametrize("truncated", [False, True], ids=["terminated", "truncated"])
def test_vector_rows_ignore_what_a_reset_step_reports(
    impl: Any, backend: Backend, truncated: bool
) -> None:
    """The counting vector env reports reward 7 and both flags True for every sub-env it resets
    during a step (gymnasium reports 0 and False): the rows are still ENV-6's reset rows, and
    the episodes go on as planned."""
    if not backend.vector:
        pytest.skip(f"backend {backend.name!r} is not a vector backend (ENV-33 concerns those)")
    lengths = [[2, 1], [3], [1, 4]]
    with counting(
        impl, backend, lengths, autoreset=True, truncated=truncated, noisy_resets=True
    ) as rollout:
        ws = rollout.run(10)
        repro = rollout.repro(10)
        expect(
            rollout.plan.vectorized,
            "ENV-17",
            f"backend {backend.name!r} is declared a vector backend, but the counting env was "
            "not built as one VectorEnv",
            repro,
        )
        rows = check_rows(ws, rollout, 10, repro, clause_id="ENV-33")
        check_actions(rollout, rows, repro, clause_id="ENV-33")


@clause("ENV-35", "ENV-6", "ENV-7")
@pytest.mark.parametrize("autoreset", [True, False], ids=["autoreset", "no-autoreset"])
def test_nonfinite_rewards_stay_in_their_episode(
    impl: Any, backend: Backend, autoreset: bool
) -> None:
    """The last reward of each env's first episode is inf, -inf or NaN (by env id): rows show
    it and its sums as reported (NaN included), and the next episode starts again from 0 with
    finite sums (a reset masked by a multiplication by 0 leaves NaN behind). Lengths differ so
    that the envs end their first episodes at different rows."""
    lengths = [[2, 3], [1, 2], [3, 1], [1], [2]]
    if not autoreset and refuses_no_autoreset(impl, backend, [1]):
        return
    with counting(impl, backend, lengths, autoreset=autoreset, nonfinite_rewards=True) as rollout:
        ws = rollout.run(9)
        repro = rollout.repro(9)
        rows = check_rows(ws, rollout, 9, repro, clause_id="ENV-35")
        check_actions(rollout, rows, repro, clause_id="ENV-35")


@clause("ENV-21", "ENV-4", "ENV-17")
@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
def test_vector_rewards_of_every_real_dtype(impl: Any, backend: Backend, dtype: str) -> None:
    """ENV-21's other side for a vector env: a reward array of any real dtype (integer
    included) is taken, and its values are the rows' rewards and returns."""
    if not backend.vector:
        pytest.skip(f"backend {backend.name!r} is not a vector backend (a batched reward)")
    with counting(impl, backend, [2, [3, 1]], autoreset=True, vector_reward_dtype=dtype) as rollout:
        ws = rollout.run(8)
        repro = rollout.repro(8)
        rows = check_rows(ws, rollout, 8, repro, clause_id="ENV-21")
        check_actions(rollout, rows, repro, clause_id="ENV-21")


@clause("ENV-30")
@pytest.mark.parametrize("mode", ["SameStep", "Disabled"])
def test_vector_backends_refuse_another_autoreset_mode(
    impl: Any, all_backends: list[Backend], mode: str
) -> None:
    """A vector backend given a VectorEnv whose metadata claims another autoreset mode than
    next-step refuses it with ValueError naming autoreset_mode when the agent is built."""
    vectors = [b for b in all_backends if b.vector]
    if not vectors:
        pytest.skip("no vector backend declared: ENV-30 concerns vector backends (ENV-17)")
    agents: list[Any] = []
    for backend in vectors:
        with CountingPlan([2, 3]) as plan:
            factory = functools.partial(
                impl.make_env, env_name=ENV_ID, autoreset=True, plan=plan.key, autoreset_mode=mode
            )
            repro = (
                f"import functools\nfrom bbrl_conformance.counting_env import ENV_ID, "
                f"CountingPlan\nplan = CountingPlan([2, 3])\nfactory = functools.partial("
                f"impl.make_env, env_name=ENV_ID, autoreset=True, plan=plan.key, "
                f"autoreset_mode={mode!r})\nenv_agent = impl.ParallelGymAgent(factory, "
                f"num_envs=2{backend.source()})"
            )

            def build(backend: Backend = backend, factory: Any = factory) -> None:
                agents.append(backend.agent(impl, factory, 2))

            try:
                exc = expect_raises(
                    ValueError,
                    "ENV-30",
                    f"backend {backend.name!r} given a vector env in {mode} autoreset mode",
                    build,
                    repro,
                )
            finally:
                while agents:
                    close_agent(agents.pop())
            expect_message(exc, "ENV-30", "the autoreset-mode error", ("autoreset_mode",), repro)


@clause("ENV-18", "ENV-25")
def test_in_process_backends_refuse_a_timeout(impl: Any, backend: Backend) -> None:
    """ENV-25's ``timeout`` needs worker processes: a backend without them refuses it (TypeError
    where the implementation takes no ``timeout`` at all)."""
    with CountingPlan([2]) as plan, contextlib.ExitStack() as stack:
        env_agent = backend.agent(impl, plan.factory(impl, autoreset=True), 1)
        stack.callback(close_agent, env_agent)
        env_agent(impl.Workspace(), t=0)
        if not plan.in_process():
            return  # a worker backend: test_env_failures.py checks its timeout
    with CountingPlan([2]) as plan:
        code = (
            f"{plan.factory_source(True)}impl.ParallelGymAgent(factory, num_envs=1"
            f"{backend.source()}, timeout=5.0)  # expected ValueError"
        )
        agent: list[Any] = []
        expect_raises(
            (ValueError, TypeError),
            "ENV-18",
            f"ParallelGymAgent(factory, 1{backend.source()}, timeout=5.0) with a backend that "
            "steps its envs in this process",
            lambda: agent.append(backend.agent(impl, plan.factory(impl, True), 1, timeout=5.0)),
            code,
        )
        for a in agent:
            close_agent(a)


# ---------------------------------------------------------------------------------------------
# ENV-27 .. ENV-29: bbrl's make_env wrappers, options and inspection methods


def _plus_one(r: SupportsFloat) -> SupportsFloat:
    return float(r) + 1


def _twice(r: SupportsFloat) -> SupportsFloat:
    return 2 * float(r)


@clause("ENV-27", "ENV-17")
def test_make_env_applies_wrappers_in_order(impl: Any, backend: Backend) -> None:
    wrappers = [
        functools.partial(gym.wrappers.TransformReward, func=_plus_one),
        functools.partial(gym.wrappers.TransformReward, func=_twice),
    ]
    with CountingPlan([3, 2]) as plan, contextlib.ExitStack() as stack:
        factory = functools.partial(
            impl.make_env, env_name=ENV_ID, autoreset=True, wrappers=wrappers, plan=plan.key
        )
        repro = (
            "import functools, torch\nimport gymnasium as gym\n"
            f"{plan.factory_source(True)}"
            "wrappers = [functools.partial(gym.wrappers.TransformReward, func=lambda r: r + 1),\n"
            "            functools.partial(gym.wrappers.TransformReward, func=lambda r: 2 * r)]\n"
            f"factory = functools.partial(impl.make_env, env_name={ENV_ID!r}, autoreset=True, "
            "wrappers=wrappers, plan=plan.key)\n"
            f"env_agent = impl.ParallelGymAgent(factory, num_envs=2{backend.source()})\n"
            "ws = impl.Workspace()\nfor t in range(5):\n    env_agent(ws, t=t)\n"
            "    ws.set('action', t, torch.tensor([t, t]))\nprint(ws.get_full('env/reward'))"
        )
        if refused_by_vector(backend, lambda: backend.agent(impl, factory, 2), "wrappers", repro):
            return
        env_agent = backend.agent(impl, factory, 2)
        stack.callback(close_agent, env_agent)
        ws = impl.Workspace()
        for t in range(5):
            env_agent(ws, t=t)
            ws.set("action", t, torch.tensor([t, 1000 + t]))
        got = full(ws, "env/reward", "ENV-27", repro)
        obs = full(ws, "env/env_obs", "ENV-27", repro)
        want = torch.zeros(5, 2)
        for t in range(5):
            for b in range(2):
                env_id, episode, step = (int(v) for v in obs[t, b].tolist())
                if t > 0 and step > 0:  # a step row: W2(W1(env)) gives 2 * (r + 1)
                    want[t, b] = 2 * (reward(env_id, episode, step) + 1)
        expect_equal_tensors(
            got,
            want,
            "ENV-27",
            "make_env(..., wrappers=[TransformReward(r + 1), TransformReward(2 * r)]): the "
            "rewards of 5 rows are not 2 * (r + 1) (wrappers applied in order, W2(W1(env)))",
            repro,
        )


@clause("ENV-27")
def test_make_env_autoreset_must_be_a_bool(impl: Any) -> None:
    with CountingPlan([2, 2, 2]) as plan:
        for good in (True, False):
            env = impl.make_env(ENV_ID, autoreset=good, plan=plan.key)
            env.close()
        for bad in ("no", 1, None, np.bool_(True)):
            expect_raises(
                TypeError,
                "ENV-27",
                f"make_env({ENV_ID!r}, autoreset={bad!r})",
                functools.partial(impl.make_env, ENV_ID, autoreset=bad, plan=plan.key),
                f"import numpy as np\n{plan.factory_source(True)}impl.make_env({ENV_ID!r}, "
                f"autoreset={bad!r}, plan=plan.key)  # expected TypeError",
            )


def _build_into(
    out: list[Any], impl: Any, backend: Backend, plan: CountingPlan, kwargs: dict[str, Any]
) -> None:
    out.append(backend.agent(impl, plan.factory(impl, autoreset=True), plan.num_envs, **kwargs))


@clause("ENV-28")
def test_bbrl_keyword_arguments(impl: Any, backend: Backend) -> None:
    with counting(
        impl, backend, [2, 3], autoreset=True, include_last_state=True, reward_at_t=False
    ) as rollout:
        ws = rollout.run(5)
        repro = rollout.repro(5).replace(
            "num_envs=2", "num_envs=2, include_last_state=True, reward_at_t=False"
        )
        check_rows(ws, rollout, 5, repro, clause_id="ENV-28")
    for option in ({"include_last_state": False}, {"reward_at_t": True}):
        with CountingPlan([2]) as plan:
            built: list[Any] = []
            (name, value) = next(iter(option.items()))
            expect_raises(
                ValueError,
                "ENV-28",
                f"ParallelGymAgent(factory, 1{backend.source()}, {name}={value})",
                functools.partial(_build_into, built, impl, backend, plan, option),
                f"{plan.factory_source(True)}impl.ParallelGymAgent(factory, num_envs=1"
                f"{backend.source()}, {name}={value})  # expected ValueError",
            )
            for agent in built:
                close_agent(agent)
    seeded = []
    for how in ("keyword", "method"):
        factory = functools.partial(impl.make_env, env_name="CartPole-v1", autoreset=True)
        agent = (
            backend.agent(impl, factory, 2, seed=7)
            if how == "keyword"
            else backend.agent(impl, factory, 2, seed=None).seed(7)
        )
        try:
            rows = []
            for _ in range(2):
                ws = impl.Workspace()
                agent(ws, t=0)
                rows.append(ws.get_full("env/env_obs")[0].clone())
            seeded.append(torch.stack(rows))
        finally:
            close_agent(agent)
    expect_equal_tensors(
        seeded[0],
        seeded[1],
        "ENV-28",
        f"CartPole, 2 envs, two rollouts: first observations with ParallelGymAgent(..., "
        f"seed=7{backend.source()}) differ from those with .seed(7) after building",
        "import functools\nfactory = functools.partial(impl.make_env, env_name='CartPole-v1', "
        "autoreset=True)\n"
        f"a = impl.ParallelGymAgent(factory, 2{backend.source()}, seed=7)\n"
        f"b = impl.ParallelGymAgent(factory, 2{backend.source()}).seed(7)\n"
        "for agent in (a, b):\n    for _ in range(2):\n        ws = impl.Workspace()\n"
        "        agent(ws, t=0)\n        print(ws.get_full('env/env_obs')[0])",
    )


@clause("ENV-29")
@pytest.mark.parametrize(
    ("obs_kind", "action_kind"), [("float", "discrete"), ("dict", "box")], ids=["float", "dict"]
)
def test_spaces_and_envs(impl: Any, backend: Backend, obs_kind: Any, action_kind: Any) -> None:
    with counting(
        impl, backend, [2, 3, 2], autoreset=True, obs_kind=obs_kind, action_kind=action_kind
    ) as rollout:
        env_agent = rollout.env_agent
        ws = rollout.run(2)
        repro = rollout.repro(2) + (
            "print(env_agent.get_observation_space(), env_agent.get_action_space(), "
            "env_agent.is_continuous_action(), env_agent.is_discrete_action())\n"
        )
        got = (
            env_agent.get_observation_space(),
            env_agent.get_action_space(),
            env_agent.is_continuous_action(),
            env_agent.is_discrete_action(),
        )
        want = (
            observation_space(obs_kind),
            action_space(action_kind),
            action_kind == "box",
            action_kind == "discrete",
        )
        expect(
            got == want,
            "ENV-29",
            f"{obs_kind} observations, {action_kind} actions: (get_observation_space(), "
            "get_action_space(), is_continuous_action(), is_discrete_action()) = "
            f"{got}, expected {want}",
            repro,
        )
        plan = rollout.plan
        if plan.in_process() and not plan.vectorized:
            envs = env_agent.envs
            ids = [getattr(getattr(env, "unwrapped", None), "env_id", None) for env in envs]
            expect(
                isinstance(envs, list) and ids == [0, 1, 2],
                "ENV-29",
                f"envs stepped one by one in this process: env_agent.envs is {envs!r} (env ids "
                f"{ids}), expected the list of the 3 env objects, envs[b] being env b",
                repro + "print(env_agent.envs)\n",
            )
        else:
            expect_raises(
                RuntimeError,
                "ENV-29",
                f"env_agent.envs with backend {backend.name!r}, whose envs are "
                f"{'one vector env' if plan.vectorized else 'in worker processes'}",
                lambda: env_agent.envs,
                repro + "env_agent.envs\n",
            )
        if obs_kind == "float":
            check_rows(ws, rollout, 2, repro)


@clause("ENV-23", "ENV-11")
def test_discrete_actions_at_the_bounds_are_sent(impl: Any, backend: Backend) -> None:
    """0 and n - 1 are actions of Discrete(n): sent as they are (ENV-23's other side)."""
    with counting(impl, backend, [9, 9], autoreset=True) as rollout:
        ws = impl.Workspace()
        env_agent = rollout.env_agent
        env_agent(ws, t=0)
        ws.set("action", 0, torch.tensor([0, MAX_ACTION - 1]))
        env_agent(ws, t=1)
        ws.set("action", 1, torch.tensor([MAX_ACTION - 1, 0]))
        env_agent(ws, t=2)
        got = [record.actions for record in rollout.plan.envs]
        want = [[(0, 0, 0), (0, 1, MAX_ACTION - 1)], [(0, 0, MAX_ACTION - 1), (0, 1, 0)]]
        if env_ids_in_row0(ws, "float", 2, "")[0] == 1:  # a worker backend swapped the envs
            want = want[::-1]
        expect(
            got == want,
            "ENV-23",
            f"actions 0 and {MAX_ACTION - 1} of Discrete({MAX_ACTION}): the envs consumed "
            f"{got}, expected {want}",
            f"import torch\n{rollout.plan.factory_source(True)}env_agent = "
            f"impl.ParallelGymAgent(factory, num_envs=2{backend.source()})\n"
            "ws = impl.Workspace()\nenv_agent(ws, t=0)\n"
            f"ws.set('action', 0, torch.tensor([0, {MAX_ACTION - 1}]))\nenv_agent(ws, t=1)\n"
            f"ws.set('action', 1, torch.tensor([{MAX_ACTION - 1}, 0]))\nenv_agent(ws, t=2)\n"
            "print([env.actions for env in plan.envs])",
        )
