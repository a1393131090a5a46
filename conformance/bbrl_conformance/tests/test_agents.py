"""Conformance tests of spec/agents.md: Agent and Agents (AG), TemporalAgent (TA).

The agents here record every call they receive (time step, keyword arguments, bound workspace),
so the expected call sequences are written down from the clauses, not taken from the
implementation.

The domains: keyword arguments (AG-2, AG-4, TA-1) are any number of names, 0 included, with
any values, the falsy ones too (None, False, 0, ""); `Agents` trees of any depth whose
children may repeat (the same agent twice, the same subtree twice); seeds (AG-6) every int
`s >= 0` up to 2**64 and the edges of the 32- and 64-bit ranges; `t0 >= 0` well beyond the
workspace's time size and `n_steps >= 1` (0 and below are TA-4's); runs on fresh workspaces and
on used ones that hold an older, longer or shorter rollout (its stop rows all True, all False or
mixed); agents called after a call that raised (AG-7).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises, raising
from bbrl_conformance._clauses import clause
from bbrl_conformance._models import WorkspaceModel, observe_workspace, same_contents
from bbrl_conformance._strategies import NOT_INTEGERS, SEED_EDGES, agent_seeds, keyword_arguments

Call = tuple[str, int, dict[str, Any], bool]

RECORDER_SOURCE = """\
import torch
calls = []
class Recorder(impl.Agent):
    def __init__(self, tag, stop_at=None):
        super().__init__()
        self.tag, self.stop_at = tag, stop_at
    def forward(self, t, **kwargs):
        calls.append((self.tag, t, kwargs))
        batch = 2 if self.stop_at is None else len(self.stop_at)
        self.set(("x", t), torch.full((batch,), float(t)))
        if self.stop_at is not None:  # stop[t, b] = t >= stop_at[b]
            self.set(("stop", t), torch.tensor([t >= s for s in self.stop_at]))
"""


def recorder(
    impl: Any,
    calls: list[Call],
    tag: str,
    *,
    ws: Any = None,
    batch: int = 2,
    stop_at: list[int] | None = None,
    extra: Callable[[Any, int], None] | None = None,
) -> Any:
    """An agent logging ``(tag, t, kwargs, self.workspace is ws)`` and writing
    ``x[t] = t`` (and ``stop[t, b] = t >= stop_at[b]`` when ``stop_at`` is given)."""

    class Recorder(impl.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kwargs: Any) -> None:
            if t >= 200:  # a run that ignored its limit fails instead of hanging
                raise RuntimeError(f"runaway TemporalAgent: the agent was called at t={t}")
            calls.append((tag, t, dict(kwargs), ws is None or self.workspace is ws))
            self.set(("x", t), torch.full((batch,), float(t)))
            if stop_at is not None:
                self.set(("stop", t), torch.tensor([t >= s for s in stop_at]))
            if extra is not None:
                extra(self, t)

    return Recorder()


def times(calls: list[Call]) -> list[int]:
    return [t for _, t, _, _ in calls]


# ---------------------------------------------------------------------------------------------
# AG: Agent and Agents


@clause("AG-2")
def test_agent_call_forwards_keyword_arguments_and_binds_workspace(impl: Any) -> None:
    calls: list[Call] = []
    ws = impl.Workspace()
    agent = recorder(impl, calls, "a", ws=ws)
    agent(ws, t=3, stochastic=True, epsilon=0.5)
    expect(
        [(t, kw, bound) for _, t, kw, bound in calls]
        == [(3, {"stochastic": True, "epsilon": 0.5}, True)],
        "AG-2",
        f"agent(ws, t=3, stochastic=True, epsilon=0.5) called forward as "
        f"{[(t, kw) for _, t, kw, _ in calls]} with self.workspace is ws: "
        f"{[bound for *_, bound in calls]}; expected one call forward(t=3, stochastic=True, "
        "epsilon=0.5) with self.workspace bound to ws",
        RECORDER_SOURCE + "ws = impl.Workspace()\nRecorder('a')(ws, t=3, stochastic=True, "
        "epsilon=0.5)\nprint(calls)",
    )


@clause("AG-3")
def test_get_and_set_inside_forward(impl: Any) -> None:
    seen: dict[str, Any] = {}
    written = torch.tensor([[1.0, 2.0], [3.0, 4.0]])

    def body(agent: Any, t: int) -> None:
        seen["row"] = agent.get(("a", 1))
        seen["full"] = agent.get("a")
        agent.set(("b", t), written)

    ws = impl.Workspace()
    for t in range(3):
        ws.set("a", t, torch.tensor([10.0 * t, 10.0 * t + 1]))
    agent = recorder(impl, [], "a", ws=ws, extra=body)
    agent(ws, t=2)
    repro = (
        "import torch\nclass Probe(impl.Agent):\n    def forward(self, t, **kwargs):\n"
        "        print(self.get(('a', 1)), self.get('a'))\n"
        "        self.set(('b', t), torch.tensor([[1.0, 2.0], [3.0, 4.0]]))\n"
        "ws = impl.Workspace()\nfor t in range(3):\n"
        "    ws.set('a', t, torch.tensor([10.0 * t, 10.0 * t + 1]))\n"
        "Probe()(ws, t=2)\nprint(ws.get('b', 2))"
    )
    expect_equal_tensors(
        seen.get("row"),
        torch.tensor([10.0, 11.0]),
        "AG-3",
        "inside forward, self.get(('a', 1)) vs ws.get('a', 1) = [10., 11.]",
        repro,
    )
    expect_equal_tensors(
        seen.get("full"),
        torch.tensor([[0.0, 1.0], [10.0, 11.0], [20.0, 21.0]]),
        "AG-3",
        "inside forward, self.get('a') vs ws.get_full('a') ([T=3, B=2])",
        repro,
    )
    expect_equal_tensors(
        ws.get("b", 2),
        written,
        "AG-3",
        "after self.set(('b', 2), v) inside forward: ws.get('b', 2) vs v",
        repro,
    )


@clause("AG-4")
def test_agents_runs_children_in_order_with_the_same_arguments(impl: Any) -> None:
    calls: list[Call] = []
    ws = impl.Workspace()
    order: list[str] = []

    def reads_previous(agent: Any, t: int) -> None:
        # a later child sees what an earlier one wrote at the same t
        order.append(str(agent.get(("x", t)).tolist()))

    a, b, c, d = (recorder(impl, calls, tag, ws=ws) for tag in "abcd")
    e = recorder(impl, calls, "e", ws=ws, extra=reads_previous)
    agents = impl.Agents(a, impl.Agents(b, c), d, e)
    agents(ws, t=4, flag="yes")
    got = [(tag, t, kw, bound) for tag, t, kw, bound in calls]
    want = [(tag, 4, {"flag": "yes"}, True) for tag in "abcde"]
    expect(
        got == want,
        "AG-4",
        f"Agents(a, Agents(b, c), d, e)(ws, t=4, flag='yes') made the calls (agent, t, kwargs, "
        f"workspace is ws) {got}; expected {want}",
        RECORDER_SOURCE + "a, b, c, d, e = (Recorder(tag) for tag in 'abcde')\n"
        "impl.Agents(a, impl.Agents(b, c), d, e)(impl.Workspace(), t=4, flag='yes')\nprint(calls)",
    )
    expect(
        order == ["[4.0, 4.0]"],
        "AG-4",
        f"the last child read x[4] = {order}, expected [4.0, 4.0] written by the earlier ones",
    )


@clause("AG-5")
def test_wrappers_register_the_wrapped_agents_parameters(impl: Any) -> None:
    class Linear(impl.Agent):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(2, 1)

        def forward(self, t: int, **kwargs: Any) -> None:
            pass

    a, b = Linear(), Linear()
    t_agent = impl.TemporalAgent(impl.Agents(a, b))
    got = {id(p) for p in t_agent.parameters()}
    want = {id(p) for p in [*a.parameters(), *b.parameters()]}
    expect(
        got == want and len(want) == 4,
        "AG-5",
        f"TemporalAgent(Agents(a, b)).parameters() gives {len(got)} tensors, of which "
        f"{len(got & want)} are a's and b's (expected exactly their 4: two Linear(2, 1))",
        "import torch\nclass Linear(impl.Agent):\n    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.layer = torch.nn.Linear(2, 1)\n    def forward(self, t, **kwargs):\n"
        "        pass\na, b = Linear(), Linear()\n"
        "print(len(list(impl.TemporalAgent(impl.Agents(a, b)).parameters())))  # 4",
    )


@clause("AG-6")
def test_seed_returns_the_agent(impl: Any) -> None:
    agent = recorder(impl, [], "a")
    agents = impl.Agents(agent)
    t_agent = impl.TemporalAgent(agents)
    cases = [
        ("Agent", agent, "a"),
        ("Agents", agents, "agents"),
        ("TemporalAgent", t_agent, "impl.TemporalAgent(agents)"),
    ]
    for name, obj, source in cases:
        got = obj.seed(3)
        expect(
            got is obj,
            "AG-6",
            f"{name}(...).seed(3) returned {got!r}, expected the agent itself",
            RECORDER_SOURCE
            + f"a = Recorder('a')\nagents = impl.Agents(a)\nprint({source}.seed(3))",
        )


LENIENT_SOURCE = """\
seen = []
class Lenient(impl.Agent):
    def seed(self, seed):  # a user agent whose own seed takes anything
        seen.append(seed)
        return self
    def forward(self, t, **kwargs):
        pass
