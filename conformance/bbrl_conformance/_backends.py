"""The env agent backends an implementation declares (ENV-16), for the suite's parametrization.

An implementation module may declare::

    CONFORMANCE_BACKENDS = {"sync": {}, "async": {"backend": "async"}}
    CONFORMANCE_VECTOR_BACKENDS = ("vector",)   # optional

``CONFORMANCE_BACKENDS`` maps a backend name (used in test IDs: letters, digits, ``_`` and
``-``) to the extra keyword arguments of ``ParallelGymAgent`` that select it; without it the
suite runs one backend, ``default``, with no extra argument. ``CONFORMANCE_VECTOR_BACKENDS``
names the declared backends that step all envs as one ``VectorEnv`` (ENV-17): they may refuse
``autoreset=False``, wrappers and envs without a vector implementation, and follow DET-8
instead of DET-5. Whether a backend uses worker processes (ENV-13, ENV-24..ENV-26) is not
declared: the suite sees it in the counting env's logs (the process each env ran in).

A module that passes other names through from another implementation (a PEP 562
``__getattr__`` over ``bbrl_reference.__all__``, say) passes these two declarations through
too: one that defines its own ``ParallelGymAgent`` declares both itself
(``CONFORMANCE_VECTOR_BACKENDS = ()`` when it has no vector backend).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

DECLARATION = "CONFORMANCE_BACKENDS"
VECTOR_DECLARATION = "CONFORMANCE_VECTOR_BACKENDS"
DEFAULT = "default"
_NAME = re.compile(r"[A-Za-z0-9_-]+")


class BackendDeclarationError(ValueError):
    """The implementation's backend declaration is malformed."""


@dataclass(frozen=True)
class Backend:
    """One declared backend: its name, the keyword arguments selecting it, whether it is a
    vector backend (ENV-17)."""

    name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    vector: bool = False

    def agent(self, impl: Any, make_env_fn: Any, num_envs: int, **kwargs: Any) -> Any:
        """``impl.ParallelGymAgent(make_env_fn, num_envs=num_envs, **self.kwargs, **kwargs)``."""
        return impl.ParallelGymAgent(make_env_fn, num_envs=num_envs, **self.kwargs, **kwargs)

    def source(self) -> str:
        """The keyword arguments as call source (``", backend='async'"``), for reproducers."""
        return "".join(f", {key}={value!r}" for key, value in self.kwargs.items())

    def __str__(self) -> str:
        return self.name


def declared_backends(module: ModuleType | Any) -> list[Backend]:
    """The backends ``module`` declares, or the one default backend."""
    declared = getattr(module, DECLARATION, None)
    vector = getattr(module, VECTOR_DECLARATION, ())
    if declared is None:
        if vector:
            raise BackendDeclarationError(
                f"{VECTOR_DECLARATION} names {list(vector)} but {DECLARATION} is not declared"
            )
        return [Backend(DEFAULT)]
    if not isinstance(declared, Mapping) or not declared:
        raise BackendDeclarationError(
            f"{DECLARATION} must be a non-empty mapping from backend name to the keyword "
            f"arguments of ParallelGymAgent, got {declared!r}"
        )
    if isinstance(vector, str) or not all(isinstance(name, str) for name in vector):
        raise BackendDeclarationError(
            f"{VECTOR_DECLARATION} must be a collection of backend names, got {vector!r}"
        )
    unknown = sorted(set(vector) - set(declared))
    if unknown:
        raise BackendDeclarationError(
            f"{VECTOR_DECLARATION} names {unknown}, which {DECLARATION} does not declare"
        )
    backends = []
    for name, kwargs in declared.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise BackendDeclarationError(
                f"{DECLARATION}: backend names are made of letters, digits, '_' and '-', "
                f"got {name!r}"
            )
        if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
            raise BackendDeclarationError(
                f"{DECLARATION}[{name!r}] must be a mapping of keyword arguments, got {kwargs!r}"
            )
        backends.append(Backend(name, dict(kwargs), name in vector))
    return backends
