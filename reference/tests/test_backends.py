"""The env agent's backends and failures: _backends.py (ENV-13, ENV-16..ENV-26, ENV-27..ENV-29,
DET-8, DET-9).

Worker processes are started with fork (the platform default here), so envs and factories
defined in this module need not be picklable. The worker's loop is also driven in this
process, through a pipe filled beforehand, so that its code is measured by coverage.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Iterator
from typing import Any, cast

import gymnasium as gym
import numpy as np
import pytest
import torch
from bbrl_reference import (
    ACTION,
    ENV_CUMULATED_REWARD,
    ENV_OBS,
    ENV_REWARD,
    ENV_TIMESTEP,
    Agent,
    Agents,
    EnvError,
    EnvOutputShapeError,
    EnvOutputTypeError,
    EnvTimeoutError,
    InvalidArgumentError,
    InvalidStateError,
    ParallelGymAgent,
    TemporalAgent,
    Workspace,
    make_env,
)
from bbrl_reference import _backends as backends
from gymnasium import spaces


class Scripted(gym.Env[Any, Any]):
    """An env whose step and reset return what the test scripted (or raise it)."""

    def __init__(self, obs_space: gym.Space[Any] | None = None, length: int = 3) -> None:
        self.observation_space = obs_space or spaces.Box(0, 100, (2,), np.float32)
        self.action_space = spaces.Discrete(4)
        self.length = length
        self.t = 0
        self.episode = -1
        self.step_result: Any = None  # used once, then cleared
        self.reset_result: Any = None
        self.bbrl_autoreset = True

    def _obs(self) -> Any:
        return np.array([self.episode, self.t], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        result, self.reset_result = self.reset_result, None
        if isinstance(result, BaseException):
            raise result
        self.episode += 1
        self.t = 0
        return (self._obs(), {}) if result is None else result

    def step(self, action: Any) -> Any:
        result, self.step_result = self.step_result, None
        if isinstance(result, BaseException):
            raise result
        if result == "sleep":
            time.sleep(600)
        if result == "exit":
            os._exit(7)
        self.t += 1
        done = self.t >= self.length
        return (self._obs(), 1.0, done, False, {}) if result is None else result


class Steps(Agent):
    """Writes action[t, b] = (t + b) % 2."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, t: int, **kwargs: object) -> None:
        self.set((ACTION, t), (t + torch.arange(self.n)) % 2)


def built(n: int, **kwargs: Any) -> tuple[ParallelGymAgent, list[Scripted]]:
    envs: list[Scripted] = []

    def factory() -> Scripted:
        envs.append(Scripted(**kwargs))
        return envs[-1]

    return ParallelGymAgent(factory, n), envs


def steps(agent: ParallelGymAgent, ws: Workspace, start: int, stop: int) -> None:
    for t in range(start, stop):
        agent(ws, t=t)
        ws.set(ACTION, t, torch.full((agent.num_envs,), t % 4))


# --------------------------------------------------------------- ENV-21: checked outputs
@pytest.mark.parametrize(
    ("result", "error", "match"),
    [
        ((np.zeros(3, np.float32), 1.0, False, False, {}), EnvOutputShapeError, "shape"),
        ((None, 1.0, False, False, {}), EnvOutputTypeError, "floating"),
        ((["a", "b"], 1.0, False, False, {}), EnvOutputTypeError, "floating"),
        (([[1.0], [2.0, 3.0]], 1.0, False, False, {}), EnvOutputShapeError, "ragged"),
        ((np.zeros(2, np.float32), "1.0", False, False, {}), EnvOutputTypeError, "reward"),
        ((np.zeros(2, np.float32), True, False, False, {}), EnvOutputTypeError, "reward"),
        ((np.zeros(2, np.float32), 1.0, "no", False, {}), EnvOutputTypeError, "terminated"),
        ((np.zeros(2, np.float32), 1.0, False, 1, {}), EnvOutputTypeError, "truncated"),
        ((np.zeros(2, np.float32), 1.0, False), EnvOutputTypeError, "tuple of 5"),
        ([np.zeros(2, np.float32), 1.0, False, False, {}], EnvOutputTypeError, "tuple of 5"),
    ],
)
def test_malformed_step_results_are_typed_errors(result: Any, error: type, match: str) -> None:
    """ENV-21, ENV-19, ENV-22: the call raises naming env 1 and t=2; nothing is written."""
    agent, envs = built(2)
    ws = Workspace()
    steps(agent, ws, 0, 2)
    envs[1].step_result = result
    with pytest.raises(error, match=match) as caught:
        agent(ws, t=2)
    assert "env 1 at t=2" in str(caught.value) and getattr(caught.value, "env_index", None) == 1
    assert ws.time_size() == 2
    with pytest.raises(InvalidStateError, match="call at t=0 first"):
        agent(ws, t=2)


