"""RB-14 (bbrl 1.0.1): an unknown device is accepted at construction (and the CPU used)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-14"]
TESTS = "test_replay_buffer_surface"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def __init__(self, max_size: Any, device: Any = None, **kwargs: Any) -> None:
        try:
            super().__init__(max_size, device, **kwargs)
        except ValueError:
            super().__init__(max_size, None, **kwargs)
