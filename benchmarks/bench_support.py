"""Shared pieces of the benchmarks: sizes, peers, data builders and the pure-torch floors.

Two modes, chosen by the environment variable ``BBRL_BENCH_FULL``:

* quick (unset, the default): small sizes; inside the normal test command with
  ``--benchmark-disable`` every benchmark body runs once and only its result is checked;
* full (``BBRL_BENCH_FULL=1``, set by ``benchmarks/run.py``): the sizes of issue 5.

A *peer* is one implementation of the same work: ``floor`` (plain torch / gymnasium code),
``reference`` (bbrl_reference), ``bbrl`` (bbrl 1.0.1), ``torchrl`` (TorchRL 0.14.1), ...
Peers that are not installed are skipped with a message saying how to install them.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace
from typing import Any

import busy_env
import gymnasium as gym
import numpy as np
import pytest
import torch
from bbrl_conformance import REQUIRED_NAMES

FULL = os.environ.get("BBRL_BENCH_FULL") == "1"

CARTPOLE = "CartPole-v1"


@dataclass(frozen=True)
class Sizes:
    """Problem sizes of one mode."""

    n_envs: int
    rollout_steps: int
    heavy_envs: int
    heavy_steps: int
    heavy_step_s: float
    T: int
    B: int
    T_curve: tuple[int, ...]
    B_curve: tuple[int, ...]
    V_curve: tuple[int, ...]
    copy_T: int
    capacity: int
    capacity_curve: tuple[int, ...]
    batch: int
    batch_curve: tuple[int, ...]
    epoch_size: int
    n_epochs: int
    epoch_capacity: int


FULL_SIZES = Sizes(
    n_envs=8,
    rollout_steps=1000,
    heavy_envs=8,
    heavy_steps=30,
    heavy_step_s=1e-3,
    T=1000,
    B=64,
    T_curve=(100, 300, 1000, 3000),
    B_curve=(16, 64, 256),
    V_curve=(4, 16, 64),
    copy_T=100,
    capacity=1_000_000,
    capacity_curve=(10_000, 100_000, 1_000_000),
    batch=256,
    batch_curve=(64, 256, 1024, 4096),
    epoch_size=100,
    n_epochs=5,
    epoch_capacity=100_000,
)

QUICK_SIZES = Sizes(
    n_envs=8,
    rollout_steps=20,
    heavy_envs=2,
    heavy_steps=3,
    heavy_step_s=1e-4,
    T=40,
    B=8,
    T_curve=(10, 40),
    B_curve=(4, 8),
    V_curve=(4, 16, 64),
    copy_T=5,
    capacity=2048,
    capacity_curve=(1024, 2048),
    batch=256,
    batch_curve=(16, 256),
    epoch_size=10,
    n_epochs=2,
    epoch_capacity=1000,
)

SIZES = FULL_SIZES if FULL else QUICK_SIZES

#: The CartPole transition of issue 5: name -> (trailing shape, dtype); 60 bytes per pair.
TRANSITION_VARS: dict[str, tuple[tuple[int, ...], torch.dtype]] = {
    "env/env_obs": ((4,), torch.float32),
    "action": ((), torch.int64),
    "env/reward": ((), torch.float32),
    "env/done": ((), torch.bool),
    "env/terminated": ((), torch.bool),
}


def bytes_per_transition() -> int:
    """Raw bytes of one ``[2, ...]`` transition of :data:`TRANSITION_VARS` (60)."""
    total = 0
    for shape, dtype in TRANSITION_VARS.values():
        total += 2 * int(np.prod(shape, dtype=np.int64)) * torch.empty((), dtype=dtype).itemsize
    return total


# ----------------------------------------------------------------------------- what run.py reads
# run.py finds everything it reports through the benchmarks' extra_info, never through group
# names: a new benchmark file that calls describe() is picked up by the tables, the headline
# chart, the scaling charts and the targets without any edit to run.py.


def ratio_target(name: str, limit: float, peer: str = "reference") -> dict[str, Any]:
    """Target: median over runs of ``peer`` / the group's floor, at most ``limit``."""
    return {"name": name, "kind": "ratio", "peer": peer, "limit": limit, "at_most": True}


def paired_target(
    name: str, slow: str, fast: str, at_least: float | None, *, at_most: float | None = None
) -> dict[str, Any]:
    """Target: median over runs of ``median(slow) / median(fast)`` in the group, at least
    ``at_least``, or at most ``at_most`` when that is given (both None: for information)."""
    return {
        "name": name,
        "kind": "paired",
        "slow": slow,
        "fast": fast,
        "limit": at_least if at_most is None else at_most,
        "at_most": at_most is not None,
    }


