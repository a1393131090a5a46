"""TemporalAgent passes its own n_steps on to the agent it runs, with the other keyword
arguments (instead of calling it with t and the other keyword arguments only)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    TemporalAgent as _TemporalAgent,
)

from mutants._base import reference_name

KILLED_BY = ["AG-2"]
TESTS = "test_programs_generated"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class TemporalAgent(_TemporalAgent):
    def __call__(self, workspace: Any, **kwargs: Any) -> None:  # type: ignore[override]
        t, n_steps = kwargs.get("t", 0), kwargs.get("n_steps")
        if not isinstance(n_steps, int) or n_steps <= 0 or "stop_variable" in kwargs:
            super().__call__(workspace, **kwargs)
            return
        rest = {k: v for k, v in kwargs.items() if k != "t"}
        for step in range(t, t + n_steps):
            self.agent(workspace, t=step, **rest)
