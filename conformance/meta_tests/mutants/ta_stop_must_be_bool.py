"""TA-6: a stop variable must be torch.bool (the reference before v2): notebook 01's float
stop flag raises TypeError."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Agent,
    Agents,
)
from bbrl_reference import (
    TemporalAgent as _TemporalAgent,
)

from mutants._base import reference_name

KILLED_BY = ["TA-6"]
TESTS = "test_stop_variable"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class _BoolOnly(Agent):
    def __init__(self, var: str) -> None:
        super().__init__()
        self.var = var

    def forward(self, t: int, **kwargs: Any) -> None:
        ws = self.workspace
        if ws is not None and self.var in ws and ws.get_full(self.var).dtype != torch.bool:
            raise TypeError(f"stop variable {self.var!r}: expected dtype torch.bool")


class TemporalAgent(_TemporalAgent):
    def __call__(  # type: ignore[override]
        self,
        workspace: Any,
        t: int = 0,
        n_steps: int | None = None,
        stop_variable: str | None = None,
        **kwargs: Any,
    ) -> None:
        agent = (
            self.agent if stop_variable is None else Agents(self.agent, _BoolOnly(stop_variable))
        )
        _TemporalAgent(agent)(
            workspace, t=t, n_steps=n_steps, stop_variable=stop_variable, **kwargs
        )
