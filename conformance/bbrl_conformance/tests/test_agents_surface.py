"""Conformance tests of spec/agents.md AG-8..AG-16: names, the agent tree, the full-variable
``set`` and weights-only ``save_model`` / ``load_model``.

Expected trees and state dicts are written down here from the clauses; files for
``load_model`` are made with ``torch.save`` of plain mappings, never by the implementation.
The agents the tests build are exec'd from the sources the reproducers print (``LEAF_SOURCE``,
``NET_SOURCE``), so that a reproducer runs the test's own agents.
"""

from __future__ import annotations

import inspect
import os
import pickle
import tempfile
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import torch

from bbrl_conformance._assertions import (
    expect,
    expect_equal_tensors,
    expect_message,
    expect_raises,
)
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


LEAF_SOURCE = """\
import torch
class Leaf(impl.Agent):
    def forward(self, t, **kwargs):
        self.set(("x", t), torch.full((2,), float(t)))
"""


def required(impl: Any, name: str, clause_id: str) -> Any:
    """``impl.<name>``, or a failure of ``clause_id`` saying the name is missing."""
    __tracebackhide__ = True
    value = getattr(impl, name, None)
    expect(
        value is not None,
        clause_id,
        f"the implementation has no {name!r}",
        f"print(impl.{name})",
    )
    return value


def leaf(impl: Any, name: str | None = None) -> Any:
    """A plain agent writing ``x[t] = t`` (batch 2), named ``name`` (``Leaf`` of LEAF_SOURCE)."""
    scope: dict[str, Any] = {"impl": impl}
    exec(LEAF_SOURCE, scope)
    return scope["Leaf"](name=name)


def net(impl: Any, width: int = 3) -> Any:
    """An agent with parameters and a buffer (exec'd from NET_SOURCE, the reproducers' code)."""
    scope: dict[str, Any] = {"impl": impl}
    exec(NET_SOURCE, scope)
    return scope["Net"](width)


def state_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


#: what the reproducers of save_model / load_model start with
MODEL_SOURCE = NET_SOURCE + "import os, tempfile\n" + inspect.getsource(state_equal)


# ---------------------------------------------------------------------------------------------
# AG-8, AG-9, AG-11: names, verbose, prefix


@clause("AG-26")
def test_verbose_is_false_unless_given(impl: Any) -> None:
    """Every agent class built without ``verbose`` has ``verbose == False`` (not merely falsy:
    None or 0 would be another value)."""
    cases: dict[str, Callable[[], Any]] = {
        "impl.Agent()": lambda: impl.Agent(),
        "impl.Agents(impl.Agent())": lambda: impl.Agents(impl.Agent()),
        "impl.TemporalAgent(impl.Agent())": lambda: impl.TemporalAgent(impl.Agent()),
        "impl.PrintAgent('x')": lambda: impl.PrintAgent("x"),
        "impl.PrintAgent()": lambda: impl.PrintAgent(),
        "impl.EpisodesDone()": lambda: impl.EpisodesDone(),
        "impl.CopyTAgent('a', 'b')": lambda: impl.CopyTAgent("a", "b"),
    }
    for code, build in cases.items():
        verbose = build().verbose
        expect(
            verbose is False,
            "AG-26",
            f"{code}.verbose is {verbose!r}, expected False",
            f"print({code}.verbose)  # want False",
        )


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
            got == want,
            "AG-8",
            f"Agent(**{kwargs}): (get_name(), verbose) = {got}, want {want}",
            f"agent = impl.Agent(**{kwargs!r})\n"
            f"print(agent.get_name(), agent.verbose)  # want {want[0]!r} {want[1]!r}",
        )
    agent = impl.Agent("first")
    expect(
        agent.get_name() == "first",
        "AG-8",
        f"Agent('first').get_name() = {agent.get_name()!r}",
        "print(impl.Agent('first').get_name())  # want first",
    )
    built: dict[str, tuple[Callable[[], Any], str]] = {
        "Agents": (lambda: impl.Agents(leaf(impl), name="n"), "impl.Agents(Leaf(), name='n')"),
        "TemporalAgent": (
            lambda: impl.TemporalAgent(leaf(impl), name="n"),
            "impl.TemporalAgent(Leaf(), name='n')",
        ),
        "PrintAgent": (
            lambda: required(impl, "PrintAgent", "AG-8")("x", name="n"),
            "impl.PrintAgent('x', name='n')",
        ),
        "CopyTAgent": (
            lambda: required(impl, "CopyTAgent", "AG-8")("a", "b", name="n"),
            "impl.CopyTAgent('a', 'b', name='n')",
        ),
    }
    for what, (make, code) in built.items():
        name = make().get_name()
        expect(
            name == "n",
            "AG-8",
            f"{what}(..., name='n').get_name() = {name!r}",
            LEAF_SOURCE + f"print({code}.get_name())  # want n",
        )


