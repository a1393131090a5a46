"""Meta tests of the counting env shipped with the suite (bbrl_conformance.counting_env)."""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import pickle
from typing import Any, cast

import gymnasium as gym
import numpy as np
import pytest
import torch
from bbrl_conformance import counting_env as ce
from bbrl_conformance.counting_env import ENV_ID, CountingPlan
from gymnasium.wrappers import Autoreset


def test_registered_and_ids_handed_out_in_construction_order() -> None:
    with CountingPlan([3, 2, 5]) as plan:
        envs = [gym.make(ENV_ID, plan=plan.key) for _ in range(3)]
        assert [e.unwrapped.env_id for e in envs] == [0, 1, 2]  # type: ignore[attr-defined]
        assert [record.env_id for record in plan.envs] == [0, 1, 2]
        assert all(record.pids == [os.getpid()] for record in plan.envs)
        with pytest.raises(RuntimeError, match="planned 3 envs"):
            gym.make(ENV_ID, plan=plan.key)
        envs[1].close()  # a closed env frees its id
        again = gym.make(ENV_ID, plan=plan.key)
        assert again.unwrapped.env_id == 1  # type: ignore[attr-defined]
        assert plan.envs[1].pids == [os.getpid(), os.getpid()]


def test_unknown_plan_key_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no counting plan"):
        gym.make(ENV_ID, plan="no-such-plan")


def test_close_closes_envs_and_keeps_the_logs() -> None:
    plan = CountingPlan([2])
    env = gym.make(ENV_ID, plan=plan.key)
    env.reset(seed=4)
    env.step(7)
    plan.close()
    assert plan.envs[0].closed and plan.envs[0].actions == [(0, 0, 7)]
    assert plan.envs[0].reset_seeds == [4] and not plan.dir.exists()
    plan.close()  # idempotent
    env.close()
    with pytest.raises(KeyError, match="no counting plan"):
        gym.make(ENV_ID, plan=plan.key)


def test_bad_plans_are_rejected() -> None:
    with pytest.raises(ValueError, match="lengths"):
        CountingPlan([0])
    with pytest.raises(ValueError, match="lengths"):
        CountingPlan([[]])
    with pytest.raises(ValueError, match="truncated"):
        CountingPlan([1, 2], truncated=[True])
    with pytest.raises(ValueError, match="envs"):
        CountingPlan([])
    with pytest.raises(ValueError, match="obs kind"):
        CountingPlan([1], obs_kind="nope")  # type: ignore[arg-type]


def test_episode_by_hand() -> None:
    """Env 1 of a plan, L=2, terminated: obs, rewards, flags and the action log."""
    with CountingPlan([3, 2]) as plan:
        gym.make(ENV_ID, plan=plan.key)
        env = gym.make(ENV_ID, plan=plan.key)
        obs, info = env.reset(seed=7)
        assert obs.tolist() == [1.0, 0.0, 0.0] and obs.dtype == np.float32 and info == {}
        assert env.step(5)[1:4] == (10_001.0, False, False)
        obs, r, term, trunc, _ = env.step(np.int64(6))
        assert (obs.tolist(), r, term, trunc) == ([1.0, 0.0, 2.0], 10_002.0, True, False)
        obs, _ = env.reset()
        assert obs.tolist() == [1.0, 1.0, 0.0]
        counting = plan.envs[1]
        assert counting.actions == [(0, 0, 5), (0, 1, 6)]
        assert counting.reset_seeds == [7, None]


def test_truncated_endings_and_length_cycles() -> None:
    with CountingPlan([[1, 3]], truncated=True) as plan:
        env = gym.make(ENV_ID, plan=plan.key)
        env.reset()
        assert env.step(0)[2:4] == (False, True)
        env.reset()
        assert [env.step(0)[3] for _ in range(3)] == [False, False, True]
        assert plan.episode_length(0, 2) == 1


def test_stepping_past_the_end_is_logged() -> None:
    with CountingPlan([1]) as plan:
        env = gym.make(ENV_ID, plan=plan.key)
        env.reset()
        env.step(1)
        obs, _, term, _, _ = env.step(2)
        assert term and obs.tolist() == [0.0, 0.0, 2.0]
        assert plan.envs[0].actions == [(0, 0, 1), (0, 1, 2)]


