"""B25-like: subtime reads its bounds as a Python slice: out of range is clipped and a
negative bound counts from the end."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-33"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def subtime(self, from_t: int, to_t: int) -> Any:
        start, stop, _ = slice(from_t, to_t).indices(self.time_size())
        return super().subtime(start, max(start, stop))
