"""Agent.__call__ drops keyword arguments whose value is None before calling forward (so that
forward's own defaults apply): forward(t, option=None) never sees option."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agent as _Agent,
)

from mutants._base import reference_name

KILLED_BY = ["AG-2"]
TESTS = "test_agents"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Agent(_Agent):
    def __call__(self, workspace: Any, **kwargs: object) -> None:
        super().__call__(workspace, **{k: v for k, v in kwargs.items() if v is not None})
