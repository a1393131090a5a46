"""TemporalAgent runs n_steps + 1 steps."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    TemporalAgent as _TemporalAgent,
)

from mutants._base import reference_name

KILLED_BY = ["TA-1"]
TESTS = "test_agents"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class TemporalAgent(_TemporalAgent):
    def __call__(  # type: ignore[override]
        self,
        workspace: Any,
        t: int = 0,
        n_steps: int | None = None,
        stop_variable: str | None = None,
        **kwargs: Any,
    ) -> None:
        more = None if n_steps is None or n_steps <= 0 else n_steps + 1
        super().__call__(workspace, t=t, n_steps=more, stop_variable=stop_variable, **kwargs)
