"""Env agent backends: CartPole rollouts at 8, 64 and 256 envs, and a slow env (issue 12).

Group ``backends {n}xCartPole {steps} steps`` (n = 8, 64, 256): floor = the raw python loop
over ``n`` single gymnasium envs (``RawLoop``, no storage); peers = gymnasium's bare
``make_vec(..., vectorization_mode="vector_entry_point")`` loop (``CartPoleVectorEnv``, no
storage), and the reference on each backend, ``TemporalAgent(Agents(ParallelGymAgent,
RandomActor))`` on a fresh workspace: ``sync``, ``async`` (8 and 64 envs only: one worker
process per env) and ``vector``. Every benchmark records ``env_steps`` (env steps per round)
in ``extra_info``: env steps per second = ``env_steps / median``.

Group ``backends-heavy {n}xBusyEnv({ms} ms) {steps} steps``: floor = the raw loop over
``benchmarks/busy_env.py``'s env (each step busy-computes ~1 ms); peers = gymnasium's bare
``AsyncVectorEnv`` and the reference's ``async`` and ``sync`` backends.

Every benchmark here is timed with the wall clock (``time.perf_counter``): worker processes and
busy-waiting envs do their work outside the benchmark process's CPU time.

Targets (issue 12), computed from the medians of one run:

* at 64 envs, the reference's vector backend makes at least 8x the env steps per second of the
  per-env raw loop (``floor / reference vector >= 8``) and stays within 1.3x of the bare vector
  env (``reference vector / gymnasium make_vec <= 1.3``);
* on the busy env, the reference's async backend is within 1.1x of gymnasium's bare
  ``AsyncVectorEnv`` (``reference async / gymnasium AsyncVectorEnv <= 1.1``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from bench_support import CARTPOLE, FULL, RawLoop, gym_factory, load_api, rollout_agent
from busy_env import BUSY_ENV

#: (num_envs, rollout steps) of the CartPole groups; more envs, fewer steps per round
SIZES = ((8, 1000), (64, 200), (256, 100)) if FULL else ((2, 10), (8, 5))
#: the largest number of envs the async backend runs (one process each)
ASYNC_MAX = 64 if FULL else 8
#: (num_envs, steps, seconds per step) of the heavy group
HEAVY = (8, 30, 1e-3) if FULL else (2, 3, 1e-4)

WALL_CLOCK = pytest.mark.benchmark(timer=time.perf_counter)


def group(num_envs: int, steps: int) -> str:
    return f"backends {num_envs}xCartPole {steps} steps"


HEAVY_GROUP = f"backends-heavy {HEAVY[0]}xBusyEnv({HEAVY[2] * 1e3:g} ms) {HEAVY[1]} steps"


def _record(benchmark: Any, name: str, peer: str, env_steps: int, floor: bool = False) -> None:
    benchmark.group = name
    benchmark.extra_info.update(peer=peer, env_steps=env_steps)
    if floor:
        benchmark.extra_info["floor"] = True


@pytest.fixture
def raw_loop(request: pytest.FixtureRequest) -> Iterator[RawLoop]:
    env_name, num_envs, steps = request.param
    loop = RawLoop(env_name, num_envs, steps)
    yield loop
    loop.close()


def _vector_loop(vec: gym.vector.VectorEnv[Any, Any, Any], steps: int) -> Any:
    """A rollout of a bare vector env with precomputed random actions, no storage."""
    actions = np.random.default_rng(0).integers(0, 2, (steps, vec.num_envs))
    rounds = [0]

    def run() -> int:
        rounds[0] += 1
        vec.reset(seed=rounds[0])
        for t in range(steps - 1):
            vec.step(actions[t])
        return (steps - 1) * vec.num_envs

    return run


def _agent_rollout(benchmark: Any, agent: Any, env: Any, api: Any, steps: int, n: int) -> None:
    def run() -> Any:
        ws = api.Workspace()
        agent(ws, t=0, n_steps=steps)
        return ws

    try:
        ws = benchmark(run)
    finally:
        env.close()
    obs, done, timestep = ws["env/env_obs"], ws["env/done"], ws["env/timestep"]
    assert obs.shape == (steps, n, 4) and obs.dtype == torch.float32
    assert bool((timestep[1:][done[:-1]] == 0).all())  # next-step autoreset rows


CARTPOLE_CASES = [pytest.param(n, s, id=f"{n}envs") for n, s in SIZES]


@WALL_CLOCK
@pytest.mark.parametrize(
    "raw_loop",
    [(CARTPOLE, n, s) for n, s in SIZES],
    indirect=True,
    ids=[f"{n}envs" for n, _ in SIZES],
)
def test_backends_floor(benchmark: Any, raw_loop: RawLoop) -> None:
    n, steps = len(raw_loop.envs), raw_loop.steps
    _record(benchmark, group(n, steps), "floor", (steps - 1) * n, floor=True)
    assert benchmark(raw_loop.run) == (steps - 1) * n


@WALL_CLOCK
@pytest.mark.parametrize(("num_envs", "steps"), CARTPOLE_CASES)
def test_backends_bare_vector_env(benchmark: Any, num_envs: int, steps: int) -> None:
    vec = gym.make_vec(CARTPOLE, num_envs, vectorization_mode="vector_entry_point")
    _record(benchmark, group(num_envs, steps), "gymnasium make_vec", (steps - 1) * num_envs)
    try:
        assert benchmark(_vector_loop(vec, steps)) == (steps - 1) * num_envs
    finally:
        vec.close()


@WALL_CLOCK
@pytest.mark.parametrize("backend", ["sync", "async", "vector"])
@pytest.mark.parametrize(("num_envs", "steps"), CARTPOLE_CASES)
def test_backends_reference(benchmark: Any, backend: str, num_envs: int, steps: int) -> None:
    if backend == "async" and num_envs > ASYNC_MAX:
        pytest.skip(f"async backend: {num_envs} worker processes on this machine is not a peer")
    api = load_api("reference")
    torch.manual_seed(0)
    agent, env = rollout_agent(api, CARTPOLE, num_envs, backend=backend)
    _record(benchmark, group(num_envs, steps), f"reference {backend}", (steps - 1) * num_envs)
    _agent_rollout(benchmark, agent, env, api, steps, num_envs)


@WALL_CLOCK
@pytest.mark.parametrize("raw_loop", [(BUSY_ENV, HEAVY[0], HEAVY[1])], indirect=True, ids=["floor"])
def test_backends_heavy_floor(benchmark: Any, raw_loop: RawLoop) -> None:
    n, steps = HEAVY[0], HEAVY[1]
    _record(benchmark, HEAVY_GROUP, "floor", (steps - 1) * n, floor=True)
    assert benchmark(raw_loop.run) == (steps - 1) * n


@WALL_CLOCK
def test_backends_heavy_gym_async(benchmark: Any) -> None:
    n, steps = HEAVY[0], HEAVY[1]
    vec = gym.vector.AsyncVectorEnv([gym_factory(BUSY_ENV) for _ in range(n)])
    _record(benchmark, HEAVY_GROUP, "gymnasium AsyncVectorEnv", (steps - 1) * n)
    try:
        assert benchmark(_vector_loop(vec, steps)) == (steps - 1) * n
    finally:
        vec.close()


@WALL_CLOCK
@pytest.mark.parametrize("backend", ["async", "sync"])
def test_backends_heavy_reference(benchmark: Any, backend: str) -> None:
    n, steps = HEAVY[0], HEAVY[1]
    api = load_api("reference")
    agent, env = rollout_agent(api, BUSY_ENV, n, backend=backend)
    _record(benchmark, HEAVY_GROUP, f"reference {backend}", (steps - 1) * n)

    def run() -> Any:
        ws = api.Workspace()
        agent(ws, t=0, n_steps=steps)
        return ws

    try:
        ws = benchmark(run)
    finally:
        env.close()
    assert ws["env/env_obs"].shape == (steps, n, 4)