def test_step_before_reset_fails() -> None:
    with CountingPlan([1]) as plan:
        env = plan.factory(_MakeEnvImpl, autoreset=False)()
        with pytest.raises(RuntimeError, match="before reset"):
            env.unwrapped.step(0)


def test_actions_are_type_checked() -> None:
    with CountingPlan([5]) as plan:
        env = gym.make(ENV_ID, plan=plan.key)
        env.reset()
        for bad in (1.0, True, np.array([1, 2]), "1"):
            with pytest.raises(TypeError, match="Discrete action"):
                env.step(bad)
        assert plan.envs[0].actions == []
    with CountingPlan([5], action_kind="box") as plan:
        env = gym.make(ENV_ID, plan=plan.key)
        env.reset()
        env.step(np.array([0.5, -2.0], dtype=np.float32))
        env.step([1, 2])
        with pytest.raises(TypeError, match="Box action"):
            env.step(np.zeros(3))
        assert plan.envs[0].actions == [(0, 0, (0.5, -2.0)), (0, 1, (1.0, 2.0))]


@pytest.mark.parametrize("kind", ce.OBS_KINDS)
def test_every_obs_kind_is_in_its_space(kind: ce.ObsKind) -> None:
    space = ce.observation_space(kind)
    for state in [(0, 0, 0), (1, 2, 3), (ce.MAX_ENVS - 1, ce.MAX_EPISODES - 1, ce.MAX_STEPS - 1)]:
        assert space.contains(ce.observation(kind, *state)), (kind, state)
    with CountingPlan([2], obs_kind=kind) as plan:
        env = gym.make(ENV_ID, plan=plan.key)
        obs, _ = env.reset()
        assert space.contains(obs)
        assert env.observation_space == space


def test_obs_encodings() -> None:
    assert ce.observation("bool", 3, 2, 1).tolist() == [True, False, True]
    assert ce.observation("discrete", 2, 3, 4) == np.int64(20_304)
    d = ce.observation("dict", 1, 2, 3)
    assert d["ids"].tolist() == [1.0, 2.0, 3.0] and d["step"].tolist() == [3]
    assert ce.observation("uint8", 1, 2, 3).dtype == np.uint8
    with pytest.raises(ValueError, match="unknown obs kind"):
        ce.observation("x", 0, 0, 0)  # type: ignore[arg-type]


def test_episode_limit_is_enforced() -> None:
    with CountingPlan([1]) as plan:
        env = gym.make(ENV_ID, plan=plan.key)
        for _ in range(ce.MAX_EPISODES):
            env.reset()
        with pytest.raises(RuntimeError, match="episodes"):
            env.reset()


def test_simulate_autoreset_by_hand() -> None:
    plan = CountingPlan([2], truncated=True)
    rows = plan.simulate(0, 5, autoreset=True)
    plan.close()
    as_tuples = [
        (
            r.episode,
            r.step,
            r.reward,
            r.cumulated_reward,
            r.done,
            r.terminated,
            r.truncated,
            r.timestep,
            r.consumed,
        )
        for r in rows
    ]
    assert as_tuples == [
        (0, 0, 0.0, 0.0, False, False, False, 0, True),
        (0, 1, 1.0, 1.0, False, False, False, 1, True),
        (0, 2, 2.0, 3.0, True, False, True, 2, False),
        (1, 0, 0.0, 0.0, False, False, False, 0, True),
        (1, 1, 101.0, 101.0, False, False, False, 1, True),
    ]
    assert ce.episodes_used(rows) == 2


def test_simulate_no_autoreset_by_hand() -> None:
    with CountingPlan([4, 1]) as plan:
        rows = plan.simulate(1, 4, autoreset=False, first_episode=3)
    assert [
        (r.episode, r.step, r.reward, r.cumulated_reward, r.done, r.timestep, r.consumed)
        for r in rows
    ] == [
        (3, 0, 0.0, 0.0, False, 0, True),
        (3, 1, 10_301.0, 10_301.0, True, 1, False),
        (3, 1, 0.0, 10_301.0, True, 1, False),
        (3, 1, 0.0, 10_301.0, True, 1, False),
    ]
    assert all(r.terminated and not r.truncated for r in rows[1:])
    assert ce.episodes_used(rows) == 1


