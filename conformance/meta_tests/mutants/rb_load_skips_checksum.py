"""RB-26: load does not check the SHA-256 digest, so a flipped payload byte loads silently."""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from bbrl_reference import (
    ReplayBuffer as _ReplayBuffer,
)

from mutants._base import reference_name

KILLED_BY = ["RB-26"]
TESTS = "test_replay_buffer_persistence"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ReplayBuffer(_ReplayBuffer):
    def load(self, path: Any) -> Any:
        with open(path, "rb") as file:
            data = file.read()
        if len(data) <= 32:
            return super().load(path)
        body = data[:-32]  # whatever the digest says, make it match
        with tempfile.TemporaryDirectory() as tmp:
            fixed = os.path.join(tmp, "fixed.bin")
            with open(fixed, "wb") as file:
                file.write(body + hashlib.sha256(body).digest())
            return super().load(fixed)
