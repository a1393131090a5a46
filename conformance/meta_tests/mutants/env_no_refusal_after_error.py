"""After an env failed mid-call the agent carries on: a retry at the same t steps the envs that
had already stepped a second time (the silent double step of issue 11)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import ParallelGymAgent as _ParallelGymAgent

from mutants._base import reference_name

KILLED_BY = ["ENV-22"]
TESTS = "test_env_failures"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def forward(self, t: int, **kwargs: Any) -> None:
        try:
            super().forward(t, **kwargs)
        except BaseException:
            if t > 0:
                self._refusal = None  # forgets that the envs were touched
            raise
