"""clear(name) forgets the values but not the item shape and dtype of the variable (kept in a
separate schema table): writing the name again with another dtype or item shape raises."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-19"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def __init__(self) -> None:
        super().__init__()
        self._schemas: dict[str, tuple[tuple[int, ...], torch.dtype]] = {}

    def set(self, var_name: str, t: int, value: torch.Tensor) -> None:
        known = self._schemas.get(var_name)
        if known is not None and var_name not in self and isinstance(value, torch.Tensor):
            if tuple(value.shape[1:]) != known[0]:
                raise ValueError(f"set: variable {var_name!r}: expected item shape {known[0]}")
            if value.dtype != known[1]:
                raise TypeError(f"set: variable {var_name!r}: expected dtype {known[1]}")
        super().set(var_name, t, value)
        self._schemas.setdefault(var_name, (tuple(value.shape[1:]), value.dtype))