def test_accepted_outputs_of_other_types() -> None:
    """ENV-21: numpy rewards and flags, 0-d arrays, int rewards, lists are accepted as such."""
    agent, envs = built(1)
    ws = Workspace()
    steps(agent, ws, 0, 1)
    results: list[tuple[Any, ...]] = [
        ([1, 2], np.float32(2.5), np.bool_(False), np.array(False), {}),
        (np.array([3.0, 4.0]), np.array(2.0), False, False, {}),
        (np.zeros(2, np.int64), 3, False, False, {}),
    ]
    for t, result in enumerate(results, start=1):
        envs[0].step_result = result
        agent(ws, t=t)
        ws.set(ACTION, t, torch.zeros(1, dtype=torch.int64))
    assert ws[ENV_REWARD][:, 0].tolist() == [0.0, 2.5, 2.0, 3.0]
    assert ws[ENV_OBS][1:, 0].tolist() == [[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]]
    assert ws[ENV_CUMULATED_REWARD][:, 0].tolist() == [0.0, 2.5, 4.5, 7.5]


def test_observation_structures() -> None:
    """ENV-21: Discrete, integer, bool and Dict observations, each checked by its space."""
    cases: list[tuple[gym.Space[Any], Any, type | None]] = [
        (spaces.Discrete(5), np.int64(3), None),
        (spaces.Discrete(5), 3, None),
        (spaces.Discrete(5), np.array(2), None),
        (spaces.Discrete(5), 2.0, EnvOutputTypeError),
        (spaces.Discrete(5), True, EnvOutputTypeError),
        (spaces.Discrete(5), np.array(1.5), EnvOutputTypeError),
        (spaces.Box(0, 9, (2,), np.int32), np.array([1, 2], np.int64), None),
        (spaces.Box(0, 9, (2,), np.int32), np.array([True, False]), None),
        (spaces.Box(0, 9, (2,), np.int32), np.array([1.0, 2.0]), EnvOutputTypeError),
        (spaces.Box(0, 1, (2,), np.bool_), np.array([1, 0]), EnvOutputTypeError),
        (spaces.Box(0, 1, (2,), np.float32), np.array([True, False]), EnvOutputTypeError),
        (spaces.Dict({"a": spaces.Discrete(3)}), {"a": 1}, None),
        (spaces.Dict({"a": spaces.Discrete(3)}), [1], EnvOutputTypeError),
        (spaces.Dict({"a": spaces.Discrete(3)}), {"a": 1, "b": 2}, EnvOutputShapeError),
        (
            spaces.Dict({"a": spaces.Dict({"b": spaces.Discrete(3)})}),
            {"a": {"c": 1}},
            EnvOutputShapeError,
        ),
        (spaces.Dict({"a": spaces.Dict({"b": spaces.Discrete(3)})}), {"a": {"b": 2}}, None),
    ]
    for space, obs, error in cases:
        agent, envs = built(1, obs_space=space)
        envs[0].reset_result = (obs, {})
        ws = Workspace()
        if error is None:
            agent(ws, t=0)
        else:
            with pytest.raises(error, match="env 0 at t=0"):
                agent(ws, t=0)
            assert list(ws.keys()) == []


def test_bad_reset_result() -> None:
    """ENV-21: reset must return a pair."""
    agent, envs = built(2)
    envs[1].reset_result = np.zeros(2, np.float32)
    with pytest.raises(EnvOutputTypeError, match="reset result"):
        agent(Workspace(), t=0)


