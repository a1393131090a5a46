"""copy_n_last_steps copies once per occurrence of a name in var_names: a name given twice is
copied twice, so overlapping ranges (n > T/2) read rows the first copy already overwrote."""

from __future__ import annotations

from collections.abc import Iterable
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
    def copy_n_last_steps(self, n: int, var_names: Iterable[str] | None = None) -> None:
        if var_names is None or isinstance(var_names, str):
            super().copy_n_last_steps(n, var_names)
            return
        names = list(var_names)
        super().copy_n_last_steps(n, var_names=names)  # validates, copies each name once
        seen: set[str] = set()
        for name in names:
            if name in seen:
                super().copy_n_last_steps(n, var_names=[name])
            seen.add(name)
