"""AG-15: load_model loads into the agent it is called on and returns it, instead of
returning a loaded copy and leaving the agent unchanged."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Agent as _Agent,
)

from mutants._base import reference_name

KILLED_BY = ["AG-15"]
TESTS = "test_agents_surface"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Agent(_Agent):
    def load_model(self, path: Any) -> Any:
        self.load_state_dict(torch.load(path, weights_only=True))
        return self
