"""Worker backend that steps every env at every call, like a vector env (gymnasium's
AsyncVectorEnv): without autoreset a done env keeps receiving actions (its rows stay right)."""

from __future__ import annotations

from typing import Any

import numpy as np
from bbrl_reference import ParallelGymAgent as _ParallelGymAgent
from bbrl_reference._backends import AsyncBackend, _LoopBackend

from mutants._base import reference_name

KILLED_BY = ["ENV-7"]
TESTS = "test_env_agent"
CONFORMANCE_BACKENDS = {"async": {"backend": "async"}}


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class _StepsEveryEnv(AsyncBackend):
    def step(self, t: int, actions: np.ndarray) -> None:
        commands: dict[int, tuple[str, object]] = {}
        for k, done in enumerate(self._done):
            commands[k] = ("reset", None) if done and self.autoreset else ("step", actions[k])
        self._exchange(commands, t, "step")
        _LoopBackend.step(self, t, actions)


class ParallelGymAgent(_ParallelGymAgent):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self._backend, AsyncBackend):
            self._backend.__class__ = _StepsEveryEnv
