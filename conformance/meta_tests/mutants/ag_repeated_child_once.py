"""Agents iterates over its distinct children (as nn.Module.children() does): an agent given
twice, Agents(a, b, a), is called once per step."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agents as _Agents,
)

from mutants._base import reference_name

KILLED_BY = ["AG-4"]
TESTS = "test_programs_generated"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Agents(_Agents):
    def __call__(self, workspace: Any, **kwargs: Any) -> None:
        for agent in dict.fromkeys(self.agents):
            agent(workspace, **kwargs)
