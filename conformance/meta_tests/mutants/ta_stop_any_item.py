"""TA-2: a stop variable with items of several elements ([B, k]) stops the run when every batch
entry has *some* nonzero element (each item reduced with any, then the batch with all), instead
of when every element of every item is nonzero. A [B] stop variable, the usual case, still
stops at the right step."""

from __future__ import annotations

import types
from typing import Any

import bbrl_reference._agents as _agents
from bbrl_reference import (
    TemporalAgent as _TemporalAgent,
)

from mutants._base import reference_name

KILLED_BY = ["TA-2"]
TESTS = "test_stop_variable"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def _stop_row_true(workspace: Any, name: str, t: int) -> bool:
    _agents._stop_row_true(workspace, name, t)  # TA-8's checks, unchanged
    row = workspace.get(name, t)
    return bool((row != 0).reshape(row.shape[0], -1).any(1).all())


class TemporalAgent(_TemporalAgent):
    # the reference's own __call__, reading the rule above instead of the reference's
    __call__ = types.FunctionType(
        _TemporalAgent.__call__.__code__,
        {**vars(_agents), "_stop_row_true": _stop_row_true},
        "__call__",
        _TemporalAgent.__call__.__defaults__,
    )
