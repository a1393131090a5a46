"""The seed notebook's epoch loop end to end, in its steady state.

Each timed call runs ``n_epochs`` epochs of: ``zero_grad``, ``copy_n_last_steps(1)``, collect
``epoch_size`` steps of 8 CartPole envs from ``t=1`` with a random agent, ``get_transitions``,
``put`` into a replay buffer and ``get_shuffled(256)``. The first epoch (``t=0``) runs before
timing. The floor does the same work with a python loop over gymnasium envs writing into
preallocated numpy arrays, :func:`bench_support.floor_transitions` and
:class:`bench_support.IndexedFloorRB`, with the same eight variables and next-step autoreset.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from bench_support import (
    CARTPOLE,
    SIZES,
    IndexedFloorRB,
    describe,
    floor_transitions,
    load_api,
    rollout_agent,
)

GROUP = (
    f"epoch loop {SIZES.n_envs}xCartPole epoch_size={SIZES.epoch_size} "
    f"x{SIZES.n_epochs} epochs, rb capacity={SIZES.epoch_capacity}, sample {SIZES.batch}"
)

SCHEMA: dict[str, tuple[tuple[int, ...], torch.dtype]] = {
    "env/env_obs": ((4,), torch.float32),
    "env/reward": ((), torch.float32),
    "env/done": ((), torch.bool),
    "env/terminated": ((), torch.bool),
    "env/truncated": ((), torch.bool),
    "env/cumulated_reward": ((), torch.float32),
    "env/timestep": ((), torch.int64),
    "action": ((), torch.int64),
}


class FloorEpochs:
    """The notebook's loop as plain gymnasium + numpy + torch code (next-step autoreset)."""

    def __init__(self, num_envs: int, epoch_size: int, capacity: int) -> None:
        self.envs = [gym.make(CARTPOLE) for _ in range(num_envs)]
        self.T = epoch_size + 1  # the notebook's t=1, n_steps=epoch_size epochs
        dtypes = {name: torch.empty((), dtype=dt).numpy().dtype for name, (_, dt) in SCHEMA.items()}
        self.arrays = {
            name: np.zeros((self.T, num_envs, *shape), dtype=dtypes[name])
            for name, (shape, _) in SCHEMA.items()
        }
        self.tensors = {name: torch.from_numpy(a) for name, a in self.arrays.items()}
        self.rb = IndexedFloorRB(capacity, SCHEMA)
        self.rng = np.random.default_rng(0)
        for k, env in enumerate(self.envs):
            obs, _ = env.reset(seed=k)
            self.arrays["env/env_obs"][self.T - 1, k] = obs
        self.arrays["env/done"][self.T - 1] = False

    def epoch(self) -> dict[str, torch.Tensor]:
        a = self.arrays
        for array in a.values():  # copy_n_last_steps(1)
            array[0] = array[self.T - 1]
        obs, rew, done = a["env/env_obs"], a["env/reward"], a["env/done"]
        term, trunc, cum, ts = (
            a["env/terminated"],
            a["env/truncated"],
            a["env/cumulated_reward"],
            a["env/timestep"],
        )
        act = a["action"]
        act[0] = self.rng.integers(0, 2, len(self.envs))
        for t in range(1, self.T):
            for k, env in enumerate(self.envs):
                if done[t - 1, k]:
                    obs[t, k] = env.reset()[0]
                    rew[t, k] = cum[t, k] = ts[t, k] = 0
                    done[t, k] = term[t, k] = trunc[t, k] = False
                else:
                    o, r, te, tr, _ = env.step(int(act[t - 1, k]))
                    obs[t, k], rew[t, k], term[t, k], trunc[t, k] = o, r, te, tr
                    done[t, k] = te or tr
                    cum[t, k] = cum[t - 1, k] + r
                    ts[t, k] = ts[t - 1, k] + 1
            act[t] = self.rng.integers(0, 2, len(self.envs))
        self.rb.put(floor_transitions(self.tensors))
        return self.rb.sample(SIZES.batch)

    def run(self, n_epochs: int) -> dict[str, torch.Tensor]:
        for _ in range(n_epochs):
            out = self.epoch()
        return out


class AgentEpochs:
    """The notebook's loop verbatim on a bbrl-shaped API (the reference or bbrl 1.0.1)."""

    def __init__(self, api: Any, num_envs: int, epoch_size: int, capacity: int) -> None:
        self.agent, _ = rollout_agent(api, CARTPOLE, num_envs)
        self.ws = api.Workspace()
        self.rb = api.ReplayBuffer(max_size=capacity)
        self.epoch_size = epoch_size
        self.agent(self.ws, t=0, n_steps=epoch_size)
        self.rb.put(self.ws.get_transitions())

    def run(self, n_epochs: int) -> Any:
        for _ in range(n_epochs):
            self.ws.zero_grad()
            self.ws.copy_n_last_steps(1)
            self.agent(self.ws, t=1, n_steps=self.epoch_size)
            self.rb.put(self.ws.get_transitions())
            out = self.rb.get_shuffled(SIZES.batch)
        return out


@pytest.mark.parametrize("peer", ["floor", "reference", "bbrl"])
def test_epoch_loop(benchmark: Any, peer: str) -> None:
    torch.manual_seed(0)
    runner: FloorEpochs | AgentEpochs
    if peer == "floor":
        runner = FloorEpochs(SIZES.n_envs, SIZES.epoch_size, SIZES.epoch_capacity)
    else:
        runner = AgentEpochs(load_api(peer), SIZES.n_envs, SIZES.epoch_size, SIZES.epoch_capacity)
    benchmark.group = GROUP
    benchmark.extra_info.update(peer=peer, floor=peer == "floor")
    describe(benchmark, headline="epoch loop")
    out = benchmark(runner.run, SIZES.n_epochs)
    for name, (shape, dtype) in SCHEMA.items():
        assert out[name].shape == (2, SIZES.batch, *shape), name
        assert out[name].dtype == dtype, name
    # a sampled pair never crosses an episode end: its first element is never done
    assert not bool(out["env/done"][0].any())
    assert bool((out["env/timestep"][1] == out["env/timestep"][0] + 1).all())
