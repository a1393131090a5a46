"""Agents: modules that read and write a workspace at a time step (spec AG, TA).

``Agent``, ``Agents`` and ``TemporalAgent`` are the core; ``KWAgentWrapper``, ``PrintAgent``,
``EpisodesDone``, ``CopyTAgent`` and the convention classes ``TimeAgent``, ``SeedableAgent`` and
``SerializableAgent`` are bbrl's conveniences that real programs use (AG-8..AG-21).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, NoReturn, TypeVar, cast, overload

import torch
from torch import nn

from . import _validation as v
from ._errors import (
    AgentNotBoundError,
    DTypeError,
    FileFormatError,
    InvalidArgumentError,
    MissingKeyError,
    ShapeError,
    TimeIndexError,
    UnknownVariableError,
)
from ._files import atomic_write, check_path
from ._names import ENV_DONE
from ._workspace import Workspace

_AgentT = TypeVar("_AgentT", bound="Agent")

#: The dtypes of a stop variable (TA-6); an entry is true when nonzero.
STOP_DTYPES = frozenset(
    {
        torch.bool,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
    }
)


def _forward_unimplemented(self: Agent, t: int, **kwargs: object) -> None:
    raise NotImplementedError(f"{type(self).__name__} does not define forward(self, t, **kwargs)")


class Agent(nn.Module):
    """Base class of agents (AG-2, AG-3, AG-5, AG-7).

    A subclass implements ``forward(self, t: int, **kwargs) -> None`` and reads and writes the
    bound workspace through :meth:`get` and :meth:`set`. ``agent(workspace, t=..., **kwargs)``
    binds the workspace, calls ``forward(t=..., **kwargs)`` and unbinds it, also on error.
    ``nn.Module`` hooks are not run (bbrl 1.0.1 behaves the same).
    """

    forward: Callable[..., None] = _forward_unimplemented

    def __init__(self, name: str | None = None, verbose: bool = False) -> None:
        super().__init__()
        self.name = name
        self.verbose = verbose
        self.prefix = ""
        self.workspace: Workspace | None = None

    def __call__(self, workspace: Workspace, **kwargs: object) -> None:
        """Run ``forward(**kwargs)`` with ``self.workspace`` bound to ``workspace`` (AG-2)."""
        if not isinstance(workspace, Workspace):
            raise TypeError(
                v.message(
                    "__call__", "argument 'workspace'", "a Workspace", type(workspace).__name__
                )
            )
        # __dict__ directly: nn.Module.__setattr__ costs microseconds per call
        attributes = self.__dict__
        previous = attributes["workspace"]
        attributes["workspace"] = workspace
        try:
            self.forward(**kwargs)
        finally:
            attributes["workspace"] = previous

    def _not_bound(self, op: str) -> NoReturn:
        """Raise the error of ``op`` called while no workspace is bound (AG-7)."""
        raise AgentNotBoundError(
            v.message(
                op,
                f"agent {self._label()!r}",
                "a bound workspace (call the agent)",
                "no workspace",
            )
        )

    @overload
    def get(self, index: tuple[str, int]) -> torch.Tensor: ...

    @overload
    def get(self, index: str) -> torch.Tensor: ...

    def get(self, index: tuple[str, int] | str) -> torch.Tensor:
        """``get((name, t))``: row ``t`` of a variable; ``get(name)``: the full tensor (AG-3)."""
        workspace = self.workspace
        if workspace is None:
            self._not_bound("get")
        if isinstance(index, tuple):
            name, t = index
            return workspace.get(name, t)
        return workspace.get_full(index)

    def set(self, index: tuple[str, int] | str, value: torch.Tensor) -> None:
        """``set((name, t), v)``: write row ``t`` (AG-3); ``set(name, v)``: the whole variable,
        as ``workspace.set_full`` (AG-12)."""
        workspace = self.workspace
        if workspace is None:
            self._not_bound("set")
        if isinstance(index, str):
            workspace.set_full(index, value)
            return
        item: object = index
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(
                v.message("set", "argument 'index'", "a (name, t) tuple or a name", item)
            )
        workspace.set(index[0], index[1], value)

    def get_name(self) -> str | None:
        """The agent's name, ``None`` when it has none (AG-9)."""
        return self.name

    def set_name(self: _AgentT, name: str | None) -> _AgentT:
        """Set the agent's name; return the agent (AG-9)."""
        self.name = name
        return self

    def _label(self) -> str:
        """The name, else the class name: how messages refer to the agent."""
        return self.name if self.name is not None else type(self).__name__

    def with_prefix(self: _AgentT, prefix: str) -> _AgentT:
        """Set :attr:`prefix` (bbrl's, read by no agent of the core); return the agent (AG-11)."""
        self.prefix = prefix
        return self

    def get_by_name(self, name: str) -> list[Agent]:
        """The agents of this agent's tree named ``name``, children first (AG-10)."""
        if not isinstance(name, str):
            raise TypeError(
                v.message("get_by_name", "argument 'name'", "a str", type(name).__name__)
            )
        return [*self._named_below(name), *([self] if self.name == name else [])]

    def _named_below(self, name: str) -> list[Agent]:
        """The matches among the agents this one wraps (none for a leaf)."""
        return []

    def save_model(self, path: str | os.PathLike[str]) -> None:
        """Write ``state_dict()`` to ``path`` atomically, readable with
        ``torch.load(path, weights_only=True)`` (AG-14; B13)."""
        path = check_path("save_model", path)
        state = self.state_dict()
        atomic_write(path, lambda file: torch.save(state, file))

    def load_model(self: _AgentT, path: str | os.PathLike[str]) -> _AgentT:
        """A deep copy of the agent with the state dict of ``path`` (AG-15, AG-16).

        The file is read with ``weights_only=True`` (nothing is unpickled) and checked against
        the agent's own ``state_dict()`` before anything is loaded; the agent is unchanged.
        """
        op = "load_model"
        path = check_path(op, path)
        try:
            loaded: object = torch.load(path, map_location="cpu", weights_only=True)
        except OSError:
            raise
        except Exception as exc:  # UnpicklingError, RuntimeError (not a zip), EOFError, ...
            raise FileFormatError(
                v.message(op, f"file {os.fsdecode(path)!r}", "a state dict", exc)
            ) from None
        if not isinstance(loaded, Mapping):
            raise FileFormatError(
                v.message(op, f"file {os.fsdecode(path)!r}", "a state dict", type(loaded).__name__)
            )
        own = self.state_dict()
        if set(loaded) != set(own):
            missing = sorted(set(own) - set(loaded))
            extra = sorted(map(str, set(loaded) - set(own)))
            raise MissingKeyError(
                v.message(op, "state dict keys", "the agent's", f"missing {missing}, extra {extra}")
            )
        for key, mine in own.items():
            value = loaded[key]
            if not isinstance(mine, torch.Tensor):
                continue  # extra state: torch.nn.Module.load_state_dict hands it over
            if not isinstance(value, torch.Tensor):
                raise FileFormatError(
                    v.message(op, f"state {key!r}", "a tensor", type(value).__name__)
                )
            if value.shape != mine.shape:
                raise ShapeError(
                    v.message(
                        op, f"state {key!r}", f"shape {tuple(mine.shape)}", tuple(value.shape)
                    )
                )
            if value.dtype != mine.dtype:
                raise DTypeError(
                    v.message(op, f"state {key!r}", f"dtype {mine.dtype}", value.dtype)
                )
            if value.layout != torch.strided or value.device.type == "meta":
                raise FileFormatError(
                    v.message(op, f"state {key!r}", "a dense tensor with values", value)
                )
        # a bound workspace is not part of the copy, whichever agent of the tree it is bound
        # to (load_model may be called during a run, when the leaves are bound, AG-7)
        bound: dict[int, None] = {}
        for module in self.modules():
            workspace = module.__dict__.get("workspace") if isinstance(module, Agent) else None
            if workspace is not None:
                bound[id(workspace)] = None
        clone = copy.deepcopy(self, bound)
        clone.load_state_dict(loaded)
        return clone

    def seed(self, seed: int) -> Agent:
        """Seed the agent's own randomness (nothing for the base class); return ``self``."""
        v.check_int("seed", "seed", seed, 0)
        return self


