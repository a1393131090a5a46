"""Agent trees of spec/agents.md (``Agent``, ``Agents``, ``TemporalAgent``) and their model.

A tree is data: leaves that write, read or stop (and the action agent and env agent of an env
rollout), ``Group`` (``Agents``), ``Temporal`` (``TemporalAgent``) and ``Owner`` (a user agent
that owns sub-agents and calls them from its ``forward``). Nodes with the same ``key`` are one
and the same agent object, so a tree may hold an agent twice. :class:`TreeRun` interprets a call
of a tree on a :class:`WorkspaceModel`: the calls each leaf receives (AG-2, AG-4, TA-1..TA-3),
what each reader sees (AG-3), and what each writer writes.

A harness builds the implementation's agents from the same data (``bbrl_conformance._programs``)
and compares their logs with the model's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from bbrl_conformance._model.env_agent import EnvAgentModel
from bbrl_conformance._model.envfamily import ActionSpec, action_row
from bbrl_conformance._model.values import MValue, grad_mvalue, make_array
from bbrl_conformance._model.workspace import (
    ModelError,
    Reason,
    Unspecified,
    WorkspaceModel,
    check,
)

__all__ = [
    "Actor",
    "EnvRef",
    "Group",
    "Node",
    "Owner",
    "Reader",
    "Stopper",
    "Temporal",
    "TreeRun",
    "Writer",
    "leaves",
    "stopper_row",
    "writer_value",
]

#: a run that reaches this time index is a runaway (a stop condition that never holds)
MAX_T = 200

Kwargs = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Writer:
    """Writes ``writer_value(self, t)`` as row ``t`` of ``name`` with ``self.set``."""

    key: str
    name: str
    dtype: str
    shape: tuple[int, ...]
    batch: int
    seed: int
    kind: str = "wide"
    #: write ``base + p * coef`` with the program's parameter ``p`` (float dtypes only)
    grad: bool = False


@dataclass(frozen=True)
class Reader:
    """Reads ``name`` with ``self.get``: row ``t`` (``row``), row ``t-1`` (``prev``) or the
    whole variable (``full``), and logs the value or the exception type."""

    key: str
    name: str
    mode: Literal["row", "prev", "full"] = "row"


@dataclass(frozen=True)
class Stopper:
    """Writes the bool row ``t >= stop_at[b]`` of ``name``: a stop variable."""

    key: str
    name: str
    stop_at: tuple[int, ...]


@dataclass(frozen=True)
class Actor:
    """The action agent of an env rollout: writes ``action_row(action, seed, t, batch)``."""

    key: str
    action: ActionSpec
    batch: int
    seed: int


@dataclass(frozen=True)
class EnvRef:
    """The env agent named ``key`` (an object of the program, with its own state)."""

    key: str


@dataclass(frozen=True)
class Group:
    """``Agents(*children)``."""

    key: str
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Temporal:
    """``TemporalAgent(child)``."""

    key: str
    child: Node


@dataclass(frozen=True)
class Owner:
    """A user agent owning ``children``; its ``forward(t)`` calls each child as
    ``child(self.workspace, t=t, **kwargs)`` with its own kwargs, then logs its call."""

    key: str
    calls: tuple[tuple[Node, Kwargs], ...]


Node = Writer | Reader | Stopper | Actor | EnvRef | Group | Temporal | Owner
LEAVES = (Writer, Reader, Stopper, Actor)


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Group):
        return node.children
    if isinstance(node, Temporal):
        return (node.child,)
    if isinstance(node, Owner):
        return tuple(child for child, _ in node.calls)
    return ()


def leaves(node: Node) -> dict[str, Node]:
    """Every node of the tree by key (a repeated node once)."""
    found: dict[str, Node] = {}

    def walk(n: Node) -> None:
        if n.key in found:
            return
        found[n.key] = n
        for child in children(n):
            walk(child)

    walk(node)
    return found


def writer_value(spec: Writer, t: int) -> MValue:
    """What a writer writes at ``t``: ``[batch, *shape]`` of ``dtype``."""
    shape = (spec.batch, *spec.shape)
    seed = spec.seed * 100_003 + t
    if spec.grad:
        return grad_mvalue(spec.dtype, shape, seed)
    return MValue(spec.dtype, make_array(spec.dtype, shape, seed, spec.kind))


def stopper_row(spec: Stopper, t: int) -> MValue:
    return MValue("bool", np.array([t >= s for s in spec.stop_at], dtype=bool))


LogEntry = tuple[str, int, Kwargs]
ReadOutcome = MValue | ModelError


@dataclass
class TreeRun:
    """One call of a tree on ``ws``: ``calls`` (key, t, kwargs) of every leaf and owner in call
    order, ``reads`` (key, t, outcome) of every reader, ``env_rows`` (env key, t, the kind of
    row each env got: see ``EnvAgentModel.call``)."""

    ws: WorkspaceModel
    envs: Mapping[str, EnvAgentModel]
    noise: Callable[[str, int, int], int | None]
    calls: list[LogEntry] = field(default_factory=list)
    reads: list[tuple[str, int, ReadOutcome]] = field(default_factory=list)
    env_rows: list[tuple[str, int, list[str]]] = field(default_factory=list)

    def top(self, node: Node, t: int | None, kwargs: Mapping[str, object]) -> None:
        """The call ``node(ws, t=t, **kwargs)`` (``t=None``: not passed, for a TemporalAgent).

        ModelError means the call must raise before doing anything (TA-4); Unspecified means
        the outcome is not fixed by the spec (a call failing half-way through a run)."""
        if isinstance(node, Temporal):
            self._temporal(node, 0 if t is None else t, dict(kwargs), top=True)
        elif t is None:
            raise Unspecified("a plain agent called without t")
        else:
            self._call(node, t, dict(kwargs))

    def _kw(self, kwargs: Mapping[str, object]) -> Kwargs:
        return tuple(sorted(kwargs.items()))

    def _call(self, node: Node, t: int, kwargs: dict[str, object]) -> None:
        if t >= MAX_T:
            raise Unspecified("a runaway run")
        try:
            self._dispatch(node, t, kwargs)
        except ModelError as exc:
            raise Unspecified(f"a call failing half-way through a run: {exc}") from exc

    def _dispatch(self, node: Node, t: int, kwargs: dict[str, object]) -> None:
        if isinstance(node, Writer):
            self.ws.set(node.name, t, writer_value(node, t))
            self.calls.append((node.key, t, self._kw(kwargs)))
        elif isinstance(node, Stopper):
            self.ws.set(node.name, t, stopper_row(node, t))
            self.calls.append((node.key, t, self._kw(kwargs)))
        elif isinstance(node, Actor):
            row = action_row(node.action, node.seed, t, node.batch)
            self.ws.set("action", t, MValue(node.action.dtype, row))
            self.calls.append((node.key, t, self._kw(kwargs)))
        elif isinstance(node, Reader):
            outcome: ReadOutcome
            try:
                if node.mode == "full":
                    outcome = self.ws.get_full(node.name)
                else:
                    outcome = self.ws.get(node.name, t if node.mode == "row" else t - 1)
            except ModelError as exc:
                outcome = exc
            self.reads.append((node.key, t, outcome))
            self.calls.append((node.key, t, self._kw(kwargs)))
        elif isinstance(node, EnvRef):
            env = self.envs[node.key]
            kinds = env.call(self.ws, t, lambda tt, b: self.noise(node.key, tt, b))
            self.env_rows.append((node.key, t, kinds))
        elif isinstance(node, Group):
            for child in node.children:
                self._call(child, t, dict(kwargs))
        elif isinstance(node, Temporal):
            self._temporal(node, t, kwargs, top=False)
        else:
            for child, extra in node.calls:
                self._call(child, t, dict(extra))
            self.calls.append((node.key, t, self._kw(kwargs)))

    def _temporal(self, node: Temporal, t0: int, kwargs: dict[str, object], top: bool) -> None:
        n_steps = kwargs.pop("n_steps", None)
        stop = kwargs.pop("stop_variable", None)
        reasons: list[Reason] = []
        if n_steps is None and stop is None:
            reasons.append(Reason(ValueError, "TA-4", "neither n_steps nor stop_variable"))
        if isinstance(n_steps, int) and n_steps <= 0:
            reasons.append(Reason(ValueError, "TA-4", f"n_steps={n_steps} <= 0"))
        if reasons and not top:
            raise Unspecified("a nested TemporalAgent failing half-way through a run")
        check(reasons)
        t = t0
        while True:
            self._call(node.child, t, dict(kwargs))
            if isinstance(stop, str):
                try:
                    row = self.ws.get(stop, t)
                except ModelError as exc:
                    raise Unspecified("a stop variable the run did not write") from exc
                if row.dtype != "bool":
                    raise Unspecified("a stop variable that is not torch.bool")
                if bool(np.all(row.array)):
                    return
            t += 1
            if isinstance(n_steps, int) and t >= t0 + n_steps:
                return
            if t >= MAX_T:
                raise Unspecified("a runaway run")