def test_simulate_matches_driving_the_env_through_gymnasium_autoreset() -> None:
    """The model against the env itself, driven the way a next-step autoreset agent would."""
    with CountingPlan([[2, 3, 1]], truncated=False) as plan:
        env = Autoreset(gym.make(ENV_ID, plan=plan.key))
        rows = plan.simulate(0, 12, autoreset=True)
        obs, _ = env.reset()
        for t, row in enumerate(rows):
            assert obs.tolist() == [0.0, row.episode, row.step], t
            obs, _, _, _, _ = env.step(t)
        consumed = [t for t, row in enumerate(rows) if row.consumed]
        assert [a for _, _, a in plan.envs[0].actions] == consumed


def test_factory_passes_the_plan_through_make_env() -> None:
    with CountingPlan([1, 1]) as plan:
        factory = plan.factory(_MakeEnvImpl, autoreset=True)
        e0, e1 = factory(), factory()
        assert isinstance(e0, Autoreset)
        assert [plan.envs[0].env_id, plan.envs[1].env_id] == [0, 1]
        assert e1.unwrapped.env_id == 1
        src = plan.factory_source(autoreset=True)
        assert "CountingPlan([1, 1])" in src and "autoreset=True" in src


class _MakeEnvImpl:
    """A minimal stand-in for an implementation module's make_env."""

    @staticmethod
    def make_env(env_name: str, autoreset: bool = False, **kwargs: Any) -> gym.Env[Any, Any]:
        env = gym.make(env_name, **kwargs)
        return Autoreset(env) if autoreset else env


def test_action_values_and_rows() -> None:
    assert ce.action_value("discrete", 7, 2) == 2007
    assert ce.action_value("box", 2, 1) == (1.5, -0.25)
    row = ce.action_row("discrete", 3, 2)
    assert row.dtype == torch.int64 and row.tolist() == [3, 1003]
    box = ce.action_row("box", 4, 2)
    assert box.dtype == torch.float32 and box.tolist() == [[1.0, -0.5], [2.0, -0.5]]


def test_expected_actions_skip_done_rows_and_the_last_row() -> None:
    with CountingPlan([2, 1]) as plan:
        rows = plan.simulate(1, 4, autoreset=True)
        # env 1 (L=1): rows (ep, step) = (0,0) (0,1 done) (1,0) (1,1 done)
        assert ce.expected_actions(plan, 1, rows) == [(0, 0, 1000), (1, 0, 1002)]
        frozen = plan.simulate(0, 4, autoreset=False)
        assert ce.expected_actions(plan, 0, frozen, t_offset=10) == [(0, 0, 10), (0, 1, 11)]


def test_close_agent_calls_close_only_when_offered() -> None:
    closed: list[bool] = []

    class WithClose:
        def close(self) -> None:
            closed.append(True)

    ce.close_agent(WithClose())
    ce.close_agent(object())
    assert closed == [True]


def test_rollout_source_runs_and_shows_the_action_log() -> None:
    impl = pytest.importorskip("bbrl_reference")
    with CountingPlan([2, 3], truncated=[False, True]) as plan:
        src = ce.rollout_source(plan, autoreset=True, n_steps=4, seed=1)
    out = io.StringIO()
    namespace: dict[str, Any] = {"impl": impl}
    with contextlib.redirect_stdout(out):
        exec(src, namespace)
    namespace["plan"].close()
    text = out.getvalue()
    assert "env/env_obs" in text
    assert "[[(0, 0, 0), (0, 1, 1)], [(0, 0, 1000), (0, 1, 1001), (0, 2, 1002)]]" in text


def test_action_agent_refuses_a_runaway_rollout() -> None:
    impl = pytest.importorskip("bbrl_reference")
    agent = ce.action_agent(impl, 1)
    ws = impl.Workspace()
    agent(ws, t=ce.MAX_ROLLOUT - 1)
    with pytest.raises(RuntimeError, match="runaway"):
        agent(ws, t=ce.MAX_ROLLOUT)


def _build_and_step(key: str) -> None:
    """In a child process: build one env of the plan, reset it with seed 3, step twice."""
    env = gym.make(ENV_ID, plan=key)
    env.reset(seed=3)
    env.step(11)
    env.step(12)
    env.close()


