"""B3: copy_n_last_steps(n > T) silently grows the workspace instead of raising."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-17"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def copy_n_last_steps(self, n: int, var_names: Any = None) -> None:
        if n > self.time_size():
            for name in list(self.keys()):
                row = self.get(name, 0)
                self.set(name, n - 1, torch.zeros_like(row))
            return
        super().copy_n_last_steps(n, var_names)