# --------------------------------------------------------------- ENV-20, ENV-22: errors
def test_env_errors_name_env_and_t_and_keep_the_cause() -> None:
    """ENV-20 in step, reset and autoreset; ENV-22: refused until t=0, which works again."""
    agent, envs = built(3)
    ws = Workspace()
    steps(agent, ws, 0, 2)
    boom = KeyError("boom")
    envs[2].step_result = boom
    with pytest.raises(EnvError, match="env 2 raised in step at t=2") as caught:
        agent(ws, t=2)
    assert caught.value.__cause__ is boom and caught.value.t == 2
    stepped = [env.t for env in envs]
    with pytest.raises(InvalidStateError, match="KeyError"):
        agent(ws, t=2)
    assert [env.t for env in envs] == stepped  # never a silent double step
    envs[1].reset_result = ValueError("no reset")
    with pytest.raises(EnvError, match="env 1 raised in reset at t=0"):
        agent(Workspace(), t=0)
    ws = Workspace()
    steps(agent, ws, 0, 4)  # episodes of length 3: t=3 is the done row
    envs[0].reset_result = OSError("autoreset")
    with pytest.raises(EnvError, match="env 0 raised in reset at t=4"):
        agent(ws, t=4)
    agent(Workspace(), t=0)


def test_failed_write_needs_a_reset() -> None:
    """ENV-19, ENV-22: a row the workspace refuses is not written at all."""
    agent, _ = built(2)
    ws = Workspace()
    steps(agent, ws, 0, 2)
    ws.set_full(ENV_TIMESTEP, ws[ENV_TIMESTEP].float())
    with pytest.raises(TypeError):
        agent(ws, t=2)
    assert {name: ws[name].shape[0] for name in ws.variables} == dict.fromkeys(ws.variables, 2)
    with pytest.raises(InvalidStateError):
        agent(ws, t=2)


def test_out_of_range_actions() -> None:
    """ENV-23: below start or at start + n is ValueError, before any env is stepped; a
    Discrete space with start != 0; more than 64 envs take the numpy path."""
    agent, envs = built(2)
    ws = Workspace()
    steps(agent, ws, 0, 1)
    for bad in ([4, 0], [0, -1]):
        ws.set(ACTION, 0, torch.tensor(bad))
        with pytest.raises(InvalidArgumentError, match="action"):
            agent(ws, t=1)
        assert [env.t for env in envs] == [0, 0]
    ws.set(ACTION, 0, torch.tensor([3, 0]))
    agent(ws, t=1)

    class Shifted(Scripted):
        def __init__(self) -> None:
            super().__init__()
            self.action_space = spaces.Discrete(2, start=-1)

    many = ParallelGymAgent(Shifted, 65)
    ws = Workspace()
    many(ws, t=0)
    ws.set(ACTION, 0, torch.full((65,), -1))
    many(ws, t=1)
    ws.set(ACTION, 1, torch.full((65,), 1))
    with pytest.raises(InvalidArgumentError, match=r"\[-1, 1\)"):
        many(ws, t=2)


def test_box_actions_of_a_bool_dtype_are_refused() -> None:
    """ENV-11: a Box action row must be of a real dtype."""

    class BoxActions(Scripted):
        def __init__(self) -> None:
            super().__init__()
            self.action_space = spaces.Box(-1, 1, (2,), np.float32)
            self.received: list[Any] = []

        def step(self, action: Any) -> Any:
            self.received.append(action)
            return super().step(action)

    agent = ParallelGymAgent(BoxActions, 1)
    ws = Workspace()
    agent(ws, t=0)
    ws.set(ACTION, 0, torch.tensor([[True, False]]))
    with pytest.raises(TypeError, match="real dtype"):
        agent(ws, t=1)
    # bfloat16, which numpy lacks, is read through float32 (exact), like any floating row
    ws.clear(ACTION)
    ws.set(ACTION, 0, torch.tensor([[0.5, -0.25]], dtype=torch.bfloat16))
    agent(ws, t=1)
    received = cast(BoxActions, agent.envs[0].unwrapped).received
    assert [a.tolist() for a in received] == [[0.5, -0.25]]


