"""clear() without a name removes nothing."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

# The tests see the variables left behind through keys() (WS-12).
KILLED_BY = ["WS-12"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def clear(self, var_name: str | None = None) -> None:
        if var_name is not None:
            super().clear(var_name)
