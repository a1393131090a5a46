"""set has no bound on t: a row of no bytes at t >= 2**31 is accepted."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)
from bbrl_reference import _validation

from mutants._base import reference_name

KILLED_BY = ["WS-23"]
TESTS = "test_workspace_limits"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def set(self, var_name: str, t: int, value: torch.Tensor) -> None:
        saved = _validation.MAX_TIME_SIZE
        _validation.MAX_TIME_SIZE = 2**80  # the check forgotten (only during this call)
        try:
            super().set(var_name, t, value)
        finally:
            _validation.MAX_TIME_SIZE = saved