@clause("AG-9")
def test_names_read_and_set(impl: Any) -> None:
    agent = impl.Agent()
    returned = agent.set_name("critic")
    repro = "agent = impl.Agent()\nreturned = agent.set_name('critic')\n"
    expect(
        returned is agent,
        "AG-9",
        f"set_name returned {returned!r}, not the agent",
        repro + "print(returned is agent)  # want True",
    )
    got = (agent.get_name(), agent.name)
    expect(
        got == ("critic", "critic"),
        "AG-9",
        f"after set_name: (get_name(), name) = {got}",
        repro + "print(agent.get_name(), agent.name)  # want critic critic",
    )
    agent.name = "target"
    expect(
        agent.get_name() == "target",
        "AG-9",
        f"after name = 'target': {agent.get_name()!r}",
        repro + "agent.name = 'target'\nprint(agent.get_name())  # want target",
    )
    expect(
        leaf(impl).name is None,
        "AG-9",
        "an unnamed agent's name should be None",
        LEAF_SOURCE + "print(Leaf().name)  # want None",
    )


@clause("AG-11")
def test_with_prefix_sets_prefix_and_renames_nothing(impl: Any) -> None:
    agent = leaf(impl)
    repro = LEAF_SOURCE + "agent = Leaf()\n"
    expect(
        agent.prefix == "",
        "AG-11",
        f"a new agent's prefix is {agent.prefix!r}, want ''",
        repro + "print(repr(agent.prefix))  # want ''",
    )
    returned = agent.with_prefix("env2/")
    repro += "returned = agent.with_prefix('env2/')\n"
    expect(
        returned is agent,
        "AG-11",
        f"with_prefix returned {returned!r}, not the agent",
        repro + "print(returned is agent)  # want True",
    )
    expect(
        agent.prefix == "env2/",
        "AG-11",
        f"prefix after with_prefix: {agent.prefix!r}",
        repro + "print(repr(agent.prefix))  # want 'env2/'",
    )
    ws = impl.Workspace()
    impl.TemporalAgent(agent)(ws, n_steps=2)
    keys = sorted(ws.keys())
    expect(
        keys == ["x"],
        "AG-11",
        f"an agent with a prefix wrote {keys}, want ['x']",
        repro + "ws = impl.Workspace()\nimpl.TemporalAgent(agent)(ws, n_steps=2)\n"
        "print(sorted(ws.keys()))  # want ['x']",
    )


# ---------------------------------------------------------------------------------------------
# AG-10, AG-13: the agent tree


