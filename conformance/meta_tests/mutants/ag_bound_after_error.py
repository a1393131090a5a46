"""Agent.__call__ unbinds the workspace only when forward returns: after forward raised, the
agent stays bound and self.get/self.set outside a call silently use the old workspace."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agent as _Agent,
)

from mutants._base import reference_name

KILLED_BY = ["AG-7"]
TESTS = "test_agents"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Agent(_Agent):
    def __call__(self, workspace: Any, **kwargs: object) -> None:
        attributes = self.__dict__
        previous = attributes["workspace"]
        attributes["workspace"] = workspace
        self.forward(**kwargs)  # the bug: no try/finally
        attributes["workspace"] = previous
