"""RB-24: save writes into the existing file instead of renaming a new one over it."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-24"]
TESTS = "test_replay_buffer_persistence"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def save(self, path: Any) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            staged = os.path.join(tmp, "staged.bin")
            super().save(staged)
            shutil.copyfile(staged, path)  # opens path with "wb": same file, truncated
