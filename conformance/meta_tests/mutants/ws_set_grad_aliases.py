"""set and set_full keep a value that requires grad by reference ("a result with a grad_fn is
fresh, no need to copy it"): an in-place change of the caller's tensor changes the workspace."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-8"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def set(self, var_name: str, t: int, value: Any) -> None:
        super().set(var_name, t, value)
        if isinstance(value, torch.Tensor) and value.requires_grad:
            var = self._vars[var_name]
            assert var.rows is not None  # tracked mode
            var.rows[t] = value
            var.full = None

    def set_full(self, var_name: str, value: Any) -> None:
        super().set_full(var_name, value)
        if isinstance(value, torch.Tensor) and value.requires_grad:
            self._vars[var_name].set_tracked(value)
