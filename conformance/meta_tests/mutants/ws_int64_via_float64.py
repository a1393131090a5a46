"""set stages every int64 row through float64 (e.g. a numpy staging buffer of one dtype):
values beyond 2**53 are rounded."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-2"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def set(self, var_name: str, t: int, value: Any) -> None:
        if isinstance(value, torch.Tensor) and value.dtype == torch.int64:
            value = value.to(torch.float64).to(torch.int64)
        super().set(var_name, t, value)
