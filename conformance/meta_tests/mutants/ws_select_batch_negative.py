"""B25-like: select_batch reads a negative position from the end, as torch indexing does."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-30"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def select_batch(self, batch_indexes: Any) -> Any:
        batch = self.batch_size()
        if isinstance(batch_indexes, torch.Tensor) and batch_indexes.dtype == torch.int64:
            batch_indexes = torch.where(batch_indexes < 0, batch_indexes + batch, batch_indexes)
        return super().select_batch(batch_indexes)
