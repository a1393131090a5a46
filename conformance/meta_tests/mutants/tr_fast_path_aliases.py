"""get_transitions takes a fast path when nothing needs reordering (T = 2 and no pair dropped):
the result's variables are the source's own tensors, so writing either one changes the other."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["TR-8"]
TESTS = "test_transitions"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def get_transitions(
        self, filter_key: str | None = "env/done", *, no_final_state: bool = False
    ) -> Any:
        filter_key = None if no_final_state else filter_key  # TR-11's spelling
        checked = super().get_transitions(filter_key)  # argument checks, and the copy
        if self.time_size() != 2 or any(var.rows is not None for var in self._vars.values()):
            return checked
        if filter_key is not None and bool(self._vars[filter_key].full_tensor()[0].any()):
            return checked
        out = Workspace()
        for name, var in self._vars.items():
            out._install(name, var.full_tensor())  # the bug: no copy
        return out
