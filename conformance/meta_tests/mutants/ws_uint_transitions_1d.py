"""get_transitions gathers scalar variables with a one-dimensional index_select, which torch
does not implement for uint16, uint32 and uint64 (the reference's own bug before issue #11)."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-21"]
TESTS = "test_workspace_limits"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def get_transitions(
        self, filter_key: str | None = "env/done", *, no_final_state: bool = False
    ) -> Any:
        for name in list(self.keys()):
            full = self.get_full(name)
            if full.dim() == 2:
                full.reshape(-1).index_select(0, torch.zeros(1, dtype=torch.int64))
        return super().get_transitions(filter_key, no_final_state=no_final_state)
