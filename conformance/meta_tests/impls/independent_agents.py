"""Independent Agent, Agents, TemporalAgent and bbrl's utility agents, written by a helper from
spec/ alone (spec/agents.md), without reading the reference: every other name (ParallelGymAgent
included) comes from bbrl_reference.

It exists to check that the suite's agent tests demand no more than the spec
(test_independent_impls.py). It is deliberately naive and differs from the reference in what
the spec leaves open: the bound workspace lives in the instance ``__dict__`` (outside
``nn.Module``'s attributes) and is restored after each call; ``__call__`` runs ``forward``
directly, without ``nn.Module``'s hooks; argument checks use ``operator.index`` and plain
exceptions with its own messages; the stop variable is read as ``!= 0`` on its row ``t``;
``load_model`` deep-copies the agent without its binding; and a child agent may be any
``Agent`` of this module or of the reference (for ParallelGymAgent).
"""

from __future__ import annotations

import copy
import operator
import os
from collections.abc import Mapping
from typing import Any, Self

import bbrl_reference
import numpy as np
import torch
from bbrl_reference import Workspace
from torch import nn

IMPLEMENTATION_NAME = "independent-agents"


def __getattr__(name: str) -> Any:
    """Every public name this module does not define is the reference's (PEP 562)."""
    if name in bbrl_reference.__all__:
        return getattr(bbrl_reference, name)
    raise AttributeError(name)


def _check_ws(ws: Any) -> Workspace:
    if not isinstance(ws, Workspace):  # AG-2
        raise TypeError(f"workspace: expected a Workspace, got {type(ws).__name__}")
    return ws


def _check_child(a: Any, who: str) -> Agent | bbrl_reference.Agent:
    # the reference's ParallelGymAgent (re-exported as is) subclasses the reference's Agent
    if not isinstance(a, Agent | bbrl_reference.Agent):
        raise TypeError(f"{who}: expected an Agent, got {type(a).__name__}")
    return a


def _as_int(x: Any, what: str) -> int:
    if isinstance(x, bool | np.bool_):
        raise TypeError(f"{what}: expected an integer, got {x!r}")
    if isinstance(x, torch.Tensor) and (
        x.dim() != 0 or x.dtype == torch.bool or x.is_floating_point() or x.is_complex()
    ):
        raise TypeError(
            f"{what}: expected an integer, got a tensor of shape {tuple(x.shape)} "
            f"and dtype {x.dtype}"
        )
    try:
        return operator.index(x)
    except TypeError:
        raise TypeError(f"{what}: expected an integer, got {type(x).__name__}") from None


def _check_seed(s: Any) -> None:
    if isinstance(s, bool | np.bool_):
        raise TypeError(f"seed: expected an integer, got {s!r}")
    try:
        s = operator.index(s)
    except TypeError:
        raise TypeError(f"seed: expected an integer, got {type(s).__name__}") from None
    if s < 0:
        raise ValueError(f"seed: expected a seed >= 0, got {s}")


