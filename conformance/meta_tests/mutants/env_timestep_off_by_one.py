"""B7-like: the timestep written after the first row is one too high."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ParallelGymAgent as _ParallelGymAgent,
)

from mutants._base import reference_name

KILLED_BY = ["ENV-4"]
TESTS = "test_env_agent"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def forward(self, t: int, **kwargs: Any) -> None:
        super().forward(t, **kwargs)
        workspace = self.workspace
        if t > 0 and workspace is not None:
            step = workspace.get("env/timestep", t)
            workspace.set("env/timestep", t, step + 1)
