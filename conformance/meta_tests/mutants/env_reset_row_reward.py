"""The row after a done holds reward 1 instead of 0 (reset row and frozen row)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ParallelGymAgent as _ParallelGymAgent,
)

from mutants._base import reference_name

KILLED_BY = ["ENV-6", "ENV-7"]
TESTS = "test_env_agent"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def forward(self, t: int, **kwargs: Any) -> None:
        super().forward(t, **kwargs)
        workspace = self.workspace
        if t > 0 and workspace is not None:
            done = workspace.get("env/done", t - 1)
            reward = workspace.get("env/reward", t).clone()
            reward[done] = 1.0
            workspace.set("env/reward", t, reward)