def slope_target(
    name: str, curve: str, peer: str, minus: str | None = None, limit: float | None = None
) -> dict[str, Any]:
    """Target: log-log slope of ``peer``'s points on the curve titled ``curve`` (minus the
    slope of ``minus`` on the same curve), at most ``limit`` (None: shown for information)."""
    return {
        "name": name,
        "kind": "slope",
        "curve": curve,
        "peer": peer,
        "minus": minus,
        "limit": limit,
        "at_most": True,
    }


def extra_target(
    name: str, key: str, limit: float | None, peer: str = "reference"
) -> dict[str, Any]:
    """Target: the value ``peer`` recorded as ``extra_info[key]``, at most ``limit``."""
    return {
        "name": name,
        "kind": "extra",
        "peer": peer,
        "key": key,
        "limit": limit,
        "at_most": True,
    }


def curve(figure: str, title: str, x: str) -> dict[str, Any]:
    """A point of the line of this benchmark's peer on panel ``title`` of chart ``figure``,
    at x = ``extra_info[x]``."""
    return {"figure": figure, "title": title, "x": x}


def describe(
    benchmark: Any,
    *,
    headline: str | None = None,
    targets: list[dict[str, Any]] | tuple[()] = (),
    curves: list[dict[str, Any]] | tuple[()] = (),
) -> None:
    """Declare what run.py reports about this benchmark's group (stored in ``extra_info``):
    ``headline``, the label of the group in the headline ratios chart; ``targets`` it checks
    (``ratio_target`` ...); ``curves`` this point belongs to (``curve``)."""
    if headline is not None:
        benchmark.extra_info["headline"] = headline
    if targets:
        benchmark.extra_info["targets"] = list(targets)
    if curves:
        benchmark.extra_info["curves"] = list(curves)


# ----------------------------------------------------------------------------- peers
_INSTALL_HINT = {
    "bbrl": "bbrl 1.0.1 is not installed (pip install --no-deps bbrl==1.0.1)",
    "torchrl": "torchrl is not installed (pip install -c constraints.txt -r "
    "benchmarks/requirements.txt)",
    "reference": "bbrl_reference is not importable (pip install -c constraints.txt -e .)",
}

_API_NAMES = REQUIRED_NAMES


def load_api(peer: str, *needed: str) -> Any:
    """The bbrl-shaped API of ``peer`` (``reference`` or ``bbrl``), or skip the test.

    ``needed`` names the classes the test uses (all of them when empty).
    """
    if peer == "reference":
        mod = pytest.importorskip("bbrl_reference", reason=_INSTALL_HINT["reference"])
        missing = [n for n in needed or _API_NAMES if not hasattr(mod, n)]
        if missing:
            pytest.skip(f"bbrl_reference does not export {', '.join(missing)} yet")
        names = [n for n in _API_NAMES if hasattr(mod, n)]
        return SimpleNamespace(**{n: getattr(mod, n) for n in names}, peer=peer)
    if peer == "bbrl":
        pytest.importorskip("bbrl", reason=_INSTALL_HINT["bbrl"])
        from bbrl.agents import Agent, Agents, TemporalAgent
        from bbrl.agents.gymnasium import ParallelGymAgent, make_env
        from bbrl.utils.replay_buffer import ReplayBuffer
        from bbrl.workspace import Workspace

        return SimpleNamespace(
            Workspace=Workspace,
            Agent=Agent,
            Agents=Agents,
            TemporalAgent=TemporalAgent,
            ParallelGymAgent=ParallelGymAgent,
            make_env=make_env,
            ReplayBuffer=ReplayBuffer,
            peer=peer,
        )
    raise ValueError(f"load_api: peer: expected 'reference' or 'bbrl', got {peer!r}")


def import_torchrl() -> Any:
    """The ``torchrl.data`` module, or skip the test."""
    pytest.importorskip("tensordict", reason=_INSTALL_HINT["torchrl"])
    pytest.importorskip("torchrl", reason=_INSTALL_HINT["torchrl"])
    import torchrl.data

    return torchrl.data


def env_agent(api: Any, env_name: str, num_envs: int, seed: int, **kwargs: Any) -> Any:
    """``ParallelGymAgent`` of ``api`` over ``num_envs`` autoreset envs, seeded.

    The two peers take the env factory differently: the reference takes a zero-argument
    callable, bbrl calls ``make_env_fn(**make_env_args)``.
    """
    if env_name == busy_env.BUSY_ENV:
        factory = busy_env.factory(SIZES.heavy_step_s, api.make_env)
    else:
        factory = partial(api.make_env, env_name, autoreset=True)
    if api.peer == "bbrl":
        agent = api.ParallelGymAgent(factory, num_envs, make_env_args={}, **kwargs)
    else:
        agent = api.ParallelGymAgent(factory, num_envs, **kwargs)
    agent.seed(seed)
    return agent


