"""Static type checks of the public surface (STYLE T2): mypy checks this file, pytest never runs it.

Run: ``mypy --strict reference/bbrl_reference reference/type_tests``.
"""

from __future__ import annotations

from typing import Any, assert_type

import gymnasium as gym
import torch
from bbrl_reference import (
    Agent,
    Agents,
    CopyTAgent,
    EpisodesDone,
    KWAgentWrapper,
    ParallelGymAgent,
    PrintAgent,
    ReplayBuffer,
    ReplayBufferState,
    SeedableAgent,
    SerializableAgent,
    TemporalAgent,
    TimeAgent,
    Workspace,
    get_arguments,
    get_class,
    instantiate_class,
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
    assert_type(env.is_continuous_action(), bool)
    assert_type(env.is_discrete_action(), bool)
    assert_type(env.envs, list[gym.Env[Any, Any]])
    assert_type(ParallelGymAgent(make_env, 2, backend="vector", seed=3), ParallelGymAgent)
    assert_type(Agents(env, Probe()).seed(1), Agents)
    assert_type(TemporalAgent(env).seed(1), TemporalAgent)


def agent_surface(probe: Probe, path: str) -> None:
    assert_type(probe.get_name(), str | None)
    assert_type(probe.set_name("p"), Probe)
    assert_type(probe.with_prefix("env/"), Probe)
    assert_type(probe.get_by_name("p"), list[Agent])
    assert_type(probe.load_model(path), Probe)
    assert_type(Agents(probe)[0], Agent)
    assert_type(KWAgentWrapper(probe, stochastic=False).wrapped, Agent)
    assert_type(PrintAgent("x", name="print"), PrintAgent)
    assert_type(EpisodesDone("env/done", "done"), EpisodesDone)
    assert_type(CopyTAgent("a", "b", detach=True), CopyTAgent)
    assert_type(SeedableAgent(seed=1).seed(2), SeedableAgent)
    assert_type(SerializableAgent().serialize(), SerializableAgent)
    assert_type(TimeAgent(name="t"), TimeAgent)
    assert_type(get_class({"classname": "torch.optim.Adam"}), Any)  # any attribute (AG-22)
    assert_type(get_arguments({"classname": "torch.optim.Adam", "lr": 0.1}), dict[str, object])
    assert_type(instantiate_class({"classname": "torch.nn.Identity"}), object)


def buffer_surface(path: str) -> None:
    rb = ReplayBuffer(1e6, device="cpu", generator=torch.Generator())
    assert_type(rb.max_size, int)
    assert_type(rb.is_full, bool)
    assert_type(rb.device, torch.device)
    assert_type(rb.generator, torch.Generator)
    assert_type(rb.variables, dict[str, torch.Tensor])
    assert_type(rb.to("cpu"), ReplayBuffer)
    assert_type(rb.save(path), None)
    assert_type(rb.load(path), ReplayBuffer)
