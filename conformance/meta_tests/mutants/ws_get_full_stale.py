"""get_full caches its result and never refreshes it after a set."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-6"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def __init__(self) -> None:
        super().__init__()
        self._stale: dict[str, torch.Tensor] = {}

    def get_full(self, var_name: str) -> torch.Tensor:
        if var_name not in self._stale:
            self._stale[var_name] = super().get_full(var_name)
        return self._stale[var_name]
