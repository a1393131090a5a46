"""get_transitions ignores no_final_state: the filter still drops pairs (and must exist)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["TR-11"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def get_transitions(
        self, filter_key: str | None = "env/done", *, no_final_state: bool = False
    ) -> Any:
        return super().get_transitions(filter_key)
