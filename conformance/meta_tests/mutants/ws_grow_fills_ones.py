"""Growing a variable fills the gap rows with ones instead of zeros."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-3"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def set(self, var_name: str, t: int, value: torch.Tensor) -> None:
        if var_name in self:
            size = self.get_full(var_name).shape[0]
            for gap in range(size, t):
                super().set(var_name, gap, torch.ones_like(value))
        super().set(var_name, t, value)
