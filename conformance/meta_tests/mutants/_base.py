"""What every mutant starts from: the reference's public names, except those it redefines."""

from __future__ import annotations

from typing import Any

import bbrl_reference

API = (
    "Agent",
    "Agents",
    "ParallelGymAgent",
    "ReplayBuffer",
    "TemporalAgent",
    "Workspace",
    "make_env",
)


def reference_name(name: str) -> Any:
    """A mutant's module ``__getattr__`` (PEP 562): the API names it does not redefine."""
    if name in API:
        return getattr(bbrl_reference, name)
    raise AttributeError(name)
