"""select_subtime reads the smallest and largest start before checking that there is one: on a
workspace of batch size 0 it raises torch's RuntimeError (min of an empty tensor) instead of
returning windows of batch size 0 (a boundary mutant, `batch > 0` as `batch >= 0`)."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-35"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def select_subtime(self, t: torch.Tensor, window_size: int) -> Any:
        if isinstance(t, torch.Tensor):
            int(t.min())  # RuntimeError for an empty t
        return super().select_subtime(t, window_size)