def _check_agent(op: str, what: str, agent: object) -> Agent:
    if not isinstance(agent, Agent):
        raise TypeError(v.message(op, what, "an Agent", type(agent).__name__))
    return agent


class Agents(Agent):
    """Runs its children in order at each call, forwarding the keyword arguments (AG-4)."""

    def __init__(self, *agents: Agent, name: str | None = None, verbose: bool = False) -> None:
        super().__init__(name, verbose)
        for i, agent in enumerate(agents):
            _check_agent("Agents", f"argument {i}", agent)
        #: the children, in call order; replacing one changes what later calls run (AG-13)
        self.agents = nn.ModuleList(agents)

    def _children(self) -> list[Agent]:
        return cast(list[Agent], list(self.agents))

    def __getitem__(self, k: int) -> Agent:
        """The ``k``-th child (AG-13)."""
        return cast(Agent, self.agents[k])

    def __call__(self, workspace: Workspace, **kwargs: object) -> None:
        """Call every child on ``workspace`` with the same keyword arguments, in order."""
        for agent in self.agents:
            agent(workspace, **kwargs)

    def _named_below(self, name: str) -> list[Agent]:
        return [found for agent in self._children() for found in agent.get_by_name(name)]

    def seed(self, seed: int) -> Agents:
        """Seed every child with ``seed``; return ``self``."""
        v.check_int("seed", "seed", seed, 0)
        for agent in self._children():
            agent.seed(seed)
        return self


