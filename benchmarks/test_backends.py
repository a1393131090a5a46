"""Env agent backends: CartPole rollouts at 8, 64 and 256 envs, and a slow env (issue 12).

Group ``backends {n}xCartPole {steps} steps`` (n = 8, 64, 256): floor = the raw python loop
over ``n`` single gymnasium envs (``RawLoop``, no storage); peers = gymnasium's bare
``make_vec(..., vectorization_mode="vector_entry_point")`` loop (``CartPoleVectorEnv``, no
storage), and the reference's env agent on each backend, ``TemporalAgent(ParallelGymAgent)``
on a fresh workspace: ``sync``, ``async`` (8 and 64 envs only: one worker process per env) and
``vector``. The floor, the bare vector env and these peers play the same precomputed random
actions (the reference reads them from the workspace's ``action`` variable, written once with
``set_full`` before the run), so the difference between them is the env agent's own work: the
action row read and checked, the row of seven variables written, the episode bookkeeping.
``reference vector, reused workspace`` runs on one workspace rewritten from ``t=0`` each round
(as the epoch loop does), without the fresh workspace's allocations.
``numpy rows on make_vec (the agent's work, no layers)`` does the env agent's per-step work in
plain numpy on the bare vector env (action range check, result checks, the seven rows into
fresh arrays, the autoreset bookkeeping; ``_numpy_rows_loop``): the floor of any implementation
of those rows, which says how much of the vector backend's overhead is the work itself and how
much is the reference's layers (workspace, agent, validation).
One more peer, ``reference vector + random actor``, is the seed notebook's rollout
``TemporalAgent(Agents(ParallelGymAgent, RandomActor))`` (a torch agent drawing the actions at
each step), for how much a minimal policy adds. Every benchmark records ``env_steps`` (env steps
per round) in ``extra_info``: env steps per second = ``env_steps / median``.

Group ``backends-heavy {n}xBusyEnv({ms} ms) {steps} steps``: floor = the raw loop over
``benchmarks/busy_env.py``'s env (each step busy-computes ~1 ms); peers = gymnasium's bare
``AsyncVectorEnv`` and the reference's ``async`` and ``sync`` backends, all with the same
precomputed actions.

Timers: the CartPole groups run in one process and are timed, like the other benchmarks, with
the CPU time of the benchmark process (``run.py``'s default), which other jobs on the shared
machine do not inflate; the one exception is the ``async`` peer, ``reference async (wall
clock)``, whose envs step in worker processes (its ratio compares wall time with the floor's
CPU time, a fair comparison only on an idle machine). The heavy group is timed with the wall
clock (``time.perf_counter``): worker processes and busy-waiting envs do their work outside the
benchmark process's CPU time.

Targets (issue 12), declared with ``describe`` and computed by ``run.py`` from the medians of
each run:

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
from bench_support import (
    CARTPOLE,
    FULL,
    RawLoop,
    describe,
    env_agent,
    gym_factory,
    load_api,
    paired_target,
    rollout_agent,
)
from busy_env import BUSY_ENV

#: (num_envs, rollout steps) of the CartPole groups; more envs, fewer steps per round
SIZES = ((8, 1000), (64, 200), (256, 100)) if FULL else ((2, 10), (8, 5))
#: the largest number of envs the async backend runs (one process each)
ASYNC_MAX = 64 if FULL else 8
#: (num_envs, steps, seconds per step) of the heavy group
HEAVY = (8, 30, 1e-3) if FULL else (2, 3, 1e-4)
#: the number of envs the CartPole targets are measured at
TARGET_ENVS = 64

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


def actions(steps: int, num_envs: int) -> np.ndarray:
    """The random actions every peer plays (``RawLoop`` draws the same ones)."""
    return np.random.default_rng(0).integers(0, 2, (steps, num_envs))


def _vector_loop(vec: gym.vector.VectorEnv[Any, Any, Any], steps: int) -> Any:
    """A rollout of a bare vector env with precomputed random actions, no storage."""
    played = actions(steps, vec.num_envs)
    rounds = [0]

    def run() -> int:
        rounds[0] += 1
        vec.reset(seed=rounds[0])
        for t in range(steps - 1):
            vec.step(played[t])
        return (steps - 1) * vec.num_envs

    return run


def _numpy_rows_loop(vec: gym.vector.VectorEnv[Any, Any, Any], steps: int) -> Any:
    """The env agent's work on a bare vector env in plain numpy, without the reference's layers:
    the floor of what any implementation pays for the rows, not a peer that could replace it.

    Per round: seven zeroed ``[steps, n, ...]`` arrays (the fresh storage), a reset into row 0,
    then per step: read and range-check the action row (as ENV-23), step, check the 5-tuple's
    types and shapes (as ENV-21), write the observation, and do the next-step autoreset
    bookkeeping of ENV-4..ENV-6 (rows after a done row: reward 0, return 0, timestep 0, flags
    False, masked by assignment: a multiplication by 0 would turn an infinite reward into NaN,
    ENV-35), one numpy call per quantity and no Python loop over envs. It skips what only an
    agent needs: the workspace and its validation, the bind to a workspace, ``TemporalAgent``,
    Dict observations, other dtypes and the error messages.
    """
    n = vec.num_envs
    played = actions(steps, n)
    limit = np.full(n, 2, dtype=np.uint64)  # Discrete(2)
    outside = np.zeros(n, dtype=np.bool_)
    r64, returns = np.zeros(n), np.zeros(n)
    one = np.ones(n, dtype=np.int64)
    rounds = [0]

    def run() -> dict[str, np.ndarray]:
        rounds[0] += 1
        obs = np.zeros((steps, n, 4), dtype=np.float32)
        reward, cumulated = np.zeros((2, steps, n), dtype=np.float32)
        timestep = np.zeros((steps, n), dtype=np.int64)
        done, terminated, truncated = np.zeros((3, steps, n), dtype=np.bool_)
        first, _ = vec.reset(seed=rounds[0])
        obs[0] = first
        returns.fill(0)
        for t in range(1, steps):
            action = played[t - 1]
            np.greater_equal(action.view(np.uint64), limit, out=outside)
            if action.shape != (n,) or outside.tobytes().find(1) >= 0:
                raise ValueError(f"action row {t - 1}: {action}")
            result = vec.step(action)
            if type(result) is not tuple or len(result) != 5:
                raise TypeError(f"step result at t={t}: {result!r}")
            o, r, term, trunc, _ = result
            for value, kinds in ((r, "iuf"), (term, "b"), (trunc, "b")):
                if type(value) is not np.ndarray or value.dtype.kind not in kinds:
                    raise TypeError(f"step result at t={t}: {value!r}")
                if value.shape != (n,):
                    raise ValueError(f"step result at t={t}: shape {value.shape}")
            if type(o) is not np.ndarray or o.shape != (n, 4) or o.dtype.kind != "f":
                raise TypeError(f"observation at t={t}: {o!r}")
            obs[t] = o
            was_done = done[t - 1]
            r64[...] = r
            np.putmask(r64, was_done, 0.0)
            reward[t] = r64
            np.putmask(returns, was_done, 0.0)
            np.add(returns, r64, returns)
            cumulated[t] = returns
            ts = timestep[t]
            ts[...] = timestep[t - 1]
            np.putmask(ts, was_done, -1)
            np.add(ts, one, ts)
            np.greater(term, was_done, terminated[t])
            np.greater(trunc, was_done, truncated[t])
            np.logical_or(terminated[t], truncated[t], done[t])
        return {"env/done": done, "env/timestep": timestep, "env/cumulated_reward": cumulated}

    return run


def _env_agent_rollout(
    benchmark: Any, api: Any, env_name: str, backend: str, steps: int, n: int, reuse: bool = False
) -> Any:
    """Time ``TemporalAgent(env agent)`` on a fresh workspace holding the precomputed actions
    (``reuse``: on one workspace, rewritten from ``t=0`` each round, as an epoch loop does);
    returns the last round's workspace."""
    env = env_agent(api, env_name, n, 0, backend=backend)
    agent = api.TemporalAgent(env)
    played = torch.as_tensor(actions(steps, n))
    kept = api.Workspace()
    kept.set_full("action", played)

    def run() -> Any:
        ws = kept if reuse else api.Workspace()
        if not reuse:
            ws.set_full("action", played)
        agent(ws, t=0, n_steps=steps)
        return ws

    try:
        return benchmark(run)
    finally:
        env.close()


