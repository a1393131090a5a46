"""TemporalAgent tests the stop variable's last row (get_full(name)[-1]) instead of row t: right
on a fresh workspace, wrong on a used one whose rows beyond t hold an older rollout."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    TemporalAgent as _TemporalAgent,
)

from mutants._base import reference_name

KILLED_BY = ["TA-2"]
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
        valid = type(t) is int and t >= 0 and (n_steps is None or type(n_steps) is int)
        if stop_variable is None or not valid or (n_steps is not None and n_steps <= 0):
            super().__call__(workspace, t=t, n_steps=n_steps, stop_variable=stop_variable, **kwargs)
            return
        end = None if n_steps is None else t + n_steps
        while end is None or t < end:
            self.agent(workspace, t=t, **kwargs)
            if bool(workspace.get_full(stop_variable)[-1].all()):  # the bug: not row t
                break
            t += 1