def random_actor(api: Any, n_actions: int) -> Any:
    """An ``api.Agent`` writing uniform random actions at each t (the notebook's RandomAgent)."""

    class RandomActor(api.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kwargs: Any) -> None:
            obs = self.get(("env/env_obs", t))
            self.set(("action", t), torch.randint(0, n_actions, (obs.shape[0],)))

    return RandomActor()


def rollout_agent(
    api: Any, env_name: str, num_envs: int, seed: int = 0, **kwargs: Any
) -> tuple[Any, Any]:
    """``(TemporalAgent(Agents(env, RandomActor)), env)`` as in the seed notebook."""
    env = env_agent(api, env_name, num_envs, seed, **kwargs)
    return api.TemporalAgent(api.Agents(env, random_actor(api, 2))), env


# ----------------------------------------------------------------------------- envs
def gym_factory(env_name: str) -> Callable[[], gym.Env[Any, Any]]:
    """Zero-argument factory of ``env_name`` (CartPole, or the busy env at the mode's cost)."""
    if env_name == busy_env.BUSY_ENV:
        return busy_env.factory(SIZES.heavy_step_s)
    return partial(gym.make, env_name)


class RawLoop:
    """Floor of a rollout: a python loop over single gymnasium envs with manual reset.

    ``run(steps)`` resets every env, then makes ``steps - 1`` vector steps with precomputed
    random actions: the env work of a ``steps``-row rollout, with no storage at all.
    """

    def __init__(self, env_name: str, num_envs: int, steps: int) -> None:
        self.envs = [gym_factory(env_name)() for _ in range(num_envs)]
        rng = np.random.default_rng(0)
        self.actions: list[list[int]] = rng.integers(0, 2, (steps, num_envs)).tolist()
        self.steps = steps
        self.rounds = 0

    def run(self) -> int:
        """One rollout; returns the number of env steps made."""
        self.rounds += 1
        envs = self.envs
        for k, env in enumerate(envs):
            env.reset(seed=self.rounds * len(envs) + k)
        n = 0
        for t in range(self.steps - 1):
            row = self.actions[t]
            for k, env in enumerate(envs):
                _, _, term, trunc, _ = env.step(row[k])
                n += 1
                if term or trunc:
                    env.reset()
        return n

    def close(self) -> None:
        for env in self.envs:
            env.close()