"""


@clause("AG-25")
@pytest.mark.parametrize("seed", [-1, -(2**40)])
def test_negative_seed_is_refused_by_every_agent(impl: Any, seed: int) -> None:
    """Agent (the base class's seed, through a subclass that does not override it), Agents and
    TemporalAgent refuse s < 0 with ValueError themselves, also over a child whose own seed
    takes anything: the child is never given the negative seed."""
    seen: list[int] = []

    class Lenient(impl.Agent):  # type: ignore[misc]
        def seed(self, seed: int) -> Any:
            seen.append(seed)
            return self

        def forward(self, t: int, **kwargs: Any) -> None:
            pass

    child = Lenient()
    cases = [
        ("Recorder('a')", recorder(impl, [], "a")),
        ("impl.Agents(Lenient())", impl.Agents(child)),
        ("impl.TemporalAgent(Lenient())", impl.TemporalAgent(child)),
        ("impl.TemporalAgent(impl.Agents(Lenient()))", impl.TemporalAgent(impl.Agents(child))),
    ]
    for source, agent in cases:
        code = f"{source}.seed({seed})"
        repro = RECORDER_SOURCE + LENIENT_SOURCE + code + "\nprint(seen)  # want []"
        expect_raises(ValueError, "AG-25", code, functools.partial(agent.seed, seed), repro)
        expect(
            seen == [],
            "AG-25",
            f"{code} gave the negative seed to the child, whose seed received {seen}",
            repro,
        )


SEED_TREE_SOURCE = """\
seen = []
class Leaf(impl.Agent):
    def __init__(self, tag):
        super().__init__()
        self.tag = tag
    def seed(self, seed):
        seen.append((self.tag, seed))
        return self
    def forward(self, t, **kwargs):
        pass
"""

#: a tree of agents: a leaf's tag, or ("Agents", [children]) / ("TemporalAgent", child)
SeedTree = Any


def _seed_trees() -> st.SearchStrategy[SeedTree]:
    leaves = st.just("leaf")
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(st.just("Agents"), st.lists(inner, min_size=1, max_size=3)),
            st.tuples(st.just("TemporalAgent"), inner),
        ),
        max_leaves=6,
    )


def _build_seed_tree(
    impl: Any, tree: SeedTree, seen: list[tuple[str, int]]
) -> tuple[Any, str, list[str]]:
    """The agent of ``tree``, its source and its leaves' tags (l0, l1, ... in order)."""
    tags: list[str] = []

    class Leaf(impl.Agent):  # type: ignore[misc]
        def __init__(self, tag: str) -> None:
            super().__init__()
            self.tag = tag

        def seed(self, seed: int) -> Any:
            seen.append((self.tag, seed))
            return self

        def forward(self, t: int, **kwargs: Any) -> None:
            pass

    def build(node: SeedTree) -> tuple[Any, str]:
        if node == "leaf":
            tag = f"l{len(tags)}"
            tags.append(tag)
            return Leaf(tag), f"Leaf({tag!r})"
        kind, children = node
        if kind == "TemporalAgent":
            agent, source = build(children)
            return impl.TemporalAgent(agent), f"impl.TemporalAgent({source})"
        built = [build(child) for child in children]
        return (
            impl.Agents(*(a for a, _ in built)),
            f"impl.Agents({', '.join(src for _, src in built)})",
        )

    agent, source = build(tree)
    return agent, source, tags


@clause("AG-28")
@given(tree=_seed_trees(), seed=st.integers(0, 2**64 - 1))
def test_seed_reaches_every_agent_of_a_tree(impl: Any, tree: SeedTree, seed: int) -> None:
    """Agents and TemporalAgent, nested in any way, pass seed(s) on: every leaf's own seed is
    called exactly once, with s."""
    seen: list[tuple[str, int]] = []
    agent, source, leaves = _build_seed_tree(impl, tree, seen)
    agent.seed(seed)
    repro = SEED_TREE_SOURCE + f"{source}.seed({seed})\nprint(seen)"
    got = sorted(seen)
    want = sorted((tag, seed) for tag in leaves)
    expect(
        got == want,
        "AG-28",
        f"{source}.seed({seed}): the leaves' seed() received {got}, expected each leaf once "
        f"with {seed}: {want}",
        repro,
    )


@clause("AG-7")
def test_get_and_set_outside_a_call_raise(impl: Any) -> None:
    agent = recorder(impl, [], "a")
    agent(impl.Workspace(), t=0)
    for call, fn in [
        ("agent.get(('x', 0))", lambda: agent.get(("x", 0))),
        ("agent.set(('x', 0), torch.zeros(2))", lambda: agent.set(("x", 0), torch.zeros(2))),
    ]:
        expect_raises(
            RuntimeError,
            "AG-7",
            f"{call} after the call agent(ws, t=0) returned (no workspace bound)",
            fn,
            RECORDER_SOURCE
            + f"agent = Recorder('a')\nagent(impl.Workspace(), t=0)\n{call}  # RuntimeError",
        )


# ---------------------------------------------------------------------------------------------
# TA: TemporalAgent


def _ta_repro(call: str, stop_at: list[int] | None = None) -> str:
    agent = f"Recorder('a', stop_at={stop_at})" if stop_at is not None else "Recorder('a')"
    return (
        RECORDER_SOURCE + f"t_agent = impl.TemporalAgent({agent})\nws = impl.Workspace()\n{call}\n"
        "print([t for _, t, _ in calls], ws.time_size())"
    )


@clause("TA-9")
@pytest.mark.parametrize(
    "spelling", ["numpy.int64({v})", "numpy.int32({v})", "torch.tensor({v})", "numpy.uint8({v})"]
)
def test_t_and_n_steps_of_any_index_type(impl: Any, spelling: str) -> None:
    """t and n_steps given as numpy integers or 0-d integer tensors run the steps their ints
    name; a bool for either (Python's, numpy's, a 0-d bool tensor) is refused with TypeError
    before any step."""
    makers: dict[str, Callable[[int], Any]] = {
        "numpy.int64({v})": np.int64,
        "numpy.int32({v})": np.int32,
        "torch.tensor({v})": torch.tensor,
        "numpy.uint8({v})": np.uint8,
    }
    make = makers[spelling]
    calls: list[Call] = []
    ws = impl.Workspace()
    t_agent = impl.TemporalAgent(recorder(impl, calls, "a", ws=ws))
    code = f"t_agent(ws, t={spelling.format(v=2)}, n_steps={spelling.format(v=3)})"
    t_agent(ws, t=make(2), n_steps=make(3))
    steps = [int(t) for _, t, _, _ in calls]
    expect(
        steps == [2, 3, 4] and ws.time_size() == 5,
        "TA-9",
        f"{code} called the agent at t = {steps} (time size {ws.time_size()}); want 2, 3, 4",
        "import numpy\n" + _ta_repro(code),
    )
    for source, value in NOT_INTEGERS.items():
        for arg in ("t", "n_steps"):
            bad = f"t={source}, n_steps=2" if arg == "t" else f"n_steps={source}"
            fresh = impl.TemporalAgent(recorder(impl, calls, "b"))
            calls.clear()
            kwargs = {"t": value, "n_steps": 2} if arg == "t" else {"n_steps": value}
            call = functools.partial(fresh, impl.Workspace(), **kwargs)
            repro = "import numpy\n" + _ta_repro(f"t_agent(ws, {bad})")
            expect_raises(TypeError, "TA-9", f"t_agent(ws, {bad})", call, repro)
            expect(calls == [], "TA-9", f"t_agent(ws, {bad}) ran steps {calls} first", repro)


@clause("TA-1")
@given(t0=st.integers(0, 6), n_steps=st.integers(1, 8))
def test_steps_t0_to_t0_plus_n(impl: Any, t0: int, n_steps: int) -> None:
    calls: list[Call] = []
    ws = impl.Workspace()
    t_agent = impl.TemporalAgent(recorder(impl, calls, "a", ws=ws))
    t_agent(ws, t=t0, n_steps=n_steps, mode="eval")
    want = [("a", t, {"mode": "eval"}, True) for t in range(t0, t0 + n_steps)]
    expect(
        calls == want,
        "TA-1",
        f"TemporalAgent(agent)(ws, t={t0}, n_steps={n_steps}, mode='eval') made the calls "
        f"(t, kwargs) {[(t, kw) for _, t, kw, _ in calls]}; expected t = {t0}..{t0 + n_steps - 1} "
        "each with mode='eval' and the same workspace",
        _ta_repro(f"t_agent(ws, t={t0}, n_steps={n_steps}, mode='eval')"),
    )


@clause("TA-1")
def test_t_defaults_to_zero(impl: Any) -> None:
    calls: list[Call] = []
    impl.TemporalAgent(recorder(impl, calls, "a"))(impl.Workspace(), n_steps=3)
    expect(
        times(calls) == [0, 1, 2],
        "TA-1",
        f"TemporalAgent(agent)(ws, n_steps=3) called t = {times(calls)}, expected [0, 1, 2]",
        _ta_repro("t_agent(ws, n_steps=3)"),
    )


@clause("TA-2")
@given(
    stop_at=st.lists(st.integers(0, 6), min_size=1, max_size=4),
    t0=st.integers(0, 3),
)
def test_stop_variable_stops_when_every_entry_is_true(
    impl: Any, stop_at: list[int], t0: int
) -> None:
    calls: list[Call] = []
    ws = impl.Workspace()
    agent = recorder(impl, calls, "a", batch=len(stop_at), stop_at=stop_at)
    impl.TemporalAgent(agent)(ws, t=t0, stop_variable="stop")
    last = max(t0, *stop_at)
    want = list(range(t0, last + 1))
    repro = _ta_repro(f"t_agent(ws, t={t0}, stop_variable='stop')", stop_at)
    expect(
        times(calls) == want,
        "TA-2",
        f"stop[t, b] = t >= {stop_at}[b]; TemporalAgent(agent)(ws, t={t0}, "
        f"stop_variable='stop') called t = {times(calls)}, expected {want} (stop after the "
        "first t where stop is True for every batch entry)",
        repro,
    )
    expect(
        ws.time_size() == last + 1
        and bool(ws.get("stop", last).all())
        and ws.get("x", last).tolist() == [float(last)] * len(stop_at),
        "TA-2",
        f"after the run the workspace has time size {ws.time_size()}, expected {last + 1}: the "
        f"row t={last} where stop became all True is kept",
        repro,
    )


@clause("TA-3")
@given(n_steps=st.integers(1, 8), stop_at=st.lists(st.integers(0, 8), min_size=1, max_size=3))
def test_n_steps_and_stop_variable_whichever_first(
    impl: Any, n_steps: int, stop_at: list[int]
) -> None:
    calls: list[Call] = []
    agent = recorder(impl, calls, "a", batch=len(stop_at), stop_at=stop_at)
    impl.TemporalAgent(agent)(impl.Workspace(), t=1, n_steps=n_steps, stop_variable="stop")
    last = min(1 + n_steps - 1, max(1, *stop_at))
    expect(
        times(calls) == list(range(1, last + 1)),
        "TA-3",
        f"stop[t, b] = t >= {stop_at}[b]; TemporalAgent(agent)(ws, t=1, n_steps={n_steps}, "
        f"stop_variable='stop') called t = {times(calls)}, expected 1..{last}",
        _ta_repro(f"t_agent(ws, t=1, n_steps={n_steps}, stop_variable='stop')", stop_at),
    )


@clause("TA-4")
def test_bad_step_counts_raise_before_any_step(impl: Any) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("n_steps=0", {"n_steps": 0}),
        ("n_steps=-1", {"n_steps": -1}),
        ("n_steps=-3, stop_variable='stop'", {"n_steps": -3, "stop_variable": "stop"}),
        ("n_steps=0, stop_variable='stop'", {"n_steps": 0, "stop_variable": "stop"}),
        ("(neither n_steps nor stop_variable)", {}),
        ("n_steps=None, stop_variable=None", {"n_steps": None, "stop_variable": None}),
    ]
    for shown, kwargs in cases:
        calls: list[Call] = []
        ws = impl.Workspace()
        t_agent = impl.TemporalAgent(recorder(impl, calls, "a", stop_at=[0, 0]))
        call = f"t_agent(ws, t=0, {shown})" if "neither" not in shown else "t_agent(ws, t=0)"
        repro = _ta_repro(call + "  # expected: ValueError, and no call recorded", [0, 0])
        expect_raises(
            ValueError,
            "TA-4",
            f"TemporalAgent(agent)({'ws, t=0, ' + shown if 'neither' not in shown else 'ws, t=0'})",
            lambda kwargs=kwargs, ws=ws, t_agent=t_agent: t_agent(ws, t=0, **kwargs),  # type: ignore[misc]
            repro,
        )
        expect(
            calls == [] and list(ws.keys()) == [],
            "TA-4",
            f"{call} raised, but first ran the agent at t = {times(calls)} (workspace keys "
            f"{sorted(ws.keys())}); the error must come before any step",
            raising(repro, ValueError) + "\nprint(list(ws.keys()))",
        )


