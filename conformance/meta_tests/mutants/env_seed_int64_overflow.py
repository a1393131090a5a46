"""seed(s) stores s as a numpy int64: seeds of 2**63 and above overflow, although every
s >= 0 is a valid seed."""

from __future__ import annotations

from typing import Any

import numpy as np
from bbrl_reference import (
    ParallelGymAgent as _ParallelGymAgent,
)

from mutants._base import reference_name

# Written for the program generator, whose clause for it varied between machines (the
# first differing value of a generated program); the hand-written tests of TESTS now
# catch it deterministically, under the clause below.
KILLED_BY = ["DET-9"]
TESTS = "test_determinism"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def seed(self, seed: int) -> Any:
        return super().seed(int(np.int64(seed)))
