"""Loading the implementation under test (a module named by --impl or BBRL_CONFORMANCE_IMPL)."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import os
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

ENV_VAR = "BBRL_CONFORMANCE_IMPL"

#: The names every implementation module exposes (bbrl 1.0.1 call shapes).
REQUIRED_NAMES = (
    "Workspace",
    "Agent",
    "Agents",
    "TemporalAgent",
    "ParallelGymAgent",
    "make_env",
    "ReplayBuffer",
)


@runtime_checkable
class Implementation(Protocol):
    """What the suite uses of an implementation module."""

    Workspace: Any
    Agent: Any
    Agents: Any
    TemporalAgent: Any
    ParallelGymAgent: Any
    make_env: Any
    ReplayBuffer: Any


class ImplementationError(Exception):
    """The implementation module could not be chosen or imported."""


class UndefinedNameError(AssertionError):
    """A test used a name that the implementation does not define."""


class UndefinedStub:
    """Stands in for a name the implementation lacks: any use fails the test that uses it."""

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name

    def _fail(self) -> UndefinedNameError:
        return UndefinedNameError(
            f"implementation {self._module!r} does not define {self._name!r} "
            f"(required names: {', '.join(REQUIRED_NAMES)})"
        )

    def __call__(self, *args: object, **kwargs: object) -> Any:
        raise self._fail()

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise self._fail()

    def __repr__(self) -> str:
        return f"<undefined {self._module}.{self._name}>"


class LoadedImplementation:
    """The implementation module, with a stub for every required name it lacks."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.module_name = module.__name__
        self.missing = tuple(n for n in REQUIRED_NAMES if not hasattr(module, n))
        self.name: str = str(getattr(module, "IMPLEMENTATION_NAME", module.__name__))
        self.version = implementation_version(module)
        #: deviations file named by the module itself (an adapter may ship one)
        self.default_deviations: str | None = getattr(module, "CONFORMANCE_DEVIATIONS", None)

    def __getattr__(self, attr: str) -> Any:
        # Only called for names not set in __init__: delegate to the module.
        module = self.__dict__["module"]
        if hasattr(module, attr):
            return getattr(module, attr)
        if attr in REQUIRED_NAMES:
            return UndefinedStub(module.__name__, attr)
        raise AttributeError(f"implementation {module.__name__!r} has no attribute {attr!r}")

    def __repr__(self) -> str:
        return f"<implementation {self.module_name} {self.version}>"


def implementation_version(module: ModuleType) -> str:
    """``__version__`` of the module, else the version of the distribution providing it."""
    version = getattr(module, "__version__", None)
    if version is not None:
        return str(version)
    for dist in _distributions_providing(module.__name__.split(".")[0]):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


@functools.cache
def _distributions_providing(top_level: str) -> tuple[str, ...]:
    # packages_distributions() reads every installed distribution's metadata (~0.2 s): once
    # per process, not once per pytest session (in-process meta tests, mutation runs).
    return tuple(importlib.metadata.packages_distributions().get(top_level, []))


def chosen_module_name(option: str | None) -> str | None:
    """The module named by the --impl option, else by the environment variable, else None."""
    if option:
        return option
    from_env = os.environ.get(ENV_VAR, "").strip()
    return from_env or None


def load_implementation(module_name: str) -> LoadedImplementation:
    """Import ``module_name`` and wrap it; ImplementationError if it cannot be imported."""
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ImplementationError(
            f"cannot import the implementation module {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    return LoadedImplementation(module)
