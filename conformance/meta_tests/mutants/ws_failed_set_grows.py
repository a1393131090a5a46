"""A set at t >= T with a value of the wrong dtype raises TypeError, but only after growing
the variable with zero rows up to t (checks after the mutation)."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["ERR-5"]
# The hand-written ERR-5 tests of test_workspace catch it deterministically as well.
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def set(self, var_name: str, t: int, value: Any) -> None:
        if isinstance(value, torch.Tensor) and var_name in self.keys() and t >= 0:
            full = self.get_full(var_name)
            same_shape = tuple(value.shape) == tuple(full.shape[1:])
            if same_shape and value.dtype != full.dtype and t >= full.shape[0]:
                super().set(var_name, t, torch.zeros_like(full[0]))
        super().set(var_name, t, value)