def _check_rows(ws: Any, steps: int, n: int) -> None:
    obs, done, timestep = ws["env/env_obs"], ws["env/done"], ws["env/timestep"]
    assert obs.shape == (steps, n, 4) and obs.dtype == torch.float32
    assert bool((timestep[1:][done[:-1]] == 0).all())  # next-step autoreset rows


CARTPOLE_CASES = [pytest.param(n, s, id=f"{n}envs") for n, s in SIZES]


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


@pytest.mark.parametrize(("num_envs", "steps"), CARTPOLE_CASES)
def test_backends_bare_vector_env(benchmark: Any, num_envs: int, steps: int) -> None:
    vec = gym.make_vec(CARTPOLE, num_envs, vectorization_mode="vector_entry_point")
    _record(benchmark, group(num_envs, steps), "gymnasium make_vec", (steps - 1) * num_envs)
    try:
        assert benchmark(_vector_loop(vec, steps)) == (steps - 1) * num_envs
    finally:
        vec.close()


def _cartpole_targets(benchmark: Any, num_envs: int) -> None:
    if num_envs == TARGET_ENVS:
        describe(
            benchmark,
            headline=f"backends {num_envs} envs",
            targets=[
                paired_target(
                    f"backends {num_envs} envs: raw loop / reference vector (env steps per s)",
                    "floor",
                    "reference vector",
                    8,
                ),
                paired_target(
                    f"backends {num_envs} envs: reference vector / gymnasium make_vec",
                    "reference vector",
                    "gymnasium make_vec",
                    None,
                    at_most=1.3,
                ),
                paired_target(
                    f"backends {num_envs} envs: reference vector, reused workspace / "
                    "gymnasium make_vec",
                    "reference vector, reused workspace",
                    "gymnasium make_vec",
                    None,
                ),
                paired_target(
                    f"backends {num_envs} envs: reference vector + random actor / "
                    "gymnasium make_vec",
                    "reference vector + random actor",
                    "gymnasium make_vec",
                    None,
                ),
                paired_target(
                    f"backends {num_envs} envs: numpy rows (the agent's work, no layers) / "
                    "gymnasium make_vec",
                    "numpy rows on make_vec (the agent's work, no layers)",
                    "gymnasium make_vec",
                    None,
                ),
                paired_target(
                    f"backends {num_envs} envs: reference vector / numpy rows",
                    "reference vector",
                    "numpy rows on make_vec (the agent's work, no layers)",
                    None,
                ),
            ],
        )


