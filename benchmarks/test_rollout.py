"""Env rollout: 8 CartPole envs x 1000 steps with a random agent, and a ~1 ms-per-step env.

Group ``rollout``: floor = a raw python loop over 8 gymnasium envs (no storage), gymnasium's
``SyncVectorEnv``, the reference and bbrl 1.0.1 running
``TemporalAgent(Agents(ParallelGymAgent, RandomActor))`` on a fresh workspace.

Group ``rollout-heavy`` is timed with the wall clock (``time.perf_counter``), as its work runs
in worker processes and its env busy-waits on the wall clock; every other benchmark is timed
with the timer that ``run.py`` chooses (CPU time of the benchmark process).

Group ``rollout-heavy``: the same over :class:`busy_env.BusyEnv` (each step busy-computes
about 1 ms), floor = the raw loop; gymnasium ``AsyncVectorEnv`` and the reference on its
``sync`` and ``async`` backends show where a process pool pays off.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from bench_support import (
    CARTPOLE,
    SIZES,
    RawLoop,
    describe,
    gym_factory,
    load_api,
    paired_target,
    ratio_target,
    rollout_agent,
)
from busy_env import BUSY_ENV

ENV_VARS = {
    "env/env_obs",
    "env/reward",
    "env/done",
    "env/terminated",
    "env/truncated",
    "env/cumulated_reward",
    "env/timestep",
    "action",
}


@pytest.fixture
def raw_loop(request: pytest.FixtureRequest) -> Iterator[RawLoop]:
    env_name, num_envs, steps = request.param
    loop = RawLoop(env_name, num_envs, steps)
    yield loop
    loop.close()


def _check_rollout(ws: Any, steps: int, num_envs: int) -> None:
    """The rollout wrote every env variable for every row and env."""
    assert set(ws.keys()) >= ENV_VARS
    assert ws.time_size() == steps
    assert ws.batch_size() == num_envs
    obs = ws["env/env_obs"]
    assert obs.shape == (steps, num_envs, 4) and obs.dtype == torch.float32
    done = ws["env/done"]
    timestep = ws["env/timestep"]
    # next-step autoreset: the row after a done row starts a new episode
    assert bool((timestep[1:][done[:-1]] == 0).all())


ROLLOUT_TARGETS = [
    ratio_target("rollout: reference / raw loop", 1.6),
    paired_target("rollout: bbrl / reference", "bbrl", "reference", 4),
]
HEAVY_TARGETS = [
    paired_target(
        "rollout heavy: reference async / sync", "reference async", "reference sync", None
    )
]


def _describe_group(benchmark: Any, group: str) -> None:
    if group == ROLLOUT:
        describe(benchmark, headline="rollout", targets=ROLLOUT_TARGETS)
    else:
        describe(benchmark, headline="rollout heavy", targets=HEAVY_TARGETS)


def _bench_loop(benchmark: Any, loop: RawLoop, group: str) -> None:
    benchmark.group = group
    _describe_group(benchmark, group)
    benchmark.extra_info.update(peer="floor", floor=True)
    n = benchmark(loop.run)
    assert n == (loop.steps - 1) * len(loop.envs)


def _bench_vector(benchmark: Any, vec: gym.vector.VectorEnv, steps: int, group: str) -> None:
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 2, (steps, vec.num_envs))

    def run() -> int:
        vec.reset(seed=0)
        for t in range(steps - 1):
            vec.step(actions[t])
        return steps - 1

    benchmark.group = group
    _describe_group(benchmark, group)
    try:
        assert benchmark(run) == steps - 1
    finally:
        vec.close()


def _bench_agent(benchmark: Any, agent: Any, api: Any, steps: int, num_envs: int) -> None:
    def run() -> Any:
        ws = api.Workspace()
        agent(ws, t=0, n_steps=steps)
        return ws

    ws = benchmark(run)
    _check_rollout(ws, steps, num_envs)


ROLLOUT = f"rollout {SIZES.n_envs}xCartPole {SIZES.rollout_steps} steps"
HEAVY = f"rollout-heavy {SIZES.heavy_envs}xBusyEnv({SIZES.heavy_step_s * 1e3:g} ms) "
HEAVY += f"{SIZES.heavy_steps} steps"


@pytest.mark.parametrize(
    "raw_loop", [(CARTPOLE, SIZES.n_envs, SIZES.rollout_steps)], indirect=True, ids=["floor"]
)
def test_rollout_floor(benchmark: Any, raw_loop: RawLoop) -> None:
    _bench_loop(benchmark, raw_loop, ROLLOUT)


def test_rollout_gym_sync(benchmark: Any) -> None:
    vec = gym.vector.SyncVectorEnv([gym_factory(CARTPOLE) for _ in range(SIZES.n_envs)])
    benchmark.extra_info["peer"] = "gymnasium SyncVectorEnv"
    _bench_vector(benchmark, vec, SIZES.rollout_steps, ROLLOUT)


@pytest.mark.parametrize("peer", ["reference", "bbrl"])
def test_rollout_agent(benchmark: Any, peer: str) -> None:
    api = load_api(peer)
    torch.manual_seed(0)
    agent, _ = rollout_agent(api, CARTPOLE, SIZES.n_envs)
    benchmark.group = ROLLOUT
    _describe_group(benchmark, ROLLOUT)
    benchmark.extra_info["peer"] = peer
    _bench_agent(benchmark, agent, api, SIZES.rollout_steps, SIZES.n_envs)


WALL_CLOCK = pytest.mark.benchmark(timer=time.perf_counter)


@WALL_CLOCK
@pytest.mark.parametrize(
    "raw_loop",
    [(BUSY_ENV, SIZES.heavy_envs, SIZES.heavy_steps)],
    indirect=True,
    ids=["floor"],
)
def test_heavy_floor(benchmark: Any, raw_loop: RawLoop) -> None:
    _bench_loop(benchmark, raw_loop, HEAVY)


@WALL_CLOCK
def test_heavy_gym_async(benchmark: Any) -> None:
    vec = gym.vector.AsyncVectorEnv([gym_factory(BUSY_ENV) for _ in range(SIZES.heavy_envs)])
    benchmark.extra_info["peer"] = "gymnasium AsyncVectorEnv"
    _bench_vector(benchmark, vec, SIZES.heavy_steps, HEAVY)


@WALL_CLOCK
@pytest.mark.parametrize("backend", ["sync", "async"])
def test_heavy_reference(benchmark: Any, backend: str) -> None:
    api = load_api("reference")
    try:
        agent, env = rollout_agent(api, BUSY_ENV, SIZES.heavy_envs, backend=backend)
    except TypeError as exc:  # an older reference without the backend argument
        pytest.skip(f"reference ParallelGymAgent has no backend={backend!r}: {exc}")
    benchmark.group = HEAVY
    _describe_group(benchmark, HEAVY)
    benchmark.extra_info["peer"] = f"reference {backend}"
    try:
        _bench_agent(benchmark, agent, api, SIZES.heavy_steps, SIZES.heavy_envs)
    finally:
        close = getattr(env, "close", None)
        if close is not None:
            close()
