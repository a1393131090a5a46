"""Conformance tests of spec/agents.md: Agent and Agents (AG), TemporalAgent (TA).

The agents here record every call they receive (time step, keyword arguments, bound workspace),
so the expected call sequences are written down from the clauses, not taken from the
implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import given
from hypothesis import strategies as st

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises
from bbrl_conformance._clauses import clause

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
            repro,
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
