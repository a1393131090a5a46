"""ParallelGymAgent and make_env: spec/env-agent.md (ENV-n), determinism.md (DET-n), TR-10."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from bbrl_reference import (
    ACTION,
    ENV_CUMULATED_REWARD,
    ENV_DONE,
    ENV_OBS,
    ENV_REWARD,
    ENV_TERMINATED,
    ENV_TIMESTEP,
    ENV_TRUNCATED,
    Agent,
    Agents,
    InvalidStateError,
    ParallelGymAgent,
    TemporalAgent,
    Workspace,
    make_env,
)
from gymnasium import spaces

LENGTHS = {0: 3, 1: 2, 2: 4}


class CountingEnv(gym.Env[Any, Any]):
    """obs = (env id, episode, step); reward = 10 * episode + step; odd episodes truncate.

    Episode lengths per env id come from LENGTHS; every action received is logged.
    """

    def __init__(self, env_id: int, autoreset: bool = True) -> None:
        self.env_id = env_id
        self.length = LENGTHS[env_id]
        self.observation_space = spaces.Box(0, 1000, shape=(3,), dtype=np.int64)
        self.action_space = spaces.Discrete(5)
        self.episode = -1
        self.step_count = 0
        self.actions: list[tuple[int, int, int]] = []  # (episode, step, action)
        self.seeds: list[int | None] = []
        self.sent_types: list[object] = []  # the action objects themselves
        self.bbrl_autoreset = autoreset

    def _obs(self) -> np.ndarray:
        return np.array([self.env_id, self.episode, self.step_count], dtype=np.int64)

    def close(self) -> None:
        self.closed = True

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        self.seeds.append(seed)
        self.episode += 1
        self.step_count = 0
        return self._obs(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.actions.append((self.episode, self.step_count, int(action)))
        self.sent_types.append(action)
        self.step_count += 1
        end = self.step_count >= self.length
        odd = self.episode % 2 == 1
        return (
            self._obs(),
            float(10 * self.episode + self.step_count),
            end and not odd,
            end and odd,
            {},
        )


class Counter:
    """make_env_fn that numbers the envs it builds."""

    def __init__(self, autoreset: bool) -> None:
        self.autoreset = autoreset
        self.built: list[CountingEnv] = []

    def __call__(self) -> CountingEnv:
        env = CountingEnv(len(self.built), self.autoreset)
        self.built.append(env)
        return env


class ActionAgent(Agent):
    """Writes action[t, b] = (t + b) % 5."""

    def forward(self, t: int, **kwargs: object) -> None:
        self.set((ACTION, t), (t + torch.arange(3)) % 5)


def run(autoreset: bool, steps: int = 9) -> tuple[Workspace, Counter]:
    maker = Counter(autoreset)
    env_agent = ParallelGymAgent(maker, 3)
    ws = Workspace()
    TemporalAgent(Agents(env_agent, ActionAgent()))(ws, n_steps=steps)
    return ws, maker


def test_builds_envs_in_order_and_writes_all_variables() -> None:
    """ENV-1, ENV-2: one env per make_env_fn() call, env b the b-th; all variables, dtypes."""
    ws, maker = run(True, steps=4)
    assert [e.env_id for e in maker.built] == [0, 1, 2]
    assert ws[ENV_OBS][0, :, 0].tolist() == [0, 1, 2]
    want = {
        ENV_OBS: ((4, 3, 3), torch.int64),
        ENV_REWARD: ((4, 3), torch.float32),
        ENV_DONE: ((4, 3), torch.bool),
        ENV_TERMINATED: ((4, 3), torch.bool),
        ENV_TRUNCATED: ((4, 3), torch.bool),
        ENV_CUMULATED_REWARD: ((4, 3), torch.float32),
        ENV_TIMESTEP: ((4, 3), torch.int64),
    }
    for name, (shape, dtype) in want.items():
        assert (tuple(ws[name].shape), ws[name].dtype) == (shape, dtype), name


def expected_rows(env_id: int, steps: int, autoreset: bool) -> list[tuple[Any, ...]]:
    """ENV-3..ENV-7 model of one env: (ep, step, reward, done, term, trunc, cumulated, ts)."""
    length = LENGTHS[env_id]
    rows: list[tuple[Any, ...]] = [(0, 0, 0.0, False, False, False, 0.0, 0)]
    ep, step, cum = 0, 0, 0.0
    for _ in range(1, steps):
        prev = rows[-1]
        if prev[3]:
            if not autoreset:
                rows.append((*prev[:2], 0.0, *prev[3:]))
                continue
            ep, step, cum = ep + 1, 0, 0.0
            rows.append((ep, 0, 0.0, False, False, False, 0.0, 0))
            continue
        step += 1
        r = float(10 * ep + step)
        cum += r
        end = step >= length
        rows.append((ep, step, r, end, end and ep % 2 == 0, end and ep % 2 == 1, cum, step))
    return rows


def observed_rows(ws: Workspace, b: int) -> list[tuple[Any, ...]]:
    obs = ws[ENV_OBS][:, b]
    return [
        (
            int(obs[t, 1]),
            int(obs[t, 2]),
            float(ws[ENV_REWARD][t, b]),
            bool(ws[ENV_DONE][t, b]),
            bool(ws[ENV_TERMINATED][t, b]),
            bool(ws[ENV_TRUNCATED][t, b]),
            float(ws[ENV_CUMULATED_REWARD][t, b]),
            int(ws[ENV_TIMESTEP][t, b]),
        )
        for t in range(ws.time_size())
    ]


@pytest.mark.parametrize("autoreset", [True, False])
def test_rows_follow_the_model(autoreset: bool) -> None:
    """ENV-3..ENV-8: row by row, each env by its own episode boundaries."""
    ws, _ = run(autoreset, steps=9)
    for b in range(3):
        assert observed_rows(ws, b) == expected_rows(b, 9, autoreset), f"env {b}"


@pytest.mark.parametrize("autoreset", [True, False])
def test_actions_sent(autoreset: bool) -> None:
    """ENV-4, ENV-6, ENV-7: action[t-1, b] is sent unless env b is done at row t-1."""
    ws, maker = run(autoreset, steps=9)
    done = ws[ENV_DONE]
    obs = ws[ENV_OBS]
    for b, env in enumerate(maker.built):
        sent = [
            (int(obs[t - 1, b, 1]), int(obs[t - 1, b, 2]), (t - 1 + b) % 5)
            for t in range(1, 9)
            if not done[t - 1, b]
        ]
        assert env.actions == sent, f"env {b}"


@pytest.mark.parametrize("dtype", [torch.int32, torch.uint8, torch.bool])
def test_actions_of_other_integer_dtypes_and_from_set_full(dtype: torch.dtype) -> None:
    """ENV-4: integer and bool action rows are sent as int64 values, however they were written."""
    maker = Counter(True)
    agent = ParallelGymAgent(maker, 3)
    ws = Workspace()
    agent(ws, t=0)
    ws.set_full(ACTION, torch.tensor([[1, 0, 1]], dtype=dtype))  # no numpy view cached yet
    agent(ws, t=1)
    ws.set(ACTION, 1, torch.tensor([0, 1, 1], dtype=dtype))
    agent(ws, t=2)
    sent = [[a for _, _, a in env.actions] for env in maker.built]
    assert sent == [[1, 0], [0, 1], [1, 1]]
    assert all(isinstance(a, np.int64) for env in maker.built for a in env.sent_types)


def test_uint64_actions_beyond_int64_are_out_of_range() -> None:
    """ENV-23: a uint64 action of 2**64 - 1 is refused, not wrapped to the int64 -1."""
    agent = ParallelGymAgent(Counter(True), 2)
    ws = Workspace()
    agent(ws, t=0)
    ws.set_full(ACTION, torch.tensor([[1, 2**64 - 1]], dtype=torch.uint64))
    with pytest.raises(ValueError, match="18446744073709551615"):
        agent(ws, t=1)
    ws.set_full(ACTION, torch.tensor([[1, 0]], dtype=torch.uint64))
    agent(ws, t=1)


def _two_epochs(disturb: bool) -> tuple[Workspace, list[tuple[torch.Tensor, torch.Tensor]]]:
    """Two 20-step epochs joined by copy_n_last_steps(1); ``disturb`` changes the buffers."""
    agent = Agents(ParallelGymAgent(Counter(True), 3), ActionAgent())
    ws = Workspace()
    held = []
    for t in range(20):
        agent(ws, t=t)
        if disturb and t == 5:
            held.append((ws[ENV_OBS], ws[ENV_OBS].clone()))  # shared: the next write copies
        if disturb and t == 9:
            ws.set_full(ENV_REWARD, ws[ENV_REWARD] + 0)  # replaced by an equal variable
        if disturb and t == 12:  # a value with grad: the variable becomes tracked
            zero = torch.zeros((), requires_grad=True)
            ws.set(ENV_CUMULATED_REWARD, 12, ws.get(ENV_CUMULATED_REWARD, 12) + zero)
    if disturb:
        ws.zero_grad()
        held += [(ws[name], ws[name].clone()) for name in ws.variables]  # all shared
    ws.copy_n_last_steps(1)  # copies the shared buffers before writing
    for t in range(1, 20):
        agent(ws, t=t)
    return ws, held


def test_rows_stay_right_when_the_buffers_change_between_steps() -> None:
    """WS-6, WS-10, WS-11, WS-15: the env agent's cached row checks follow buffer changes.

    Between steps the buffers are shared (get_full), replaced (set_full), grown past their
    first capacity, made tracked and detached again, and copied by copy_n_last_steps; every
    row must equal an undisturbed run's, and tensors read earlier must not change.
    """
    plain, _ = _two_epochs(disturb=False)
    ws, held = _two_epochs(disturb=True)
    for name in plain.variables:
        assert torch.equal(ws[name], plain[name]), name
    for view, copy in held:
        assert torch.equal(view, copy)


def test_new_rollout_at_t0_restarts() -> None:
    """ENV-14: a call at t=0 resets every env and restarts cumulated reward and timestep."""
    maker = Counter(False)
    agent = TemporalAgent(Agents(ParallelGymAgent(maker, 3), ActionAgent()))
    agent(Workspace(), n_steps=6)
    ws = Workspace()
    agent(ws, n_steps=3)
    assert ws[ENV_TIMESTEP][0].tolist() == [0, 0, 0]
    assert ws[ENV_CUMULATED_REWARD][0].tolist() == [0.0, 0.0, 0.0]
    assert ws[ENV_OBS][0, :, 1].tolist() == [1, 1, 1]  # second episode of every env
    assert not bool(ws[ENV_DONE][0].any())


def test_step_before_reset_and_missing_action() -> None:
    """ENV-15, ERR-8, ERR-7: t>0 first is RuntimeError; no action KeyError; bad batch ValueError."""
    agent = ParallelGymAgent(Counter(True), 3)
    ws = Workspace()
    with pytest.raises(InvalidStateError):
        agent(ws, t=1)
    agent(ws, t=0)
    with pytest.raises(KeyError, match="'action'"):
        agent(ws, t=1)
    narrow = Workspace()
    narrow.set(ACTION, 0, torch.zeros(2, dtype=torch.int64))
    with pytest.raises(ValueError, match="'action'"):
        agent(narrow, t=1)
    ws2 = Workspace()
    agent(ws2, t=0)
    ws2.set(ACTION, 0, torch.zeros(3))
    with pytest.raises(TypeError, match="integer"):
        agent(ws2, t=1)


def test_constructor_errors() -> None:
    """ERR-7: num_envs < 1 and negative seeds are ValueError; other bad arguments raise too."""
    with pytest.raises(ValueError):
        ParallelGymAgent(Counter(True), 0)
    with pytest.raises(ValueError):
        ParallelGymAgent(Counter(True), 1).seed(-1)
    with pytest.raises(ValueError, match="backend"):
        ParallelGymAgent(Counter(True), 1, backend="threads")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ParallelGymAgent("CartPole-v1", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"gymnasium\.Env"):
        ParallelGymAgent(lambda: object(), 1)  # type: ignore[arg-type, return-value]
    mixed = iter([CountingEnv(0, True), CountingEnv(1, False)])
    with pytest.raises(ValueError, match="autoreset"):
        ParallelGymAgent(lambda: next(mixed), 2)


def test_dtypes_of_spaces() -> None:
    """ENV-9, ENV-10, ENV-11: float Box -> float32, uint8 kept, Discrete int64 [B], Dict split."""

    class SpaceEnv(gym.Env[Any, Any]):
        def __init__(self, obs_space: gym.Space[Any], act_space: gym.Space[Any]) -> None:
            self.observation_space = obs_space
            self.action_space = act_space
            self.received: list[Any] = []

        def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
            super().reset(seed=seed)
            return self.observation_space.sample(), {}

        def step(self, action: Any) -> Any:
            self.received.append(action)
            return self.observation_space.sample(), 1.0, False, False, {}

    cases = [
        (spaces.Box(-1, 1, (2,), np.float64), ENV_OBS, (2, 2), torch.float32),
        (spaces.Box(0, 255, (2, 2), np.uint8), ENV_OBS, (2, 2, 2), torch.uint8),
        (spaces.Box(0, 1, (3,), np.bool_), ENV_OBS, (2, 3), torch.bool),  # type: ignore[arg-type]
        (spaces.Discrete(4), ENV_OBS, (2,), torch.int64),
    ]
    for space, name, shape, dtype in cases:
        agent = ParallelGymAgent(lambda s=space: SpaceEnv(s, spaces.Discrete(2)), 2)
        ws = Workspace()
        agent(ws, t=0)
        assert (ws.get(name, 0).shape, ws.get(name, 0).dtype) == (shape, dtype), space
    dict_space = spaces.Dict(
        {
            "pos": spaces.Box(-1, 1, (2,), np.float32),
            "inner": spaces.Dict({"k": spaces.Discrete(3)}),
        }
    )
    built: list[SpaceEnv] = []

    def make_dict_env() -> SpaceEnv:
        built.append(SpaceEnv(dict_space, spaces.Box(-1, 1, (2,), np.float32)))
        return built[-1]

    agent = ParallelGymAgent(make_dict_env, 2)
    ws = Workspace()
    agent(ws, t=0)
    ws.set(ACTION, 0, torch.tensor([[0.5, -0.5], [0.25, 0.0]], dtype=torch.float64))
    agent(ws, t=1)
    assert set(ws.keys()) >= {f"{ENV_OBS}/pos", f"{ENV_OBS}/inner/k"} and ENV_OBS not in ws
    assert ws[f"{ENV_OBS}/inner/k"].dtype == torch.int64
    assert built[1].received[0].dtype == np.float32
    assert built[1].received[0].tolist() == [0.25, 0.0]
    w = torch.nn.Parameter(torch.tensor(0.5))
    ws.set(ACTION, 1, w * torch.ones(2, 2, dtype=torch.float64))  # with grad: tracked
    agent(ws, t=2)
    assert built[0].received[1].tolist() == [0.5, 0.5]
    with pytest.raises(TypeError, match="Discrete or a 1-D Box"):
        agent.get_obs_and_actions_sizes()
    with pytest.raises(TypeError):
        ParallelGymAgent(lambda: SpaceEnv(spaces.Text(3), spaces.Discrete(2)), 1)
    colliding = spaces.Dict({"inner/k": spaces.Discrete(3), "inner": dict_space["inner"]})
    with pytest.raises(ValueError, match="one variable each"):  # ENV-10: one name twice
        ParallelGymAgent(lambda: SpaceEnv(colliding, spaces.Discrete(2)), 1)


def test_cartpole_make_env_and_sizes() -> None:
    """ENV-1, ENV-12: make_env marks the env; sizes are python ints (4, 2)."""
    env = make_env("CartPole-v1", autoreset=True)
    assert vars(env)["bbrl_autoreset"] is True
    env.close()
    with ParallelGymAgent(make_env, 2, {"env_name": "CartPole-v1"}) as agent:
        assert agent.autoreset is False
        sizes = agent.get_obs_and_actions_sizes()
        assert sizes == (4, 2) and all(type(s) is int for s in sizes)
    with pytest.raises(RuntimeError):
        agent(Workspace(), t=0)
    with pytest.raises(TypeError):
        make_env(3)  # type: ignore[arg-type]


def test_gymnasium_autoreset_wrapper_counts_as_autoreset() -> None:
    """ENV-1 (compatibility): an env wrapped in gymnasium's Autoreset is an autoreset env."""
    agent = ParallelGymAgent(lambda: gym.wrappers.Autoreset(gym.make("CartPole-v1")), 1)
    assert agent.autoreset is True
    agent.close()
    agent.close()  # idempotent