@clause("TA-5")
def test_never_shrinks_and_grows_to_the_last_step(impl: Any) -> None:
    ws = impl.Workspace()
    for t in range(10):
        ws.set("x", t, torch.full((2,), -1.0 - t))
    calls: list[Call] = []
    impl.TemporalAgent(recorder(impl, calls, "a", ws=ws))(ws, t=2, n_steps=3)
    want = torch.tensor(
        [[-1.0 - t] * 2 if t not in (2, 3, 4) else [float(t)] * 2 for t in range(10)]
    )
    setup = (
        "ws = impl.Workspace()\nfor t in range(10):\n"
        "    ws.set('x', t, torch.full((2,), -1.0 - t))\n"
    )
    repro = (
        RECORDER_SOURCE
        + setup
        + "impl.TemporalAgent(Recorder('a'))(ws, t=2, n_steps=3)\n"
        + "print(ws.time_size(), ws.get_full('x')[:, 0])"
    )
    expect(
        ws.time_size() == 10,
        "TA-5",
        f"a 10-row workspace after TemporalAgent(agent)(ws, t=2, n_steps=3): time size "
        f"{ws.time_size()}, expected 10 (never shrinks)",
        repro,
    )
    expect_equal_tensors(
        ws.get_full("x"),
        want,
        "TA-5",
        "x after a run writing rows 2..4 of a 10-row workspace: rows 0, 1 and 5..9 keep their "
        "values -1 - t",
        repro,
    )
    ws2 = impl.Workspace()
    impl.TemporalAgent(recorder(impl, [], "a"))(ws2, t=3, n_steps=4)
    expect(
        ws2.time_size() == 7,
        "TA-5",
        f"a fresh workspace after TemporalAgent(agent)(ws, t=3, n_steps=4): time size "
        f"{ws2.time_size()}, expected 7 (last step run + 1)",
        _ta_repro("t_agent(ws, t=3, n_steps=4)"),
    )