class Agent(nn.Module):
    def __init__(self, name: str | None = None, verbose: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.verbose = verbose
        self.prefix = ""

    # the bound workspace is kept outside nn.Module's attribute machinery, so that a
    # workspace argument that happens to be a Module is never registered as a child
    @property
    def workspace(self) -> Workspace | None:
        ws: Workspace | None = self.__dict__.get("_bound_workspace")
        return ws

    def _bind(self, ws: Workspace | None) -> None:
        object.__setattr__(self, "_bound_workspace", ws)

    # -- calling -------------------------------------------------------------------------
    def __call__(self, workspace: Any, **kwargs: Any) -> Any:
        previous = self.workspace
        self._bind(_check_ws(workspace))
        try:
            return self.forward(**kwargs)
        finally:
            self._bind(previous)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _bound(self, what: str) -> Workspace:
        if self.workspace is None:
            raise RuntimeError(
                f"{what}: agent {self.name!r} is not bound to a workspace (called outside a call)"
            )
        return self.workspace

    def get(self, index: str | tuple[str, int]) -> torch.Tensor:
        ws = self._bound("get")
        if isinstance(index, tuple):
            name, t = index
            return ws.get(name, t)
        return ws.get_full(index)

    def set(self, index: str | tuple[str, int], value: torch.Tensor) -> None:
        ws = self._bound("set")
        if isinstance(index, tuple):
            name, t = index
            ws.set(name, t, value)
        else:
            ws.set_full(index, value)

    # -- names ---------------------------------------------------------------------------
    def get_name(self) -> str | None:
        return self.name

    def set_name(self, n: str | None) -> Self:
        self.name = n
        return self

    def with_prefix(self, p: str) -> Self:
        self.prefix = p
        return self

    def get_by_name(self, n: Any) -> list[Any]:
        if not isinstance(n, str):
            raise TypeError(f"get_by_name: expected a str, got {type(n).__name__}")
        return [self] if self.name == n else []

    # -- seeding -------------------------------------------------------------------------
    def seed(self, s: Any) -> Self:
        _check_seed(s)
        return self

    # -- files ---------------------------------------------------------------------------
    def save_model(self, path: str | os.PathLike[str]) -> None:
        torch.save(self.state_dict(), path)

    def load_model(self, path: str | os.PathLike[str]) -> Self:
        try:
            state = torch.load(path, weights_only=True)
        except OSError:
            raise
        except Exception as e:
            raise ValueError(f"load_model: cannot read {path!r}: {e}") from e
        if not isinstance(state, Mapping) or not all(
            isinstance(v, torch.Tensor) for v in state.values()
        ):
            raise ValueError(f"load_model: {path!r} is not a mapping of tensors")
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        extra = sorted(set(state) - set(own))
        if missing or extra:
            raise KeyError(
                f"load_model: {path!r}: entries missing {missing}, unexpected entries {extra}"
            )
        for k, v in state.items():
            mine = own[k]
            if v.layout != torch.strided or v.is_meta:
                raise ValueError(f"load_model: entry {k!r} has no dense values")
            if v.shape != mine.shape:
                raise ValueError(
                    f"load_model: entry {k!r}: expected shape {tuple(mine.shape)}, "
                    f"got {tuple(v.shape)}"
                )
            if v.dtype != mine.dtype:
                raise TypeError(
                    f"load_model: entry {k!r}: expected dtype {mine.dtype}, got {v.dtype}"
                )
        # the copy is bound to no workspace (it is not in a call): do not copy the bindings
        memo: dict[int, Any] = {
            id(m.workspace): None
            for m in self.modules()
            if isinstance(m, Agent) and m.workspace is not None
        }
        new = copy.deepcopy(self, memo)
        new.load_state_dict(state)
        return new


class Agents(Agent):
    def __init__(self, *agents: Any, name: str | None = None, verbose: bool = False) -> None:
        super().__init__(name=name, verbose=verbose)
        self.agents = nn.ModuleList([_check_child(a, "Agents") for a in agents])

    def __getitem__(self, k: int) -> nn.Module:
        return self.agents[k]

    def _children(self) -> list[Any]:
        return list(self.agents)

    def forward(self, **kwargs: Any) -> None:
        for a in self._children():
            a(self.workspace, **kwargs)

    def get_by_name(self, n: Any) -> list[Any]:
        out: list[Any] = []
        for a in self._children():
            out.extend(a.get_by_name(n))
        return out + super().get_by_name(n)

    def seed(self, s: Any) -> Self:
        _check_seed(s)
        for a in self._children():
            a.seed(s)
        return self


_STOP_DTYPES = {
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


class TemporalAgent(Agent):
    def __init__(self, agent: Any, name: str | None = None, verbose: bool = False) -> None:
        super().__init__(name=name, verbose=verbose)
        self.agent = _check_child(agent, "TemporalAgent")

    def __call__(
        self,
        workspace: Any,
        t: Any = 0,
        n_steps: Any = None,
        stop_variable: Any = None,
        **kwargs: Any,
    ) -> None:
        ws = _check_ws(workspace)
        t = _as_int(t, "t")
        if n_steps is not None:
            n_steps = _as_int(n_steps, "n_steps")
        if stop_variable is not None and not isinstance(stop_variable, str):
            kind = type(stop_variable).__name__
            raise TypeError(f"stop_variable: expected a str, got {kind}")
        if t < 0:
            raise ValueError(f"t: expected t >= 0, got {t}")
        if n_steps is None and stop_variable is None:
            raise ValueError("TemporalAgent: give n_steps or stop_variable")
        if n_steps is not None and n_steps <= 0:
            raise ValueError(f"n_steps: expected n_steps > 0, got {n_steps}")
        if stop_variable is not None and stop_variable in ws:
            dt = ws.get_full(stop_variable).dtype
            if dt not in _STOP_DTYPES:
                raise TypeError(
                    f"stop_variable {stop_variable!r}: dtype {dt} cannot be a stop variable"
                )
        previous = self.workspace
        self._bind(ws)
        try:
            step = 0
            while True:
                self.agent(ws, t=t, **kwargs)
                if stop_variable is not None and self._stopped(ws, stop_variable, t):
                    break
                step += 1
                if n_steps is not None and step >= n_steps:
                    break
                t += 1
        finally:
            self._bind(previous)

    @staticmethod
    def _stopped(ws: Workspace, name: str, t: int) -> bool:
        if name not in ws:
            raise KeyError(f"stop_variable {name!r}: not a variable after the step at t={t}")
        full = ws.get_full(name)
        if full.dtype not in _STOP_DTYPES:
            raise TypeError(
                f"stop_variable {name!r}: dtype {full.dtype} cannot be a stop variable (at t={t})"
            )
        if full.shape[0] <= t:
            raise IndexError(f"stop_variable {name!r}: no row t={t} (time size {full.shape[0]})")
        return bool((ws.get(name, t) != 0).all())

    def get_by_name(self, n: Any) -> list[Any]:
        out: list[Any] = self.agent.get_by_name(n)
        return out + super().get_by_name(n)

    def seed(self, s: Any) -> Self:
        _check_seed(s)
        self.agent.seed(s)
        return self


class KWAgentWrapper(Agent):
    def __init__(self, agent: Any, **fixed: Any) -> None:
        super().__init__()
        self.wrapped = _check_child(agent, "KWAgentWrapper")
        self.fixed = fixed

    def __call__(self, workspace: Any, **kwargs: Any) -> Any:
        both = set(kwargs) & set(self.fixed)
        if both:
            raise TypeError(f"KWAgentWrapper: keyword(s) {sorted(both)} given twice")
        return self.wrapped(workspace, **kwargs, **self.fixed)

    def get_by_name(self, n: Any) -> list[Any]:
        out: list[Any] = self.wrapped.get_by_name(n)
        return out + super().get_by_name(n)

    def seed(self, s: Any) -> Self:
        _check_seed(s)
        self.wrapped.seed(s)
        return self


class PrintAgent(Agent):
    def __init__(self, *names: str, name: str | None = None) -> None:
        super().__init__(name=name)
        self.names = names

    def forward(self, t: int, **kwargs: Any) -> None:
        ws = self._bound("forward")
        for n in self.names or list(ws.keys()):
            if n not in ws:
                raise KeyError(f"PrintAgent: {n!r} is not a variable")
            print(n, "=", str(ws.get(n, t)))


class EpisodesDone(Agent):
    def __init__(self, in_var: str = "env/done", out_var: str = "env/done") -> None:
        super().__init__()
        self.in_var = in_var
        self.out_var = out_var

    def forward(self, t: int, **kwargs: Any) -> None:
        v = self.get((self.in_var, t)) != 0
        if t > 0:
            v = v | (self.get((self.out_var, t - 1)) != 0)
        self.set((self.out_var, t), v.to(torch.bool))


class CopyTAgent(Agent):
    def __init__(
        self, input_name: str, output_name: str, detach: bool = False, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        self.input_name = input_name
        self.output_name = output_name
        self.detach = detach

    def forward(self, t: int | None = None, **kwargs: Any) -> None:
        if t is None:
            x = self.get(self.input_name)
            self.set(self.output_name, x.detach() if self.detach else x)
        else:
            x = self.get((self.input_name, t))
            self.set((self.output_name, t), x.detach() if self.detach else x)


class TimeAgent(Agent):
    pass


class SeedableAgent(Agent):
    def __init__(self, *args: Any, seed: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seed = seed

    def seed(self, s: Any) -> Self:
        _check_seed(s)
        self._seed = s
        return self


class SerializableAgent(Agent):
    def serialize(self) -> Self:
        return self