# ----------------------------------------------------------------------------- workspace data
def make_source(T: int, B: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """``[T, B, ...]`` tensors of :data:`TRANSITION_VARS`; done ~ Bernoulli(1/22) like CartPole."""
    g = torch.Generator().manual_seed(seed)
    return {
        "env/env_obs": torch.randn(T, B, 4, generator=g),
        "action": torch.randint(0, 2, (T, B), generator=g),
        "env/reward": torch.ones(T, B),
        "env/done": torch.rand(T, B, generator=g) < 1 / 22,
        "env/terminated": torch.rand(T, B, generator=g) < 1 / 44,
    }


def fill_rowwise(ws: Any, data: dict[str, torch.Tensor]) -> Any:
    """Fill ``ws`` the way agents do: one ``set(name, t, row)`` per variable and step."""
    T = next(iter(data.values())).shape[0]
    for t in range(T):
        for name, value in data.items():
            ws.set(name, t, value[t].clone())
    return ws


def floor_transitions(
    data: dict[str, torch.Tensor], filter_key: str = "env/done"
) -> dict[str, torch.Tensor]:
    """Pure-torch ``get_transitions``: one ``nonzero``, one ``index_select`` per variable."""
    done = data[filter_key]
    B = done.shape[1]
    keep = torch.logical_not(done[:-1]).reshape(-1).nonzero().squeeze(1)
    index = torch.cat((keep, keep + B))
    n = keep.shape[0]
    out = {}
    for name, value in data.items():
        flat = value.reshape(-1, *value.shape[2:])
        out[name] = flat.index_select(0, index).view(2, n, *value.shape[2:])
    return out


def make_transition_batches(n: int, count: int = 8) -> list[dict[str, torch.Tensor]]:
    """``count`` distinct ``[2, n, ...]`` transition batches (rotated through to defeat caches)."""
    batches = []
    for seed in range(count):
        g = torch.Generator().manual_seed(seed)
        batch = {}
        for name, (shape, dtype) in TRANSITION_VARS.items():
            if dtype == torch.float32:
                batch[name] = torch.randn(2, n, *shape, generator=g)
            elif dtype == torch.int64:
                batch[name] = torch.randint(0, 2, (2, n, *shape), generator=g)
            else:
                batch[name] = torch.rand(2, n, *shape, generator=g) < 0.05
        batches.append(batch)
    return batches


def to_workspace(api: Any, batch: dict[str, torch.Tensor]) -> Any:
    """A workspace of ``api`` holding ``batch`` (built with ``set_full``)."""
    ws = api.Workspace()
    for name, value in batch.items():
        ws.set_full(name, value)
    return ws


def to_tensordict(batch: dict[str, torch.Tensor]) -> Any:
    """The TorchRL layout of ``batch``: element 0 at the root, element 1 under ``"next"``."""
    from tensordict import TensorDict

    n = next(iter(batch.values())).shape[1]
    root = {name.split("/")[-1]: value[0] for name, value in batch.items()}
    nxt = {name.split("/")[-1]: value[1] for name, value in batch.items()}
    return TensorDict({**root, "next": nxt}, batch_size=[n])


# ----------------------------------------------------------------------------- replay floors
class IndexedFloorRB:
    """Floor replay buffer: one preallocated ``[2, capacity, ...]`` tensor per variable.

    ``put`` is a ring slice copy per variable (two when it wraps); ``sample`` draws indices with
    ``torch.randint`` and gathers each variable with ``index_select`` into ``[2, n, ...]``.
    """

    def __init__(
        self,
        capacity: int,
        schema: dict[str, tuple[tuple[int, ...], torch.dtype]] | None = None,
    ) -> None:
        self.capacity = capacity
        self.store = {
            name: torch.zeros(2, capacity, *shape, dtype=dtype)
            for name, (shape, dtype) in (schema or TRANSITION_VARS).items()
        }
        self.pos = 0
        self.count = 0

    def put(self, batch: dict[str, torch.Tensor]) -> None:
        n = next(iter(batch.values())).shape[1]
        p, cap, store = self.pos, self.capacity, self.store
        first = min(n, cap - p)
        if first == n:  # no wrap-around: one slice copy per variable
            for name, value in batch.items():
                store[name][:, p : p + n].copy_(value)
        else:
            for name, value in batch.items():
                store[name][:, p:].copy_(value[:, :first])
                store[name][:, : n - first].copy_(value[:, first:])
        self.pos = (p + n) % cap
        self.count = min(self.count + n, cap)

    def size(self) -> int:
        return self.count

    def sample(self, n: int) -> dict[str, torch.Tensor]:
        idx = torch.randint(0, self.count, (n,))
        return {name: buf.index_select(1, idx) for name, buf in self.store.items()}


class PackedFloorRB:
    """Physical floor: every transition's 60 bytes in one ``uint8`` row of a ``[capacity, 60]``.

    ``put`` is one slice copy of pre-packed rows, ``sample`` one ``index_select``: a single
    copy / gather of the same bytes, with no per-variable work and no unpacking.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.store = torch.zeros(capacity, bytes_per_transition(), dtype=torch.uint8)
        self.pos = 0
        self.count = 0

    @staticmethod
    def pack(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``[n, 60]`` uint8 rows of ``batch`` (done once, outside any timing)."""
        n = next(iter(batch.values())).shape[1]
        parts = [
            batch[name].transpose(0, 1).reshape(n, -1).contiguous().view(torch.uint8)
            for name in TRANSITION_VARS
        ]
        return torch.cat(parts, dim=1)

    def put(self, rows: torch.Tensor) -> None:
        n, p, cap = rows.shape[0], self.pos, self.capacity
        first = min(n, cap - p)
        self.store[p : p + first].copy_(rows[:first])
        if first < n:
            self.store[: n - first].copy_(rows[first:])
        self.pos = (p + n) % cap
        self.count = min(self.count + n, cap)

    def size(self) -> int:
        return self.count

    def sample(self, n: int) -> torch.Tensor:
        return self.store.index_select(0, torch.randint(0, self.count, (n,)))


# ----------------------------------------------------------------------------- memory
def held_tensor_bytes(root: object) -> int:
    """Bytes of the distinct tensor storages and numpy buffers reachable from ``root``.

    Walks ``gc.get_referents`` through containers and instance attributes, skipping modules,
    classes and functions, and counts each storage once.
    """
    seen: set[int] = set()
    storages: dict[int, int] = {}
    stack: list[object] = [root]
    skip = (type, type(os), type(len), type(held_tensor_bytes))
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        if isinstance(obj, torch.Tensor):
            storage = obj.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
            continue
        if isinstance(obj, np.ndarray):
            base = obj if obj.base is None else obj.base
            if isinstance(base, np.ndarray):
                storages[base.__array_interface__["data"][0]] = base.nbytes
            continue
        stack.extend(gc.get_referents(obj))
    return sum(storages.values())
