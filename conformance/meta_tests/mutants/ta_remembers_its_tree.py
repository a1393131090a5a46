"""AG-13, TA-1: a TemporalAgent flattens its tree of Agents into a list of leaves at its first
run and reuses that list (a plausible speed-up): a child replaced with ``agents[k] = b`` after
that run is never called by the TemporalAgent, which keeps calling the old child. Replacing a
child before the first run works."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agents as _Agents,
)
from bbrl_reference import (
    TemporalAgent as _TemporalAgent,
)

from mutants._base import reference_name

KILLED_BY = ["AG-13"]
TESTS = "test_agents_surface"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def _leaves(agent: Any) -> list[Any]:
    if type(agent).__call__ is _Agents.__call__:
        return [leaf for child in agent.agents for leaf in _leaves(child)]
    return [agent]


class TemporalAgent(_TemporalAgent):
    def __call__(self, workspace: Any, **kwargs: Any) -> None:  # type: ignore[override]
        frozen = self.__dict__.get("_frozen")  # not a submodule: parameters() is unchanged
        if frozen is None:
            frozen = _TemporalAgent(_Agents(*_leaves(self.agent)))
            self.__dict__["_frozen"] = frozen
        frozen(workspace, **kwargs)
