"""The observation check of ENV-21 compares the keys of the top-level Dict only: an inner dict
of a nested Dict observation with a key more is written without it, one with a non-str key is
accepted (a statement-deletion mutant of the recursion over sub-dicts)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import ParallelGymAgent as _ParallelGymAgent

from mutants._base import reference_name

KILLED_BY = ["ENV-21"]
TESTS = "test_env_agent"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rows = self._backend.rows
        rows._dicts = {path: keys for path, keys in rows._dicts.items() if not path}
