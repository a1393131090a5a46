"""set casts a value of a narrower dtype of the same kind up to the variable's dtype (a "safe"
cast: float16 into float32, int32 into int64) instead of raising TypeError."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-5"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def _kind(dtype: torch.dtype) -> str:
    if dtype == torch.bool:
        return "b"
    if dtype.is_floating_point:
        return "f"
    return "i" if dtype.is_signed else "u"


class Workspace(_Workspace):
    def set(self, var_name: str, t: int, value: Any) -> None:
        if isinstance(value, torch.Tensor) and var_name in self:
            dtype = self.get_full(var_name).dtype
            if (
                value.dtype != dtype
                and _kind(value.dtype) == _kind(dtype)
                and value.dtype.itemsize < dtype.itemsize
            ):
                value = value.to(dtype)
        super().set(var_name, t, value)
