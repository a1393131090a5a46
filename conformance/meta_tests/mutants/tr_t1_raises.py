"""get_transitions on a workspace of time size 1 raises instead of giving N = 0."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["TR-5"]
TESTS = "test_transitions"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def get_transitions(
        self, filter_key: str | None = "env/done", *, no_final_state: bool = False
    ) -> Any:
        filter_key = None if no_final_state else filter_key  # TR-11's spelling
        if self.time_size() == 1:
            raise ValueError("get_transitions: time size 1")
        return super().get_transitions(filter_key)
