"""B24-like: to() onto the device the workspace is already on returns the workspace itself."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-26"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    def to(self, device: Any) -> Any:
        if all(self.get_full(n).device == torch.device(device) for n in list(self.keys())):
            return self
        return super().to(device)
