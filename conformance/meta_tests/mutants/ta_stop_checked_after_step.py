"""TA-7: a stop variable of a bad dtype that the workspace already holds is reported only
after the first step has run (and written)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    TemporalAgent as _TemporalAgent,
)

from mutants._base import reference_name

KILLED_BY = ["TA-7"]
TESTS = "test_stop_variable"


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
        held = stop_variable in workspace if isinstance(stop_variable, str) else False
        if held and workspace.get_full(stop_variable).dtype.is_complex:
            self.agent(workspace, t=t, **kwargs)  # the step runs, then the check
            raise TypeError(f"stop variable {stop_variable!r}: complex dtype")
        super().__call__(workspace, t=t, n_steps=n_steps, stop_variable=stop_variable, **kwargs)
