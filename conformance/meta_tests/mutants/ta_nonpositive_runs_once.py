"""B10: TemporalAgent with n_steps <= 0 runs one step."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Agent,
)
from bbrl_reference import (
    TemporalAgent as _TemporalAgent,
)

from mutants._base import reference_name

KILLED_BY = ["TA-4"]
TESTS = "test_agents"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class TemporalAgent(_TemporalAgent):
    def __init__(self, agent: Agent, name: str | None = None) -> None:
        super().__init__(agent, name=name)
        self._wrapped = [agent]  # a list: not registered as a second submodule

    def __call__(  # type: ignore[override]
        self,
        workspace: Any,
        t: int = 0,
        n_steps: int | None = None,
        stop_variable: str | None = None,
        **kwargs: Any,
    ) -> None:
        if n_steps is not None and n_steps <= 0:
            self._wrapped[0](workspace, t=t, **kwargs)
            return
        super().__call__(workspace, t=t, n_steps=n_steps, stop_variable=stop_variable, **kwargs)
