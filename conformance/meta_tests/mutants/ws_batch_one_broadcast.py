"""set broadcasts a row of batch size 1 over the workspace's batch size instead of raising
(the row is copied with `buffer[t] = value`, which broadcasts, and only the item shape is
checked)."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-4"]
TESTS = "test_workspace"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def set(self, var_name: str, t: int, value: Any) -> None:
        batch = self.batch_size()
        if isinstance(value, torch.Tensor) and value.dim() >= 1 and value.shape[0] == 1 < batch:
            value = value.expand(batch, *value.shape[1:])
        super().set(var_name, t, value)
