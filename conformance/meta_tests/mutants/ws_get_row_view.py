"""get returns the stored row itself (a view of the variable's buffer) instead of a copy, "to
save a copy per step": a later set at that row writes through the view, so a value read before
changes, and so do the gradients of a loss built from it (WS-10), without any error when the
write bypasses torch's version counter."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-10"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def get(self, var_name: str, t: int) -> torch.Tensor:
        value = super().get(var_name, t)  # the checks
        var = self._vars[var_name]
        if var.rows is None:  # plain mode: the row of the buffer, not a copy
            return var.row(t)
        return value