# ---------------------------------------------------------------------------------------------
# Whole domains: keyword arguments, trees with repeated children, seeds, used workspaces


def _same_kwargs(got: dict[str, Any], want: dict[str, Any]) -> bool:
    """The same names with equal values of the same types (True == 1 does not count)."""
    return got.keys() == want.keys() and all(
        type(got[k]) is type(want[k]) and got[k] == want[k] for k in want
    )


@clause("AG-2")
@given(kwargs=keyword_arguments(), t=st.integers(0, 10**6))
def test_forward_receives_exactly_the_keyword_arguments(
    impl: Any, kwargs: dict[str, Any], t: int
) -> None:
    seen: list[tuple[int, dict[str, Any], bool]] = []
    ws = impl.Workspace()

    class Probe(impl.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kw: Any) -> None:
            seen.append((t, dict(kw), self.workspace is ws))

    Probe()(ws, t=t, **kwargs)
    expect(
        len(seen) == 1 and seen[0][0] == t and _same_kwargs(seen[0][1], kwargs) and seen[0][2],
        "AG-2",
        f"agent(ws, t={t}, **{kwargs!r}) called forward as (t, kwargs, self.workspace is ws) "
        f"{seen}; expected one call with exactly those keyword arguments, none dropped, added "
        "or converted",
        "seen = []\nclass Probe(impl.Agent):\n    def forward(self, t, **kw):\n"
        "        seen.append((t, kw))\n"
        f"Probe()(impl.Workspace(), t={t}, **{kwargs!r})\n"
        f"assert seen == [({t}, {kwargs!r})], seen",
    )


#: an agent whose forward calls itself on another workspace before writing: the inner call
#: must leave ``self.workspace`` bound to the outer call's workspace (AG-2: during the call,
#: ``self.workspace`` is ``workspace``), also through a TemporalAgent
REENTRANT_SOURCE = """\
import torch
class Reentrant(impl.Agent):
    def forward(self, t, depth=0, **kwargs):
        if depth == 0:
            self(inner_ws, t=t, depth=1)
            impl.TemporalAgent(self)(inner_ws, t=t + 1, n_steps=2, depth=1)
        self.set(("x", t), torch.full((1,), float(depth)))
inner_ws = impl.Workspace()
outer_ws = impl.Workspace()
impl.TemporalAgent(Reentrant())(outer_ws, t=0, n_steps=2)
"""


@clause("AG-2", "TA-1")
def test_a_reentrant_call_leaves_the_outer_binding(impl: Any) -> None:
    """A forward that calls its own agent (directly, and through a TemporalAgent) on another
    workspace, then writes: the write lands in the outer call's workspace."""
    repro = REENTRANT_SOURCE + "print(outer_ws['x'].tolist(), inner_ws['x'].tolist())"
    scope: dict[str, Any] = {"impl": impl}
    try:
        exec(REENTRANT_SOURCE, scope)
    except (RuntimeError, AttributeError) as exc:  # an unbound agent after the inner call
        expect(False, "AG-2", f"the outer write after a re-entrant call raised {exc}", repro)
    outer, inner = scope["outer_ws"], scope["inner_ws"]
    got = (outer["x"].tolist(), inner["x"].tolist())
    expect(
        got == ([[0.0], [0.0]], [[1.0], [1.0], [1.0], [1.0]]),
        "AG-2",
        f"(outer x, inner x) = {got}; want the outer calls' writes (0.0 at t=0, 1) in outer_ws "
        "and the inner calls' (1.0 at t=0..3) in inner_ws",
        repro,
    )


Tree = Any  # a leaf tag (str) or a list of trees (an Agents node)


def _trees(depth: int = 3) -> st.SearchStrategy[Tree]:
    """Agents trees over the leaves 'a', 'b', 'c' (a tag used twice is the same agent)."""
    leaves = st.sampled_from(["a", "b", "c"])
    return st.recursive(leaves, lambda inner: st.lists(inner, min_size=1, max_size=4), max_leaves=8)


def _flatten(tree: Tree) -> list[str]:
    return [tree] if isinstance(tree, str) else [tag for child in tree for tag in _flatten(child)]


def _build(impl: Any, tree: Tree, leaves: dict[str, Any]) -> Any:
    if isinstance(tree, str):
        return leaves[tree]
    return impl.Agents(*(_build(impl, child, leaves) for child in tree))


def _tree_code(tree: Tree) -> str:
    if isinstance(tree, str):
        return tree
    return f"impl.Agents({', '.join(_tree_code(c) for c in tree)})"