@pytest.mark.parametrize("backend", ["sync", pytest.param("async", marks=WALL_CLOCK), "vector"])
@pytest.mark.parametrize(("num_envs", "steps"), CARTPOLE_CASES)
def test_backends_reference(benchmark: Any, backend: str, num_envs: int, steps: int) -> None:
    if backend == "async" and num_envs > ASYNC_MAX:
        pytest.skip(f"async backend: {num_envs} worker processes on this machine is not a peer")
    api = load_api("reference")
    peer = "reference async (wall clock)" if backend == "async" else f"reference {backend}"
    _record(benchmark, group(num_envs, steps), peer, (steps - 1) * num_envs)
    if backend == "vector":
        _cartpole_targets(benchmark, num_envs)
    ws = _env_agent_rollout(benchmark, api, CARTPOLE, backend, steps, num_envs)
    _check_rows(ws, steps, num_envs)
    assert torch.equal(ws["action"], torch.as_tensor(actions(steps, num_envs)))


@pytest.mark.parametrize(("num_envs", "steps"), CARTPOLE_CASES)
def test_backends_numpy_rows_floor(benchmark: Any, num_envs: int, steps: int) -> None:
    vec = gym.make_vec(CARTPOLE, num_envs, vectorization_mode="vector_entry_point")
    peer = "numpy rows on make_vec (the agent's work, no layers)"
    _record(benchmark, group(num_envs, steps), peer, (steps - 1) * num_envs)
    try:
        rows = benchmark(_numpy_rows_loop(vec, steps))
    finally:
        vec.close()
    done, timestep = rows["env/done"], rows["env/timestep"]
    assert bool((timestep[1:][done[:-1]] == 0).all())  # next-step autoreset rows
    assert bool((rows["env/cumulated_reward"] == timestep).all())  # CartPole's reward is 1
    assert done.any() or not FULL  # the quick sizes may end no episode


@pytest.mark.parametrize(("num_envs", "steps"), CARTPOLE_CASES)
def test_backends_reference_reused_workspace(benchmark: Any, num_envs: int, steps: int) -> None:
    api = load_api("reference")
    peer = "reference vector, reused workspace"
    _record(benchmark, group(num_envs, steps), peer, (steps - 1) * num_envs)
    ws = _env_agent_rollout(benchmark, api, CARTPOLE, "vector", steps, num_envs, reuse=True)
    _check_rows(ws, steps, num_envs)


@pytest.mark.parametrize(("num_envs", "steps"), CARTPOLE_CASES)
def test_backends_reference_with_actor(benchmark: Any, num_envs: int, steps: int) -> None:
    api = load_api("reference")
    torch.manual_seed(0)
    agent, env = rollout_agent(api, CARTPOLE, num_envs, backend="vector")
    peer = "reference vector + random actor"
    _record(benchmark, group(num_envs, steps), peer, (steps - 1) * num_envs)

    def run() -> Any:
        ws = api.Workspace()
        agent(ws, t=0, n_steps=steps)
        return ws

    try:
        ws = benchmark(run)
    finally:
        env.close()
    _check_rows(ws, steps, num_envs)


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
    _record(benchmark, HEAVY_GROUP, f"reference {backend}", (steps - 1) * n)
    if backend == "async":
        describe(
            benchmark,
            headline="backends heavy",
            targets=[
                paired_target(
                    "backends-heavy: reference async / gymnasium AsyncVectorEnv",
                    "reference async",
                    "gymnasium AsyncVectorEnv",
                    None,
                    at_most=1.1,
                )
            ],
        )
    ws = _env_agent_rollout(benchmark, api, BUSY_ENV, backend, steps, n)
    assert ws["env/env_obs"].shape == (steps, n, 4)
