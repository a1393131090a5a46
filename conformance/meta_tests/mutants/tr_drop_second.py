"""get_transitions drops a pair when its second element is done."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name, reordered_transitions

KILLED_BY = ["TR-3"]
TESTS = "test_transitions"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def get_transitions(
        self, filter_key: str | None = "env/done", *, no_final_state: bool = False
    ) -> Any:
        filter_key = None if no_final_state else filter_key  # TR-11's spelling
        checked = super().get_transitions(filter_key)
        if self.time_size() <= 1:
            return checked
        return reordered_transitions(self, filter_key, env_major=False, drop_second=True)
