"""Agents.seed and TemporalAgent.seed check the seed and return the agent but seed none of the
agents they hold: TemporalAgent(Agents(env_agent, actor)).seed(s), the way bbrl-algos seeds its
training agents, leaves the env agent unseeded (a statement-deletion mutant)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agent as _Agent,
)
from bbrl_reference import (
    Agents as _Agents,
)
from bbrl_reference import (
    TemporalAgent as _TemporalAgent,
)

from mutants._base import reference_name

KILLED_BY = ["AG-28"]
TESTS = "test_agents"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Agents(_Agents):
    def seed(self, seed: int) -> Any:
        return _Agent.seed(self, seed)


class TemporalAgent(_TemporalAgent):
    def seed(self, seed: int) -> Any:
        return _Agent.seed(self, seed)