class TemporalAgent(Agent):
    """Runs an agent at successive time steps (TA-1..TA-8)."""

    def __init__(self, agent: Agent, name: str | None = None, verbose: bool = False) -> None:
        super().__init__(name, verbose)
        self.agent = _check_agent("TemporalAgent", "argument 'agent'", agent)

    def __call__(  # type: ignore[override]
        self,
        workspace: Workspace,
        t: int = 0,
        n_steps: int | None = None,
        stop_variable: str | None = None,
        **kwargs: object,
    ) -> None:
        """Run the agent at ``t, t+1, ...`` (TA-1, TA-2, TA-3; TA-4, TA-7 for bad arguments).

        It stops after ``n_steps`` steps, or after the first step at which every entry of
        ``stop_variable``'s row is true (nonzero, TA-6), that row included, whichever comes
        first. What the steps write is checked after each step (TA-8).
        """
        op = "TemporalAgent"
        t = v.check_int(op, "t", t, 0)
        if n_steps is None and stop_variable is None:
            raise InvalidArgumentError(
                v.message(op, "arguments", "n_steps or stop_variable", "neither")
            )
        if n_steps is not None:
            n_steps = v.check_int(op, "n_steps", n_steps, 1)
        if not isinstance(workspace, Workspace):
            raise TypeError(
                v.message(
                    "__call__", "argument 'workspace'", "a Workspace", type(workspace).__name__
                )
            )
        if stop_variable is not None:
            v.check_name(op, stop_variable)
            held = workspace._vars.get(stop_variable)
            if held is not None:  # TA-7: a stop variable already there is checked up front
                _check_stop_dtype(op, stop_variable, held.dtype, "before the first step")
        end = None if n_steps is None else t + n_steps
        agent = self.agent
        # Fast path: a tree of plain agents (no __call__ override) is bound once for the whole
        # run and each step calls the leaves' forward directly, which is what calling the root
        # does (AG-2, AG-4) without a bind, an unbind and a kwargs dict per agent and step.
        leaves = _plain_leaves(agent)
        if leaves is None:
            forwards: list[Callable[..., None]] = [partial(agent, workspace)]
            leaves = []
        else:
            forwards = [leaf.forward for leaf in leaves]
        # A run of n_steps (no stop variable: it would end earlier) writes rows up to end - 1:
        # a buffer that grows during the run grows to that size at once (not once per doubling).
        reserve = workspace._reserve
        if end is not None and stop_variable is None and end > reserve:
            workspace._reserve = end
        try:
            with _bound_leaves(leaves, workspace):
                while end is None or t < end:
                    if kwargs:
                        for forward in forwards:
                            forward(t=t, **kwargs)
                    else:  # no keyword arguments: no dict merge per agent and step
                        for forward in forwards:
                            forward(t=t)
                    if stop_variable is not None and _stop_row_true(workspace, stop_variable, t):
                        break
                    t += 1
        finally:
            workspace._reserve = reserve

    def _named_below(self, name: str) -> list[Agent]:
        return self.agent.get_by_name(name)

    def seed(self, seed: int) -> TemporalAgent:
        """Seed the wrapped agent (AG-25: a negative seed is refused here too); return ``self``."""
        self.agent.seed(v.check_int("seed", "seed", seed, 0))
        return self


