"""The env agent writes its row one variable at a time: a write that fails leaves the earlier
variables of the row written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from bbrl_reference import ParallelGymAgent as _ParallelGymAgent

from mutants._base import reference_name

KILLED_BY = ["ENV-19"]
TESTS = "test_env_failures"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def _one_by_one(write: Callable[..., None], t: int, rows: list[tuple[str, np.ndarray]]) -> None:
    for name, row in rows:  # the bug: each variable is written (atomically) on its own
        write(t, [(name, row)])


class ParallelGymAgent(_ParallelGymAgent):
    def forward(self, t: int, **kwargs: Any) -> None:
        ws = self.workspace
        if ws is None:
            super().forward(t, **kwargs)
            return
        write = ws._set_numpy_rows
        ws._set_numpy_rows = lambda t, rows: _one_by_one(write, t, rows)  # type: ignore[method-assign]
        try:
            super().forward(t, **kwargs)
        finally:
            del ws._set_numpy_rows
