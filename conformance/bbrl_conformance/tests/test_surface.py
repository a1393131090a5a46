"""The public surface: the required names exist and accept the spec's call shapes (AG-1 and the
clauses that define each method's parameters). Behaviour is checked by the other modules."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import torch

from bbrl_conformance._assertions import expect
from bbrl_conformance._clauses import clause
from bbrl_conformance._impl import REQUIRED_NAMES, UndefinedStub

CLASSES = ("Workspace", "Agent", "Agents", "TemporalAgent", "ParallelGymAgent", "ReplayBuffer")


def _accepts(fn: Callable[..., Any], *args: object, **kwargs: object) -> tuple[bool, str]:
    """Whether ``fn``'s signature binds these arguments (True when it cannot be inspected)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True, "signature not inspectable"
    try:
        sig.bind(*args, **kwargs)
    except TypeError as exc:
        return False, f"signature {sig} rejects the call: {exc}"
    return True, str(sig)


def _check_call(
    clause_id: str, owner: str, fn: Callable[..., Any], call: str, *args: object, **kwargs: object
) -> None:
    __tracebackhide__ = True
    ok, detail = _accepts(fn, *args, **kwargs)
    expect(ok, clause_id, f"{owner} must accept the call {call}; {detail}")


@clause("AG-1")
@pytest.mark.parametrize("name", REQUIRED_NAMES)
def test_required_name_is_exported(impl: Any, name: str) -> None:
    value = getattr(impl, name)
    expect(
        not isinstance(value, UndefinedStub),
        "AG-1",
        f"the implementation module has no attribute {name!r}",
        repro=f"import {getattr(impl, 'module_name', 'impl')} as impl\nimpl.{name}",
    )


@clause("AG-1")
@pytest.mark.parametrize("name", CLASSES)
def test_required_class_is_a_class(impl: Any, name: str) -> None:
    value = getattr(impl, name)
    expect(inspect.isclass(value), "AG-1", f"impl.{name} should be a class, got {value!r}")


@clause("AG-1", "ENV-1")
def test_make_env_is_callable_with_the_spec_call_shape(impl: Any) -> None:
    expect(callable(impl.make_env), "AG-1", f"impl.make_env should be callable: {impl.make_env!r}")
    _check_call(
        "ENV-1",
        "make_env",
        impl.make_env,
        "make_env('CartPole-v1', autoreset=True, max_episode_steps=10)",
        "CartPole-v1",
        autoreset=True,
        max_episode_steps=10,
    )
    _check_call("ENV-1", "make_env", impl.make_env, "make_env('CartPole-v1')", "CartPole-v1")


@clause("AG-5")
def test_agent_is_an_nn_module(impl: Any) -> None:
    expect(
        inspect.isclass(impl.Agent) and issubclass(impl.Agent, torch.nn.Module),
        "AG-5",
        f"impl.Agent should subclass torch.nn.Module; its bases: "
        f"{getattr(impl.Agent, '__mro__', impl.Agent)!r}",
    )


@clause("AG-5")
@pytest.mark.parametrize("name", ["Agents", "TemporalAgent", "ParallelGymAgent"])
def test_agent_classes_are_nn_modules(impl: Any, name: str) -> None:
    cls = getattr(impl, name)
    expect(
        inspect.isclass(cls) and issubclass(cls, torch.nn.Module),
        "AG-5",
        f"impl.{name} wraps or is an agent and should be a torch.nn.Module; mro: "
        f"{getattr(cls, '__mro__', cls)!r}",
    )


# (clause, method, args, kwargs): the call shapes of the spec, one test each.
_X = torch.zeros(2, 3)
WORKSPACE_CALLS: list[tuple[str, str, tuple[object, ...], dict[str, object]]] = [
    ("WS-2", "set", ("x", 0, _X), {}),
    ("WS-2", "get", ("x", 0), {}),
    ("WS-6", "get_full", ("x",), {}),
    ("WS-6", "__getitem__", ("x",), {}),
    ("WS-11", "set_full", ("x", torch.zeros(1, 2, 3)), {}),
    ("WS-12", "keys", (), {}),
    ("WS-12", "__contains__", ("x",), {}),
    ("WS-13", "time_size", (), {}),
    ("WS-13", "batch_size", (), {}),
    ("WS-14", "zero_grad", (), {}),
    ("WS-15", "copy_n_last_steps", (1,), {}),
    ("WS-16", "copy_n_last_steps", (1,), {"var_names": ["x"]}),
    ("WS-19", "clear", (), {}),
    ("WS-19", "clear", ("x",), {}),
    ("TR-1", "get_transitions", (), {}),
    ("TR-3", "get_transitions", ("env/done",), {}),
    ("TR-4", "get_transitions", (), {"filter_key": None}),
]


