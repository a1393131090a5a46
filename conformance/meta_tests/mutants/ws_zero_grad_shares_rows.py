"""zero_grad detaches a variable written with autograd history without copying it ("detach()
is free"): the variable's new buffer is the stacked tensor that a copy made before
(`Workspace(ws)`, a `select_batch` of every column...) also holds, so the epoch loop's next
writes (`set`, `copy_n_last_steps`) after `zero_grad` change that copy (WS-26)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-26"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def zero_grad(self) -> None:
        for var in self._vars.values():
            if var.rows is not None:  # tracked: detach the cached stack, no copy
                full = var.full_tensor().detach()
                var.set_buf(full, full.shape[0])
