"""B23-like: ws["a", "b"] returns a lazy generator, so an unknown name fails only when the
result is consumed."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-25"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def __getitem__(self, var_name: Any) -> Any:
        if isinstance(var_name, (tuple, list)):
            return (self.get_full(name) for name in var_name)
        return self.get_full(var_name)
