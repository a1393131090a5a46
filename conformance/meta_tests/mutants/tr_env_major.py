"""get_transitions orders pairs env-major (column b*(T-1)+t) instead of time-major."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name, reordered_transitions

# TR-2 is checked where no pair is dropped (the TR-4 tests and unfiltered TR-1 cases).
KILLED_BY = ["TR-2"]
SELECT = ["TR-2", "TR-4"]
TESTS = "test_transitions"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def get_transitions(
        self, filter_key: str | None = "env/done", *, no_final_state: bool = False
    ) -> Any:
        filter_key = None if no_final_state else filter_key  # TR-11's spelling
        checked = super().get_transitions(filter_key)  # the argument checks and T <= 1
        if self.time_size() <= 1:
            return checked
        return reordered_transitions(self, filter_key, env_major=True, drop_second=False)