@clause("AG-4")
@given(tree=_trees(), kwargs=keyword_arguments(max_size=2), t=st.integers(0, 50))
def test_agents_trees_call_every_child_in_order(
    impl: Any, tree: Tree, kwargs: dict[str, Any], t: int
) -> None:
    """Nested `Agents`, children given more than once: every occurrence is called once, in
    order, with the same workspace and keyword arguments."""
    if isinstance(tree, str):
        tree = [tree]
    calls: list[Call] = []
    ws = impl.Workspace()
    leaves = {tag: recorder(impl, calls, tag, ws=ws) for tag in "abc"}
    _build(impl, tree, leaves)(ws, t=t, **kwargs)
    want = [(tag, t) for tag in _flatten(tree)]
    got = [(tag, tt) for tag, tt, _, _ in calls]
    code = _tree_code(tree)
    repro = (
        RECORDER_SOURCE + "a, b, c = Recorder('a'), Recorder('b'), Recorder('c')\n"
        f"{code}(impl.Workspace(), t={t}, **{kwargs!r})\n"
        f"assert [(tag, t) for tag, t, _ in calls] == {want!r}, calls"
    )
    expect(
        got == want,
        "AG-4",
        f"{code}(ws, t={t}, **{kwargs!r}) made the calls (agent, t) {got}; expected {want} "
        "(each child once per occurrence, in order)",
        repro,
    )
    wrong = [
        (tag, kw, bound) for tag, _, kw, bound in calls if not (_same_kwargs(kw, kwargs) and bound)
    ]
    expect(
        not wrong,
        "AG-4",
        f"{code}(ws, t={t}, **{kwargs!r}): calls with other keyword arguments or another "
        f"workspace (agent, kwargs, workspace is ws): {wrong}",
        repro,
    )


@clause("AG-4")
def test_agents_with_a_repeated_subtree(impl: Any) -> None:
    calls: list[Call] = []
    a, b, c = (recorder(impl, calls, tag) for tag in "abc")
    inner = impl.Agents(a, b)
    impl.Agents(inner, c, inner, a)(impl.Workspace(), t=2)
    want = ["a", "b", "c", "a", "b", "a"]
    expect(
        [tag for tag, *_ in calls] == want,
        "AG-4",
        f"inner = Agents(a, b); Agents(inner, c, inner, a)(ws, t=2) called "
        f"{[tag for tag, *_ in calls]}, expected {want}",
        RECORDER_SOURCE + "a, b, c = Recorder('a'), Recorder('b'), Recorder('c')\n"
        "inner = impl.Agents(a, b)\nimpl.Agents(inner, c, inner, a)(impl.Workspace(), t=2)\n"
        f"assert [tag for tag, _, _ in calls] == {want!r}, calls",
    )


@clause("AG-6")
@given(seed=agent_seeds())
def test_every_seed_returns_the_agent(impl: Any, seed: int) -> None:
    """Every s >= 0 is a seed (ERR-7 rejects only s < 0): up to 2**64, past 32 and 63 bits."""
    _check_seed(impl, seed)


@clause("AG-6")
def test_seed_edges(impl: Any) -> None:
    for seed in SEED_EDGES:
        _check_seed(impl, seed)


def _check_seed(impl: Any, seed: int) -> None:
    __tracebackhide__ = True
    agent = recorder(impl, [], "a")
    agents = impl.Agents(agent, impl.Agents(recorder(impl, [], "b")))
    t_agent = impl.TemporalAgent(agents)
    for name, obj, source in (
        ("Agent", agent, "a"),
        ("Agents", agents, "agents"),
        ("TemporalAgent", t_agent, "impl.TemporalAgent(agents)"),
    ):
        try:
            got: object = obj.seed(seed)
        except Exception as exc:
            got = f"an error: {type(exc).__name__}: {exc}"
        expect(
            got is obj,
            "AG-6",
            f"{name}(...).seed({seed}) returned {got!r:.300}, expected the agent itself",
            RECORDER_SOURCE + "a = Recorder('a')\n"
            "agents = impl.Agents(a, impl.Agents(Recorder('b')))\n"
            f"s = {source}\nassert s.seed({seed}) is s",
        )


class _Boom(Exception):
    """Raised by a test agent's forward."""


@clause("AG-7")
def test_get_and_set_raise_after_a_call_that_raised(impl: Any) -> None:
    """A call whose forward raised leaves no workspace bound: the agent's own exception comes
    out, and self.get/self.set afterwards raise RuntimeError, whichever wrapper ran it."""

    def explode(agent: Any, t: int) -> None:
        if t == 2:
            raise _Boom(f"forward failed at t={t}")

    # (shown, its source in a reproducer, the call)
    runs: list[tuple[str, str, Callable[[Any], object]]] = [
        ("agent(ws, t=2)", "agent(impl.Workspace(), t=2)", lambda a: a(impl.Workspace(), t=2)),
        (
            "Agents(agent)(ws, t=2)",
            "impl.Agents(agent)(impl.Workspace(), t=2)",
            lambda a: impl.Agents(a)(impl.Workspace(), t=2),
        ),
        (
            "TemporalAgent(agent)(ws, t=0, n_steps=5)",
            "impl.TemporalAgent(agent)(impl.Workspace(), t=0, n_steps=5)",
            lambda a: impl.TemporalAgent(a)(impl.Workspace(), t=0, n_steps=5),
        ),
    ]
    for shown, source, run in runs:
        agent = recorder(impl, [], "a", extra=explode)
        setup = (
            RECORDER_SOURCE.replace(
                "        calls.append((self.tag, t, kwargs))",
                "        calls.append((self.tag, t, kwargs))\n"
                "        if t == 2:\n            raise ValueError('boom')",
            )
            + f"agent = Recorder('a')\ntry:\n    {source}\nexcept ValueError:\n    pass\n"
        )
        expect_raises(
            _Boom, "AG-7", f"{shown} whose forward raises at t=2", functools.partial(run, agent)
        )
        for call, fn in (
            ("agent.get(('x', 0))", functools.partial(agent.get, ("x", 0))),
            (
                "agent.set(('x', 0), torch.zeros(2))",
                functools.partial(agent.set, ("x", 0), torch.zeros(2)),
            ),
        ):
            expect_raises(
                RuntimeError,
                "AG-7",
                f"{call} after {shown} raised inside forward (no workspace is bound)",
                fn,
                setup + call,
            )
    fresh = recorder(impl, [], "a")
    expect_raises(
        RuntimeError,
        "AG-7",
        "agent.get(('x', 0)) on an agent never called",
        lambda: fresh.get(("x", 0)),
        RECORDER_SOURCE + "Recorder('a').get(('x', 0))  # RuntimeError",
    )