@clause("AG-10")
def test_get_by_name_lists_children_first(impl: Any) -> None:
    a, b, c = leaf(impl, "w"), leaf(impl, "w"), leaf(impl, "other")
    inner = impl.Agents(a, b, c)
    temporal = impl.TemporalAgent(inner, name="w")
    root = impl.Agents(a, temporal, leaf(impl), name="w")
    agents = {"a": a, "b": b, "c": c, "temporal": temporal, "root": root}
    cases = [
        ("root", "w", ["a", "a", "b", "temporal", "root"]),
        ("root", "other", ["c"]),
        ("root", "none", []),
        ("a", "w", ["a"]),
        ("c", "w", []),
        ("temporal", "w", ["a", "b", "temporal"]),
    ]
    tree = LEAF_SOURCE + (
        "a, b, c = Leaf(name='w'), Leaf(name='w'), Leaf(name='other')\n"
        "temporal = impl.TemporalAgent(impl.Agents(a, b, c), name='w')\n"
        "root = impl.Agents(a, temporal, Leaf(), name='w')\n"
        "names = {id(a): 'a', id(b): 'b', id(c): 'c', id(temporal): 'temporal', id(root): 'root'}\n"
    )
    for agent_name, name, want_names in cases:
        got = agents[agent_name].get_by_name(name)
        want = [agents[n] for n in want_names]
        expect(
            isinstance(got, list)
            and len(got) == len(want)
            and all(x is y for x, y in zip(got, want, strict=True)),
            "AG-10",
            f"get_by_name({name!r}) on a tree Agents(a, TemporalAgent(Agents(a, b, c), name='w'), "
            f"d, name='w') with a, b named 'w': got {got!r}, want {want!r} (children first, "
            "an agent reached twice listed twice)",
            tree + f"got = {agent_name}.get_by_name({name!r})\n"
            f"print(type(got).__name__, [names.get(id(x), x) for x in got])  "
            f"# want list {want_names}",
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
        LEAF_SOURCE + "a = Leaf(name='actor')\n"
        "wrapper = impl.KWAgentWrapper(a, stochastic=False)\nwrapper.set_name('actor')\n"
        "names = {id(a): 'a', id(wrapper): 'wrapper'}\n"
        "got = impl.Agents(wrapper).get_by_name('actor')\n"
        "print([names.get(id(x), x) for x in got])  # want ['a', 'wrapper']",
    )


@clause("AG-10")
def test_get_by_name_rejects_a_non_string(impl: Any) -> None:
    tree = impl.Agents(leaf(impl))
    expect_raises(
        TypeError,
        "AG-10",
        "get_by_name(None)",
        lambda: tree.get_by_name(None),
        LEAF_SOURCE + "tree = impl.Agents(Leaf())\ntree.get_by_name(None)",
    )


@clause("AG-13")
def test_children_are_readable_and_replaceable(impl: Any) -> None:
    a, b = leaf(impl), leaf(impl)
    group = impl.Agents(a, b)
    repro = LEAF_SOURCE + "a, b = Leaf(), Leaf()\ngroup = impl.Agents(a, b)\n"
    expect(
        group.agents[0] is a and group.agents[1] is b,
        "AG-13",
        "Agents(a, b).agents != [a, b]",
        repro + "print(group.agents[0] is a, group.agents[1] is b)  # want True True",
    )
    expect(
        group[1] is b,
        "AG-13",
        f"Agents(a, b)[1] is {group[1]!r}, not b",
        repro + "print(group[1] is b)  # want True",
    )
    temporal = impl.TemporalAgent(group)
    repro += "temporal = impl.TemporalAgent(group)\n"
    expect(
        temporal.agent is group,
        "AG-13",
        "TemporalAgent(g).agent is not g",
        repro + "print(temporal.agent is group)  # want True",
    )
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
        repro + "calls = []\nclass Mark(impl.Agent):\n    def forward(self, t, **kwargs):\n"
        "        calls.append(f'mark@{t}')\n"
        "group.agents[1] = Mark()\ntemporal(impl.Workspace(), n_steps=2)\n"
        "print(calls)  # want ['mark@0', 'mark@1']",
    )


#: records ``name@t`` in ``calls`` (the reproducers' code of ``_mark``)
MARK_SOURCE = """\
calls = []
class Mark(impl.Agent):
    def forward(self, t, **kwargs):
        calls.append(f"{self.get_name()}@{t}")
"""


def _mark(impl: Any, calls: list[str], name: str) -> Any:
    """An agent of MARK_SOURCE named ``name``, logging into ``calls``."""
    scope: dict[str, Any] = {"impl": impl}
    exec(MARK_SOURCE, scope)
    scope["calls"] = calls  # forward reads the global `calls` of its scope
    return scope["Mark"](name=name)