def cartpole(seed: int | None, rollouts: int = 2, steps: int = 30) -> list[torch.Tensor]:
    """First observations and obs of successive rollouts with fixed actions."""
    agent = ParallelGymAgent(lambda: make_env("CartPole-v1", autoreset=True), 3)
    if seed is not None:
        agent.seed(seed)

    class Fixed(Agent):
        def forward(self, t: int, **kwargs: object) -> None:
            self.set((ACTION, t), torch.tensor([t % 2, (t // 2) % 2, 1]))

    out = []
    t_agent = TemporalAgent(Agents(agent, Fixed()))
    for _ in range(rollouts):
        ws = Workspace()
        t_agent(ws, n_steps=steps)
        out.append(ws[ENV_OBS].clone())
    agent.close()
    return out


def test_seeding_properties() -> None:
    """DET-1..DET-4: reproducible, distinct per env, new per rollout, seed 0 and s+1 differ."""
    a, b = cartpole(0), cartpole(0)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))  # DET-1, DET-4 (s=0)
    first = a[0][0]
    assert not torch.equal(first[0], first[1]) and not torch.equal(first[1], first[2])  # DET-2
    assert not torch.equal(a[0][0], a[1][0])  # DET-3
    c = cartpole(1)
    assert not torch.equal(a[0][0], c[0][0]) and not torch.equal(a[1][0], c[1][0])  # DET-4
    assert not torch.equal(cartpole(None, 1)[0][0], cartpole(None, 1)[0][0])  # fresh entropy


def test_seed_formula_and_unseeded_autoresets() -> None:
    """DET-5: reset seeds come from SeedSequence(s, spawn_key=(r,)); autoresets pass None."""
    maker = Counter(True)
    agent = ParallelGymAgent(maker, 3).seed(7)
    t_agent = TemporalAgent(Agents(agent, ActionAgent()))
    t_agent(Workspace(), n_steps=6)
    t_agent(Workspace(), n_steps=2)
    for k, env in enumerate(maker.built):
        r0 = int(np.random.SeedSequence(entropy=7, spawn_key=(0,)).generate_state(3)[k])
        r1 = int(np.random.SeedSequence(entropy=7, spawn_key=(1,)).generate_state(3)[k])
        assert env.seeds[0] == r0 and env.seeds[-1] == r1
        assert all(s is None for s in env.seeds[1:-1]) and len(env.seeds) > 2


def test_no_torch_global_rng() -> None:
    """DET-6: the env agent does not draw from torch's global generator."""
    torch.manual_seed(3)
    agent = ParallelGymAgent(lambda: make_env("CartPole-v1", autoreset=True), 2)
    ws = Workspace()
    agent(ws, t=0)
    ws.set(ACTION, 0, torch.tensor([0, 1]))
    agent(ws, t=1)
    drawn = torch.rand(3)
    torch.manual_seed(3)
    assert torch.equal(drawn, torch.rand(3))
    agent.close()


def test_epoch_protocol_collects_every_transition_once() -> None:
    """TR-10: t=0 run, then epochs of copy_n_last_steps(1) + t=1 runs: each transition once."""
    maker = Counter(True)
    t_agent = TemporalAgent(Agents(ParallelGymAgent(maker, 3), ActionAgent()))
    ws = Workspace()
    seen: list[tuple[int, int, int, int]] = []  # (env, episode, step, action)
    for epoch in range(5):
        if epoch == 0:
            t_agent(ws, t=0, n_steps=5)
        else:
            ws.zero_grad()
            ws.copy_n_last_steps(1)
            t_agent(ws, t=1, n_steps=5)
        tr = ws.get_transitions()
        obs, nxt = tr[ENV_OBS][0], tr[ENV_OBS][1]
        for j in range(tr.batch_size()):
            env_id, ep, step = obs[j].tolist()
            assert nxt[j].tolist() == [env_id, ep, step + 1]  # no cross-episode pair
            seen.append((env_id, ep, step, int(tr[ACTION][0, j])))
    performed = [(e.env_id, *a) for e in maker.built for a in e.actions]
    assert sorted(seen) == sorted(performed) and len(seen) == len(set(seen))


@pytest.mark.parametrize("autoreset", [True, False])
def test_async_backend_writes_the_same_rows(autoreset: bool) -> None:
    """ENV-13: the async backend writes rows identical to the sync backend's (same seed)."""
    results = []
    for backend in ("sync", "async"):
        agent = ParallelGymAgent(
            make_env, 2, {"env_name": "CartPole-v1", "autoreset": autoreset}, backend=backend
        )
        with agent.seed(5):

            class Fixed(Agent):
                def forward(self, t: int, **kwargs: object) -> None:
                    self.set((ACTION, t), torch.tensor([t % 2, 1]))

            t_agent = TemporalAgent(Agents(agent, Fixed()))
            runs = []
            for _ in range(2):
                ws = Workspace()
                t_agent(ws, n_steps=40)
                runs.append({k: ws[k].clone() for k in ws.variables})
            results.append(runs)
    for sync_run, async_run in zip(*results, strict=True):
        assert list(sync_run) == list(async_run)
        for name in sync_run:
            assert torch.equal(sync_run[name], async_run[name]), name


def test_more_construction_checks() -> None:
    """ENV-1: all envs must share spaces; unsupported action spaces are refused."""
    built = [CountingEnv(0), CountingEnv(1)]
    envs = iter(built)

    def differing_obs() -> CountingEnv:
        env = next(envs)
        if env.env_id == 1:
            env.observation_space = spaces.Box(0, 9, shape=(4,), dtype=np.int64)
        return env

    with pytest.raises(ValueError, match="observation space"):
        ParallelGymAgent(differing_obs, 2)
    assert all(getattr(env, "closed", False) for env in built)  # nothing leaked
    envs2 = iter([CountingEnv(0), CountingEnv(1)])

    def differing_action() -> CountingEnv:
        env = next(envs2)
        if env.env_id == 1:
            env.action_space = spaces.Discrete(3)
        return env

    with pytest.raises(ValueError, match="action space"):
        ParallelGymAgent(differing_action, 2)

    def text_action() -> CountingEnv:
        env = CountingEnv(0)
        env.action_space = spaces.Text(3)
        return env

    with pytest.raises(TypeError, match="Discrete or Box"):
        ParallelGymAgent(text_action, 1)
    plain = ParallelGymAgent(lambda: gym.make("CartPole-v1"), 1)  # wrappers, no mark
    assert plain.autoreset is False
    plain.close()


def test_forward_outside_a_call_and_index_like_t() -> None:
    """AG-7, ENV-3: forward needs a bound workspace; t may be any integer type."""
    agent = ParallelGymAgent(Counter(True), 3)
    with pytest.raises(RuntimeError):
        agent.forward(t=0)
    ws = Workspace()
    agent(ws, t=np.int64(0))
    assert ws.time_size() == 1


class DictCountingEnv(CountingEnv):
    """CountingEnv with a Dict observation {"ids": (env, episode), "step": Discrete}."""

    def __init__(self, env_id: int, autoreset: bool = False) -> None:
        super().__init__(env_id, autoreset)
        self.observation_space = spaces.Dict(
            {"ids": spaces.Box(0, 1000, (2,), np.int64), "step": spaces.Discrete(10)}
        )

    def _obs(self) -> dict[str, Any]:  # type: ignore[override]
        return {"ids": np.array([self.env_id, self.episode]), "step": self.step_count}


def test_async_dict_observations_match_sync() -> None:
    """ENV-10, ENV-13: Dict observations through the async backend equal the sync rows."""
    results = []
    for backend in ("sync", "async"):
        # the async workers each build their env from a pickled copy of make_env_fn, so a
        # counter shared between calls would not number them: every env is env 0 here
        with ParallelGymAgent(DictCountingEnv, 3, {"env_id": 0}, backend=backend) as agent:
            ws = Workspace()
            TemporalAgent(Agents(agent, ActionAgent()))(ws, n_steps=7)
            results.append({k: ws[k].clone() for k in ws.variables})
    assert list(results[0]) == list(results[1])
    assert f"{ENV_OBS}/ids" in results[0] and f"{ENV_OBS}/step" in results[0]
    for name in results[0]:
        assert torch.equal(results[0][name], results[1][name]), name


def test_rows_with_a_tracked_env_variable_and_a_fresh_workspace() -> None:
    """ENV-2..ENV-6: a tracked env variable (full set path) or a new workspace at t > 0."""
    ws_ref, _ = run(True, steps=6)
    maker = Counter(True)
    env_agent = ParallelGymAgent(maker, 3)
    actor = ActionAgent()
    ws = Workspace()
    env_agent(ws, t=0)
    w = torch.nn.Parameter(torch.tensor(1.0))
    ws.set(ENV_REWARD, 0, w * torch.zeros(3))  # env/reward is now a tracked variable
    for t in range(6):
        if t > 0:
            env_agent(ws, t=t)
        actor(ws, t=t)
    for name in ws_ref.variables:
        assert torch.equal(ws[name].detach(), ws_ref[name]), name
    other = Workspace()  # a fresh workspace at t=3: rows 0..2 are zero-filled
    other.set(ACTION, 2, torch.zeros(3, dtype=torch.int64))
    env_agent(other, t=3)
    assert other[ENV_TIMESTEP].shape == (4, 3) and int(other[ENV_TIMESTEP][:3].abs().sum()) == 0
    again = Workspace()
    env_agent(again, t=0)
    env_agent(again, t=0)  # rewriting an existing row keeps the time size
    assert again.time_size() == 1
    env_agent(ws, t=0)  # a new rollout over a written workspace rewrites row 0 only
    assert ws.time_size() == 6 and ws[ENV_TIMESTEP][0].tolist() == [0, 0, 0]