def _check_stop_dtype(op: str, name: str, dtype: torch.dtype, when: str) -> None:
    if dtype not in STOP_DTYPES:
        raise DTypeError(
            v.message(
                op,
                f"stop variable {name!r} ({when})",
                "dtype bool or a real dtype of at most 64 bits",
                dtype,
            )
        )


def _stop_row_true(workspace: Workspace, name: str, t: int) -> bool:
    """Whether every entry of row ``t`` of the stop variable is nonzero (TA-2, TA-6, TA-8)."""
    op = "TemporalAgent"
    var = workspace._vars.get(name)
    if var is None:
        raise UnknownVariableError(
            v.message(op, f"stop variable {name!r}", f"written by the step at t={t}", "none")
        )
    if t >= var.size:
        raise TimeIndexError(
            v.message(op, f"stop variable {name!r}", f"a row at t={t}", f"time size {var.size}")
        )
    _check_stop_dtype(op, name, var.dtype, f"after the step at t={t}")
    return bool(var.row(t).all())


def _plain_leaves(agent: Agent) -> list[Agent] | None:
    """The leaves of ``agent``'s tree in call order, or None if a node overrides ``__call__``.

    For such a tree, calling the root at ``t`` is exactly calling every leaf's ``forward`` in
    this order with the leaf bound, which lets :class:`TemporalAgent` bind once per rollout.
    """
    call = type(agent).__call__
    if call is Agent.__call__:
        return [agent]
    if call is not Agents.__call__ or not isinstance(agent, Agents):
        return None
    leaves: list[Agent] = []
    for child in agent._children():
        sub = _plain_leaves(child)
        if sub is None:
            return None
        leaves += sub
    return leaves


@contextmanager
def _bound_leaves(leaves: Sequence[Agent], workspace: Workspace) -> Iterator[None]:
    """Bind every leaf to ``workspace`` (as ``Agent.__call__`` does), restore them on exit."""
    # __dict__ directly, as in Agent.__call__; restored in reverse for a leaf listed twice
    previous = [(leaf.__dict__, leaf.__dict__["workspace"]) for leaf in leaves]
    for attributes, _ in previous:
        attributes["workspace"] = workspace
    try:
        yield
    finally:
        for attributes, old in reversed(previous):
            attributes["workspace"] = old


# ------------------------------------------------------------------------------------------
# bbrl's conveniences (AG-17..AG-21)