# --------------------------------------------------------------- ENV-27..ENV-29, DET-9
def test_make_env_wrappers_and_autoreset_checks() -> None:
    """ENV-27: wrappers in order; a bad autoreset, wrappers list or wrapper result is refused."""
    plus = functools.partial(gym.wrappers.TransformReward, func=lambda r: float(r) + 1)
    twice = functools.partial(gym.wrappers.TransformReward, func=lambda r: 2 * float(r))
    env = make_env("CartPole-v1", autoreset=True, wrappers=[plus, twice])
    env.reset(seed=0)
    assert env.step(0)[1] == 4.0 and vars(env)["bbrl_autoreset"] is True
    assert make_env("CartPole-v1", wrappers=None).spec is not None
    for bad in ("no", np.bool_(True)):  # a numpy bool is not a bool (ENV-27, as TR-11)
        with pytest.raises(TypeError, match="autoreset"):
            make_env("CartPole-v1", autoreset=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="wrappers"):
        make_env("CartPole-v1", wrappers=plus)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="wrappers"):
        make_env("CartPole-v1", wrappers=[3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"wrappers\[0\]"):
        make_env("CartPole-v1", wrappers=[lambda e: None])  # type: ignore[list-item, return-value]


def test_bbrl_keyword_arguments_and_seed_domain() -> None:
    """ENV-28, DET-9: defaults accepted, other layouts refused; seeds in 0..2**64-1."""
    factory = functools.partial(make_env, "CartPole-v1", autoreset=True)
    with ParallelGymAgent(factory, 2, include_last_state=True, reward_at_t=False) as agent:
        assert agent.envs[0].spec is not None
    for kwargs in ({"include_last_state": False}, {"reward_at_t": True}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            ParallelGymAgent(factory, 2, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reward_at_t"):
        ParallelGymAgent(factory, 2, reward_at_t=0)  # type: ignore[arg-type]
    firsts: list[torch.Tensor] = []
    for seeded in (ParallelGymAgent(factory, 2, seed=2**64 - 1), ParallelGymAgent(factory, 2)):
        if not firsts:
            assert seeded._seed == 2**64 - 1
        else:
            seeded.seed(np.uint64(2**64 - 1))  # type: ignore[arg-type]
        ws = Workspace()
        seeded(ws, t=0)
        firsts.append(ws[ENV_OBS][0])
    assert torch.equal(firsts[0], firsts[1])
    with pytest.raises(ValueError, match="2\\*\\*64"):
        ParallelGymAgent(factory, 2, seed=2**64)
    with pytest.raises(TypeError):
        ParallelGymAgent(factory, 2).seed(True)


def test_inspection_methods() -> None:
    """ENV-29: spaces, action kind, envs in order."""

    class BoxActions(Scripted):
        def __init__(self) -> None:
            super().__init__()
            self.action_space = spaces.Box(-1, 1, (2,), np.float32)

    agent, envs = built(2)
    assert agent.envs == envs and agent.get_observation_space() == envs[0].observation_space
    assert agent.get_action_space() == spaces.Discrete(4)
    assert agent.is_discrete_action() and not agent.is_continuous_action()
    box = ParallelGymAgent(BoxActions, 1)
    assert box.is_continuous_action() and not box.is_discrete_action()


def test_constructor_refusals() -> None:
    """ENV-18 and argument checks: unknown backend, timeout/context without workers, a
    VectorEnv with a make_env_fn or another num_envs, a bad timeout."""
    factory = functools.partial(make_env, "CartPole-v1", autoreset=True)
    with pytest.raises(ValueError, match="backend"):
        ParallelGymAgent(factory, 1, backend="threads")  # type: ignore[arg-type]
    for option in ({"timeout": 1.0}, {"context": "fork"}):
        with pytest.raises(ValueError, match="worker processes"):
            ParallelGymAgent(factory, 1, **option)
    with pytest.raises(ValueError, match="context"):
        ParallelGymAgent(factory, 1, backend="async", context="threads")
    with pytest.raises(TypeError, match="make_env_args"):
        ParallelGymAgent(factory, 1, 3)  # type: ignore[arg-type]
    vec = gym.make_vec("CartPole-v1", 2, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="None with a VectorEnv"):
        ParallelGymAgent(factory, 2, backend=vec)
    with pytest.raises(ValueError, match="num_envs"):
        ParallelGymAgent(None, 3, backend=vec)
    bad_timeouts: list[tuple[object, type[Exception]]] = [
        (True, TypeError),
        ("1", TypeError),
        (0, ValueError),
        (float("inf"), ValueError),
    ]
    for bad, error in bad_timeouts:
        with pytest.raises(error, match="timeout"):
            backends.check_timeout(bad)
    assert backends.check_timeout(2) == 2.0 and backends.check_timeout(None) is None


# --------------------------------------------------------------- vector backend (ENV-17)
def run_cartpole(agent: ParallelGymAgent, steps_: int = 30) -> Workspace:
    ws = Workspace()
    TemporalAgent(Agents(agent, Steps(agent.num_envs)))(ws, n_steps=steps_)
    return ws


def test_vector_backend_from_make_env() -> None:
    """ENV-17: make_vec of make_env's env name; rows follow next-step autoreset; DET-8."""
    factory = functools.partial(make_env, "CartPole-v1", autoreset=True, max_episode_steps=9)
    with ParallelGymAgent(factory, 4, backend="vector", seed=3) as agent:
        assert agent.backend == "vector" and agent.autoreset
        ws = run_cartpole(agent)
        done, timestep, reward = ws["env/done"], ws[ENV_TIMESTEP], ws[ENV_REWARD]
        assert bool(done.any())
        after = done[:-1]
        assert bool((timestep[1:][after] == 0).all()) and bool((reward[1:][after] == 0).all())
        assert int(timestep.max()) == 9  # truncated by max_episode_steps
        again = ParallelGymAgent(factory, 4, backend="vector", seed=3)
        assert torch.equal(run_cartpole(again)[ENV_OBS], ws[ENV_OBS])
        with pytest.raises(InvalidStateError, match="vector env"):
            _ = agent.envs
    agent.close()  # idempotent


def test_vector_backend_refusals() -> None:
    """ENV-17, ENV-18: what a vector env cannot honour is refused."""
    cases: list[tuple[Any, str]] = [
        (lambda: make_env("CartPole-v1"), "functools.partial"),
        (functools.partial(make_env, "CartPole-v1"), "autoreset=True"),
        (functools.partial(make_env, "CartPole-v1", True, [gym.wrappers.ClipReward]), "wrappers"),
        (functools.partial(make_env, "MountainCarContinuous-v0", True), "vector implementation"),
    ]
    for factory, match in cases:
        with pytest.raises(ValueError, match=match):
            ParallelGymAgent(factory, 2, backend="vector")
    with pytest.raises(TypeError, match="env_name"):
        ParallelGymAgent(functools.partial(make_env, 3, True), 2, backend="vector")  # type: ignore[arg-type]


class FakeVec(gym.vector.VectorEnv[Any, Any, Any]):
    """A scripted VectorEnv: next-step autoreset by default."""

    metadata: dict[str, Any] = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(self, n: int = 2) -> None:
        self.num_envs = n
        self.single_observation_space = spaces.Box(0, 9, (2,), np.float32)
        self.single_action_space = spaces.Discrete(3)
        self.step_result: Any = None
        self.reset_result: Any = None
        self.seeds: list[Any] = []
        self.closed_count = 0

    def reset(self, *, seed: Any = None, options: Any = None) -> Any:
        self.seeds.append(seed)
        result, self.reset_result = self.reset_result, None
        if isinstance(result, BaseException):
            raise result
        return (np.zeros((self.num_envs, 2), np.float32), {}) if result is None else result

    def step(self, actions: Any) -> Any:
        result, self.step_result = self.step_result, None
        if isinstance(result, BaseException):
            raise result
        n = self.num_envs
        no = np.zeros(n, bool)
        ok: tuple[Any, ...] = (np.ones((n, 2), np.float32), np.ones(n), no, no, {})
        return ok if result is None else result

    def close_extras(self, **kwargs: Any) -> None:
        self.closed_count += 1


def test_vector_backend_given_by_the_caller() -> None:
    """ENV-17, ENV-20, ENV-21, DET-8: a VectorEnv instance; its errors and bad outputs."""
    vec = FakeVec()
    agent = ParallelGymAgent(None, 2, backend=vec)
    ws = Workspace()
    agent(ws, t=0)
    assert vec.seeds == [None]  # unseeded: the vector env keeps its own stream
    agent.seed(8)
    agent(ws, t=0)
    assert vec.seeds[-1] == int(
        np.random.SeedSequence(entropy=8, spawn_key=(0,)).generate_state(1)[0]
    )
    n = 2
    no = np.zeros(n, bool)
    bad_steps: list[tuple[Any, type, str]] = [
        (RuntimeError("vec"), EnvError, "the vector env raised in step at t=1"),
        ((np.ones((n, 2)), np.ones(n)), EnvOutputTypeError, "tuple of 5"),
        ((np.ones((n, 2)), ["1", "1"], no, no, {}), TypeError, "real"),
        ((np.ones((n, 2)), np.ones(3), no, no, {}), ValueError, "shape"),
        ((np.ones((n, 2)), np.ones(n), np.zeros(n), no, {}), TypeError, "bools"),
        ((np.ones((n, 3)), np.ones(n), no, no, {}), ValueError, "shape"),
    ]
    for result, error, match in bad_steps:
        agent(ws, t=0)
        ws.set(ACTION, 0, torch.tensor([0, 2]))
        vec.step_result = result
        with pytest.raises(error, match=match):
            agent(ws, t=1)
    vec.reset_result = (np.full((n, 2), 2.5), {})  # float64 for a float32 space: converted
    agent(ws, t=0)
    assert ws[ENV_OBS][0].tolist() == [[2.5, 2.5], [2.5, 2.5]]
    for result, error in ((OSError("r"), EnvError), (np.zeros((n, 2)), EnvOutputTypeError)):
        vec.reset_result = result
        with pytest.raises(error, match="at t=0"):
            agent(ws, t=0)
    agent.close()
    agent.close()
    assert vec.closed_count == 1


def test_vector_env_in_another_autoreset_mode_is_refused() -> None:
    vec = FakeVec()
    vec.metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}
    with pytest.raises(ValueError, match="autoreset_mode"):
        ParallelGymAgent(None, 2, backend=vec)


def test_envpool_seeds_are_refused() -> None:
    """ENV-18: EnvPool fixes its seeds when it is made: seed() is refused, not ignored."""
    envpool_like = type("Pool", (FakeVec,), {"__module__": "envpool.fake"})()
    agent = ParallelGymAgent(None, 2, backend=envpool_like)
    with pytest.raises(ValueError, match="EnvPool"):
        agent.seed(1)
    with pytest.raises(ValueError, match="EnvPool"):
        ParallelGymAgent(None, 2, backend=type(envpool_like)(), seed=1)


@pytest.mark.filterwarnings("ignore:.*precision lowered:UserWarning")
def test_envpool_when_installed() -> None:
    """ENV-17 with a real EnvPool CartPole (skipped where envpool is not installed)."""
    envpool = pytest.importorskip("envpool")
    pool = envpool.make("CartPole-v1", env_type="gymnasium", num_envs=8, seed=0)
    with ParallelGymAgent(None, 8, backend=pool) as agent:
        ws = run_cartpole(agent, 40)
        done, timestep = ws["env/done"], ws[ENV_TIMESTEP]
        assert bool(done.any()) and bool((timestep[1:][done[:-1]] == 0).all())
        with pytest.raises(ValueError, match="EnvPool"):
            agent.seed(0)


# --------------------------------------------------------------- async backend (ENV-24..26)
def children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


@pytest.fixture
def no_new_processes() -> Iterator[None]:
    before = children()
    yield
    assert children() <= before  # ENV-26: no worker left (active_children also reaps)


@pytest.mark.usefixtures("no_new_processes")
def test_async_backend_errors_and_recovery() -> None:
    """ENV-20 and ENV-22 through worker processes: the env's exception type comes back as the
    cause; an unpicklable one comes back as its text."""

    class Unpicklable(Exception):
        def __reduce__(self) -> Any:
            raise TypeError("no pickling")

    class Failing(Scripted):
        def step(self, action: Any) -> Any:
            if self.t == 1 and action in (1, 2):
                raise (KeyError("deep") if action == 1 else Unpicklable("x"))
            return super().step(action)

    with ParallelGymAgent(Failing, 2, backend="async") as agent:
        with pytest.raises(InvalidStateError, match="worker processes"):
            _ = agent.envs
        ws = Workspace()
        steps(agent, ws, 0, 2)
        ws.set(ACTION, 1, torch.tensor([1, 2]))
        with pytest.raises(EnvError, match="env 0 raised in step at t=2") as caught:
            agent(ws, t=2)
        assert type(caught.value.__cause__) is KeyError
        assert "worker traceback" in "".join(getattr(caught.value.__cause__, "__notes__", []))
        ws = Workspace()
        steps(agent, ws, 0, 2)
        ws.set(ACTION, 1, torch.tensor([2, 2]))
        with pytest.raises(EnvError) as caught:
            agent(ws, t=2)
        assert type(caught.value.__cause__) is RuntimeError
        assert "Unpicklable" in str(caught.value.__cause__)


@pytest.mark.usefixtures("no_new_processes")
def test_async_backend_dead_and_hung_workers() -> None:
    """ENV-24, ENV-25: a dead worker is an error at once, a hung one after the timeout; both
    are replaced at the next t=0."""

    class Faulty(Scripted):
        def step(self, action: Any) -> Any:
            if self.t == 1 and action in (1, 2):
                self.step_result = "exit" if action == 1 else "sleep"
            return super().step(action)

    with ParallelGymAgent(Faulty, 2, backend="async", timeout=1.0) as agent:
        for action, error, match in (
            (1, EnvError, "of env 0 died during step at t=2"),
            (2, EnvTimeoutError, "env 0 did not answer step within 1.0 s at t=2"),
        ):
            ws = Workspace()
            steps(agent, ws, 0, 2)
            ws.set(ACTION, 1, torch.tensor([action, 3]))
            with pytest.raises(error, match=match):
                agent(ws, t=2)
            with pytest.raises(InvalidStateError):
                agent(ws, t=2)
        ws = Workspace()
        for t in range(3):  # the replaced worker runs again
            agent(ws, t=t)
            ws.set(ACTION, t, torch.tensor([3, 3]))
        assert ws.time_size() == 3
        ws = Workspace()
        steps(agent, ws, 0, 2)
        ws.set(ACTION, 1, torch.tensor([3, 1]))  # the last worker: its pipe reads EOF
        with pytest.raises(EnvError, match="of env 1 died during step at t=2"):
            agent(ws, t=2)


@pytest.mark.usefixtures("no_new_processes")
def test_async_backend_construction_failures() -> None:
    """A factory failing in a worker raises its error; workers whose spaces differ are
    refused; nothing is left running."""
    calls = multiprocessing.get_context("fork").Value("i", 0)

    def failing() -> Scripted:
        raise LookupError("factory")

    with pytest.raises(LookupError, match="factory"):
        ParallelGymAgent(failing, 2, backend="async")

    def uneven() -> Scripted:
        with calls.get_lock():
            calls.value += 1
            k = calls.value
        return Scripted(length=3) if k == 1 else Scripted(spaces.Box(0, 1, (3,), np.float32))

    with pytest.raises(ValueError, match="observation space"):
        ParallelGymAgent(uneven, 2, backend="async")


@pytest.mark.usefixtures("no_new_processes")
def test_async_backend_interrupted_and_closed() -> None:
    """ENV-22, ENV-26: an interrupt mid-step; the owing workers are replaced; close is
    idempotent and stops workers that still owe an answer."""

    class Slow(Scripted):
        def step(self, action: Any) -> Any:
            if action == 3:
                time.sleep(3)
            return super().step(action)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    agent = ParallelGymAgent(Slow, 2, backend="async", timeout=30)

    def interrupted_step() -> None:
        ws = Workspace()
        steps(agent, ws, 0, 1)
        ws.set(ACTION, 0, torch.tensor([3, 3]))
        previous = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        try:
            with pytest.raises(KeyboardInterrupt):
                agent(ws, t=1)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        with pytest.raises(InvalidStateError):
            agent(ws, t=1)

    interrupted_step()
    steps(agent, Workspace(), 0, 2)  # t=0 replaced both workers, which owed an answer
    interrupted_step()
    start = time.monotonic()
    agent.close()  # the workers still owe an answer: stopped at once
    agent.close()
    assert time.monotonic() - start < 10


def test_async_rows_match_sync_rows_with_no_autoreset() -> None:
    """ENV-7, ENV-13: no action reaches a done env without autoreset, as in the sync loop."""
    rows = []
    for backend in ("sync", "async"):
        with ParallelGymAgent(
            make_env, 2, {"env_name": "CartPole-v1", "autoreset": False}, backend=backend
        ) as agent:
            agent.seed(1)
            ws = run_cartpole(agent, 60)
            rows.append({name: ws[name].clone() for name in ws.variables})
    for name in rows[0]:
        assert torch.equal(rows[0][name], rows[1][name]), name


# --------------------------------------------------------------- the worker's loop, in-process
class FakeConn:
    """A worker's end of the pipe: scripted commands in, answers out (pickled, as a real
    connection does); EOF after the commands; ``broken`` makes every send fail."""

    def __init__(self, commands: list[Any], broken: bool = False) -> None:
        self.commands = list(commands)
        self.answers: list[Any] = []
        self.broken = broken
        self.closed = False

    def recv(self) -> Any:
        if not self.commands:
            raise EOFError
        return self.commands.pop(0)

    def send(self, message: Any) -> None:
        data = pickle.dumps(message)
        if self.broken:
            raise BrokenPipeError
        self.answers.append(pickle.loads(data))

    def close(self) -> None:
        self.closed = True


def serve(commands: list[Any], factory: Any, broken: bool = False) -> list[Any]:
    """Run the worker's entry point here over ``commands``; its answers."""
    conn = FakeConn(commands, broken)
    previous = signal.getsignal(signal.SIGINT)
    try:
        backends._worker_main(conn, factory, {})  # type: ignore[arg-type]
    finally:
        signal.signal(signal.SIGINT, previous)
    assert conn.closed
    return conn.answers


class BadAction(Scripted):
    def step(self, action: Any) -> Any:
        if action == "boom":
            raise ValueError("bad action")
        return super().step(action)


def test_worker_loop_answers_each_command() -> None:
    """The pipe protocol: ready, reset, step (info dropped), errors, close."""
    answers = serve(
        [("reset", 5), ("step", 1), ("step", "boom"), ("close", None), ("step", 1)], BadAction
    )
    assert [a[0] for a in answers] == ["ok", "ok", "ok", "error", "ok"]
    assert answers[0][1][2] is True  # the autoreset mark
    assert answers[2][1][4] == {}
    error = pickle.loads(answers[3][1])
    assert isinstance(error, ValueError) and "worker traceback" in answers[3][2]


def test_worker_loop_edge_cases() -> None:
    """A factory error, a non-env, odd results passed on as they are, an unpicklable result
    and exception, the agent gone (EOF, broken pipe)."""
    assert serve([], lambda: 3)[0][0] == "error"  # not a gymnasium env

    class Unpicklable(Exception):
        def __reduce__(self) -> Any:
            raise TypeError("no pickling")

    class Odd(Scripted):
        def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
            return "odd"

        def step(self, action: Any) -> Any:
            if action == 3:
                raise Unpicklable("x")
            return (lambda: None) if action == 2 else "odd"

    answers = serve([("reset", None), ("step", 0), ("step", 2), ("step", 3)], Odd)
    assert answers[1] == ("ok", "odd") and answers[2] == ("ok", "odd")
    assert answers[3][0] == "error" and pickle.loads(answers[3][1]).__class__ is not None
    assert answers[4][0] == "error" and answers[4][1] is None and "Unpicklable" in answers[4][2]
    assert serve([("reset", None)], Odd, broken=True) == []  # cannot answer: no crash


def test_unpickled_errors() -> None:
    summary = "ValueError: x"
    assert isinstance(backends._unpickled_error(None, summary), RuntimeError)
    assert isinstance(backends._unpickled_error(b"not a pickle", summary), RuntimeError)
    assert isinstance(backends._unpickled_error(pickle.dumps(3), summary), RuntimeError)
    assert isinstance(backends._unpickled_error(pickle.dumps(KeyError("k")), summary), KeyError)


def test_a_reward_beyond_float_range_rounds_to_infinity() -> None:
    """ENV-21, ENV-4: a Python int reward too large for float() is the inf it rounds to."""
    assert backends._reward(10**400, 0, 1) == math.inf
    assert backends._reward(-(10**400), 0, 1) == -math.inf
    assert backends._reward(2**1023, 0, 1) == float(2**1023)
