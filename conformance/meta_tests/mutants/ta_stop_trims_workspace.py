"""A run stopped by its stop variable trims every variable to the stop row (so that
time_size() is the episode length): rows of an older, longer rollout are lost."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    TemporalAgent as _TemporalAgent,
)

from mutants._base import reference_name

KILLED_BY = ["TA-5"]
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
        super().__call__(workspace, t=t, n_steps=n_steps, stop_variable=stop_variable, **kwargs)
        if stop_variable is None:
            return
        end = workspace.get_full(stop_variable).shape[0]
        if n_steps is not None:
            end = min(end, t + n_steps)
        stop = next((s for s in range(t, end) if bool(workspace.get(stop_variable, s).all())), None)
        if stop is None:
            return
        for name in list(workspace.keys()):
            full = workspace.get_full(name)
            if full.shape[0] > stop + 1:
                workspace.set_full(name, full[: stop + 1])
