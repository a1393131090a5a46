"""The buffer stores every variable through float64 (one packed float array per item), so
int64 values beyond 2**53 come back changed; small integers survive."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

# Written for the program generator, whose clause for it varied between machines (the
# first differing value of a generated program); the hand-written tests of TESTS now
# catch it deterministically, under the clause below.
KILLED_BY = ["RB-8"]
TESTS = "test_replay_buffer"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def put(self, workspace: Any) -> None:
        rounded = _Workspace()
        for name in list(workspace.keys()):
            full = workspace.get_full(name)
            if full.dtype == torch.int64:
                full = full.double().to(torch.int64)
            rounded.set_full(name, full)
        super().put(rounded)
