"""Agents iterates its children with nn.Module.children(), which yields a module once however
often it was given: Agents(a, b, a) calls a once."""

from __future__ import annotations

from typing import Any

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
    def __call__(self, workspace: Any, **kwargs: Any) -> None:
        for agent in self.agents.children():
            agent(workspace, **kwargs)