class KWAgentWrapper(Agent):
    """Calls ``agent`` with fixed extra keyword arguments (AG-17)."""

    def __init__(self, agent: Agent, **kwargs: object) -> None:
        super().__init__()
        self.wrapped = _check_agent("KWAgentWrapper", "argument 'agent'", agent)
        self.kwargs = dict(kwargs)

    def forward(self, t: int, **kwargs: object) -> None:
        both = sorted(kwargs.keys() & self.kwargs.keys())
        if both:
            raise TypeError(
                v.message(
                    "KWAgentWrapper",
                    "keyword arguments",
                    "none also fixed by the wrapper",
                    both,
                )
            )
        workspace = self.workspace
        if workspace is None:
            self._not_bound("forward")
        self.wrapped(workspace, t=t, **kwargs, **self.kwargs)

    def _named_below(self, name: str) -> list[Agent]:
        return self.wrapped.get_by_name(name)


class PrintAgent(Agent):
    """Prints row ``t`` of the named variables, or of all of them (AG-18)."""

    def __init__(self, *names: str, name: str | None = None, verbose: bool = False) -> None:
        super().__init__(name, verbose)
        for var_name in names:
            v.check_name("PrintAgent", var_name)
        self.names = names

    def forward(self, t: int, **kwargs: object) -> None:
        workspace = self.workspace
        if workspace is None:
            self._not_bound("forward")
        names = self.names or tuple(workspace.keys())
        rows = [(name, workspace.get(name, t)) for name in names]  # every check before a print
        for name, row in rows:
            print(f"{name} = {row}")


class EpisodesDone(Agent):
    """``out_var[t] = truth(in_var[t]) or out_var[t-1]``, as bool (AG-19).

    With the default ``env/done`` for both, a rollout of an autoreset env agent then reads as
    one episode per env: done stays True once the first episode has ended.
    """

    def __init__(
        self,
        in_var: str = ENV_DONE,
        out_var: str = ENV_DONE,
        name: str | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(name, verbose)
        self.in_var = v.check_name("EpisodesDone", in_var)
        self.out_var = v.check_name("EpisodesDone", out_var)

    def forward(self, t: int, **kwargs: object) -> None:
        value = self.get((self.in_var, t))
        if value.dtype != torch.bool:
            _check_stop_dtype("EpisodesDone", self.in_var, value.dtype, f"at t={t}")
            value = value != 0
        if t > 0:
            value = value | self.get((self.out_var, t - 1))
        self.set((self.out_var, t), value)


class CopyTAgent(Agent):
    """Copies a variable's row ``t``, or the whole variable when ``t`` is None (AG-20)."""

    def __init__(
        self,
        input_name: str,
        output_name: str,
        detach: bool = False,
        name: str | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(name, verbose)
        self.input_name = v.check_name("CopyTAgent", input_name)
        self.output_name = v.check_name("CopyTAgent", output_name)
        self.detach = detach

    def forward(self, t: int | None = None, **kwargs: object) -> None:
        if t is None:
            full = self.get(self.input_name)
            self.set(self.output_name, full.detach() if self.detach else full)
        else:
            row = self.get((self.input_name, t))
            self.set((self.output_name, t), row.detach() if self.detach else row)


class TimeAgent(Agent):
    """bbrl's convention for an agent whose ``forward`` takes a time step (AG-21)."""


class SeedableAgent(Agent):
    """bbrl's convention for a seeded agent: ``seed`` is kept in ``_seed`` (AG-21)."""

    def __init__(self, seed: int | None = None, *args: Any, **kwargs: Any) -> None:
        # the other arguments go on to the next class of the MRO (AG-21): Agent's name and
        # verbose, or a user class's own
        super().__init__(*args, **kwargs)
        self._seed = seed

    def seed(self, seed: int) -> SeedableAgent:
        """Record ``seed``; return the agent."""
        self._seed = v.check_int("seed", "seed", seed, 0)
        return self


class SerializableAgent(Agent):
    """bbrl's convention for an agent that can be serialized (AG-21); see ``save_model``."""

    def serialize(self) -> SerializableAgent:
        """The agent itself (bbrl's default)."""
        return self
