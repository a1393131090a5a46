"""A variable written whole by set_full and then rewritten row-wise with set at t < T - 1
loses its rows after t (compact storage converted back to rows by slicing up to t)."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

# Found by the program generator (which names WS-9 for it: a variable with history); no
# clause stated it, so WS-44 was added with a hand-written test.
KILLED_BY = ["WS-44"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def __init__(self) -> None:
        super().__init__()
        self._compact: set[str] = set()

    def set_full(self, var_name: str, value: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        super().set_full(var_name, value, *args, **kwargs)
        self._compact.add(var_name)

    def set(self, var_name: str, t: int, value: torch.Tensor) -> None:
        compact = var_name in self._compact and var_name in self.keys()
        size = self.get_full(var_name).shape[0] if compact else 0
        super().set(var_name, t, value)
        self._compact.discard(var_name)
        if compact and 0 <= t < size - 1:
            super().set_full(var_name, self.get_full(var_name)[: t + 1].clone())

    def clear(self, var_name: str | None = None) -> None:
        super().clear(var_name)
        if var_name is None:
            self._compact.clear()
        else:
            self._compact.discard(var_name)
