"""get(name, t) with t < 0 indexes from the end, as bbrl does (D1)."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["ERR-2"]
TESTS = "test_errors"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def get(self, var_name: str, t: int) -> torch.Tensor:
        if t < 0 and var_name in self:
            return super().get(var_name, self.get_full(var_name).shape[0] + t)
        return super().get(var_name, t)
