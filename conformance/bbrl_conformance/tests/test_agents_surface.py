"""Conformance tests of spec/agents.md AG-8..AG-16: names, the agent tree, the full-variable
``set`` and weights-only ``save_model`` / ``load_model``.

Expected trees and state dicts are written down here from the clauses; files for
``load_model`` are made with ``torch.save`` of plain mappings, never by the implementation.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import torch

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises
from bbrl_conformance._clauses import clause

NET_SOURCE = """\
import torch
class Net(impl.Agent):
    def __init__(self, width=3):
        super().__init__(name="net")
        self.lin = torch.nn.Linear(2, width)
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))
    def forward(self, t, **kwargs):
        self.set(("q", t), self.lin(torch.ones(2, 2)))
"""


def required(impl: Any, name: str, clause_id: str) -> Any:
    """``impl.<name>``, or a failure of ``clause_id`` saying the name is missing."""
    __tracebackhide__ = True
    value = getattr(impl, name, None)
    expect(value is not None, clause_id, f"the implementation has no {name!r}", f"impl.{name}")
    return value


def leaf(impl: Any, name: str | None = None) -> Any:
    """A plain agent writing ``x[t] = t`` (batch 2), named ``name``."""

    class Leaf(impl.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kwargs: Any) -> None:
            self.set(("x", t), torch.full((2,), float(t)))

    return Leaf(name=name)


def net(impl: Any, width: int = 3) -> Any:
    """An agent with parameters and a buffer (exec'd from NET_SOURCE, the reproducers' code)."""
    scope: dict[str, Any] = {"impl": impl}
    exec(NET_SOURCE, scope)
    return scope["Net"](width)


def state_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------------------------------------
# AG-8, AG-9, AG-11: names, verbose, prefix


@clause("AG-8")
def test_agent_accepts_name_and_verbose(impl: Any) -> None:
    for kwargs, want in (
        ({"name": "a", "verbose": True}, ("a", True)),
        ({"verbose": True}, (None, True)),
        ({}, (None, False)),
    ):
        agent = impl.Agent(**kwargs)
        got = (agent.get_name(), agent.verbose)
        expect(
            got == want, "AG-8", f"Agent(**{kwargs}): (get_name(), verbose) = {got}, want {want}"
        )
    agent = impl.Agent("first")
    expect(agent.get_name() == "first", "AG-8", f"Agent('first').get_name() = {agent.get_name()!r}")
    built: dict[str, Callable[[], Any]] = {
        "Agents": lambda: impl.Agents(leaf(impl), name="n"),
        "TemporalAgent": lambda: impl.TemporalAgent(leaf(impl), name="n"),
        "PrintAgent": lambda: required(impl, "PrintAgent", "AG-8")("x", name="n"),
        "CopyTAgent": lambda: required(impl, "CopyTAgent", "AG-8")("a", "b", name="n"),
    }
    for what, make in built.items():
        name = make().get_name()
        expect(name == "n", "AG-8", f"{what}(..., name='n').get_name() = {name!r}", "")


@clause("AG-9")
def test_names_read_and_set(impl: Any) -> None:
    agent = impl.Agent()
    returned = agent.set_name("critic")
    expect(returned is agent, "AG-9", f"set_name returned {returned!r}, not the agent")
    got = (agent.get_name(), agent.name)
    expect(got == ("critic", "critic"), "AG-9", f"after set_name: (get_name(), name) = {got}")
    agent.name = "target"
    expect(agent.get_name() == "target", "AG-9", f"after name = 'target': {agent.get_name()!r}")
    expect(leaf(impl).name is None, "AG-9", "an unnamed agent's name should be None")


@clause("AG-11")
def test_with_prefix_sets_prefix_and_renames_nothing(impl: Any) -> None:
    agent = leaf(impl)
    expect(agent.prefix == "", "AG-11", f"a new agent's prefix is {agent.prefix!r}, want ''")
    returned = agent.with_prefix("env2/")
    expect(returned is agent, "AG-11", f"with_prefix returned {returned!r}, not the agent")
    expect(agent.prefix == "env2/", "AG-11", f"prefix after with_prefix: {agent.prefix!r}")
    ws = impl.Workspace()
    impl.TemporalAgent(agent)(ws, n_steps=2)
    keys = sorted(ws.keys())
    expect(keys == ["x"], "AG-11", f"an agent with a prefix wrote {keys}, want ['x']")


# ---------------------------------------------------------------------------------------------
# AG-10, AG-13: the agent tree


@clause("AG-10")
def test_get_by_name_lists_children_first(impl: Any) -> None:
    a, b, c = leaf(impl, "w"), leaf(impl, "w"), leaf(impl, "other")
    inner = impl.Agents(a, b, c)
    temporal = impl.TemporalAgent(inner, name="w")
    root = impl.Agents(a, temporal, leaf(impl), name="w")
    cases = [
        (root, "w", [a, a, b, temporal, root]),
        (root, "other", [c]),
        (root, "none", []),
        (a, "w", [a]),
        (c, "w", []),
        (temporal, "w", [a, b, temporal]),
    ]
    for agent, name, want in cases:
        got = agent.get_by_name(name)
        expect(
            isinstance(got, list)
            and len(got) == len(want)
            and all(x is y for x, y in zip(got, want, strict=True)),
            "AG-10",
            f"get_by_name({name!r}) on a tree Agents(a, TemporalAgent(Agents(a, b, c), name='w'), "
            f"d, name='w') with a, b named 'w': got {got!r}, want {want!r} (children first, "
            "an agent reached twice listed twice)",
        )


@clause("AG-10", "AG-17")
def test_get_by_name_searches_keyword_wrappers(impl: Any) -> None:
    wrapper_cls = required(impl, "KWAgentWrapper", "AG-10")
    a = leaf(impl, "actor")
    wrapper = wrapper_cls(a, stochastic=False)
    wrapper.set_name("actor")
    got = impl.Agents(wrapper).get_by_name("actor")
    expect(
        len(got) == 2 and got[0] is a and got[1] is wrapper,
        "AG-10",
        f"Agents(KWAgentWrapper(a)).get_by_name('actor') with both named 'actor' gave {got!r}; "
        "want [a, wrapper]",
    )


@clause("AG-10")
def test_get_by_name_rejects_a_non_string(impl: Any) -> None:
    tree = impl.Agents(leaf(impl))
    expect_raises(TypeError, "AG-10", "get_by_name(None)", lambda: tree.get_by_name(None))


@clause("AG-13")
def test_children_are_readable_and_replaceable(impl: Any) -> None:
    a, b = leaf(impl), leaf(impl)
    group = impl.Agents(a, b)
    expect(group.agents[0] is a and group.agents[1] is b, "AG-13", "Agents(a, b).agents != [a, b]")
    expect(group[1] is b, "AG-13", f"Agents(a, b)[1] is {group[1]!r}, not b")
    temporal = impl.TemporalAgent(group)
    expect(temporal.agent is group, "AG-13", "TemporalAgent(g).agent is not g")
    calls: list[str] = []

    class Mark(impl.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kwargs: Any) -> None:
            calls.append(f"mark@{t}")

    group.agents[1] = Mark()
    temporal(impl.Workspace(), n_steps=2)
    expect(
        calls == ["mark@0", "mark@1"],
        "AG-13",
        f"after agents[1] = Mark(), a 2-step run called Mark at {calls}, want at t = 0 and 1",
    )


# ---------------------------------------------------------------------------------------------
# AG-12: set(name, full)


@clause("AG-12")
@pytest.mark.parametrize("before", ["fresh", "longer"])
def test_set_with_a_name_is_set_full(impl: Any, before: str) -> None:
    value = torch.arange(6.0).reshape(3, 2)

    class Full(impl.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kwargs: Any) -> None:
            self.set("y", value)

    via_agent, via_set_full = impl.Workspace(), impl.Workspace()
    for ws in (via_agent, via_set_full):
        ws.set("x", 0, torch.ones(2))
        if before == "longer":
            ws.set("y", 4, torch.zeros(2))
    Full()(via_agent, t=0)
    via_set_full.set_full("y", value)
    for name in ("x", "y"):
        expect_equal_tensors(
            via_agent.get_full(name),
            via_set_full.get_full(name),
            "AG-12",
            f"variable {name!r} after self.set('y', full) inside forward, vs after "
            f"workspace.set_full('y', full) ({before} variable 'y' before)",
        )


# ---------------------------------------------------------------------------------------------
# AG-14..AG-16: save_model / load_model


@clause("AG-14")
def test_save_model_writes_a_weights_only_state_dict(impl: Any) -> None:
    agent = net(impl)
    with torch.no_grad():
        agent.lin.weight.uniform_()
    agent.steps += 3
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "agent.pt")
        agent.save_model(path)
        try:
            loaded = torch.load(path, weights_only=True)
        except Exception as exc:
            expect(
                False,
                "AG-14",
                f"torch.load(path, weights_only=True) failed on save_model's file: {exc!r:.300}",
                NET_SOURCE + "agent = Net()\nagent.save_model('a.pt')\n"
                "torch.load('a.pt', weights_only=True)",
            )
        names = sorted(os.listdir(tmp))
    expect(names == ["agent.pt"], "AG-14", f"save_model left {names} in the directory")
    expect(
        isinstance(loaded, dict) and state_equal(dict(loaded), agent.state_dict()),
        "AG-14",
        f"the file holds {type(loaded).__name__} "
        f"{sorted(loaded) if isinstance(loaded, dict) else ''}, not the agent's state_dict "
        f"{sorted(agent.state_dict())}",
    )


@clause("AG-15")
def test_load_model_returns_a_loaded_copy(impl: Any) -> None:
    saved = net(impl)
    with torch.no_grad():
        saved.lin.weight.fill_(0.25)
    saved.steps += 7
    receiver = net(impl)
    before = {k: v.clone() for k, v in receiver.state_dict().items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "agent.pt")
        torch.save(saved.state_dict(), path)  # the file format of AG-14, written by the test
        loaded = receiver.load_model(path)
    expect(
        type(loaded) is type(receiver) and loaded is not receiver,
        "AG-15",
        f"load_model returned {type(loaded).__name__} (same object: {loaded is receiver}); want "
        "a new agent of the receiver's class",
    )
    expect(
        state_equal(loaded.state_dict(), saved.state_dict()),
        "AG-15",
        "the loaded agent's state_dict differs from the file's",
    )
    expect(
        state_equal(receiver.state_dict(), before),
        "AG-15",
        "load_model changed the agent it was called on",
    )
    ws = impl.Workspace()
    impl.TemporalAgent(impl.Agents(leaf(impl), loaded))(ws, n_steps=1)  # usable as an agent


@clause("AG-14", "AG-15")
def test_save_then_load_round_trip(impl: Any) -> None:
    saved = net(impl, width=4)
    with torch.no_grad():
        saved.lin.bias.copy_(torch.tensor([1.0, -2.0, 3.5, 0.0]))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "agent.pt")
        saved.save_model(path)
        loaded = net(impl, width=4).load_model(path)
    expect_equal_tensors(loaded.lin.bias, saved.lin.bias, "AG-15", "bias after the round trip")


UNPICKLED: list[str] = []


def mark_unpickled(what: str) -> str:
    """Called when a :class:`Marker` is unpickled."""
    UNPICKLED.append(what)
    return what


class Marker:
    """Unpickling this calls ``mark_unpickled``: a file holding it must never be unpickled."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (mark_unpickled, ("unpickled",))


