"""clear() removes every variable but keeps the batch size for the WS-4 check: batch_size()
says 0, yet the next write of another batch size raises ValueError."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-19"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def clear(self, var_name: str | None = None) -> None:
        batch = self._batch
        super().clear(var_name)
        if var_name is None:
            self._batch = batch

    def batch_size(self) -> int:
        return super().batch_size() if self._vars else 0
