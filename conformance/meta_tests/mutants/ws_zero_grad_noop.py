"""zero_grad does nothing: variables keep their autograd history."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-14"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def zero_grad(self) -> None:
        pass
