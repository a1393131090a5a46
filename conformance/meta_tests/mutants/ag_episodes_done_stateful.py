"""AG-19 (bbrl 1.0.1's design): EpisodesDone keeps the running OR in the agent instead of
reading out_var[t-1], so a call at t > 0 that follows no call at t-1 forgets earlier rows."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    EpisodesDone as _EpisodesDone,
)

from mutants._base import reference_name

KILLED_BY = ["AG-19"]
TESTS = "test_agent_utils"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class EpisodesDone(_EpisodesDone):
    def forward(self, t: int, **kwargs: Any) -> None:
        value = self.get((self.in_var, t))
        value = value if value.dtype == torch.bool else value != 0
        state = self.__dict__.get("state")
        if t == 0 or state is None:
            state = torch.zeros_like(value)
        state = state | value
        self.__dict__["state"] = state
        self.set((self.out_var, t), state)
