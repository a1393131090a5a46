"""ENV-11 over its whole domain of ``Box`` actions (item ranks 0 to 3), and ENV-23's range check
of ``Discrete(n, start)`` actions over batch sizes 1 to 33 and starts 0, 3 and -2.

ENV-11: for a ``Box`` action space the agent takes a floating ``action`` of shape
``[B, *action_shape]`` and env ``b`` receives row ``b``. The counting env's Box actions have one
shape; these tests use the generated env family (``bbrl_conformance.generated_env``), whose Box
action carries a code in its first element: the env's reward and observation after the step
depend on that code, so the row of ``env/reward`` and ``env/env_obs`` at ``t = 1`` shows which
action each env received. Rank 0 (``action_shape == ()``, an ``action`` of shape ``[B]``) is the
case an implementation that takes every ``[B]`` action for a ``Discrete`` one gets wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises
from bbrl_conformance._backends import Backend
from bbrl_conformance._clauses import clause
from bbrl_conformance._model.envfamily import (
    ActionSpec,
    BoxObs,
    EnvConfig,
    obs_value,
    reward_float,
)
from bbrl_conformance._rollouts import refused_by_vector
from bbrl_conformance.counting_env import close_agent
from bbrl_conformance.generated_env import ENV_ID

#: one action shape per rank, 0 to 3
SHAPES = [(), (3,), (2, 2), (1, 2, 3)]
#: the codes the envs receive (one per env); none ends an episode (``envfamily.ends``: codes 1,
#: 2 and 3 do)
CODES = (0, 4, 5)
N_CODES = 7


def _config(shape: tuple[int, ...]) -> EnvConfig:
    return EnvConfig(
        obs=BoxObs("float32", (2,)),
        action=ActionSpec("box", n=N_CODES, shape=shape, dtype="float32"),
    )


def _action_row(shape: tuple[int, ...]) -> torch.Tensor:
    """Row 0 of ``action``: env ``b``'s first element is ``CODES[b] + 0.25``; the others are
    distinct values that carry no code."""
    size = int(np.prod(shape, dtype=np.int64))
    rows = []
    for b, code in enumerate(CODES):
        flat = [code + 0.25] + [100.0 * (b + 1) + k for k in range(1, size)]
        rows.append(torch.tensor(flat, dtype=torch.float32).reshape(shape))
    return torch.stack(rows)


def _generated_agent(
    impl: Any, backend: Backend, config: EnvConfig, num_envs: int
) -> tuple[Any | None, str]:
    """An env agent of ``backend`` over ``num_envs`` generated envs of ``config`` (None when a
    vector backend refuses an env without a vector implementation, as ENV-17 allows), and the
    reproducer source that builds it and calls it at t=0."""
    factory = functools.partial(impl.make_env, ENV_ID, autoreset=True, config=config)
    head = (
        "import functools, torch\n"
        "from bbrl_conformance._model.envfamily import ActionSpec, BoxObs, EnvConfig\n"
        "from bbrl_conformance.generated_env import ENV_ID\n"
        f"config = {config!r}\n"
        "factory = functools.partial(impl.make_env, ENV_ID, autoreset=True, config=config)\n"
        f"agent = impl.ParallelGymAgent(factory, num_envs={num_envs}{backend.source()})\n"
        "ws = impl.Workspace()\nagent(ws, t=0)\n"
    )
    if refused_by_vector(
        backend,
        lambda: backend.agent(impl, factory, num_envs),
        "an env without a vector implementation",
        head,
    ):
        return None, head
    return backend.agent(impl, factory, num_envs), head


#: how the action row is made, and the same as reproducer source: a plain tensor; one that
#: requires grad (a deterministic actor's output, as DDPG and TD3 write it); a non-contiguous
#: view (every other element of a wider tensor)
LAYOUTS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], str]] = {
    "plain": (lambda row: row, "{row}"),
    "requires-grad": (lambda row: row.requires_grad_() * 1.0, "{row}.requires_grad_() * 1.0"),
    "strided": (
        lambda row: torch.stack([row, row], -1)[..., 0],
        "torch.stack([{row}, {row}], -1)[..., 0]",
    ),
}
#: the layouts other than plain are drawn at ranks 0 and 1 (the layout does not depend on rank)
CASES = [pytest.param(s, "plain", id=f"rank{len(s)}") for s in SHAPES] + [
    pytest.param(s, layout, id=f"rank{len(s)}-{layout}")
    for s in SHAPES[:2]
    for layout in LAYOUTS
    if layout != "plain"
]


def _first_step(
    impl: Any, agent: Any, action: torch.Tensor, names: tuple[str, ...]
) -> dict[str, torch.Tensor]:
    """Row 1 of ``names`` after a reset and one step with ``action`` as row 0 of ``action``;
    the agent is closed afterwards."""
    try:
        ws = impl.Workspace()
        agent(ws, t=0)
        ws.set("action", 0, action)
        agent(ws, t=1)
        return {name: ws.get(name, 1) for name in names}
    finally:
        close_agent(agent)


@clause("ENV-11")
@pytest.mark.parametrize(("shape", "layout"), CASES)
def test_box_actions_of_every_rank_reach_their_env(
    impl: Any, backend: Backend, shape: tuple[int, ...], layout: str
) -> None:
    config = _config(shape)
    num_envs = len(CODES)
    make, template = LAYOUTS[layout]
    action = make(_action_row(shape))
    source = template.format(row=f"torch.tensor({_action_row(shape).tolist()!r})")
    agent, head = _generated_agent(impl, backend, config, num_envs)
    repro = (
        f"{head}ws.set('action', 0, {source})\n"
        "agent(ws, t=1)\nprint(ws.get('env/reward', 1), ws.get('env/env_obs', 1))"
    )
    if agent is None:
        return
    rows = _first_step(impl, agent, action, ("env/reward", "env/env_obs"))
    reward, obs = rows["env/reward"], rows["env/env_obs"]
    want_reward = torch.tensor([reward_float(config.reward, 1, c) for c in CODES])
    want_obs = torch.as_tensor(
        np.stack([np.asarray(obs_value(config.obs, 1, c, None)) for c in CODES])
    )
    expect_equal_tensors(
        reward,
        want_reward.to(torch.float32),
        "ENV-11",
        f"env/reward at t=1 after {layout} Box actions of shape {list(shape)} (env b's reward "
        f"shows the code in the first element of row b: codes {list(CODES)})",
        repro,
    )
    expect_equal_tensors(
        obs,
        want_obs,
        "ENV-11",
        f"env/env_obs at t=1 after {layout} Box actions of shape {list(shape)} (codes "
        f"{list(CODES)})",
        repro,
    )


@clause("ENV-21", "ENV-4")
def test_rewards_beyond_float_range_are_infinite(impl: Any, backend: Backend) -> None:
    """A Python int reward beyond float's range (``q * 10**400``, q in -4..4) is a real number
    (ENV-21): its row is what it rounds to, +-inf (or 0), and so is the cumulated reward; the
    call does not fail."""
    config = EnvConfig(
        obs=BoxObs("float32", (2,)), action=ActionSpec("discrete", n=N_CODES), reward="huge_int"
    )
    agent, head = _generated_agent(impl, backend, config, len(CODES))
    actions = torch.tensor(CODES)
    repro = (
        f"{head}ws.set('action', 0, torch.tensor({list(CODES)}))\nagent(ws, t=1)\n"
        "print(ws.get('env/reward', 1), ws.get('env/cumulated_reward', 1))"
    )
    if agent is None:
        return
    try:
        rows = _first_step(impl, agent, actions, ("env/reward", "env/cumulated_reward"))
    except Exception as exc:
        expect(False, "ENV-21", f"a reward of q * 10**400 raised {exc!r:.300}", repro)
    want = torch.tensor([reward_float("huge_int", 1, c) for c in CODES], dtype=torch.float32)
    for name, got in rows.items():
        expect_equal_tensors(
            got,
            want,
            "ENV-4",
            f"{name} at t=1 after rewards q * 10**400 (q by code {list(CODES)}): expected "
            f"{want.tolist()}",
            repro,
        )


#: Discrete action spaces ``(n, start)`` and the batch sizes of ENV-23's range check
DISCRETE = [(5, 0), (5, 3), (4, -2)]
BATCH_SIZES = [1, 3, 33]


@clause("ENV-23", "ENV-11", "ENV-22")
@pytest.mark.parametrize(("n", "start"), DISCRETE, ids=[f"n{n}start{s}" for n, s in DISCRETE])
@pytest.mark.parametrize("num_envs", BATCH_SIZES, ids=[f"{b}envs" for b in BATCH_SIZES])
def test_discrete_action_range_at_every_batch_size(
    impl: Any, backend: Backend, num_envs: int, n: int, start: int
) -> None:
    """``Discrete(n, start)``: an action row with one value just outside ``[start, start + n)``
    (in the last column, the others inside) raises ValueError and changes nothing, and so does
    a uint64 row whose last value is 2**64 - 1 (-1 once wrapped to int64: inside for a negative
    start); then a row holding both bounds reaches the envs (each env's reward at t=1 shows the
    code it got)."""
    config = EnvConfig(obs=BoxObs("float32", (2,)), action=ActionSpec("discrete", n=n, start=start))
    inside = [start + (b % n) for b in range(num_envs)]
    bounds = [start if b % 2 == 0 else start + n - 1 for b in range(num_envs)]
    agent, head = _generated_agent(impl, backend, config, num_envs)
    if agent is None:
        return
    try:
        ws = impl.Workspace()
        agent(ws, t=0)
        top = start + n - 1  # >= 0 for every space drawn: a uint64 row can hold it
        for bad, dtype in ((start - 1, "int64"), (start + n, "int64"), (2**64 - 1, "uint64")):
            row = [*inside[:-1], bad] if dtype == "int64" else [top] * (num_envs - 1) + [bad]
            value = f"torch.tensor([{row}], dtype=torch.{dtype})"
            repro = (
                f"{head}ws.set_full('action', {value})\n"
                "try:\n    agent(ws, t=1)  # expected: ValueError, nothing written\n"
                "except ValueError as exc:\n    print('raised as required:', exc)\n"
                "else:\n    print('nothing raised; env/reward:', ws.get_full('env/reward'))\n"
            )
            ws.set_full("action", torch.tensor([row], dtype=getattr(torch, dtype)))
            before = {name: ws.get_full(name).clone() for name in list(ws.keys())}
            expect_raises(
                ValueError,
                "ENV-23",
                f"agent(ws, t=1) with {dtype} action {bad} in column {num_envs - 1} of "
                f"{num_envs} (Discrete({n}, start={start}))",
                lambda: agent(ws, t=1),
                repro,
            )
            after = {name: ws.get_full(name) for name in list(ws.keys())}
            expect(
                before.keys() == after.keys()
                and all(torch.equal(before[k], after[k]) for k in before),
                "ENV-22",
                f"the refused call with action {bad} changed the workspace",
                repro,
            )
        ws.set_full("action", torch.tensor([bounds]))
        agent(ws, t=1)
        reward = ws.get("env/reward", 1)
    finally:
        close_agent(agent)
    want = torch.tensor(
        [reward_float(config.reward, 1, a - start) for a in bounds], dtype=torch.float32
    )
    expect_equal_tensors(
        reward,
        want,
        "ENV-23",
        f"env/reward at t=1 after the actions {start} and {start + n - 1} (the bounds of "
        f"Discrete({n}, start={start})) in alternate columns, after two refused rows",
        f"{head}ws.set_full('action', torch.tensor([{bounds}]))\nagent(ws, t=1)\n"
        "print(ws.get('env/reward', 1))",
    )
