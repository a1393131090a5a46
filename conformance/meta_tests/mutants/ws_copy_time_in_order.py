"""B26-like: copy_time copies one row at a time, first row first, so overlapping ranges
read rows it has just written."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-41"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def copy_time(self, from_time: int, to_time: int, n_steps: int, var_names: Any = None) -> None:
        super().copy_time(from_time, to_time, 0, var_names)  # the argument checks
        names = list(self.keys()) if var_names is None else list(var_names)
        for name in names:
            for i in range(n_steps):
                self.set(name, to_time + i, self.get(name, from_time + i))
