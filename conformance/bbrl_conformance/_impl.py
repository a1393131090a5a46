"""Loading the implementation under test (a module named by --impl or BBRL_CONFORMANCE_IMPL)."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import os
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import pytest

ENV_VAR = "BBRL_CONFORMANCE_IMPL"
#: how a skip for a name of an unclaimed area starts (the report counts it as not-claimed)
NOT_CLAIMED = "not claimed: "


@dataclass(frozen=True)
class Area:
    """A part of the core an implementation can claim: its clause prefix and the names it needs."""

    prefix: str
    title: str
    #: the module attributes the area's tests use (a claimed area's names must all exist)
    names: tuple[str, ...]
    #: other areas whose names the area's tests also use
    needs: tuple[str, ...] = ()


#: The areas of the core, in spec order. An implementation claims some of them (``--areas`` or
#: its ``CONFORMANCE_AREAS``); the suite then runs only the tests of those areas and requires
#: only their names. Add a row here when a new part of the core gets its own clause prefix.
AREAS: dict[str, Area] = {
    a.prefix: a
    for a in (
        Area("WS", "Workspace", ("Workspace",)),
        Area(
            "AG",
            "Agent, Agents and bbrl's agent conveniences",
            (
                "Agent",
                "Agents",
                "KWAgentWrapper",
                "PrintAgent",
                "EpisodesDone",
                "CopyTAgent",
                "TimeAgent",
                "SeedableAgent",
                "SerializableAgent",
                "get_class",
                "get_arguments",
                "instantiate_class",
            ),
            needs=("WS",),
        ),
        Area("TA", "TemporalAgent", ("TemporalAgent",), needs=("AG",)),
        Area("ENV", "ParallelGymAgent and make_env", ("ParallelGymAgent", "make_env"), ("TA",)),
        Area("TR", "get_transitions", ("Workspace",)),
        Area("RB", "ReplayBuffer", ("ReplayBuffer",), needs=("WS",)),
    )
}

#: Clauses whose tests need more areas than their prefix names (cross-cutting ERR- and DET-
#: clauses, and protocols spanning several parts). A clause whose prefix is no area and that is
#: not listed here (ERR-1, ERR-5, ERR-6, ERR-9) constrains nothing: its tests run whenever the
#: areas of the other clauses they cite are claimed.
CLAUSE_AREAS: dict[str, tuple[str, ...]] = {
    "TR-10": ("TR", "ENV", "TA"),
    "ERR-2": ("WS",),
    "ERR-3": ("WS",),
    "ERR-4": ("WS",),
    "ERR-7": ("ENV",),
    "ERR-8": ("ENV",),
    "DET-1": ("ENV",),
    "DET-2": ("ENV",),
    "DET-3": ("ENV",),
    "DET-4": ("ENV",),
    "DET-5": ("ENV",),
    "DET-6": ("ENV", "TA"),
    "DET-7": ("RB",),
}


def with_needs(areas: Iterable[str]) -> tuple[str, ...]:
    """``areas`` and every area they need, transitively, in the order of AREAS."""
    found: set[str] = set()
    todo = list(areas)
    while todo:
        prefix = todo.pop()
        if prefix not in found:
            found.add(prefix)
            todo.extend(AREAS[prefix].needs)
    return tuple(p for p in AREAS if p in found)


def areas_of_clause(clause_id: str) -> tuple[str, ...]:
    """The areas whose names the tests of ``clause_id`` use (empty for a cross-cutting clause)."""
    if clause_id in CLAUSE_AREAS:
        return with_needs(CLAUSE_AREAS[clause_id])
    prefix = clause_id.split("-")[0]
    return with_needs([prefix]) if prefix in AREAS else ()


def names_of(areas: Iterable[str]) -> tuple[str, ...]:
    """The required names of ``areas`` and of the areas they need, in REQUIRED_NAMES order."""
    wanted = {name for prefix in with_needs(areas) for name in AREAS[prefix].names}
    return tuple(n for n in REQUIRED_NAMES if n in wanted)


def parse_areas(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"WS,RB"`` (or a sequence of prefixes) as area prefixes; ValueError names unknown ones."""
    items = value.split(",") if isinstance(value, str) else list(value)
    prefixes = [str(p).strip().upper() for p in items if str(p).strip()]
    unknown = [p for p in prefixes if p not in AREAS]
    if unknown or not prefixes:
        raise ValueError(
            f"areas: expected a comma-separated list of {', '.join(AREAS)}, got {value!r}"
        )
    return tuple(p for p in AREAS if p in prefixes)


