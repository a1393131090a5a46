"""make_env applies its wrappers last first: [W1, W2] gives W1(W2(env))."""

from __future__ import annotations

from typing import Any

from bbrl_reference import make_env as _make_env

from mutants._base import reference_name

KILLED_BY = ["ENV-27"]
TESTS = "test_env_agent"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def make_env(env_name: str, autoreset: bool = False, wrappers: Any = (), **kwargs: Any) -> Any:
    return _make_env(env_name, autoreset, list(reversed(wrappers or [])), **kwargs)
