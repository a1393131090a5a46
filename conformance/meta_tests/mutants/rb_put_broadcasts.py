"""put checks only that a variable broadcasts to the stored [T, *S] (numpy-style assignment
into the storage): T = 1 or an item side of 1 is accepted and repeated instead of raising."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import copy_workspace, reference_name

KILLED_BY = ["RB-6"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def put(self, workspace: Any) -> None:
        schema = self._schema
        if schema is not None and set(workspace.keys()) == set(schema.fields):

            def expand(name: str, value: torch.Tensor) -> torch.Tensor:
                trailing, _ = schema.fields[name]
                target = (schema.time_size, value.shape[1], *trailing)
                try:
                    return value.detach().expand(target).clone()
                except RuntimeError:
                    return value.detach()

            workspace = copy_workspace(workspace, expand)
        super().put(workspace)