@clause("AG-16")
def test_load_model_rejects_files_that_are_not_state_dicts(impl: Any) -> None:
    agent = net(impl)
    before = {k: v.clone() for k, v in agent.state_dict().items()}
    with tempfile.TemporaryDirectory() as tmp:
        garbage = os.path.join(tmp, "garbage.pt")
        with open(garbage, "wb") as f:
            f.write(b"not a torch file at all")
        module_file = os.path.join(tmp, "module.pt")
        torch.save(torch.nn.Linear(2, 3), module_file)  # as bbrl 1.0.1's save_model: pickled
        marker = os.path.join(tmp, "marker.pt")
        with open(marker, "wb") as f:
            pickle.dump({"lin.weight": Marker()}, f, protocol=2)
        listed = os.path.join(tmp, "list.pt")
        torch.save([torch.zeros(1)], listed)
        for what, path in (
            ("bytes that are no torch file", garbage),
            ("a pickled module (torch.save(module))", module_file),
            ("a pickle that runs code when loaded", marker),
            ("a list of tensors", listed),
        ):
            expect_raises(
                ValueError, "AG-16", f"load_model on {what}", partial(agent.load_model, path)
            )
    expect(UNPICKLED == [], "AG-16", "load_model unpickled an object from the file")
    expect(
        state_equal(agent.state_dict(), before), "AG-16", "a failed load_model changed the agent"
    )


@clause("AG-16")
@pytest.mark.parametrize("case", ["missing", "extra", "shape", "dtype"])
def test_load_model_rejects_other_state_dicts(impl: Any, case: str) -> None:
    agent = net(impl)
    before = {k: v.clone() for k, v in agent.state_dict().items()}
    state = dict(agent.state_dict())
    error: type[Exception] = KeyError
    if case == "missing":
        del state["steps"]
    elif case == "extra":
        state["other.weight"] = torch.zeros(1)
    elif case == "shape":
        state["lin.bias"], error = torch.zeros(5), ValueError
    else:
        state["steps"], error = torch.zeros(()), TypeError
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "other.pt")
        torch.save(state, path)
        expect_raises(
            error,
            "AG-16",
            f"load_model on a state dict with a {case} entry",
            lambda: agent.load_model(path),
            NET_SOURCE + f"# a state dict of Net() with a {case} entry, saved with torch.save",
        )
    expect(
        state_equal(agent.state_dict(), before), "AG-16", "a failed load_model changed the agent"
    )
