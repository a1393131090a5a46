"""AG-10: Agents.get_by_name lists the agent itself before its children's matches."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agents as _Agents,
)

from mutants._base import reference_name

KILLED_BY = ["AG-10"]
TESTS = "test_agents_surface"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Agents(_Agents):
    def get_by_name(self, name: str) -> list[Any]:
        found = super().get_by_name(name)
        if found and found[-1] is self:
            return [self, *found[:-1]]
        return found