@clause("TA-1", "TA-5")
@given(
    t0=st.integers(0, 60),
    n_steps=st.integers(1, 8),
    kwargs=keyword_arguments(max_size=3),
    old_size=st.integers(0, 12),
)
def test_runs_from_any_t0_on_used_workspaces(
    impl: Any, t0: int, n_steps: int, kwargs: dict[str, Any], old_size: int
) -> None:
    """A run from t0 on a workspace that holds an older rollout of `old_size` rows (shorter or
    longer than t0 + n_steps): forward is called at t0..t0+n-1 with the keyword arguments, and
    the rows the run does not reach keep their values (TA-5)."""
    calls: list[Call] = []
    ws = impl.Workspace()
    old = -1.0 - torch.arange(old_size * 2, dtype=torch.float32).reshape(old_size, 2)
    if old_size:
        ws.set_full("x", old)
    impl.TemporalAgent(recorder(impl, calls, "a", ws=ws))(ws, t=t0, n_steps=n_steps, **kwargs)
    setup = (
        RECORDER_SOURCE
        + "ws = impl.Workspace()\n"
        + (
            f"ws.set_full('x', -1.0 - torch.arange({old_size * 2}.0).reshape({old_size}, 2))\n"
            if old_size
            else ""
        )
        + f"impl.TemporalAgent(Recorder('a'))(ws, t={t0}, n_steps={n_steps}, **{kwargs!r})\n"
    )
    want_t = list(range(t0, t0 + n_steps))
    expect(
        [t for _, t, _, _ in calls] == want_t
        and all(_same_kwargs(kw, kwargs) and bound for _, _, kw, bound in calls),
        "TA-1",
        f"TemporalAgent(agent)(ws, t={t0}, n_steps={n_steps}, **{kwargs!r}) on a workspace of "
        f"{old_size} rows made the calls (t, kwargs) {[(t, kw) for _, t, kw, _ in calls]}; "
        f"expected t = {want_t} each with exactly those keyword arguments",
        setup + f"assert [t for _, t, _ in calls] == {want_t!r}, calls",
    )
    size = max(old_size, t0 + n_steps)
    want = torch.zeros(size, 2)
    want[:old_size] = old
    for t in want_t:
        want[t] = float(t)
    expect_equal_tensors(
        ws.get_full("x"),
        want,
        "TA-5",
        f"x after a run writing rows {t0}..{t0 + n_steps - 1} over {old_size} older rows: the "
        "rows the run did not reach keep their values (zeros where nothing was ever written)",
        setup + "print(ws.get_full('x')[:, 0])",
    )


@clause("TA-2", "TA-3", "TA-5")
@given(
    stop_at=st.lists(st.integers(0, 8), min_size=1, max_size=3),
    t0=st.integers(0, 4),
    n_steps=st.one_of(st.none(), st.integers(1, 10)),
    old_size=st.integers(1, 14),
    old_stop=st.sampled_from(["all True", "all False", "mixed"]),
)
def test_stop_variable_on_used_workspaces(
    impl: Any,
    stop_at: list[int],
    t0: int,
    n_steps: int | None,
    old_size: int,
    old_stop: str,
) -> None:
    """The stop test reads the row the run just wrote, not what an older rollout left in the
    workspace (its stop rows all True, all False or mixed); rows after the stop keep their
    values and the time size is the larger of the old one and the last step + 1 (TA-5)."""
    batch = len(stop_at)
    calls: list[Call] = []
    ws = impl.Workspace()
    old_x = -1.0 - torch.arange(old_size * batch, dtype=torch.float32).reshape(old_size, batch)
    if old_stop == "all True":
        old_flags = torch.ones((old_size, batch), dtype=torch.bool)
    elif old_stop == "all False":
        old_flags = torch.zeros((old_size, batch), dtype=torch.bool)
    else:
        old_flags = (torch.arange(old_size * batch).reshape(old_size, batch) % 3) == 0
    ws.set_full("x", old_x)
    ws.set_full("stop", old_flags)
    agent = recorder(impl, calls, "a", ws=ws, batch=batch, stop_at=stop_at)
    impl.TemporalAgent(agent)(ws, t=t0, n_steps=n_steps, stop_variable="stop")
    last = max(t0, *stop_at)  # the first t >= t0 where t >= stop_at[b] for every b
    if n_steps is not None:
        last = min(last, t0 + n_steps - 1)
    # a run past its n_steps breaks TA-3; any other wrong stop is the stop rule, TA-2
    overran = n_steps is not None and any(t >= t0 + n_steps for t in times(calls))
    clause_id = "TA-3" if overran else "TA-2"
    flags = {"all True": "torch.ones", "all False": "torch.zeros"}.get(old_stop)
    old_code = (
        f"{flags}(({old_size}, {batch}), dtype=torch.bool)"
        if flags
        else f"(torch.arange({old_size * batch}).reshape({old_size}, {batch}) % 3) == 0"
    )
    setup = (
        RECORDER_SOURCE + "ws = impl.Workspace()\n"
        f"ws.set_full('x', -1.0 - torch.arange({old_size * batch}.0)"
        f".reshape({old_size}, {batch}))\n"
        f"ws.set_full('stop', {old_code})\n"
        f"impl.TemporalAgent(Recorder('a', stop_at={stop_at}))(ws, t={t0}, n_steps={n_steps}, "
        "stop_variable='stop')\n"
    )
    expect(
        times(calls) == list(range(t0, last + 1)),
        clause_id,
        f"stop[t, b] = t >= {stop_at}[b] written by the run from t={t0} (n_steps={n_steps}) "
        f"over {old_size} older rows whose stop rows are {old_stop}: the run called t = "
        f"{times(calls)}, expected {t0}..{last} (stop after the first row the run wrote that "
        "is True for every batch entry)",
        setup + f"assert [t for _, t, _ in calls] == {list(range(t0, last + 1))!r}, calls",
    )
    size = max(old_size, last + 1)
    want = torch.zeros(size, batch)
    want[:old_size] = old_x
    for t in range(t0, last + 1):
        want[t] = float(t)
    expect(
        ws.time_size() == size,
        "TA-5",
        f"after the run (rows {t0}..{last} over {old_size} older rows) time size "
        f"{ws.time_size()}, expected {size}",
        setup + f"assert ws.time_size() == {size}, ws.time_size()",
    )
    expect_equal_tensors(
        ws.get_full("x"),
        want,
        "TA-5",
        f"x after the run (rows {t0}..{last} over {old_size} older rows): the rows it did not "
        "reach keep their values",
        setup + "print(ws.get_full('x'))",
    )


@clause("TA-4", "TA-1")
def test_bad_step_counts_change_a_used_workspace_in_no_way(impl: Any) -> None:
    """TA-4 on a workspace that already holds rows: nothing runs and nothing changes; and the
    other side: n_steps=1 runs exactly one step."""
    for kwargs in ({"n_steps": 0}, {"n_steps": -2}, {}, {"n_steps": 0, "stop_variable": "stop"}):
        calls: list[Call] = []
        ws = impl.Workspace()
        ws.set_full("x", torch.arange(8.0).reshape(4, 2))
        ws.set_full("stop", torch.zeros((4, 2), dtype=torch.bool))
        before = observe_workspace(ws)
        t_agent = impl.TemporalAgent(recorder(impl, calls, "a", stop_at=[9, 9]))
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        repro = _ta_repro(
            f"ws.set_full('x', torch.arange(8.0).reshape(4, 2))\nt_agent(ws, t=1, {shown})", [9, 9]
        )
        expect_raises(
            ValueError,
            "TA-4",
            f"TemporalAgent(agent)(ws, t=1, {shown}) on a 4-row workspace",
            lambda kwargs=kwargs, ws=ws, t_agent=t_agent: t_agent(ws, t=1, **kwargs),  # type: ignore[misc]
            repro,
        )
        expect(
            calls == [] and same_contents(before, observe_workspace(ws)),
            "TA-4",
            f"TemporalAgent(agent)(ws, t=1, {shown}) raised, but ran t = {times(calls)} or "
            "changed the workspace first",
            raising(repro, ValueError) + "\nprint({k: ws.get_full(k) for k in ws.keys()})",
        )
    calls = []
    ws = impl.Workspace()
    impl.TemporalAgent(recorder(impl, calls, "a"))(ws, t=3, n_steps=1)
    expect(
        times(calls) == [3],
        "TA-1",
        f"TemporalAgent(agent)(ws, t=3, n_steps=1) called t = {times(calls)}, expected [3]",
        _ta_repro("t_agent(ws, t=3, n_steps=1)"),
    )