#: The names every complete implementation module exposes (bbrl 1.0.1 call shapes).
REQUIRED_NAMES = (
    "Workspace",
    "Agent",
    "Agents",
    "TemporalAgent",
    "ParallelGymAgent",
    "make_env",
    "ReplayBuffer",
    # bbrl's agent conveniences and configuration helpers (spec/agents.md AG-17..AG-24)
    "KWAgentWrapper",
    "PrintAgent",
    "EpisodesDone",
    "CopyTAgent",
    "TimeAgent",
    "SeedableAgent",
    "SerializableAgent",
    "get_class",
    "get_arguments",
    "instantiate_class",
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
    KWAgentWrapper: Any
    PrintAgent: Any
    EpisodesDone: Any
    CopyTAgent: Any
    TimeAgent: Any
    SeedableAgent: Any
    SerializableAgent: Any
    get_class: Any
    get_arguments: Any
    instantiate_class: Any


class ImplementationError(Exception):
    """The implementation module could not be chosen or imported, or lacks required names."""


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
    """The implementation module and the areas it claims.

    A test that uses a name the module lacks is skipped when no claimed area requires that name
    (the test belongs to an unclaimed part of the core); a missing name of a claimed area is a
    stub that fails the test (the runner refuses such a module before running any test).
    """

    def __init__(self, module: ModuleType, areas: Iterable[str] | None = None) -> None:
        self.module = module
        self.module_name = module.__name__
        self.name: str = str(getattr(module, "IMPLEMENTATION_NAME", module.__name__))
        self.version = implementation_version(module)
        #: deviations file named by the module itself (an adapter may ship one)
        self.default_deviations: str | None = getattr(module, "CONFORMANCE_DEVIATIONS", None)
        #: the areas claimed (``--areas``, else the module's CONFORMANCE_AREAS, else all)
        self.areas: tuple[str, ...] = claimed_areas(module, areas)
        self.unclaimed: tuple[str, ...] = tuple(a for a in AREAS if a not in self.areas)
        self.required: tuple[str, ...] = names_of(self.areas)
        self.missing = tuple(n for n in self.required if not hasattr(module, n))

    def __getattr__(self, attr: str) -> Any:
        # Only called for names not set in __init__: delegate to the module.
        module = self.__dict__["module"]
        if hasattr(module, attr):
            return getattr(module, attr)
        if attr in self.__dict__["required"]:
            return UndefinedStub(module.__name__, attr)
        if attr in REQUIRED_NAMES:
            owners = [a for a in AREAS if attr in AREAS[a].names]
            pytest.skip(
                f"{NOT_CLAIMED}needs {attr} (area {'/'.join(owners)}), which {module.__name__} "
                f"neither defines nor claims (claimed: {', '.join(self.__dict__['areas'])})"
            )
        raise AttributeError(f"implementation {module.__name__!r} has no attribute {attr!r}")

    def __repr__(self) -> str:
        return f"<implementation {self.module_name} {self.version}>"

    def check_required(self) -> None:
        """ImplementationError listing every required name of the claimed areas it lacks."""
        if self.missing:
            lacking = {
                a: [n for n in AREAS[a].names if n in self.missing] for a in with_needs(self.areas)
            }
            by_area = "; ".join(
                f"{a} ({AREAS[a].title}) needs {', '.join(names)}"
                for a, names in lacking.items()
                if names
            )
            raise ImplementationError(
                f"implementation {self.module_name!r} lacks required names: "
                f"{', '.join(self.missing)} ({by_area}). Define them, or claim only the areas "
                f"it implements with --areas (one of {', '.join(AREAS)}, comma-separated) or a "
                "module attribute CONFORMANCE_AREAS = ('WS', 'RB', ...)"
            )


def claimed_areas(module: ModuleType, areas: Iterable[str] | None = None) -> tuple[str, ...]:
    """``areas`` if given, else the module's ``CONFORMANCE_AREAS``, else every area."""
    if areas is not None:
        return parse_areas(areas)
    declared = getattr(module, "CONFORMANCE_AREAS", None)
    if declared is None:
        return tuple(AREAS)
    try:
        return parse_areas(declared)
    except ValueError as exc:
        raise ImplementationError(f"{module.__name__}.CONFORMANCE_AREAS: {exc}") from exc


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


def load_implementation(
    module_name: str, areas: Iterable[str] | None = None
) -> LoadedImplementation:
    """Import ``module_name`` and wrap it; ImplementationError if it cannot be imported."""
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ImplementationError(
            f"cannot import the implementation module {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    return LoadedImplementation(module, areas)
