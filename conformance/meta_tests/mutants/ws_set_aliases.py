"""set keeps the caller's tensor: changing it later changes the workspace."""

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
    def __init__(self) -> None:
        super().__init__()
        self._alias: dict[str, dict[int, torch.Tensor]] = {}

    def set(self, var_name: str, t: int, value: torch.Tensor) -> None:
        super().set(var_name, t, value)
        self._alias.setdefault(var_name, {})[t] = value

    def get(self, var_name: str, t: int) -> torch.Tensor:
        value = super().get(var_name, t)
        return self._alias.get(var_name, {}).get(t, value)

    def get_full(self, var_name: str) -> torch.Tensor:
        full = super().get_full(var_name).clone()
        for t, value in self._alias.get(var_name, {}).items():
            if t < full.shape[0] and value.shape == full.shape[1:]:
                full[t] = value
        return full
