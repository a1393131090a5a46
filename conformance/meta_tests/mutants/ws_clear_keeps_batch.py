"""clear() forgets the variables but not the batch size: batch_size() still returns it, and
a later write of another batch size is rejected, although the workspace is empty."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-1"]
TESTS = "test_programs_generated"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def __init__(self) -> None:
        super().__init__()
        self._kept_batch = 0

    def clear(self, var_name: str | None = None) -> None:
        if var_name is None and list(self.keys()):
            self._kept_batch = super().batch_size()
        super().clear(var_name)

    def batch_size(self) -> int:
        return super().batch_size() if list(self.keys()) else self._kept_batch

    def _check_kept(self, batch: int) -> None:
        if not list(self.keys()) and self._kept_batch and batch != self._kept_batch:
            raise ValueError(f"expected batch size {self._kept_batch}, got {batch}")

    def set(self, var_name: str, t: int, value: Any) -> None:
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            self._check_kept(value.shape[0])
        super().set(var_name, t, value)

    def set_full(self, var_name: str, value: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(value, torch.Tensor) and value.dim() > 1:
            self._check_kept(value.shape[1])
        super().set_full(var_name, value, *args, **kwargs)
