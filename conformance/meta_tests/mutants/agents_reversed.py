"""Agents calls its children in reverse order."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agent,
)
from bbrl_reference import (
    Agents as _Agents,
)

from mutants._base import reference_name

KILLED_BY = ["AG-4"]
TESTS = "test_agents"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Agents(_Agents):
    def __init__(self, *agents: Agent, name: str | None = None) -> None:
        super().__init__(*agents, name=name)
        self._reversed = list(agents)[::-1]

    def __call__(self, workspace: Any, **kwargs: Any) -> None:
        for agent in self._reversed:
            agent(workspace, **kwargs)