# ---------------------------------------------------------------------------------------------
# A reused workspace: runs from any t0, reruns from 0, copies, clears, rejected runs

MACHINE_SOURCE = """\
import torch
class Writer(impl.Agent):
    def __init__(self):
        super().__init__()
        self.run, self.stop_at, self.calls = 0, [0], []
    def forward(self, t, **kwargs):
        if t >= 200:
            raise RuntimeError(f'runaway TemporalAgent: called at t={t}')
        self.calls.append(t)
        self.set(('x', t), torch.full((len(self.stop_at),), 100.0 * self.run + t))
        self.set(('stop', t), torch.tensor([t >= s for s in self.stop_at]))
writer = Writer()
t_agent = impl.TemporalAgent(impl.Agents(writer))
ws = impl.Workspace()
"""


def make_temporal_machine(impl: Any) -> type[RuleBasedStateMachine]:
    """Random programs of TemporalAgent runs on one reused workspace: runs from any t0 (inside,
    at the end of and beyond what the workspace holds), with n_steps, a stop variable or both,
    reruns from t = 0, `copy_n_last_steps`, `set_full` to fewer rows, `clear`, and rejected
    runs (TA-4); after each step the calls made and the workspace are checked against the
    model. The agent writes x[t] = 100 * run + t and stop[t, b] = t >= stop_at[b]."""

    class TemporalMachine(RuleBasedStateMachine):
        @initialize(batch=st.integers(1, 3))
        def create(self, batch: int) -> None:
            self.batch = batch
            self.ws = impl.Workspace()
            self.model = WorkspaceModel()
            self.calls: list[int] = []
            calls = self.calls

            class Writer(impl.Agent):  # type: ignore[misc]
                def __init__(self) -> None:
                    super().__init__()
                    self.run, self.stop_at = 0, [0] * batch

                def forward(self, t: int, **kwargs: Any) -> None:
                    if t >= 200:
                        raise RuntimeError(f"runaway TemporalAgent: called at t={t}")
                    calls.append(t)
                    self.set(("x", t), torch.full((batch,), 100.0 * self.run + t))
                    self.set(("stop", t), torch.tensor([t >= s for s in self.stop_at]))

            self.writer = Writer()
            self.t_agent = impl.TemporalAgent(impl.Agents(self.writer))
            self.runs = 0
            self.log = [MACHINE_SOURCE]

        def repro(self, last: str) -> str:
            return "\n".join([*self.log, last])

        @rule(
            t0=st.integers(0, 12),
            n_steps=st.one_of(st.none(), st.integers(1, 6)),
            data=st.data(),
        )
        def run(self, t0: int, n_steps: int | None, data: st.DataObject) -> None:
            stop_at = data.draw(
                st.lists(st.integers(0, 16), min_size=self.batch, max_size=self.batch),
                label="stop_at",
            )
            use_stop = n_steps is None or data.draw(st.booleans(), label="with stop_variable")
            if not use_stop and n_steps is None:
                n_steps = 1
            self.runs += 1
            self.writer.run, self.writer.stop_at = self.runs, stop_at
            self.calls.clear()
            stop = "stop" if use_stop else None
            call = f"t_agent(ws, t={t0}, n_steps={n_steps}, stop_variable={stop!r})"
            self.log.append(
                f"writer.run, writer.stop_at, writer.calls = {self.runs}, {stop_at}, []\n{call}"
            )
            self.t_agent(self.ws, t=t0, n_steps=n_steps, stop_variable=stop)
            last = t0 + n_steps - 1 if n_steps is not None else None
            if use_stop:  # the first row the run writes that is True for every entry
                first_stop = max(t0, *stop_at)
                last = first_stop if last is None else min(last, first_stop)
            assert last is not None
            overran = any(t > last for t in self.calls)
            clause_id = "TA-1" if not use_stop else ("TA-3" if n_steps and overran else "TA-2")
            expect(
                self.calls == list(range(t0, last + 1)),
                clause_id,
                f"{call} on the workspace left by the calls before (time size "
                f"{self.model.time_size('x') if 'x' in self.model.rows else 0}) made the calls "
                f"t = {self.calls}, expected {t0}..{last}",
                self.repro(f"assert writer.calls == list(range({t0}, {last + 1})), writer.calls"),
            )
            for t in range(t0, last + 1):
                self.model.set("x", t, torch.full((self.batch,), 100.0 * self.runs + t))
                self.model.set("stop", t, torch.tensor([t >= s for s in stop_at]))

        @rule(data=st.data())
        def copy_n_last_steps(self, data: st.DataObject) -> None:
            if not self.model.rows:
                return
            top = min(self.model.time_size(n) for n in self.model.rows)
            n = data.draw(st.integers(0, top), label="n")
            self.ws.copy_n_last_steps(n)
            self.model.copy_n_last_steps(n)
            self.log.append(f"ws.copy_n_last_steps({n})")
            self.check("WS-15", f"after copy_n_last_steps({n})")

        @rule(rows=st.integers(1, 3))
        def shorten(self, rows: int) -> None:
            if not self.model.rows:
                return
            for name in list(self.model.rows):
                full = self.model.get_full(name)[:rows]
                self.ws.set_full(name, full)
                self.model.set_full(name, full)
            shorten = f"ws.set_full(k, ws.get_full(k)[:{rows}])"
            self.log.append(f"for k in list(ws.keys()):\n    {shorten}")
            self.check("WS-11", f"after set_full of the first {rows} rows")

        @rule()
        def clear(self) -> None:
            self.ws.clear()
            self.model.clear()
            self.log.append("ws.clear()")
            self.check("WS-19", "after clear()")

        @rule(
            bad=st.sampled_from(
                [{"n_steps": 0}, {"n_steps": -1}, {}, {"n_steps": 0, "stop_variable": "stop"}]
            ),
            t0=st.integers(0, 6),
        )
        def rejected_run(self, bad: dict[str, Any], t0: int) -> None:
            self.calls.clear()
            shown = ", ".join(f"{k}={v!r}" for k, v in bad.items())
            call = f"t_agent(ws, t={t0}{', ' if shown else ''}{shown})"
            code = f"writer.calls = []\n{call}"
            expect_raises(
                ValueError,
                "TA-4",
                f"{call} on a used workspace",
                functools.partial(self.t_agent, self.ws, t=t0, **bad),
                self.repro(code),
            )
            rejected = raising(code, ValueError)
            expect(
                self.calls == [],
                "TA-4",
                f"{call} raised, but first ran the agent at t = {self.calls}",
                self.repro(f"{rejected}\nassert writer.calls == [], writer.calls"),
            )
            self.log.append(rejected)

        def check(self, clause_id: str, when: str) -> None:
            """The workspace equals the model; a difference fails `clause_id`."""
            __tracebackhide__ = True
            keys = sorted(self.ws.keys())
            expect(
                keys == sorted(self.model.rows),
                clause_id,
                f"{when}: keys() = {keys}, expected {sorted(self.model.rows)}",
                self.repro("print(list(ws.keys()))"),
            )
            for name in self.model.rows:
                expect_equal_tensors(
                    self.ws.get_full(name),
                    self.model.get_full(name),
                    clause_id,
                    f"{when}: {name!r} differs from the model",
                    self.repro(f"print(ws.get_full({name!r}))"),
                )

        @invariant()
        def workspace_matches_model(self) -> None:
            # checked after every step; the steps that are not runs check themselves first
            # (under their own clause), so a difference here comes from a run
            if hasattr(self, "ws"):
                self.check(
                    "TA-5",
                    "after the runs of the reproducer (rows a run did not reach keep their "
                    "values; the time size is the larger of the old one and the last step + 1)",
                )

    return TemporalMachine


