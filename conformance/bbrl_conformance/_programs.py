"""What generated programs are made of, on the implementation's side (torch).

The program generator (``_machine``) and its reproducers build values and agents with these
functions, so that a reproducer printed by a failing run is a short standalone script::

    from bbrl_conformance._programs import *
    ws0 = impl.Workspace()
    v0 = value("int64", (2, 3), seed=5, kind="extreme", layout="strided")
    ws0.set("x", 1, v0)

Agents come from the data of ``bbrl_conformance._model.agents`` (``build_tree``), env agents
from ``bbrl_conformance._model.envfamily`` configs through the implementation's own
``make_env`` (``env_factory``). Everything here is deterministic given its arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from bbrl_conformance import generated_env
from bbrl_conformance._model.agents import (
    Actor,
    EnvRef,
    Group,
    Node,
    Owner,
    Reader,
    Stopper,
    Temporal,
    Writer,
    stopper_row,
    writer_value,
)
from bbrl_conformance._model.env_agent import EnvSetup
from bbrl_conformance._model.envfamily import action_row
from bbrl_conformance._model.values import MValue, grad_mvalue, make_array

__all__ = [
    "LAYOUTS",
    "TORCH_DTYPES",
    "agent_by_key",
    "build_tree",
    "env_factory",
    "from_model",
    "generator",
    "grad_row",
    "grad_value",
    "mutate",
    "raises",
    "to_model",
    "value",
]

TORCH_DTYPES: dict[str, torch.dtype] = {
    "bool": torch.bool,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}
DTYPE_NAMES = {v: k for k, v in TORCH_DTYPES.items()}
#: how a value is laid out in memory: a fresh tensor, or a view into a larger one
LAYOUTS = ("contiguous", "strided", "transposed")


def from_model(mvalue: MValue) -> torch.Tensor:
    """The tensor of a model value (a fresh contiguous tensor)."""
    tensor = torch.from_numpy(np.array(mvalue.array, order="C", copy=True))
    return tensor.to(TORCH_DTYPES[mvalue.dtype])


def to_model(tensor: torch.Tensor) -> MValue:
    """A detached numpy copy of ``tensor`` with its dtype name (bfloat16 held as float32)."""
    data = tensor.detach().cpu().resolve_conj().resolve_neg()
    if data.dtype == torch.bfloat16:
        data = data.float()
    name = DTYPE_NAMES.get(tensor.dtype)
    if name is None:
        raise TypeError(f"to_model: unsupported dtype {tensor.dtype}")
    return MValue(name, data.numpy().copy())


def _laid_out(tensor: torch.Tensor, layout: str) -> torch.Tensor:
    if layout == "contiguous" or tensor.dim() == 0:
        return tensor
    if layout == "strided":
        # every other element of a tensor twice as long in the last dimension
        shape = (*tensor.shape[:-1], 2 * tensor.shape[-1])
        base = torch.zeros(shape, dtype=tensor.dtype)
        view = base[..., ::2]
        view.copy_(tensor)
        return view
    if layout == "transposed":
        # the transpose of a contiguous tensor with the first and last dimension swapped
        return tensor.transpose(0, -1).contiguous().transpose(0, -1)
    raise ValueError(f"layout: expected one of {LAYOUTS}, got {layout!r}")


def value(
    dtype: str,
    shape: tuple[int, ...],
    seed: int,
    kind: str = "wide",
    layout: str = "contiguous",
) -> torch.Tensor:
    """``make_array(dtype, shape, seed, kind)`` as a tensor laid out as ``layout``."""
    return _laid_out(from_model(MValue(dtype, make_array(dtype, shape, seed, kind))), layout)


def grad_value(mvalue: MValue, p: torch.Tensor) -> torch.Tensor:
    """``base + p * coef`` in the value's dtype, for a model value with coefficients (p == 1)."""
    if mvalue.coef is None:
        raise ValueError("grad_value: the model value has no coefficients")
    dtype = TORCH_DTYPES[mvalue.dtype]
    coef = torch.from_numpy(mvalue.coef).to(dtype)
    base = from_model(MValue(mvalue.dtype, mvalue.array)) - coef
    return base + p.to(dtype) * coef


def grad_row(dtype: str, shape: tuple[int, ...], seed: int, p: torch.Tensor) -> torch.Tensor:
    """``grad_mvalue(dtype, shape, seed)`` as ``base + p * coef``: a value with autograd history
    through the program's parameter ``p``."""
    return grad_value(grad_mvalue(dtype, shape, seed), p)


def mutate(tensor: torch.Tensor) -> None:
    """Change every element of ``tensor`` in place (through the view if it is one)."""
    with torch.no_grad():
        if tensor.dtype == torch.bool:
            tensor.logical_not_()
        else:
            seven = torch.full_like(tensor, 7)
            tensor.copy_(torch.where(tensor == seven, seven + 1, seven))


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def raises(call: Callable[[], object]) -> None:
    """Run a call that the spec says must raise, and print what it did (for reproducers)."""
    try:
        result = call()
    except Exception as exc:
        print("raised", [c.__name__ for c in type(exc).__mro__[:-2]], exc)
    else:
        print("raised nothing, returned", repr(result)[:200])


