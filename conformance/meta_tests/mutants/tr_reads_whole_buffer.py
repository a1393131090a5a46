"""get_transitions pairs every row of a variable's preallocated buffer, not only its first T:
a rollout written row by row (capacity beyond T) gains pairs of zero rows."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

# Seen as a wrong number of pairs without any filtering: N = (capacity - 1) * B.
KILLED_BY = ["TR-4"]
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
        buffers = {name: var.buf for name, var in self._vars.items() if var.buf is not None}
        if len(buffers) != len(self._vars) or len({b.shape[0] for b in buffers.values()}) != 1:
            return checked
        whole = _Workspace()
        for name, buf in buffers.items():
            whole.set_full(name, buf)  # the bug: every row of the buffer, not the first T
        return _Workspace.get_transitions(whole, filter_key)
