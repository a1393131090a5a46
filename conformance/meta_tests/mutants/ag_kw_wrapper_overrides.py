"""AG-17: KWAgentWrapper lets its fixed keywords silently override the caller's."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    KWAgentWrapper as _KWAgentWrapper,
)

from mutants._base import reference_name

KILLED_BY = ["AG-17"]
TESTS = "test_agent_utils"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class KWAgentWrapper(_KWAgentWrapper):
    def forward(self, t: int, **kwargs: Any) -> None:
        assert self.workspace is not None
        self.wrapped(self.workspace, t=t, **{**kwargs, **self.kwargs})
