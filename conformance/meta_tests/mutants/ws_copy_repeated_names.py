"""copy_n_last_steps copies once per entry of var_names: a name given twice is copied twice,
which is wrong for overlapping ranges (n > T/2). Unique names behave."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-15"]
TESTS = "test_programs_generated"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def copy_n_last_steps(self, n: int, var_names: Any = None) -> None:
        if var_names is None:
            super().copy_n_last_steps(n)
            return
        names = list(var_names)
        super().copy_n_last_steps(n, names)
        for i, name in enumerate(names):
            if name in names[:i]:  # a repeated entry: copied again
                super().copy_n_last_steps(n, [name])
