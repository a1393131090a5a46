"""select_batch_n refuses n > 1 on a workspace of batch size 0 but lets n = 1 through to
select_batch, which fails with IndexError: the bound of WS-31 moved by one (n > 1 for n > 0),
a mutant the seed-23 mutation run found alive."""

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
        if n == 1 and self.batch_size() == 0:
            return self.select_batch(torch.zeros(1, dtype=torch.int64))
        return super().select_batch_n(n)
