"""Static type checks of the public surface (STYLE T2): mypy checks this file, pytest never runs it.

Run: ``mypy --strict reference/bbrl_reference reference/type_tests``.
"""

from __future__ import annotations

from typing import assert_type

import torch
from bbrl_reference import (
    Agent,
    Agents,
    ParallelGymAgent,
    ReplayBuffer,
    ReplayBufferState,
    TemporalAgent,
    Workspace,
    make_env,
)


class Probe(Agent):
    def forward(self, t: int, **kwargs: object) -> None:
        assert_type(self.get(("env/env_obs", t)), torch.Tensor)
        assert_type(self.get("env/env_obs"), torch.Tensor)
        self.set(("action", t), torch.zeros(2, dtype=torch.int64))


def surface(ws: Workspace, rb: ReplayBuffer) -> None:
    assert_type(ws.get("x", 0), torch.Tensor)
    assert_type(ws["x"], torch.Tensor)
    assert_type(ws.time_size(), int)
    assert_type(ws.batch_size(), int)
    assert_type(ws.get_transitions(), Workspace)
    assert_type(ws.get_transitions(no_final_state=True), Workspace)
    assert_type(ws["x", "y"], tuple[torch.Tensor, ...])
    assert_type(ws[["x", "y"]], tuple[torch.Tensor, ...])
    assert_type(Workspace(ws), Workspace)
    assert_type(ws.select_batch(torch.tensor([0, 1])), Workspace)
    assert_type(ws.select_batch_n(3), Workspace)
    assert_type(ws.subtime(0, 1), Workspace)
    assert_type(ws.get_time_truncated_workspace(0, 1), Workspace)
    assert_type(ws.get_time_truncated("x", 0, 1), torch.Tensor)
    assert_type(ws.select_subtime(torch.tensor([0, 1]), 1), Workspace)
    assert_type(Workspace.cat_batch([ws, ws]), Workspace)
    assert_type(ws.to("cpu"), Workspace)
    assert_type(ws.contiguous(), Workspace)
    ws.copy_time(0, 1, 1, ["x"])
    ws.remove_variable("x")
    assert_type(rb.size(), int)
    assert_type(rb.get_shuffled(4), Workspace)
    assert_type(rb.state_dict(), ReplayBufferState)
    env = ParallelGymAgent(make_env, 2, {"env_name": "CartPole-v1"})
    assert_type(env.seed(1), ParallelGymAgent)
    assert_type(env.get_obs_and_actions_sizes(), tuple[int, int])
    assert_type(Agents(env, Probe()).seed(1), Agents)
    assert_type(TemporalAgent(env).seed(1), TemporalAgent)
