"""close() kills the worker processes but never waits for them: they stay behind as zombies
(exited, not reaped)."""

from __future__ import annotations

from typing import Any

from bbrl_reference import ParallelGymAgent as _ParallelGymAgent
from bbrl_reference._backends import AsyncBackend

from mutants._base import reference_name

KILLED_BY = ["ENV-26"]
SELECT = ["ENV-26"]
TESTS = "test_env_failures"
CONFORMANCE_BACKENDS = {"async": {"backend": "async"}}


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def close(self) -> None:
        backend = self._backend
        if self._closed or not isinstance(backend, AsyncBackend):
            super().close()
            return
        self._closed = True
        backend._finalizer.detach()
        for worker in backend._workers:
            if worker is not None:
                worker.process.kill()  # and no join