def env_factory(impl: Any, setup: EnvSetup, autoreset: bool, via_args: bool) -> Any:
    """``make_env_fn`` (and ``make_env_args``) for ``impl.ParallelGymAgent``: the generated env
    of ``setup`` through ``impl.make_env``; with ``via_args`` the config travels in
    ``make_env_args`` instead of the partial."""
    env_id, limit_kwargs = generated_env.make_arguments(setup)
    kwargs: dict[str, object] = {"config": setup.config, **limit_kwargs}
    if via_args:
        return functools.partial(impl.make_env, env_id, autoreset=autoreset), kwargs
    return functools.partial(impl.make_env, env_id, autoreset=autoreset, **kwargs), None


# -- agents ------------------------------------------------------------------------------

#: what a leaf logs per call: (key, t, sorted kwargs, the workspace bound during the call)
CallLog = list[tuple[str, int, tuple[tuple[str, object], ...], object]]
#: what a reader logs per call: (key, t, value read or the exception raised)
ReadLog = list[tuple[str, int, "MValue | BaseException"]]


@functools.cache
def _leaf_classes(agent_base: type) -> dict[str, type]:
    """Subclasses of an implementation's ``Agent``, one per leaf kind (cached per class)."""

    class LeafAgent(agent_base):  # type: ignore[misc]
        def __init__(self, spec: Any, calls: CallLog, reads: ReadLog, p: torch.Tensor) -> None:
            super().__init__()
            self.spec = spec
            self.calls = calls
            self.reads = reads
            self.p = p
            # one parameter per leaf: AG-5 (parameters() of a tree include the leaves')
            self.weight = torch.nn.Parameter(torch.zeros(()))

        def _log(self, t: int, kwargs: Mapping[str, object]) -> None:
            entry = (self.spec.key, t, tuple(sorted(kwargs.items())), self.workspace)
            self.calls.append(entry)

        def forward(self, t: int, **kwargs: Any) -> None:
            spec = self.spec
            if isinstance(spec, Writer):
                mvalue = writer_value(spec, t)
                row = grad_value(mvalue, self.p) if spec.grad else from_model(mvalue)
                self.set((spec.name, t), row)
            elif isinstance(spec, Stopper):
                self.set((spec.name, t), from_model(stopper_row(spec, t)))
            elif isinstance(spec, Actor):
                actions = action_row(spec.action, spec.seed, t, spec.batch)
                self.set(("action", t), from_model(MValue(spec.action.dtype, actions)))
            elif isinstance(spec, Reader):
                outcome: MValue | BaseException
                try:
                    if spec.mode == "full":
                        outcome = to_model(self.get(spec.name))
                    else:
                        outcome = to_model(
                            self.get((spec.name, t if spec.mode == "row" else t - 1))
                        )
                except Exception as exc:
                    outcome = exc
                self.reads.append((spec.key, t, outcome))
            self._log(t, kwargs)

    class OwnerAgent(agent_base):  # type: ignore[misc]
        def __init__(self, spec: Owner, kids: list[Any], calls: CallLog, p: torch.Tensor) -> None:
            super().__init__()
            self.spec = spec
            self.kids = torch.nn.ModuleList(kids)
            self.calls = calls
            self.weight = torch.nn.Parameter(torch.zeros(()))

        def forward(self, t: int, **kwargs: Any) -> None:
            for kid, (_, extra) in zip(self.kids, self.spec.calls, strict=True):
                kid(self.workspace, t=t, **dict(extra))
            entry = (self.spec.key, t, tuple(sorted(kwargs.items())), self.workspace)
            self.calls.append(entry)

    return {"leaf": LeafAgent, "owner": OwnerAgent}


def agent_by_key(tree: Any, key: str) -> Any:
    """The agent object of ``key`` inside a tree built by ``build_tree``."""
    for module in tree.modules():
        spec = getattr(module, "spec", None)
        if spec is not None and spec.key == key:
            return module
    raise KeyError(f"agent_by_key: no agent {key!r} in the tree")


def build_tree(
    impl: Any,
    node: Node,
    env_agents: Mapping[str, Any],
    calls: CallLog,
    reads: ReadLog,
    p: torch.Tensor,
    built: dict[str, Any] | None = None,
) -> Any:
    """The implementation's agent for ``node``: one object per key (a repeated key is the same
    object), env agents taken from ``env_agents``."""
    built = {} if built is None else built
    if node.key in built:
        return built[node.key]
    classes = _leaf_classes(impl.Agent)
    agent: Any
    if isinstance(node, EnvRef):
        agent = env_agents[node.key]
    elif isinstance(node, Group):
        parts = [build_tree(impl, c, env_agents, calls, reads, p, built) for c in node.children]
        agent = impl.Agents(*parts)
    elif isinstance(node, Temporal):
        agent = impl.TemporalAgent(build_tree(impl, node.child, env_agents, calls, reads, p, built))
    elif isinstance(node, Owner):
        kids = [build_tree(impl, c, env_agents, calls, reads, p, built) for c, _ in node.calls]
        agent = classes["owner"](node, kids, calls, p)
    else:
        agent = classes["leaf"](node, calls, reads, p)
    built[node.key] = agent
    return agent