def _shown(args: tuple[object, ...], kwargs: dict[str, object]) -> str:
    return ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])


def _method_params(
    calls: list[tuple[str, str, tuple[object, ...], dict[str, object]]],
) -> list[Any]:
    return [
        pytest.param(
            cid,
            method,
            args,
            kwargs,
            marks=clause(cid),
            id=f"{cid}-{method}" + "".join(f"-{k}" for k in kwargs),
        )
        for cid, method, args, kwargs in calls
    ]


def _check_method(
    owner: str,
    obj: object,
    clause_id: str,
    method: str,
    args: tuple[object, ...],
    kwargs: dict[str, object],
) -> None:
    __tracebackhide__ = True
    fn = getattr(obj, method, None)
    expect(
        fn is not None and callable(fn),
        clause_id,
        f"{owner} should have a method {method!r}; got {fn!r}",
    )
    assert fn is not None  # for the type checker; expect() above already failed otherwise
    _check_call(
        clause_id,
        f"{owner}.{method}",
        fn,
        f"{owner.lower()}.{method}({_shown(args, kwargs)})",
        *args,
        **kwargs,
    )


@pytest.mark.parametrize(("clause_id", "method", "args", "kwargs"), _method_params(WORKSPACE_CALLS))
def test_workspace_method_call_shape(
    impl: Any, clause_id: str, method: str, args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    _check_method("Workspace", impl.Workspace(), clause_id, method, args, kwargs)


@clause("WS-12")
def test_workspace_has_variables_mapping(impl: Any) -> None:
    ws = impl.Workspace()
    variables = getattr(ws, "variables", None)
    expect(
        variables is not None and callable(getattr(variables, "keys", None)),
        "WS-12",
        f"Workspace().variables should be a mapping with keys(); got {variables!r}",
    )


@clause("TA-1", "TA-2", "TA-3")
def test_temporal_agent_call_shape(impl: Any) -> None:
    class Noop(impl.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kwargs: object) -> None:
            pass

    t_agent = impl.TemporalAgent(Noop())
    ws = impl.Workspace()
    _check_call(
        "TA-1",
        "TemporalAgent.__call__",
        t_agent.__call__,
        "t_agent(ws, t=0, n_steps=3)",
        ws,
        t=0,
        n_steps=3,
    )
    _check_call(
        "TA-3",
        "TemporalAgent.__call__",
        t_agent.__call__,
        "t_agent(ws, t=1, n_steps=3, stop_variable='env/done', extra=1)",
        ws,
        t=1,
        n_steps=3,
        stop_variable="env/done",
        extra=1,
    )


@clause("ENV-1", "ENV-12", "AG-6")
def test_parallel_gym_agent_call_shape(impl: Any) -> None:
    def make() -> object:
        return impl.make_env("CartPole-v1")

    _check_call(
        "ENV-1",
        "ParallelGymAgent",
        impl.ParallelGymAgent,
        "ParallelGymAgent(make_env_fn, num_envs=2)",
        make,
        num_envs=2,
    )
    agent = impl.ParallelGymAgent(make, 2)
    for clause_id, method, args in (
        ("ENV-12", "get_obs_and_actions_sizes", ()),
        ("AG-6", "seed", (0,)),
    ):
        fn = getattr(agent, method, None)
        expect(
            fn is not None and callable(fn),
            clause_id,
            f"ParallelGymAgent should have a method {method!r}; got {fn!r}",
        )
        assert fn is not None
        _check_call(clause_id, f"ParallelGymAgent.{method}", fn, f"agent.{method}(...)", *args)


REPLAY_BUFFER_CALLS: list[tuple[str, str, tuple[object, ...], dict[str, object]]] = [
    ("RB-2", "put", ("<workspace>",), {}),
    ("RB-3", "size", (), {}),
    ("RB-8", "get_shuffled", (4,), {}),
    ("DET-7", "get_shuffled", (4,), {"generator": torch.Generator()}),
    ("RB-12", "state_dict", (), {}),
    ("RB-12", "load_state_dict", ({},), {}),
]


@clause("RB-1")
def test_replay_buffer_constructor_call_shape(impl: Any) -> None:
    _check_call("RB-1", "ReplayBuffer", impl.ReplayBuffer, "ReplayBuffer(max_size=10)", max_size=10)
    _check_call(
        "RB-1",
        "ReplayBuffer",
        impl.ReplayBuffer,
        "ReplayBuffer(10, device='cpu')",
        10,
        device="cpu",
    )


@pytest.mark.parametrize(
    ("clause_id", "method", "args", "kwargs"), _method_params(REPLAY_BUFFER_CALLS)
)
def test_replay_buffer_method_call_shape(
    impl: Any, clause_id: str, method: str, args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    _check_method("ReplayBuffer", impl.ReplayBuffer(10), clause_id, method, args, kwargs)
