"""set on an empty workspace records the batch size before validating t: a rejected
set('x', -1, v) leaves batch_size() at len(v) and makes later writes of another batch fail."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["ERR-5"]
TESTS = "test_errors"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def set(self, var_name: str, t: int, value: Any) -> None:
        if not self._vars and isinstance(value, torch.Tensor) and value.dim() >= 1:
            self._batch = value.shape[0]  # the bug: recorded before t is checked
        super().set(var_name, t, value)
