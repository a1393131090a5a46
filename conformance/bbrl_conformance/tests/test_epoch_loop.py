"""Conformance tests of the notebook's epoch loop (TR-10), with the replay buffer fed by it.

Run once per declared env agent backend (ENV-16). The loop: a run at t=0 for n steps, then
epochs of ``zero_grad()``, ``copy_n_last_steps(1)`` and a run from t=1 for n steps, taking
``get_transitions()`` after every run. The counting
env's action log is the ground truth: every action an env consumed is one real transition
(env, episode, step) -> step + 1, and the transitions collected over all epochs must be exactly
those, each once, with the consumed action and the step's reward.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Sequence
from typing import Any, cast

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bbrl_conformance._assertions import expect
from bbrl_conformance._backends import Backend
from bbrl_conformance._clauses import clause
from bbrl_conformance._rollouts import examples_for
from bbrl_conformance.counting_env import (
    CountingPlan,
    action_agent,
    close_agent,
    reward,
)

Key = tuple[int, int, int]  # (env, episode, step) of the first state of a transition


def loop_source(
    plan: CountingPlan, n_steps: int, n_epochs: int, max_size: int | None, backend: Backend
) -> str:
    rb = max_size is not None
    return (
        plan.factory_source(True, imports="CountingPlan, action_agent")
        + f"env_agent = impl.ParallelGymAgent(factory, num_envs={plan.num_envs}"
        f"{backend.source()})\n"
        f"t_agent = impl.TemporalAgent(impl.Agents(env_agent, action_agent(impl, "
        f"{plan.num_envs})))\n"
        + (f"rb = impl.ReplayBuffer(max_size={max_size})\n" if rb else "")
        + "ws = impl.Workspace()\n"
        f"for epoch in range({n_epochs}):\n"
        "    if epoch == 0:\n"
        f"        t_agent(ws, t=0, n_steps={n_steps})\n"
        "    else:\n"
        "        ws.zero_grad()\n"
        "        ws.copy_n_last_steps(1)\n"
        f"        t_agent(ws, t=1, n_steps={n_steps})\n"
        "    tr = ws.get_transitions()\n"
        + ("    rb.put(tr)\n    print(rb.size())\n" if rb else "")
        + "    obs = tr.get_full('env/env_obs').long().tolist()\n"
        "    print(epoch, [(a, b) for a, b in zip(obs[0], obs[1])])\n"
        "print([env.actions for env in plan.envs])  # (episode, step_before, action) consumed\n"
    )


def run_epoch_loop(
    impl: Any,
    backend: Backend,
    lengths: Sequence[int | Sequence[int]],
    n_steps: int,
    n_epochs: int,
    *,
    truncated: bool | Sequence[bool] = False,
    max_size: int | None = None,
) -> None:
    """Run the loop and check TR-10 (and, with ``max_size``, the replay buffer it feeds)."""
    __tracebackhide__ = True
    with CountingPlan(lengths, truncated=truncated) as plan, contextlib.ExitStack() as stack:
        num_envs = plan.num_envs
        repro = loop_source(plan, n_steps, n_epochs, max_size, backend)
        setting = (
            f"backend {backend.name!r}: epoch loop, {num_envs} counting envs of lengths "
            f"{plan.lengths_spec()}"
            f"{', truncated' if any(plan.truncated) else ''}, {n_steps} steps per epoch, "
            f"{n_epochs} epochs"
        )
        env_agent = backend.agent(impl, plan.factory(impl, autoreset=True), num_envs)
        stack.callback(close_agent, env_agent)
        t_agent = impl.TemporalAgent(impl.Agents(env_agent, action_agent(impl, num_envs)))
        rb = impl.ReplayBuffer(max_size=max_size) if max_size is not None else None
        ws = impl.Workspace()
        collected: list[tuple[Key, Key, int, float, int]] = []  # (s, s', action, reward, epoch)
        total = 0
        for epoch in range(n_epochs):
            if epoch == 0:
                t_agent(ws, t=0, n_steps=n_steps)
            else:
                ws.zero_grad()
                ws.copy_n_last_steps(1)
                t_agent(ws, t=1, n_steps=n_steps)
            tr = ws.get_transitions()
            obs = tr.get_full("env/env_obs").long().tolist()
            actions = tr.get_full("action")[0].tolist()
            rewards = tr.get_full("env/reward")[1].tolist()
            for first, second, a, r in zip(obs[0], obs[1], actions, rewards, strict=True):
                collected.append((tuple(first), tuple(second), a, r, epoch))
            n_new = len(obs[0])
            total += n_new
            if rb is not None and max_size is not None:
                rb.put(tr)
                size = rb.size()
                expect(
                    size == min(total, max_size),
                    "RB-3",
                    f"{setting}: after putting epoch {epoch}'s {n_new} transitions "
                    f"({total} in all) into ReplayBuffer(max_size={max_size}), rb.size() = "
                    f"{size!r}, expected {min(total, max_size)}",
                    repro,
                )

        # Ground truth: the actions the envs consumed, as transitions.
        real: dict[Key, tuple[int, float]] = {}
        for env in plan.envs:
            for episode, step, action in env.actions:
                real[(env.env_id, episode, step)] = (
                    cast(int, action),
                    reward(env.env_id, episode, step + 1),
                )
        counts = collections.Counter(first for first, *_ in collected)
        for first, second, a, r, epoch in collected:
            env_id, episode, step = first
            expect(
                second == (env_id, episode, step + 1),
                "TR-10",
                f"{setting}: epoch {epoch} gave the pair {first} -> {second} (env, episode, "
                f"step); a transition goes from a step to the next step of the same episode "
                "of the same env",
                repro,
            )
            expect(
                first in real,
                "TR-10",
                f"{setting}: epoch {epoch} gave the transition {first} -> {second}, but that "
                f"env never consumed an action in state {first}",
                repro,
            )
            expect(
                (a, r) == real[first],
                "TR-10",
                f"{setting}: epoch {epoch}, transition from {first}: (action, reward) = "
                f"({a}, {r}), expected {real[first]} (the action the env consumed, the reward "
                "of that step)",
                repro,
            )
        repeated = sorted(k for k, c in counts.items() if c > 1)
        missing = sorted(set(real) - set(counts))
        expect(
            not repeated and not missing and len(collected) == len(real),
            "TR-10",
            f"{setting}: {len(collected)} transitions collected, {len(real)} performed by the "
            f"envs; seen more than once: {repeated}; never collected: {missing}",
            repro,
        )
        if rb is not None and max_size is not None and total > 0:
            check_samples(rb, collected[-max_size:], setting, repro)


def check_samples(
    rb: Any, stored: list[tuple[Key, Key, int, float, int]], setting: str, repro: str
) -> None:
    """Samples have shape [2, n, ...] and every column is one of the stored transitions."""
    __tracebackhide__ = True
    sample = rb.get_shuffled(5)
    obs = sample["env/env_obs"]
    expect(
        isinstance(obs, torch.Tensor) and tuple(obs.shape) == (2, 5, 3),
        "RB-8",
        f"{setting}: rb.get_shuffled(5)['env/env_obs'] has shape "
        f"{tuple(obs.shape) if isinstance(obs, torch.Tensor) else type(obs)}, expected (2, 5, 3)",
        repro,
    )
    pairs = {(first, second) for first, second, *_ in stored}
    for first, second in zip(obs[0].long().tolist(), obs[1].long().tolist(), strict=True):
        expect(
            (tuple(first), tuple(second)) in pairs,
            "RB-9",
            f"{setting}: rb.get_shuffled(5) returned the pair {first} -> {second}, which is not "
            f"one of the {len(pairs)} stored transitions",
            repro,
        )


@clause("TR-10")
@pytest.mark.parametrize(
    ("lengths", "n_steps", "n_epochs", "truncated"),
    [
        pytest.param([3, 2, 4], 5, 6, False, id="lengths-3-2-4"),
        pytest.param([5, 4], 4, 4, False, id="ends-on-epoch-ends"),
        pytest.param([1, 1], 3, 4, False, id="length-1-episodes"),
        pytest.param([2, 3], 4, 4, True, id="truncated"),
        pytest.param([[1, 3, 2], 4], 3, 5, [False, True], id="length-cycles"),
        pytest.param([2], 1, 4, False, id="one-step-epochs"),
        pytest.param([2, 2], 5, 1, False, id="one-epoch"),
    ],
)
def test_every_transition_exactly_once(
    impl: Any, backend: Backend, lengths: list[Any], n_steps: int, n_epochs: int, truncated: Any
) -> None:
    run_epoch_loop(impl, backend, lengths, n_steps, n_epochs, truncated=truncated)


@clause("TR-10")
def test_every_transition_exactly_once_any_lengths(impl: Any, backend: Backend) -> None:
    @settings(max_examples=examples_for(impl, backend))
    @given(
        lengths=st.lists(
            st.one_of(st.integers(1, 6), st.lists(st.integers(1, 4), min_size=1, max_size=3)),
            min_size=1,
            max_size=3,
        ),
        n_steps=st.integers(1, 6),
        n_epochs=st.integers(1, 5),
    )
    def check(lengths: list[Any], n_steps: int, n_epochs: int) -> None:
        run_epoch_loop(impl, backend, lengths, n_steps, n_epochs)

    check()


@clause("TR-10", "RB-3", "RB-8", "RB-9")
@pytest.mark.parametrize(
    "max_size",
    [
        pytest.param(1000, id="large"),
        pytest.param(20, id="wraps"),
        # epochs put 10 to 14 transitions: more than max_size at once (B4)
        pytest.param(7, id="puts-larger-than-buffer", marks=clause("RB-5")),
    ],
)
def test_replay_buffer_fed_by_the_loop(impl: Any, backend: Backend, max_size: int) -> None:
    run_epoch_loop(impl, backend, [3, 2, 4], 5, 5, max_size=max_size)