def _build_and_exit(key: str) -> None:
    gym.make(ENV_ID, plan=key)
    os._exit(0)  # no close: the claim stays behind, stale


def test_envs_in_other_processes_log_to_the_plan() -> None:
    ctx = multiprocessing.get_context("fork")
    with CountingPlan([2, 3]) as plan:
        gym.make(ENV_ID, plan=plan.key)  # env 0, here
        child = ctx.Process(target=_build_and_step, args=(plan.key,))
        child.start()
        child.join(60)
        assert child.exitcode == 0
        record = plan.envs[1]
        assert record.actions == [(0, 0, 11), (0, 1, 12)] and record.reset_seeds == [3]
        assert record.pids == [child.pid] and record.closed and not plan.in_process()


def test_an_id_whose_process_died_is_taken_over() -> None:
    ctx = multiprocessing.get_context("fork")
    with CountingPlan([2]) as plan:
        child = ctx.Process(target=_build_and_exit, args=(plan.key,))
        child.start()
        child.join(60)
        env = gym.make(ENV_ID, plan=plan.key)  # the dead child's id 0 is free again
        assert env.unwrapped.env_id == 0  # type: ignore[attr-defined]
        assert plan.envs[0].pids == [child.pid, os.getpid()]
        env.reset()
        assert plan.envs[0].episode_after(0) == 0  # counted from the new claim
        env.reset()
        events = len(plan.envs[0].events())
        env.reset()
        assert plan.envs[0].episode_after(events) == 2


def test_plan_key_pickles_to_itself() -> None:
    with CountingPlan([1]) as plan:
        key = pickle.loads(pickle.dumps(plan.key))
        assert type(key) is ce.PlanKey and key == plan.key


