"""Agents: modules that read and write a workspace at a time step (spec AG, TA)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import NoReturn, overload

import torch
from torch import nn

from . import _validation as v
from ._errors import AgentNotBoundError, DTypeError, InvalidArgumentError
from ._workspace import Workspace


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

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        self.name = name
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
                f"agent {self.get_name()!r}",
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

    def set(self, index: tuple[str, int], value: torch.Tensor) -> None:
        """Write ``value`` at row ``t`` of variable ``name``, for ``index == (name, t)``."""
        workspace = self.workspace
        if workspace is None:
            self._not_bound("set")
        item: object = index
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(v.message("set", "argument 'index'", "a (name, t) tuple", item))
        workspace.set(index[0], index[1], value)

    def get_name(self) -> str:
        """The agent's name, or its class name when it has none."""
        return self.name if self.name is not None else type(self).__name__

    def seed(self, seed: int) -> Agent:
        """Seed the agent's own randomness (nothing for the base class); return ``self``."""
        v.check_int("seed", "seed", seed, 0)
        return self


class Agents(Agent):
    """Runs its children in order at each call, forwarding the keyword arguments (AG-4)."""

    def __init__(self, *agents: Agent, name: str | None = None) -> None:
        super().__init__(name)
        for i, agent in enumerate(agents):
            if not isinstance(agent, Agent):
                raise TypeError(
                    v.message("Agents", f"argument {i}", "an Agent", type(agent).__name__)
                )
        self.agents = nn.ModuleList(agents)
        self._children: tuple[Agent, ...] = agents  # typed, for the call loop

    def __call__(self, workspace: Workspace, **kwargs: object) -> None:
        """Call every child on ``workspace`` with the same keyword arguments, in order."""
        for agent in self._children:
            agent(workspace, **kwargs)

    def seed(self, seed: int) -> Agents:
        """Seed every child with ``seed``; return ``self``."""
        v.check_int("seed", "seed", seed, 0)
        for agent in self._children:
            agent.seed(seed)
        return self


class TemporalAgent(Agent):
    """Runs an agent at successive time steps (TA-1..TA-5)."""

    def __init__(self, agent: Agent, name: str | None = None) -> None:
        super().__init__(name)
        if not isinstance(agent, Agent):
            raise TypeError(
                v.message("TemporalAgent", "argument 'agent'", "an Agent", type(agent).__name__)
            )
        self.agent = agent

    def __call__(  # type: ignore[override]
        self,
        workspace: Workspace,
        t: int = 0,
        n_steps: int | None = None,
        stop_variable: str | None = None,
        **kwargs: object,
    ) -> None:
        """Run the agent at ``t, t+1, ...`` (TA-1, TA-2, TA-3; TA-4 for bad arguments).

        It stops after ``n_steps`` steps, or after the first step at which ``stop_variable``
        is True for every batch entry (that row included), whichever comes first.
        """
        op = "TemporalAgent"
        t = v.check_int(op, "t", t, 0)
        if n_steps is None and stop_variable is None:
            raise InvalidArgumentError(
                v.message(op, "arguments", "n_steps or stop_variable", "neither")
            )
        if n_steps is not None:
            n_steps = v.check_int(op, "n_steps", n_steps, 1)
        if stop_variable is not None:
            v.check_name(op, stop_variable)
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
            if not isinstance(workspace, Workspace):
                raise TypeError(
                    v.message(
                        "__call__", "argument 'workspace'", "a Workspace", type(workspace).__name__
                    )
                )
            forwards = [leaf.forward for leaf in leaves]
        with _bound_leaves(leaves, workspace):
            while end is None or t < end:
                if kwargs:
                    for forward in forwards:
                        forward(t=t, **kwargs)
                else:  # no keyword arguments: a plain call (no dict merge per agent and step)
                    for forward in forwards:
                        forward(t=t)
                if stop_variable is not None:
                    row = workspace._row(stop_variable, t)
                    if row.dtype != torch.bool:
                        raise DTypeError(
                            v.message(op, v.variable(stop_variable), "dtype torch.bool", row.dtype)
                        )
                    if bool(row.all()):
                        break
                t += 1

    def seed(self, seed: int) -> TemporalAgent:
        """Seed the wrapped agent; return ``self``."""
        self.agent.seed(seed)
        return self


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
    for child in agent._children:
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
