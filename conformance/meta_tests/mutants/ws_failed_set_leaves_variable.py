"""A set that registers a new variable before allocating its storage: when the allocation
fails, an empty variable of that name is left behind (issue #11's phantom variable)."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-24"]
TESTS = "test_workspace_limits"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def set(self, var_name: str, t: int, value: torch.Tensor) -> None:
        try:
            super().set(var_name, t, value)
        except MemoryError:
            if var_name not in list(self.keys()):
                self._install(var_name, torch.zeros((0, *value.shape), dtype=value.dtype))
            raise
