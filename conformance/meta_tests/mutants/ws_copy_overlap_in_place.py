"""B2-like: copy_n_last_steps copies row by row, last row first, so
overlapping ranges (n > T/2) read rows it already overwrote."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-15"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def copy_n_last_steps(self, n: int, var_names: Any = None) -> None:
        names = list(self.keys()) if var_names is None else list(var_names)
        super().copy_n_last_steps(0, names)  # keeps the argument checks
        for name in names:
            size = self.get_full(name).shape[0]
            for i in reversed(range(n)):
                self.set(name, i, self.get(name, size - n + i))