@clause("TA-1", "TA-2", "TA-3", "TA-4", "TA-5", "WS-11", "WS-15", "WS-19")
def test_temporal_agent_state_machine(impl: Any) -> None:
    run_state_machine_as_test(make_temporal_machine(impl))


# ---------------------------------------------------------------------------------------------
# TA-1, AG-4: trees whose nodes override __call__

CALL_OVERRIDE_SOURCE = """\
import torch
calls = []
class Plain(impl.Agent):
    def __init__(self, tag):
        super().__init__()
        self.tag = tag
    def forward(self, t, **kwargs):
        calls.append(('forward ' + self.tag, t))
        self.set(('x_' + self.tag, t), torch.full((2,), float(t)))
class Logged(Plain):  # a leaf whose class overrides __call__
    def __call__(self, workspace, **kwargs):
        calls.append(('call ' + self.tag, kwargs['t']))
        super().__call__(workspace, **kwargs)
class LoggedAgents(impl.Agents):  # an Agents whose class overrides __call__
    def __call__(self, workspace, **kwargs):
        calls.append(('call S', kwargs['t']))
        super().__call__(workspace, **kwargs)
a, b = Plain('a'), Plain('b')
"""


@clause("TA-1", "AG-4", "AG-2")
def test_temporal_agent_calls_overridden_call_methods(impl: Any) -> None:
    """TA-1 calls ``agent(workspace, t=t, **kwargs)`` and AG-4 calls each child: a node whose
    class overrides ``__call__`` (a leaf, an ``Agents`` subclass, the root) has that override
    run at every step, and the leaves below it still run ``forward`` once per step."""
    calls: list[tuple[str, int]] = []
    ws_of: list[bool] = []

    class Logged(impl.Agent):  # type: ignore[misc]
        def __init__(self, tag: str) -> None:
            super().__init__()
            self.tag = tag

        def __call__(self, workspace: Any, **kwargs: Any) -> None:
            calls.append((f"call {self.tag}", kwargs["t"]))
            super().__call__(workspace, **kwargs)

        def forward(self, t: int, **kwargs: Any) -> None:
            if t >= 200:
                raise RuntimeError(f"runaway TemporalAgent: called at t={t}")
            calls.append((f"forward {self.tag}", t))
            ws_of.append(self.workspace is ws and kwargs == {"scale": 0})
            self.set((f"x_{self.tag}", t), torch.full((2,), float(t)))

    class LoggedAgents(impl.Agents):  # type: ignore[misc]
        def __call__(self, workspace: Any, **kwargs: Any) -> None:
            calls.append(("call S", kwargs["t"]))
            super().__call__(workspace, **kwargs)

    def plain(tag: str) -> Any:
        class Plain(impl.Agent):  # type: ignore[misc]
            def forward(self, t: int, **kwargs: Any) -> None:
                if t >= 200:
                    raise RuntimeError(f"runaway TemporalAgent: called at t={t}")
                calls.append((f"forward {tag}", t))
                ws_of.append(self.workspace is ws and kwargs == {"scale": 0})
                self.set((f"x_{tag}", t), torch.full((2,), float(t)))

        return Plain()

    # (tree source, build, the log of one step at t as a function of t)
    cases: list[tuple[str, Callable[[], Any], Callable[[int], list[tuple[str, int]]]]] = [
        (
            "Logged('c')",
            lambda: Logged("c"),
            lambda t: [("call c", t), ("forward c", t)],
        ),
        (
            "impl.Agents(a, Logged('c'))",
            lambda: impl.Agents(plain("a"), Logged("c")),
            lambda t: [("forward a", t), ("call c", t), ("forward c", t)],
        ),
        (
            "LoggedAgents(a, b)",
            lambda: LoggedAgents(plain("a"), plain("b")),
            lambda t: [("call S", t), ("forward a", t), ("forward b", t)],
        ),
        (
            "impl.Agents(impl.Agents(a), LoggedAgents(b, Logged('c')))",
            lambda: impl.Agents(impl.Agents(plain("a")), LoggedAgents(plain("b"), Logged("c"))),
            lambda t: [
                ("forward a", t),
                ("call S", t),
                ("forward b", t),
                ("call c", t),
                ("forward c", t),
            ],
        ),
    ]
    for code, build, step in cases:
        for t0, n_steps in [(0, 1), (0, 3), (2, 2)]:
            calls.clear()
            ws_of.clear()
            ws = impl.Workspace()
            impl.TemporalAgent(build())(ws, t=t0, n_steps=n_steps, scale=0)
            want = [entry for t in range(t0, t0 + n_steps) for entry in step(t)]
            expect(
                calls == want,
                "TA-1",
                f"TemporalAgent({code})(ws, t={t0}, n_steps={n_steps}, scale=0) logged the "
                f"calls {calls}; expected {want} (every __call__ override runs at every step)",
                CALL_OVERRIDE_SOURCE
                + f"impl.TemporalAgent({code})(impl.Workspace(), t={t0}, n_steps={n_steps}, "
                "scale=0)\nprint(calls)",
            )
            expect(
                all(ws_of),
                "AG-2",
                f"TemporalAgent({code})(ws, t={t0}, n_steps={n_steps}, scale=0): a forward "
                "ran with another self.workspace or keyword arguments other than {'scale': 0}",
                CALL_OVERRIDE_SOURCE
                + f"impl.TemporalAgent({code})(impl.Workspace(), t={t0}, n_steps={n_steps}, "
                "scale=0)",
            )
            for tag in sorted({e[0].split()[1] for e in want if e[0].startswith("forward")}):
                got = ws.get_full(f"x_{tag}")
                expect_equal_tensors(
                    got[t0:],
                    torch.arange(t0, t0 + n_steps, dtype=torch.float32)[:, None].expand(-1, 2),
                    "TA-1",
                    f"TemporalAgent({code})(ws, t={t0}, n_steps={n_steps}): rows "
                    f"{t0}..{t0 + n_steps - 1} of x_{tag} (x_{tag}[t] = t)",
                    CALL_OVERRIDE_SOURCE
                    + f"ws = impl.Workspace()\nimpl.TemporalAgent({code})(ws, t={t0}, "
                    f"n_steps={n_steps}, scale=0)\nprint(ws.get_full('x_{tag}'))",
                )
