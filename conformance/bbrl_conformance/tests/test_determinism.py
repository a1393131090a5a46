"""Conformance tests of spec/determinism.md (DET): seeding of the env agent and of sampling.

CartPole-v1 (autoreset) gives real, seed-dependent initial states; the counting env logs the
seed of every reset it receives (DET-5; the seed its vector env receives, DET-8). Rollouts are
short so the module stays fast. The env agent tests run once per declared backend (ENV-16).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises
from bbrl_conformance._backends import Backend
from bbrl_conformance._clauses import clause
from bbrl_conformance.counting_env import CountingPlan, action_agent, close_agent, episodes_used

CARTPOLE = "CartPole-v1"

SETUP_SOURCE = """\
import functools
import torch
class RandomAgent(impl.Agent):
    def __init__(self, num_envs):
        super().__init__()
        self.num_envs = num_envs
    def forward(self, t, **kwargs):
        self.set(("action", t), torch.randint(0, 2, (self.num_envs,)))
def cartpole(num_envs, seed, **backend):
    env_agent = impl.ParallelGymAgent(
        functools.partial(impl.make_env, env_name="CartPole-v1", autoreset=True),
        num_envs=num_envs, **backend)
    env_agent.seed(seed)
    return env_agent
"""


def random_agent(impl: Any, num_envs: int) -> Any:
    """Writes ``torch.randint(0, 2, (num_envs,))`` (torch's global RNG) as the action."""

    class RandomAgent(impl.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kwargs: Any) -> None:
            self.set(("action", t), torch.randint(0, 2, (num_envs,)))

    return RandomAgent()


@contextlib.contextmanager
def agents(backend: Backend) -> Iterator[Any]:
    """Yields ``make(num_envs, seed)`` building seeded CartPole env agents, closed afterwards."""
    with contextlib.ExitStack() as stack, torch.random.fork_rng():

        def make(impl: Any, num_envs: int, seed: int) -> Any:
            env_agent = backend.agent(
                impl,
                functools.partial(impl.make_env, env_name=CARTPOLE, autoreset=True),
                num_envs,
            )
            stack.callback(close_agent, env_agent)
            env_agent.seed(seed)
            return env_agent

        yield make


def rollout(impl: Any, env_agent: Any, num_envs: int, n_steps: int, torch_seed: int) -> Any:
    torch.manual_seed(torch_seed)
    ws = impl.Workspace()
    impl.TemporalAgent(impl.Agents(env_agent, random_agent(impl, num_envs)))(
        ws, t=0, n_steps=n_steps
    )
    return ws


def first_obs(impl: Any, env_agent: Any, n_rollouts: int) -> list[torch.Tensor]:
    """Row 0 of env/env_obs of ``n_rollouts`` successive one-step rollouts, ``[B, 4]`` each."""
    out = []
    for _ in range(n_rollouts):
        ws = impl.Workspace()
        env_agent(ws, t=0)
        out.append(ws.get_full("env/env_obs")[0].clone())
    return out


@clause("DET-1", "DET-4")
@pytest.mark.parametrize("seed", [0, 2139])
def test_same_seed_same_rollouts(impl: Any, backend: Backend, seed: int) -> None:
    num_envs, n_steps, n_rollouts = 3, 25, 3
    with agents(backend) as make:
        a, b = make(impl, num_envs, seed), make(impl, num_envs, seed)
        for r in range(n_rollouts):
            ws_a = rollout(impl, a, num_envs, n_steps, torch_seed=100 + r)
            ws_b = rollout(impl, b, num_envs, n_steps, torch_seed=100 + r)
            repro = (
                SETUP_SOURCE + f"a = cartpole({num_envs}, {seed}{backend.source()})\n"
                f"b = cartpole({num_envs}, {seed}{backend.source()})\n"
                f"for r in range({r + 1}):\n    out = []\n    for env_agent in (a, b):\n"
                "        torch.manual_seed(100 + r)\n        ws = impl.Workspace()\n"
                "        impl.TemporalAgent(impl.Agents(env_agent, RandomAgent("
                f"{num_envs})))(ws, t=0, n_steps={n_steps})\n"
                "        out.append(ws.get_full('env/env_obs'))\n"
                "print(torch.equal(*out))"
            )
            keys_a, keys_b = sorted(ws_a.keys()), sorted(ws_b.keys())
            expect(keys_a == keys_b, "DET-1", f"keys differ: {keys_a} vs {keys_b}", repro)
            for name in keys_a:
                expect_equal_tensors(
                    ws_b.get_full(name),
                    ws_a.get_full(name),
                    "DET-1" if seed else "DET-4",
                    f"two CartPole agents ({num_envs} envs) seeded with {seed}, rollout "
                    f"{r} of {n_steps} steps with the same actions: {name!r} differs",
                    repro,
                )


@clause("AG-28", "DET-1")
@pytest.mark.parametrize("seed", [0, 2139])
def test_seeding_the_training_agent_seeds_the_env_agent(
    impl: Any, backend: Backend, seed: int
) -> None:
    """bbrl-algos' way: TemporalAgent(Agents(env_agent, actor)).seed(s) gives the rollouts of
    env_agent.seed(s) (AG-28 passes the seed on)."""
    num_envs, n_steps = 3, 12
    with contextlib.ExitStack() as stack, torch.random.fork_rng():
        factory = functools.partial(impl.make_env, env_name=CARTPOLE, autoreset=True)
        direct = backend.agent(impl, factory, num_envs)
        stack.callback(close_agent, direct)
        direct.seed(seed)
        wrapped = backend.agent(impl, factory, num_envs)
        stack.callback(close_agent, wrapped)
        train_agent = impl.TemporalAgent(impl.Agents(wrapped, random_agent(impl, num_envs)))
        train_agent.seed(seed)
        repro = (
            SETUP_SOURCE
            + f"direct = cartpole({num_envs}, {seed}{backend.source()})\n"
            + "wrapped = impl.ParallelGymAgent(functools.partial(impl.make_env, "
            + f"env_name='CartPole-v1', autoreset=True), num_envs={num_envs}"
            + f"{backend.source()})\n"
            + f"train_agent = impl.TemporalAgent(impl.Agents(wrapped, RandomAgent({num_envs})))\n"
            + f"train_agent.seed({seed})\n"
            + "out = []\nfor env_agent in (direct, wrapped):\n"
            + "    torch.manual_seed(7)\n    ws = impl.Workspace()\n"
            + "    impl.TemporalAgent(impl.Agents(env_agent, RandomAgent("
            + f"{num_envs})))(ws, t=0, n_steps={n_steps})\n"
            + "    out.append(ws.get_full('env/env_obs'))\nprint(torch.equal(*out))"
        )
        ws_direct = rollout(impl, direct, num_envs, n_steps, torch_seed=7)
        torch.manual_seed(7)
        ws_wrapped = impl.Workspace()
        train_agent(ws_wrapped, t=0, n_steps=n_steps)
        for name in ("env/env_obs", "env/done", "env/cumulated_reward"):
            expect_equal_tensors(
                ws_wrapped.get_full(name),
                ws_direct.get_full(name),
                "AG-28",
                f"TemporalAgent(Agents(env_agent, actor)).seed({seed}) then a rollout: {name!r} "
                f"differs from the rollout of an env agent seeded with env_agent.seed({seed})",
                repro,
            )


@clause("DET-1")
@pytest.mark.parametrize("seed", [0, 2139])
def test_seeding_again_restarts_the_rollouts(impl: Any, backend: Backend, seed: int) -> None:
    """seed(s), three rollouts, seed(s) again: the next three rollouts start from the same
    initial states as the first three (the sequence of rollouts restarts). An implementation
    that refuses a second seed() (bbrl) is not checked: not-specified.md."""
    with agents(backend) as make:
        env_agent = make(impl, 3, seed)
        first = first_obs(impl, env_agent, 3)
        try:
            env_agent.seed(seed)
        except Exception as exc:  # any type: whether seeding twice may raise is not specified
            pytest.skip(f"the implementation refuses a second seed(): {type(exc).__name__}")
        again = first_obs(impl, env_agent, 3)
    repro = (
        SETUP_SOURCE
        + f"env_agent = cartpole(3, {seed}{backend.source()})\n"
        + "def first_obs(n):\n    out = []\n    for _ in range(n):\n"
        + "        ws = impl.Workspace()\n        env_agent(ws, t=0)\n"
        + "        out.append(ws.get_full('env/env_obs')[0].clone())\n    return out\n"
        + f"first = first_obs(3)\nenv_agent.seed({seed})\nagain = first_obs(3)\n"
        + "print([torch.equal(a, b) for a, b in zip(first, again)])"
    )
    for r, (a, b) in enumerate(zip(first, again, strict=True)):
        expect_equal_tensors(
            b,
            a,
            "DET-1",
            f"seed({seed}) again: the initial states of rollout {r} differ from those of "
            f"rollout {r} after the first seed({seed})",
            repro,
        )


@clause("DET-2")
@pytest.mark.parametrize("seed", [0, 1, 2139])
def test_envs_get_distinct_initial_states(impl: Any, backend: Backend, seed: int) -> None:
    num_envs = 4
    with agents(backend) as make:
        obs = first_obs(impl, make(impl, num_envs, seed), 1)[0]
    same = [
        (i, j) for i, j in itertools.combinations(range(num_envs), 2) if torch.equal(obs[i], obs[j])
    ]
    expect(
        not same,
        "DET-2",
        f"CartPole, {num_envs} envs, seed({seed}): first observations {obs.tolist()}; envs "
        f"{same} start from the same state",
        SETUP_SOURCE + f"ws = impl.Workspace()\ncartpole({num_envs}, {seed}{backend.source()})"
        "(ws, t=0)\n"
        "print(ws.get_full('env/env_obs')[0])",
    )


@clause("DET-3")
@pytest.mark.parametrize("seed", [0, 5])
def test_successive_rollouts_draw_new_initial_states(
    impl: Any, backend: Backend, seed: int
) -> None:
    num_envs, n_rollouts = 2, 4
    with agents(backend) as make:
        obs = first_obs(impl, make(impl, num_envs, seed), n_rollouts)
    for r, k in itertools.product(range(1, n_rollouts), range(num_envs)):
        repeats = [
            (r2, k2)
            for r2, k2 in itertools.product(range(r), range(num_envs))
            if torch.equal(obs[r][k], obs[r2][k2])
        ]
        expect(
            not repeats,
            "DET-3",
            f"CartPole, {num_envs} envs, seed({seed}), {n_rollouts} successive calls at t=0: "
            f"rollout {r} env {k} starts from {obs[r][k].tolist()}, the same state as "
            f"(rollout, env) {repeats}",
            SETUP_SOURCE + f"env_agent = cartpole({num_envs}, {seed}{backend.source()})\n"
            f"for r in range({n_rollouts}):\n    ws = impl.Workspace()\n"
            "    env_agent(ws, t=0)\n    print(ws.get_full('env/env_obs')[0])",
        )


@clause("DET-4")
@pytest.mark.parametrize("num_envs", [1, 2, 3])
def test_neighbouring_seeds_do_not_reproduce_each_other(
    impl: Any, backend: Backend, num_envs: int
) -> None:
    seeds, n_rollouts = range(5), 3
    with agents(backend) as make:
        obs = {s: first_obs(impl, make(impl, num_envs, s), n_rollouts) for s in seeds}
    for s in seeds[:-1]:
        clashes = [
            (r, k, r2, k2)
            for r, r2 in itertools.product(range(n_rollouts), repeat=2)
            for k, k2 in itertools.product(range(num_envs), repeat=2)
            if torch.equal(obs[s][r][k], obs[s + 1][r2][k2])
        ]
        expect(
            not clashes,
            "DET-4",
            f"CartPole, {num_envs} envs, {n_rollouts} rollouts each: seed {s} (rollout, env) "
            f"and seed {s + 1} (rollout, env) start from the same state for "
            f"{[((r, k), (r2, k2)) for r, k, r2, k2 in clashes]}",
            SETUP_SOURCE + f"for s in ({s}, {s + 1}):\n"
            f"    env_agent = cartpole({num_envs}, s{backend.source()})\n"
            f"    for r in range({n_rollouts}):\n        ws = impl.Workspace()\n"
            "        env_agent(ws, t=0)\n        print(s, r, ws.get_full('env/env_obs')[0])",
        )


@clause("DET-5", "DET-8")
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_reset_seeds_come_from_seed_sequence(impl: Any, backend: Backend, seed: int) -> None:
    """DET-5 for backends that reset their envs one by one, DET-8 for vector backends."""
    lengths, n_steps, n_rollouts = [2, 3, 1], 5, 3
    with CountingPlan(lengths) as plan, contextlib.ExitStack() as stack:
        env_agent = backend.agent(impl, plan.factory(impl, autoreset=True), 3)
        stack.callback(close_agent, env_agent)
        env_agent.seed(seed)
        t_agent = impl.TemporalAgent(impl.Agents(env_agent, action_agent(impl, 3)))
        want: list[list[int | None]] = [[] for _ in lengths]
        vector_want: list[int] = []
        episode = [0] * len(lengths)
        columns = list(range(3))
        for r in range(n_rollouts):
            ws = impl.Workspace()
            t_agent(ws, t=0, n_steps=n_steps)
            if r == 0 and not plan.in_process():  # worker processes: env ids by column
                columns = [int(v) for v in ws.get_full("env/env_obs")[0, :, 0].tolist()]
            state = np.random.SeedSequence(entropy=seed, spawn_key=(r,)).generate_state(3)
            vector_seed = int(
                np.random.SeedSequence(entropy=seed, spawn_key=(r,)).generate_state(1)[0]
            )
            vector_want.append(vector_seed)
            for b, k in enumerate(columns):
                rows = plan.simulate(k, n_steps, autoreset=True, first_episode=episode[k])
                resets = episodes_used(rows)
                first = vector_seed + b if backend.vector else int(state[b])
                want[k] += [first] + [None] * (resets - 1)
                episode[k] += resets
        got = [env.reset_seeds for env in plan.envs]
        source = (
            plan.factory_source(True, imports="CountingPlan, action_agent")
            + f"env_agent = impl.ParallelGymAgent(factory, num_envs=3{backend.source()})\n"
            f"env_agent.seed({seed})\n"
            "t_agent = impl.TemporalAgent(impl.Agents(env_agent, action_agent(impl, 3)))\n"
            f"for r in range({n_rollouts}):\n    t_agent(impl.Workspace(), t=0, "
            f"n_steps={n_steps})\nprint([env.reset_seeds for env in plan.envs], "
            "plan.vector_reset_seeds)"
        )
        if backend.vector and plan.vectorized:
            expect(
                plan.vector_reset_seeds == vector_want,
                "DET-8",
                f"vector backend {backend.name!r}, seed({seed}), {n_rollouts} rollouts: the "
                f"vector env was reset with seeds {plan.vector_reset_seeds}, expected "
                f"{vector_want} (SeedSequence(entropy={seed}, spawn_key=(r,)).generate_state(1)"
                "[0] at each t=0)",
                source,
            )
            return
        expect(
            got == want,
            "DET-8" if backend.vector else "DET-5",
            f"backend {backend.name!r}, seed({seed}), 3 counting envs of lengths {lengths}, "
            f"{n_rollouts} autoreset rollouts of {n_steps} steps: reset seeds received per env "
            f"{got}, expected {want} ("
            + (
                f"SeedSequence(entropy={seed}, spawn_key=(r,)).generate_state(1)[0] + b "
                if backend.vector
                else f"SeedSequence(entropy={seed}, spawn_key=(r,)).generate_state(3)[b] "
            )
            + "at each t=0, None for autoresets)",
            source,
        )


@clause("DET-6")
@pytest.mark.parametrize("env", ["cartpole", "counting"])
def test_env_agent_does_not_draw_from_torch_global_rng(
    impl: Any, backend: Backend, env: str
) -> None:
    num_envs, n_steps = 2, 12
    with agents(backend) as make, CountingPlan([3, 4]) as plan, contextlib.ExitStack() as stack:
        if env == "cartpole":
            env_agent = make(impl, num_envs, 3)
        else:
            env_agent = backend.agent(impl, plan.factory(impl, autoreset=True), 2)
            stack.callback(close_agent, env_agent)
            env_agent.seed(3)
        ws = rollout(impl, env_agent, num_envs, n_steps, torch_seed=9)
        torch.manual_seed(9)
        want = torch.stack([torch.randint(0, 2, (num_envs,)) for _ in range(n_steps)])
    expect_equal_tensors(
        ws.get_full("action"),
        want,
        "DET-6",
        f"torch.manual_seed(9), then a {n_steps}-step rollout of a {env} env agent "
        f"({num_envs} envs, seed(3)) with a random agent drawing torch.randint(0, 2, "
        f"({num_envs},)) each step: the actions differ from the same {n_steps} draws made "
        "without any env agent",
        SETUP_SOURCE + "torch.manual_seed(9)\nws = impl.Workspace()\n"
        f"impl.TemporalAgent(impl.Agents(cartpole({num_envs}, 3{backend.source()}), RandomAgent("
        f"{num_envs})))(ws, t=0, n_steps={n_steps})\ntorch.manual_seed(9)\n"
        f"print(ws.get_full('action'), [torch.randint(0, 2, ({num_envs},)) for _ in "
        f"range({n_steps})])",
    )


def _global_states() -> tuple[torch.Tensor, Any, object]:
    return torch.get_rng_state(), np.random.get_state(), random.getstate()


@clause("DET-6")
def test_env_agent_leaves_the_global_generators_alone(impl: Any, backend: Backend) -> None:
    """Building, seeding, running (autoreset included), seeding again and closing an env agent
    leave torch's, numpy's and Python's global generator states as they were: a ``seed(s)``
    that also seeded torch would change what an actor beside it draws."""
    repro = (
        "import random\nimport numpy as np\nimport torch\n"
        "from bbrl_conformance.counting_env import CountingPlan, action_agent\n"
        "torch.manual_seed(1); np.random.seed(1); random.seed(1)\n"
        "before = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()\n"
        "plan = CountingPlan([2, 3])\n"
        "env_agent = impl.ParallelGymAgent(plan.factory(impl, autoreset=True), num_envs=2"
        f"{backend.source()})\n"
        "t_agent = impl.TemporalAgent(impl.Agents(env_agent.seed(5), action_agent(impl, 2)))\n"
        "t_agent(impl.Workspace(), t=0, n_steps=7)\nenv_agent.seed(6)  # may be refused\n"
        "t_agent(impl.Workspace(), t=0, n_steps=4)\n"
        "after = torch.get_rng_state(), np.random.get_state()[1], random.getstate()\n"
        "print(torch.equal(before[0], after[0]), (before[1] == after[1]).all(), "
        "before[2] == after[2])  # want True True True"
    )
    with torch.random.fork_rng(), CountingPlan([2, 3]) as plan, contextlib.ExitStack() as stack:
        saved_numpy, saved_python = np.random.get_state(), random.getstate()
        stack.callback(np.random.set_state, saved_numpy)
        stack.callback(random.setstate, saved_python)
        torch.manual_seed(1)
        np.random.seed(1)
        random.seed(1)
        before = _global_states()
        env_agent = backend.agent(impl, plan.factory(impl, autoreset=True), 2)
        stack.callback(close_agent, env_agent)
        t_agent = impl.TemporalAgent(impl.Agents(env_agent, action_agent(impl, 2)))
        env_agent.seed(5)
        t_agent(impl.Workspace(), t=0, n_steps=7)
        with contextlib.suppress(Exception):  # a second seed may be refused (DET-1)
            env_agent.seed(6)
        t_agent(impl.Workspace(), t=0, n_steps=4)
        close_agent(env_agent)
        after = _global_states()
    changed = [
        name
        for name, same in (
            ("torch", torch.equal(before[0], after[0])),
            ("numpy", bool((before[1][1] == after[1][1]).all()) and before[1][2] == after[1][2]),
            ("random", before[2] == after[2]),
        )
        if not same
    ]
    expect(
        not changed,
        "DET-6",
        f"building, seeding, running and closing an env agent (backend {backend.name!r}) "
        f"changed the global generator state of {changed}",
        repro,
    )


@clause("DET-7")
def test_get_shuffled_draws_from_the_given_generator_only(impl: Any) -> None:
    items = torch.arange(20).reshape(2, 10)
    buffers = []
    for _ in range(2):
        ws = impl.Workspace()
        ws.set_full("id", items.clone())
        ws.set_full("obs", items.float().unsqueeze(-1).repeat(1, 1, 3))
        rb = impl.ReplayBuffer(max_size=16)
        rb.put(ws)
        buffers.append(rb)
    repro = (
        "import torch\nbuffers = []\nfor _ in range(2):\n    ws = impl.Workspace()\n"
        "    ws.set_full('id', torch.arange(20).reshape(2, 10))\n"
        "    rb = impl.ReplayBuffer(max_size=16)\n    rb.put(ws)\n    buffers.append(rb)\n"
        "samples = []\nfor k, rb in enumerate(buffers):\n    torch.manual_seed(k)\n"
        "    g = torch.Generator().manual_seed(3)\n"
        "    samples.append(rb.get_shuffled(8, generator=g)['id'])\n"
        "print(samples)"
    )
    with torch.random.fork_rng():
        samples = []
        for k, rb in enumerate(buffers):
            torch.manual_seed(k)
            before = torch.get_rng_state()
            g = torch.Generator().manual_seed(3)
            samples.append([rb.get_shuffled(8, generator=g) for _ in range(3)])
            expect(
                torch.equal(before, torch.get_rng_state()),
                "DET-7",
                "rb.get_shuffled(8, generator=g) changed the state of torch's global RNG",
                repro,
            )
    for i, (s0, s1) in enumerate(zip(*samples, strict=True)):
        for name in ("id", "obs"):
            expect_equal_tensors(
                s1[name],
                s0[name],
                "DET-7",
                f"two buffers holding the same 10 items, sample {i} of get_shuffled(8, "
                f"generator=torch.Generator().manual_seed(3)) under different global torch "
                f"seeds: {name!r} differs",
                repro,
            )


def _seeded(impl: Any, backend: Backend, seed: object, how: str) -> Any:
    factory = functools.partial(impl.make_env, env_name=CARTPOLE, autoreset=True)
    if how == "keyword":
        return backend.agent(impl, factory, 2, seed=seed)
    agent = backend.agent(impl, factory, 2)
    try:
        agent.seed(seed)
    except BaseException:
        close_agent(agent)
        raise
    return agent


def _seeded_into(out: list[Any], impl: Any, backend: Backend, seed: object, how: str) -> None:
    out.append(_seeded(impl, backend, seed, how))


@clause("DET-9")
@pytest.mark.parametrize("how", ["method", "keyword"])
def test_seed_domain(impl: Any, backend: Backend, how: str) -> None:
    """0 and 2**64 - 1 (as int and numpy integers) are seeds; -1, 2**64, bool, float, str not."""
    call = "env_agent.seed(s)" if how == "method" else "ParallelGymAgent(..., seed=s)"
    setup = (
        "import functools, numpy as np\n"
        "factory = functools.partial(impl.make_env, env_name='CartPole-v1', autoreset=True)\n"
    )

    def build_src(s: str) -> str:
        if how == "keyword":
            return f"impl.ParallelGymAgent(factory, 2{backend.source()}, seed={s})"
        return f"impl.ParallelGymAgent(factory, 2{backend.source()}).seed({s})"

    top = 2**64 - 1
    first: dict[str, torch.Tensor] = {}
    with contextlib.ExitStack() as stack:
        tops: list[tuple[str, object]] = [
            ("2**64 - 1", top),
            ("np.uint64(2**64 - 1)", np.uint64(top)),
            ("2**64 - 2", top - 1),
        ]
        for label, value in tops:
            src = setup + f"env_agent = {build_src(label)}\nenv_agent(impl.Workspace(), t=0)"
            try:
                env_agent = _seeded(impl, backend, value, how)
            except Exception as exc:
                expect(False, "DET-9", f"{call} with s = {label} raised {exc!r}", src)
            stack.callback(close_agent, env_agent)
            ws = impl.Workspace()
            env_agent(ws, t=0)
            first[label] = ws.get_full("env/env_obs")[0].clone()
        more: list[tuple[str, object]] = [
            ("0", 0),
            ("np.int64(5)", np.int64(5)),
            ("np.uint8(3)", np.uint8(3)),
        ]
        for label, other in more:
            src = setup + f"env_agent = {build_src(label)}\nenv_agent(impl.Workspace(), t=0)"
            try:
                if how == "method":
                    env_agent.seed(other)
                else:
                    stack.callback(close_agent, _seeded(impl, backend, other, how))
            except Exception as exc:
                expect(False, "DET-9", f"{call} with s = {label} raised {exc!r}", src)
        bad: list[tuple[str, object, type[Exception]]] = [
            ("-1", -1, ValueError),
            ("2**64", 2**64, ValueError),
            ("np.int64(-1)", np.int64(-1), ValueError),
            ("True", True, TypeError),
            ("1.0", 1.0, TypeError),
            ("'3'", "3", TypeError),
        ]
        for label, wrong, error in bad:
            made: list[Any] = []
            expect_raises(
                error,
                "DET-9",
                f"{call} with s = {label}",
                functools.partial(env_agent.seed, wrong)
                if how == "method"
                else functools.partial(_seeded_into, made, impl, backend, wrong, how),
                setup + f"{build_src(label)}  # expected {error.__name__}",
            )
            for agent in made:
                close_agent(agent)
    expect_equal_tensors(
        first["np.uint64(2**64 - 1)"],
        first["2**64 - 1"],
        "DET-9",
        f"{call}: s = np.uint64(2**64 - 1) and s = 2**64 - 1 give different first observations",
        setup + "for s in (2**64 - 1, np.uint64(2**64 - 1)):\n"
        f"    env_agent = {build_src('s')}\n    ws = impl.Workspace()\n    env_agent(ws, t=0)\n"
        "    print(ws.get_full('env/env_obs')[0])",
    )
    expect(
        not torch.equal(first["2**64 - 1"], first["2**64 - 2"]),
        "DET-9",
        f"{call}: s = 2**64 - 1 and s = 2**64 - 2 give the same first observations "
        f"{first['2**64 - 1'].tolist()} (the top seed is not used as given)",
        setup + "for s in (2**64 - 1, 2**64 - 2):\n"
        f"    env_agent = {build_src('s')}\n    ws = impl.Workspace()\n    env_agent(ws, t=0)\n"
        "    print(ws.get_full('env/env_obs')[0])",
    )
