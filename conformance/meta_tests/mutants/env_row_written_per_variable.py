"""The env agent writes its row one variable at a time: a write that fails leaves the earlier
variables of the row written."""

from __future__ import annotations

from typing import Any

import numpy as np
from bbrl_reference import ParallelGymAgent as _ParallelGymAgent
from bbrl_reference import Workspace

from mutants._base import reference_name

KILLED_BY = ["ENV-19"]
TESTS = "test_env_failures"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def _one_by_one(ws: Workspace, t: int, rows: list[tuple[str, np.ndarray]]) -> None:
    for name, row in rows:
        ws._set_numpy(name, t, row)


class ParallelGymAgent(_ParallelGymAgent):
    def forward(self, t: int, **kwargs: Any) -> None:
        ws = self.workspace
        if ws is None:
            super().forward(t, **kwargs)
            return
        ws._set_numpy_rows = lambda t, rows: _one_by_one(ws, t, rows)  # type: ignore[method-assign]
        try:
            super().forward(t, **kwargs)
        finally:
            del ws._set_numpy_rows