@clause("AG-13", "TA-1", "AG-4")
@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
@pytest.mark.parametrize("t0", [0, 2])
def test_a_child_replaced_after_a_run_is_run_by_the_next_run(
    impl: Any, nested: bool, t0: int
) -> None:
    """AG-13's replacement holds for later runs of a TemporalAgent that already ran (one that
    remembered its tree at its first run would still call the old child)."""
    calls: list[str] = []
    a, b, c = (_mark(impl, calls, n) for n in "abc")
    group = impl.Agents(a, b)
    root = impl.Agents(group, c) if nested else group
    temporal = impl.TemporalAgent(root)
    built = (
        "group = impl.Agents(Mark(name='a'), Mark(name='b'))\n"
        + ("root = impl.Agents(group, Mark(name='c'))\n" if nested else "root = group\n")
        + "temporal = impl.TemporalAgent(root)\n"
    )
    temporal(impl.Workspace(), t=t0, n_steps=2)
    calls.clear()
    group.agents[0] = _mark(impl, calls, "new")
    temporal(impl.Workspace(), t=t0, n_steps=2)
    want = [f"{n}@{t}" for t in (t0, t0 + 1) for n in ["new", "b", *(["c"] if nested else [])]]
    expect(
        calls == want,
        "AG-13",
        f"a run, then group.agents[0] = Mark(name='new'), then a second run of the same "
        f"TemporalAgent called {calls}; want {want}",
        MARK_SOURCE + built + f"temporal(impl.Workspace(), t={t0}, n_steps=2)\ncalls.clear()\n"
        "group.agents[0] = Mark(name='new')\n"
        f"temporal(impl.Workspace(), t={t0}, n_steps=2)\nprint(calls)  # want {want}",
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
    repro = (
        "import torch\nvalue = torch.arange(6.0).reshape(3, 2)\n"
        "class Full(impl.Agent):\n    def forward(self, t, **kwargs):\n"
        "        self.set('y', value)\n"
        "via_agent, via_set_full = impl.Workspace(), impl.Workspace()\n"
        "for ws in (via_agent, via_set_full):\n    ws.set('x', 0, torch.ones(2))\n"
        + ("    ws.set('y', 4, torch.zeros(2))\n" if before == "longer" else "")
        + "Full()(via_agent, t=0)\nvia_set_full.set_full('y', value)\n"
    )
    for name in ("x", "y"):
        expect_equal_tensors(
            via_agent.get_full(name),
            via_set_full.get_full(name),
            "AG-12",
            f"variable {name!r} after self.set('y', full) inside forward, vs after "
            f"workspace.set_full('y', full) ({before} variable 'y' before)",
            repro + f"print(via_agent.get_full({name!r}))\n"
            f"print(via_set_full.get_full({name!r}))  # want the same",
        )


# ---------------------------------------------------------------------------------------------
# AG-14..AG-16: save_model / load_model


@clause("AG-14")
def test_save_model_writes_a_weights_only_state_dict(impl: Any) -> None:
    agent = net(impl)
    with torch.no_grad():
        agent.lin.weight.uniform_()
    agent.steps += 3
    repro = MODEL_SOURCE + (
        "agent = Net()\nwith torch.no_grad():\n    agent.lin.weight.uniform_()\n"
        "agent.steps += 3\nwith tempfile.TemporaryDirectory() as tmp:\n"
        "    path = os.path.join(tmp, 'agent.pt')\n    agent.save_model(path)\n"
        "    names = sorted(os.listdir(tmp))\n"
        "    loaded = torch.load(path, weights_only=True)\n"
    )
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
                repro + "print(type(loaded).__name__)  # want dict",
            )
        names = sorted(os.listdir(tmp))
    expect(
        names == ["agent.pt"],
        "AG-14",
        f"save_model left {names} in the directory",
        repro + "print(names)  # want ['agent.pt']",
    )
    expect(
        isinstance(loaded, dict) and state_equal(dict(loaded), agent.state_dict()),
        "AG-14",
        f"the file holds {type(loaded).__name__} "
        f"{sorted(loaded) if isinstance(loaded, dict) else ''}, not the agent's state_dict "
        f"{sorted(agent.state_dict())}",
        repro + "print(type(loaded).__name__, isinstance(loaded, dict) and "
        "state_equal(dict(loaded), agent.state_dict()))  # want dict True",
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
    repro = MODEL_SOURCE + (
        "saved = Net()\nwith torch.no_grad():\n    saved.lin.weight.fill_(0.25)\n"
        "saved.steps += 7\nreceiver = Net()\n"
        "before = {k: v.clone() for k, v in receiver.state_dict().items()}\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    path = os.path.join(tmp, 'agent.pt')\n"
        "    torch.save(saved.state_dict(), path)\n    loaded = receiver.load_model(path)\n"
    )
    expect(
        type(loaded) is type(receiver) and loaded is not receiver,
        "AG-15",
        f"load_model returned {type(loaded).__name__} (same object: {loaded is receiver}); want "
        "a new agent of the receiver's class",
        repro + "print(type(loaded) is type(receiver), loaded is receiver)  # want True False",
    )
    expect(
        state_equal(loaded.state_dict(), saved.state_dict()),
        "AG-15",
        "the loaded agent's state_dict differs from the file's",
        repro + "print(state_equal(loaded.state_dict(), saved.state_dict()))  # want True",
    )
    expect(
        state_equal(receiver.state_dict(), before),
        "AG-15",
        "load_model changed the agent it was called on",
        repro + "print(state_equal(receiver.state_dict(), before))  # want True",
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
    expect_equal_tensors(
        loaded.lin.bias,
        saved.lin.bias,
        "AG-15",
        "bias after the round trip",
        MODEL_SOURCE + "saved = Net(width=4)\nwith torch.no_grad():\n"
        "    saved.lin.bias.copy_(torch.tensor([1.0, -2.0, 3.5, 0.0]))\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    path = os.path.join(tmp, 'agent.pt')\n    saved.save_model(path)\n"
        "    loaded = Net(width=4).load_model(path)\n"
        "print(loaded.lin.bias)  # want [1.0, -2.0, 3.5, 0.0]",
    )


UNPICKLED: list[str] = []


def mark_unpickled(what: str) -> str:
    """Called when a :class:`Marker` is unpickled."""
    UNPICKLED.append(what)
    return what


class Marker:
    """Unpickling this calls ``mark_unpickled``: a file holding it must never be unpickled."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (mark_unpickled, ("unpickled",))


#: the files of test_load_model_rejects_files_that_are_not_state_dicts, written in ``tmp``
#: (the marker of the reproducers prints when it is unpickled)
BAD_FILES_SOURCE = """\
import pickle
class Marker:
    def __reduce__(self):
        return (print, ("unpickled: load_model ran code from the file",))
def write_bad_files(tmp):
    with open(os.path.join(tmp, "garbage.pt"), "wb") as f:
        f.write(b"not a torch file at all")
    torch.save(torch.nn.Linear(2, 3), os.path.join(tmp, "module.pt"))
    with open(os.path.join(tmp, "marker.pt"), "wb") as f:
        pickle.dump({"lin.weight": Marker()}, f, protocol=2)
    torch.save([torch.zeros(1)], os.path.join(tmp, "list.pt"))
"""


@clause("AG-16")
def test_load_model_rejects_files_that_are_not_state_dicts(impl: Any) -> None:
    agent = net(impl)
    before = {k: v.clone() for k, v in agent.state_dict().items()}
    repro = (
        MODEL_SOURCE
        + BAD_FILES_SOURCE
        + (
            "agent = Net()\nbefore = {k: v.clone() for k, v in agent.state_dict().items()}\n"
            "with tempfile.TemporaryDirectory() as tmp:\n    write_bad_files(tmp)\n"
        )
    )
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
                ValueError,
                "AG-16",
                f"load_model on {what}",
                partial(agent.load_model, path),
                repro + f"    agent.load_model(os.path.join(tmp, {os.path.basename(path)!r}))",
            )
    every_load = repro + (
        "    for name in ('garbage.pt', 'module.pt', 'marker.pt', 'list.pt'):\n"
        "        try:\n            agent.load_model(os.path.join(tmp, name))\n"
        "        except Exception as exc:\n            print(name, type(exc).__name__)\n"
    )
    expect(
        UNPICKLED == [],
        "AG-16",
        "load_model unpickled an object from the file",
        every_load + "# want no line 'unpickled: ...' above",
    )
    expect(
        state_equal(agent.state_dict(), before),
        "AG-16",
        "a failed load_model changed the agent",
        every_load + "print(state_equal(agent.state_dict(), before))  # want True",
    )


#: a program that calls load_model from inside a run, when the tree's leaves are bound
LOAD_DURING_RUN_SOURCE = """\
class Loader(impl.Agent):
    def forward(self, t, **kwargs):
        self.set(("x", t), torch.zeros(2))
        copies.append(root.load_model(path))
copies = []
root = impl.TemporalAgent(impl.Agents(Net(), Loader()))
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "root.pt")
    root.save_model(path)
    root(impl.Workspace(), t=0, n_steps=1)
leaves = copies[0].agent.agents
"""


@clause("AG-15", "AG-7")
def test_load_model_during_a_run_returns_an_unbound_copy(impl: Any) -> None:
    """load_model called from a leaf's forward: the copy's agents are bound to no workspace
    (get outside a call raises RuntimeError, AG-7), although the originals are bound then."""
    scope: dict[str, Any] = {"impl": impl}
    exec(MODEL_SOURCE + LOAD_DURING_RUN_SOURCE, scope)
    repro = MODEL_SOURCE + LOAD_DURING_RUN_SOURCE
    for k, leaf in enumerate(scope["leaves"]):
        expect_raises(
            RuntimeError,
            "AG-7",
            f"leaves[{k}].get(('x', 0)) on the copy load_model returned during the run",
            partial(leaf.get, ("x", 0)),
            repro + f"leaves[{k}].get(('x', 0))  # want RuntimeError: the copy is not bound",
        )


@clause("AG-16")
@pytest.mark.parametrize("case", ["sparse", "meta"])
def test_load_model_rejects_tensors_without_dense_values(impl: Any, case: str) -> None:
    """A file whose tensor has the right key, shape and dtype but is sparse, or on the meta
    device (no values): ValueError, and the agent is unchanged."""
    agent = net(impl)
    before = {k: v.clone() for k, v in agent.state_dict().items()}
    change = {
        "sparse": "state['lin.weight'] = state['lin.weight'].to_sparse()",
        "meta": "state['lin.weight'] = state['lin.weight'].to('meta')",
    }[case]
    state = dict(agent.state_dict())
    state["lin.weight"] = (
        state["lin.weight"].to_sparse() if case == "sparse" else state["lin.weight"].to("meta")
    )
    repro = MODEL_SOURCE + (
        f"agent = Net()\nstate = dict(agent.state_dict())\n{change}\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    path = os.path.join(tmp, 'other.pt')\n    torch.save(state, path)\n"
        "    agent.load_model(path)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "other.pt")
        torch.save(state, path)
        call = partial(agent.load_model, path)
        expect_raises(ValueError, "AG-16", f"load_model on a {case} tensor", call, repro)
    expect(
        state_equal(agent.state_dict(), before),
        "AG-16",
        f"a failed load_model of a {case} tensor changed the agent",
        repro,
    )


@clause("AG-16", "ERR-6")
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
    change = {
        "missing": "del state['steps']",
        "extra": "state['other.weight'] = torch.zeros(1)",
        "shape": "state['lin.bias'] = torch.zeros(5)",
        "dtype": "state['steps'] = torch.zeros(())",
    }[case]
    repro = MODEL_SOURCE + (
        "agent = Net()\nbefore = {k: v.clone() for k, v in agent.state_dict().items()}\n"
        f"state = dict(agent.state_dict())\n{change}\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    path = os.path.join(tmp, 'other.pt')\n    torch.save(state, path)\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "other.pt")
        torch.save(state, path)
        exc = expect_raises(
            error,
            "AG-16",
            f"load_model on a state dict with a {case} entry",
            lambda: agent.load_model(path),
            repro + "    agent.load_model(path)",
        )
    # ERR-6: the key concerned, and for a shape or dtype what was expected and what was given
    mentions: dict[str, list[str | tuple[str, ...]]] = {
        "missing": ["steps"],
        "extra": ["other.weight"],
        "shape": ["lin.bias", "3", "5"],
        "dtype": ["steps", ("int64", "long"), ("float32", "float")],
    }
    mention = mentions[case]
    expect_message(
        exc,
        "ERR-6",
        f"load_model on a state dict with a {case} entry",
        mention,
        repro + "    agent.load_model(path)",
    )
    expect(
        state_equal(agent.state_dict(), before),
        "AG-16",
        "a failed load_model changed the agent",
        repro + "    try:\n        agent.load_model(path)\n    except Exception as exc:\n"
        "        print(type(exc).__name__)\n"
        "print(state_equal(agent.state_dict(), before))  # want True",
    )