def test_faults_fire_once_and_malform_the_output() -> None:
    faults: dict[tuple[int, int, int], ce.Fault] = {
        (0, 0, 0): "raise",
        (0, 0, 1): "reward-str",
        (0, 1, -1): "raise",
        (1, 0, 0): "obs-shape",
        (1, 0, 1): "obs-none",
        (1, 0, 2): "terminated-str",
        (1, 0, 3): "truncated-int",
        (1, 0, 4): "result-short",
        (1, 0, 5): "hang",
    }
    with CountingPlan([2, 9], faults=faults) as plan:
        e0, e1 = gym.make(ENV_ID, plan=plan.key), gym.make(ENV_ID, plan=plan.key)
        e0.reset()
        with pytest.raises(ce.CountingEnvFailure, match="injected failure in step"):
            e0.step(1)
        assert plan.envs[0].actions == []  # a raising step consumed nothing
        assert e0.step(1)[1] == 1.0  # fired once: the retry steps
        assert cast(object, e0.step(2)[1]) == "1.0"
        with pytest.raises(ce.CountingEnvFailure, match="in reset"):
            e0.reset()
        assert e0.reset()[0].tolist() == [0.0, 1.0, 0.0]
        e1.reset()
        assert e1.step(0)[0].shape == (4,)
        assert e1.step(0)[0] is None
        assert cast(object, e1.step(0)[2]) == "no"
        assert e1.step(0)[3] == 1
        assert len(e1.step(0)) == 4
        with pytest.raises(RuntimeError, match="refused in the test process"):
            e1.step(0)
    with pytest.raises(ValueError, match="unknown fault"):
        CountingPlan([1], faults={(0, 0, 0): "boom"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="fault state"):
        CountingPlan([1], faults={(0, 0): "raise"})  # type: ignore[dict-item]


@pytest.mark.parametrize("kind", ["float", "dict", "discrete"])
def test_vector_env_is_the_plan_in_next_step_mode(kind: ce.ObsKind) -> None:
    with CountingPlan([2, 3], obs_kind=kind) as plan:
        vec = gym.make_vec(ENV_ID, 2, vectorization_mode="vector_entry_point", plan=plan.key)
        assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
        assert vec.single_observation_space == ce.observation_space(kind)
        vec.reset(seed=5)
        rows = [plan.simulate(k, 6, autoreset=True) for k in range(2)]
        for t in range(1, 6):
            obs, reward, term, _, _ = vec.step(np.array([t, 1000 + t]))
            for k in range(2):
                row = rows[k][t]
                want = ce.observation(kind, k, row.episode, row.step)
                if kind == "dict":
                    assert all(np.array_equal(obs[key][k], want[key]) for key in want)
                else:
                    assert np.array_equal(obs[k], want)
                assert (reward[k], bool(term[k])) == (row.reward, row.terminated)
        vec.close()
        assert plan.vectorized and plan.vector_reset_seeds == [5]
        assert [record.reset_seeds[0] for record in plan.envs] == [5, 6]
        assert [a for _, _, a in plan.envs[0].actions] == [1, 2, 4, 5]  # 3 went to the reset
        assert all(record.closed for record in plan.envs)


def test_vector_env_malforms_whole_batches_and_checks_actions() -> None:
    with CountingPlan([9, 9], faults={(1, 0, 0): "reward-str", (0, 0, 1): "obs-shape"}) as plan:
        vec = gym.make_vec(ENV_ID, 2, vectorization_mode="vector_entry_point", plan=plan.key)
        vec.reset(seed=[1, 2])  # type: ignore[arg-type]  # a list: one seed per env
        assert plan.vector_reset_seeds == [[1, 2]]
        assert vec.step(np.array([0, 0]))[1].dtype.kind == "U"
        assert vec.step(np.array([0, 0]))[0].shape == (2, 4)
        with pytest.raises(TypeError, match="shape"):
            vec.step(np.array([0]))
        vec.close()
    with CountingPlan([2], action_kind="box") as plan:
        vec = gym.make_vec(ENV_ID, 1, vectorization_mode="vector_entry_point", plan=plan.key)
        vec.reset()
        vec.step(np.array([[0.5, 1.0]], dtype=np.float32))
        assert plan.envs[0].actions == [(0, 0, (0.5, 1.0))]
        vec.close()


@pytest.mark.parametrize("noisy", [False, True])
def test_vector_env_noisy_resets_change_the_report_only(noisy: bool) -> None:
    """noisy_resets: reward 7 and both flags True for a sub-env reset in a step (0, False,
    False without it); the sub-envs step and reset as planned either way."""
    with CountingPlan([2, 1], truncated=[False, True], noisy_resets=noisy) as plan:
        vec = gym.make_vec(ENV_ID, 2, vectorization_mode="vector_entry_point", plan=plan.key)
        vec.reset(seed=0)
        reports = [vec.step(np.array([t, t]))[1:4] for t in range(5)]
        vec.close()
        # env 0: steps at t=0,1 (done at 1), reset at 2, steps at 3,4 (done at 4)
        # env 1: step at 0 (done), reset at 1, step 2 (done), reset 3, step 4 (done)
        resets = {0: [2], 1: [1, 3]}
        for k in range(2):
            for t, (reward, term, trunc) in enumerate(reports):
                got = (float(reward[k]), bool(term[k]), bool(trunc[k]))
                if t in resets[k]:
                    assert got == (
                        (ce.NOISY_RESET_REWARD, True, True) if noisy else (0, False, False)
                    )
                else:
                    assert got[0] != ce.NOISY_RESET_REWARD
        assert [len(record.reset_seeds) for record in plan.envs] == [2, 3]
        assert [len(record.actions) for record in plan.envs] == [4, 3]


@pytest.mark.parametrize("dtype", ce.VECTOR_REWARD_DTYPES)
def test_vector_env_reward_dtype(dtype: str) -> None:
    with CountingPlan([2, 3], vector_reward_dtype=dtype) as plan:
        assert f"vector_reward_dtype={dtype!r}" in plan.factory_source(True) or dtype == "float64"
        vec = gym.make_vec(ENV_ID, 2, vectorization_mode="vector_entry_point", plan=plan.key)
        vec.reset()
        reward = vec.step(np.array([0, 0]))[1]
        vec.close()
        assert reward.dtype == np.dtype(dtype)
        assert reward.tolist() == [ce.reward(0, 0, 1), ce.reward(1, 0, 1)]
    with pytest.raises(ValueError, match="vector_reward_dtype"):
        CountingPlan([1], vector_reward_dtype="int8")
