"""A worker backend reads timeout=0 (and False) as "no limit" instead of refusing it: a falsy
timeout is taken for None (a boundary mutant, `seconds > 0` as `seconds >= 0`)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import ParallelGymAgent as _ParallelGymAgent

from mutants._base import reference_name

KILLED_BY = ["ENV-25"]
TESTS = "test_env_failures"
CONFORMANCE_BACKENDS = {"async": {"backend": "async"}}


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def __init__(self, *args: Any, timeout: Any = None, **kwargs: Any) -> None:
        if not isinstance(timeout, str | list) and timeout is not None and not timeout:
            timeout = None
        super().__init__(*args, timeout=timeout, **kwargs)
