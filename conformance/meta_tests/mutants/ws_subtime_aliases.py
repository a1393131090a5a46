"""B24-like: subtime hands out views of the source's buffers without copy on write, so a
write to either workspace reaches the other."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-26"]
SELECT = ["WS-26"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def subtime(self, from_t: int, to_t: int) -> Any:
        out = super().subtime(from_t, to_t)
        for var in [*out._vars.values(), *self._vars.values()]:
            var.shared = False  # the view is written in place from now on
        return out
