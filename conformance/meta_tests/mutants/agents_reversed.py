"""Agents calls its children in reverse order."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agent,
    ParallelGymAgent,
    ReplayBuffer,
    TemporalAgent,
    Workspace,
    make_env,
)
from bbrl_reference import (
    Agents as _Agents,
)

KILLED_BY = ["AG-4"]
TESTS = "test_agents"
__all__ = [
    "Agent",
    "Agents",
    "ParallelGymAgent",
    "ReplayBuffer",
    "TemporalAgent",
    "Workspace",
    "make_env",
]


class Agents(_Agents):
    def __init__(self, *agents: Agent, name: str | None = None) -> None:
        super().__init__(*agents, name=name)
        self._reversed = list(agents)[::-1]

    def __call__(self, workspace: Any, **kwargs: Any) -> None:
        for agent in self._reversed:
            agent(workspace, **kwargs)
