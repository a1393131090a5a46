"""select_batch_n draws its columns from 0..B-2: the last column is never drawn."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-31"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def select_batch_n(self, n: int) -> Any:
        super().select_batch_n(n)  # the argument checks
        high = max(self.batch_size() - 1, 1)
        return self.select_batch(torch.randint(0, high, (n,)))
