"""B1: copy_n_last_steps ignores var_names and copies every variable."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-16"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def copy_n_last_steps(self, n: int, var_names: Any = None) -> None:
        super().copy_n_last_steps(n)
