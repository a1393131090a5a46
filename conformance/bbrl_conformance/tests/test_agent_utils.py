"""Conformance tests of spec/agents.md AG-17..AG-24: bbrl's agent conveniences
(``KWAgentWrapper``, ``PrintAgent``, ``EpisodesDone``, ``CopyTAgent``, the convention classes)
and the configuration helpers ``get_class``, ``get_arguments``, ``instantiate_class``.

Expected rows come from small models written here (a running OR for ``EpisodesDone``). The
agents the tests build are exec'd from the sources the reproducers print (``RECORDER_SOURCE``,
``CRITIC_SOURCE``), so that a reproducer runs the test's own agents.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises
from bbrl_conformance._clauses import clause

Call = tuple[int, dict[str, Any]]


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


#: an agent logging ``(t, kwargs)`` into ``calls`` and writing ``x[t] = t`` (batch 2)
RECORDER_SOURCE = """\
import torch
calls = []
class Recorder(impl.Agent):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(1, 1)
    def forward(self, t, **kwargs):
        calls.append((t, dict(kwargs)))
        self.set(("x", t), torch.full((2,), float(t)))
"""


def recorder(impl: Any, calls: list[Call]) -> Any:
    """A ``Recorder`` of RECORDER_SOURCE logging into ``calls``."""
    scope: dict[str, Any] = {"impl": impl}
    exec(RECORDER_SOURCE, scope)
    scope["calls"] = calls
    return scope["Recorder"]()


# ---------------------------------------------------------------------------------------------
# AG-17: KWAgentWrapper


@clause("AG-17")
def test_keyword_wrapper_adds_its_keywords(impl: Any) -> None:
    wrapper_cls = required(impl, "KWAgentWrapper", "AG-17")
    calls: list[Call] = []
    inner = recorder(impl, calls)
    wrapper = wrapper_cls(inner, stochastic=False, epsilon=0.5)
    ws = impl.Workspace()
    impl.TemporalAgent(wrapper)(ws, t=1, n_steps=2, mode="eval")
    wrapper(ws, t=7)
    want: list[Call] = [
        (1, {"mode": "eval", "stochastic": False, "epsilon": 0.5}),
        (2, {"mode": "eval", "stochastic": False, "epsilon": 0.5}),
        (7, {"stochastic": False, "epsilon": 0.5}),
    ]
    repro = RECORDER_SOURCE + (
        "inner = Recorder()\nwrapper = impl.KWAgentWrapper(inner, stochastic=False, epsilon=0.5)\n"
    )
    expect(
        calls == want,
        "AG-17",
        f"KWAgentWrapper(agent, stochastic=False, epsilon=0.5) run at t=1, 2 (mode='eval') and "
        f"t=7 called the agent with {calls}; want {want}",
        repro + "ws = impl.Workspace()\n"
        "impl.TemporalAgent(wrapper)(ws, t=1, n_steps=2, mode='eval')\nwrapper(ws, t=7)\n"
        f"print(calls)  # want {want}",
    )
    params = list(wrapper.parameters())
    expect(
        len(params) == 2 and all(p is q for p, q in zip(params, inner.parameters(), strict=True)),
        "AG-17",
        "the wrapper's parameters() should be the wrapped agent's",
        repro + "params = list(wrapper.parameters())\n"
        "print(len(params), [p is q for p, q in zip(params, inner.parameters())])"
        "  # want 2 [True, True]",
    )
    expect(
        wrapper.wrapped is inner,
        "AG-17",
        "KWAgentWrapper(agent).wrapped is not agent",
        repro + "print(wrapper.wrapped is inner)  # want True",
    )


@clause("AG-17")
def test_keyword_wrapper_rejects_a_keyword_given_twice(impl: Any) -> None:
    wrapper_cls = required(impl, "KWAgentWrapper", "AG-17")
    calls: list[Call] = []
    wrapper = wrapper_cls(recorder(impl, calls), stochastic=False)
    ws = impl.Workspace()
    repro = RECORDER_SOURCE + (
        "wrapper = impl.KWAgentWrapper(Recorder(), stochastic=False)\nws = impl.Workspace()\n"
    )
    expect_raises(
        TypeError,
        "AG-17",
        "KWAgentWrapper(agent, stochastic=False)(ws, t=0, stochastic=True)",
        lambda: wrapper(ws, t=0, stochastic=True),
        repro + "wrapper(ws, t=0, stochastic=True)\nprint(calls)  # want []",
    )
    expect(
        calls == [],
        "AG-17",
        f"the wrapped agent ran before the error: {calls}",
        repro + "try:\n    wrapper(ws, t=0, stochastic=True)\nexcept TypeError:\n    pass\n"
        "print(calls)  # want []",
    )


@clause("AG-17")
def test_keyword_wrapper_runs_composite_agents(impl: Any) -> None:
    wrapper_cls = required(impl, "KWAgentWrapper", "AG-17")
    calls: list[Call] = []
    group = impl.Agents(recorder(impl, calls), recorder(impl, calls))
    impl.TemporalAgent(wrapper_cls(group, k=1))(impl.Workspace(), n_steps=2)
    want: list[Call] = [(0, {"k": 1}), (0, {"k": 1}), (1, {"k": 1}), (1, {"k": 1})]
    expect(
        calls == want,
        "AG-17",
        f"KWAgentWrapper(Agents(a, b), k=1) over 2 steps called {calls}; want {want} (the "
        "effect of calling Agents(a, b) with k=1)",
        RECORDER_SOURCE + "group = impl.Agents(Recorder(), Recorder())\n"
        "impl.TemporalAgent(impl.KWAgentWrapper(group, k=1))(impl.Workspace(), n_steps=2)\n"
        f"print(calls)  # want {want}",
    )


# ---------------------------------------------------------------------------------------------
# AG-18: PrintAgent


def _lines_in_order(out: str, expected: list[tuple[str, str]]) -> bool:
    """Whether ``out`` has, in order, lines holding each (name, text) pair."""
    lines = out.splitlines()
    at = 0
    for name, text in expected:
        while at < len(lines) and not (name in lines[at] and text in lines[at]):
            at += 1
        if at == len(lines):
            return False
        at += 1
    return True


@clause("AG-18")
def test_print_agent_prints_rows(impl: Any, capsys: pytest.CaptureFixture[str]) -> None:
    print_cls = required(impl, "PrintAgent", "AG-18")
    ws = impl.Workspace()
    for t in range(3):
        ws.set("alpha", t, torch.tensor([1.5 + t]))
        ws.set("beta", t, torch.tensor([t % 2 == 0]))
    before = {name: ws.get_full(name).clone() for name in ("alpha", "beta")}
    capsys.readouterr()
    print_cls("beta", "alpha")(ws, t=1)
    named = capsys.readouterr().out
    print_cls()(ws, t=2)
    every = capsys.readouterr().out
    rows = {name: {t: str(ws.get(name, t)) for t in range(3)} for name in ("alpha", "beta")}
    repro = (
        "import contextlib, io, torch\nws = impl.Workspace()\nfor t in range(3):\n"
        "    ws.set('alpha', t, torch.tensor([1.5 + t]))\n"
        "    ws.set('beta', t, torch.tensor([t % 2 == 0]))\n"
        "named, every = io.StringIO(), io.StringIO()\n"
        "with contextlib.redirect_stdout(named):\n    impl.PrintAgent('beta', 'alpha')(ws, t=1)\n"
        "with contextlib.redirect_stdout(every):\n    impl.PrintAgent()(ws, t=2)\n"
    )
    expect(
        _lines_in_order(named, [("beta", rows["beta"][1]), ("alpha", rows["alpha"][1])]),
        "AG-18",
        f"PrintAgent('beta', 'alpha') at t=1 printed {named!r}; want a line with 'beta' and "
        f"{rows['beta'][1]!r}, then one with 'alpha' and {rows['alpha'][1]!r}",
        repro + f"print(repr(named.getvalue()))  # want a line with 'beta' and "
        f"{rows['beta'][1]!r}, then one with 'alpha' and {rows['alpha'][1]!r}",
    )
    order = list(ws.keys())
    expect(
        _lines_in_order(every, [(name, rows[name][2]) for name in order]),
        "AG-18",
        f"PrintAgent() at t=2 printed {every!r}; want every variable's row 2 in order {order}",
        repro + f"print(repr(every.getvalue()))  # want every variable's row 2 in order {order}",
    )
    expect(
        sorted(ws.keys()) == ["alpha", "beta"],
        "AG-18",
        f"PrintAgent wrote {list(ws.keys())}",
        repro + "print(sorted(ws.keys()))  # want ['alpha', 'beta']",
    )
    for name, value in before.items():
        expect_equal_tensors(
            ws.get_full(name),
            value,
            "AG-18",
            f"{name!r} after PrintAgent",
            repro + f"print(ws.get_full({name!r}))  # want {value.tolist()}",
        )


#: variable names of which none is part of another (a line is matched by name)
PRINT_NAMES = ("zeta", "alpha", "env/mid", "beta_0", "Q")


@clause("AG-18")
@given(order=st.permutations(PRINT_NAMES), count=st.integers(2, len(PRINT_NAMES)))
def test_print_agent_without_names_prints_in_keys_order(
    impl: Any, order: list[str], count: int
) -> None:
    """Variables created in any order (not only sorted): ``PrintAgent()`` prints them in the
    order ``keys()`` lists them, whatever that order is."""
    print_cls = required(impl, "PrintAgent", "AG-18")
    names = list(order[:count])
    ws = impl.Workspace()
    for k, name in enumerate(names):
        ws.set(name, 0, torch.tensor([1000.0 + k]))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_cls()(ws, t=0)
    keys = list(ws.keys())
    want = [(name, str(ws.get(name, 0))) for name in keys]
    expect(
        _lines_in_order(out.getvalue(), want),
        "AG-18",
        f"variables created in the order {names}, keys() = {keys}: PrintAgent() printed "
        f"{out.getvalue()!r}; want one line per variable in keys() order",
        "import contextlib, io, torch\nws = impl.Workspace()\n"
        f"for k, name in enumerate({names!r}):\n"
        "    ws.set(name, 0, torch.tensor([1000.0 + k]))\n"
        "impl.PrintAgent()(ws, t=0)  # want the lines in the order of list(ws.keys())\n"
        "print(list(ws.keys()))",
    )


@clause("AG-18")
def test_print_agent_rejects_an_unknown_name(impl: Any) -> None:
    print_cls = required(impl, "PrintAgent", "AG-18")
    ws = impl.Workspace()
    ws.set("alpha", 0, torch.tensor([1.0]))
    expect_raises(
        KeyError,
        "AG-18",
        "PrintAgent('gamma') on a workspace without 'gamma'",
        lambda: print_cls("gamma")(ws, t=0),
        "import torch\nws = impl.Workspace()\nws.set('alpha', 0, torch.tensor([1.0]))\n"
        "impl.PrintAgent('gamma')(ws, t=0)",
    )


@clause("AG-18")
def test_print_agent_follows_the_workspace_it_is_called_on(
    impl: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    printer = required(impl, "PrintAgent", "AG-18")()
    first, second = impl.Workspace(), impl.Workspace()
    first.set("a", 0, torch.tensor([1.0]))
    second.set("b", 0, torch.tensor([2.0]))
    printer(first, t=0)
    capsys.readouterr()
    printer(second, t=0)
    out = capsys.readouterr().out
    expect(
        _lines_in_order(out, [("b", str(torch.tensor([2.0])))])
        and not any(line.split()[0] == "a" for line in out.splitlines() if line.split()),
        "AG-18",
        f"PrintAgent() reused on a second workspace (variable 'b') printed {out!r}; want that "
        "workspace's variables",
        "import contextlib, io, torch\nprinter = impl.PrintAgent()\n"
        "first, second = impl.Workspace(), impl.Workspace()\n"
        "first.set('a', 0, torch.tensor([1.0]))\nsecond.set('b', 0, torch.tensor([2.0]))\n"
        "printer(first, t=0)\nout = io.StringIO()\nwith contextlib.redirect_stdout(out):\n"
        "    printer(second, t=0)\n"
        "print(repr(out.getvalue()))  # want a line with 'b' and tensor([2.]), none for 'a'",
    )


# ---------------------------------------------------------------------------------------------
# AG-19: EpisodesDone

_TRUTH_DTYPES = [torch.bool, torch.uint8, torch.int64, torch.float32, torch.bfloat16]


def _float_code(value: float) -> str:
    """``value`` as Python source (``float('nan')`` for NaN)."""
    return "float('nan')" if math.isnan(value) else repr(value)


def running_or(values: torch.Tensor) -> torch.Tensor:
    """The model of AG-19: out[t] = any(values[0..t] != 0), per entry."""
    truth = values != 0 if values.dtype != torch.bool else values
    out = torch.zeros_like(truth)
    seen = torch.zeros_like(truth[0])
    for t in range(truth.shape[0]):
        seen = seen | truth[t]
        out[t] = seen
    return out


@clause("AG-19")
@given(
    data=st.data(),
    time_size=st.integers(1, 5),
    batch=st.integers(1, 3),
    in_place=st.booleans(),
)
def test_episodes_done_is_a_running_or(
    impl: Any, data: st.DataObject, time_size: int, batch: int, in_place: bool
) -> None:
    done_cls = required(impl, "EpisodesDone", "AG-19")
    dtype = torch.bool if in_place else data.draw(st.sampled_from(_TRUTH_DTYPES))
    choices = [0.0, 1.0] if dtype == torch.bool else [0.0, 1.0, 2.0, -3.0]
    if dtype.is_floating_point:
        choices += [-0.0, float("nan")]
    flat = data.draw(
        st.lists(st.sampled_from(choices), min_size=time_size * batch, max_size=time_size * batch)
    )
    values = torch.tensor(flat).reshape(time_size, batch).to(dtype)
    ws = impl.Workspace()
    ws.set_full("d", values)
    out_var = "d" if in_place else "ever"
    impl.TemporalAgent(done_cls("d", out_var))(ws, n_steps=time_size)
    flat_code = ", ".join(_float_code(x) for x in flat)
    expect_equal_tensors(
        ws.get_full(out_var),
        running_or(values),
        "AG-19",
        f"EpisodesDone('d', {out_var!r}) from t=0 over {time_size} steps, d ({dtype}) = "
        f"{values.tolist()}",
        f"import torch\nvalues = torch.tensor([{flat_code}]).reshape({time_size}, {batch})"
        f".to({dtype})\nws = impl.Workspace()\nws.set_full('d', values)\n"
        f"impl.TemporalAgent(impl.EpisodesDone('d', {out_var!r}))(ws, n_steps={time_size})\n"
        f"print(ws.get_full({out_var!r}))  # want {running_or(values).tolist()}",
    )


@clause("AG-19")
def test_episodes_done_default_variables(impl: Any) -> None:
    done_cls = required(impl, "EpisodesDone", "AG-19")
    done = torch.tensor([[False, True], [True, False], [False, False]])
    ws = impl.Workspace()
    ws.set_full("env/done", done)
    impl.TemporalAgent(done_cls())(ws, n_steps=3)
    expect_equal_tensors(
        ws.get_full("env/done"),
        running_or(done),
        "AG-19",
        "EpisodesDone() on env/done",
        "import torch\nws = impl.Workspace()\n"
        "ws.set_full('env/done', torch.tensor([[False, True], [True, False], [False, False]]))\n"
        "impl.TemporalAgent(impl.EpisodesDone())(ws, n_steps=3)\n"
        f"print(ws.get_full('env/done'))  # want {running_or(done).tolist()}",
    )


@clause("AG-19")
def test_episodes_done_reads_the_previous_row(impl: Any) -> None:
    done_cls = required(impl, "EpisodesDone", "AG-19")
    ws = impl.Workspace()
    ws.set_full("d", torch.tensor([[False, False], [False, True]]))
    ws.set_full("ever", torch.tensor([[True, False], [False, False]]))  # row 0 written before
    done_cls("d", "ever")(ws, t=1)  # a fresh agent, called at t = 1 first
    expect_equal_tensors(
        ws.get("ever", 1),
        torch.tensor([True, True]),
        "AG-19",
        "a fresh EpisodesDone('d', 'ever') called at t=1 with ever[0] = [True, False] and "
        "d[1] = [False, True]: ever[1] is d[1] or ever[0]",
        "import torch\nws = impl.Workspace()\n"
        "ws.set_full('d', torch.tensor([[False, False], [False, True]]))\n"
        "ws.set_full('ever', torch.tensor([[True, False], [False, False]]))\n"
        "impl.EpisodesDone('d', 'ever')(ws, t=1)\n"
        "print(ws.get('ever', 1))  # want [True, True]",
    )


# ---------------------------------------------------------------------------------------------
# AG-20: CopyTAgent


@clause("AG-20")
@pytest.mark.parametrize("detach", [False, True])
def test_copy_t_agent_copies_rows(impl: Any, detach: bool) -> None:
    copy_cls = required(impl, "CopyTAgent", "AG-20")
    w = torch.nn.Parameter(torch.tensor(2.0))
    ws = impl.Workspace()
    for t in range(3):
        ws.set("x", t, w * torch.tensor([t, -t], dtype=torch.float32))
    impl.TemporalAgent(copy_cls("x", "y", detach=detach))(ws, n_steps=3)
    repro = (
        "import torch\nw = torch.nn.Parameter(torch.tensor(2.0))\nws = impl.Workspace()\n"
        "for t in range(3):\n    ws.set('x', t, w * torch.tensor([t, -t], dtype=torch.float32))\n"
        f"impl.TemporalAgent(impl.CopyTAgent('x', 'y', detach={detach}))(ws, n_steps=3)\n"
    )
    expect_equal_tensors(
        ws.get_full("y").detach(),
        ws.get_full("x").detach(),
        "AG-20",
        f"CopyTAgent('x', 'y', detach={detach}) over t = 0..2",
        repro + "print(ws.get_full('y'))\nprint(ws.get_full('x'))  # want the same values",
    )
    expect(
        ws.get("y", 2).requires_grad is not detach,
        "AG-20",
        f"CopyTAgent(detach={detach}): row 2 of 'y' requires_grad = {ws.get('y', 2).requires_grad}",
        repro + f"print(ws.get('y', 2).requires_grad)  # want {not detach}",
    )


@clause("AG-20")
@pytest.mark.parametrize("detach", [False, True])
def test_copy_t_agent_without_t_copies_the_variable(impl: Any, detach: bool) -> None:
    copy_cls = required(impl, "CopyTAgent", "AG-20")
    w = torch.nn.Parameter(torch.tensor(3.0))
    ws = impl.Workspace()
    ws.set_full("x", w * torch.arange(8.0).reshape(4, 2))
    copy_cls("x", "y", detach=detach)(ws)
    repro = (
        "import torch\nw = torch.nn.Parameter(torch.tensor(3.0))\nws = impl.Workspace()\n"
        "ws.set_full('x', w * torch.arange(8.0).reshape(4, 2))\n"
        f"impl.CopyTAgent('x', 'y', detach={detach})(ws)\n"
    )
    expect_equal_tensors(
        ws.get_full("y").detach(),
        ws.get_full("x").detach(),
        "AG-20",
        f"CopyTAgent('x', 'y', detach={detach})(ws) without t",
        repro + "print(ws.get_full('y'))\nprint(ws.get_full('x'))  # want the same values",
    )
    expect(
        ws.get_full("y").requires_grad is not detach,
        "AG-20",
        f"CopyTAgent(detach={detach}) without t: 'y' requires_grad = "
        f"{ws.get_full('y').requires_grad}",
        repro + f"print(ws.get_full('y').requires_grad)  # want {not detach}",
    )


# ---------------------------------------------------------------------------------------------
# AG-21: convention classes


#: the bbrl_algos pattern: a critic combining the three convention classes
CRITIC_SOURCE = """\
import torch
class NamedCritic(impl.TimeAgent, impl.SeedableAgent, impl.SerializableAgent):
    def __init__(self, name="critic", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.name = name
        self.lin = torch.nn.Linear(1, 1)
    def set_name(self, name):
        self.name = name
        return self
    def forward(self, t, **kwargs):
        self.set((f"{self.name}/q", t), self.lin(torch.ones(2, 1)).squeeze(-1))
"""


def _critic_class(impl: Any) -> type[Any]:
    """``NamedCritic`` of CRITIC_SOURCE (each base required)."""
    for name in ("TimeAgent", "SeedableAgent", "SerializableAgent"):
        required(impl, name, "AG-21")
    scope: dict[str, Any] = {"impl": impl}
    exec(CRITIC_SOURCE, scope)
    critic_cls: type[Any] = scope["NamedCritic"]
    return critic_cls


@clause("AG-21")
def test_convention_classes_combine(impl: Any) -> None:
    critic_cls = _critic_class(impl)
    critic = critic_cls("q1", verbose=True)
    repro = CRITIC_SOURCE + "critic = NamedCritic('q1', verbose=True)\n"
    expect(
        isinstance(critic, impl.Agent),
        "AG-21",
        "the combined class is not an impl.Agent",
        repro + "print(isinstance(critic, impl.Agent))  # want True",
    )
    expect(
        critic.get_name() == "q1",
        "AG-21",
        f"get_name() = {critic.get_name()!r}, want 'q1'",
        repro + "print(critic.get_name())  # want q1",
    )
    expect(
        critic.verbose is True,
        "AG-21",
        "verbose=True did not reach Agent",
        repro + "print(critic.verbose)  # want True",
    )
    expect(
        critic.serialize() is critic,
        "AG-21",
        "serialize() is not the agent itself",
        repro + "print(critic.serialize() is critic)  # want True",
    )
    seeded = critic_cls("q2")
    repro += "seeded = NamedCritic('q2')\n"
    expect(
        seeded.seed(5) is seeded,
        "AG-21",
        "SeedableAgent.seed(s) did not return the agent",
        repro + "print(seeded.seed(5) is seeded)  # want True",
    )
    critic_cls("q3", seed=4)  # SeedableAgent accepts seed=
    ws = impl.Workspace()
    impl.TemporalAgent(impl.Agents(critic, seeded))(ws, n_steps=2)
    expect(
        sorted(ws.keys()) == ["q1/q", "q2/q"],
        "AG-21",
        f"the critics wrote {list(ws.keys())}",
        repro + "seeded.seed(5)\nNamedCritic('q3', seed=4)\nws = impl.Workspace()\n"
        "impl.TemporalAgent(impl.Agents(critic, seeded))(ws, n_steps=2)\n"
        "print(sorted(ws.keys()))  # want ['q1/q', 'q2/q']",
    )


#: a user class placed after a convention class in the MRO: it takes a keyword of its own and
#: passes the others on, as AG-21's cooperative inheritance asks of every class
USER_BASE_SOURCE = """\
class UserBase(impl.Agent):
    def __init__(self, hidden=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
"""


@clause("AG-21")
@pytest.mark.parametrize("name", ["TimeAgent", "SeedableAgent", "SerializableAgent"])
def test_convention_classes_pass_on_what_they_do_not_use(impl: Any, name: str) -> None:
    """``class Mixed(impl.<name>, UserBase)``: keywords for UserBase (``hidden``) and for Agent
    (``name``, ``verbose``) go through the convention class to the classes after it."""
    required(impl, name, "AG-21")
    seed = ", seed=1" if name == "SeedableAgent" else ""
    source = (
        USER_BASE_SOURCE
        + f"class Mixed(impl.{name}, UserBase):\n    pass\n"
        + f"mixed = Mixed(hidden=5, name='m', verbose=True{seed})\n"
    )
    repro = source + "print(mixed.hidden, mixed.get_name(), mixed.verbose)  # want 5 m True"
    scope: dict[str, Any] = {"impl": impl}
    try:
        exec(source, scope)
    except TypeError as exc:
        expect(False, "AG-21", f"Mixed(hidden=5, name='m', verbose=True{seed}) raised {exc}", repro)
    mixed = scope["mixed"]
    got = (mixed.hidden, mixed.get_name(), mixed.verbose)
    expect(
        got == (5, "m", True),
        "AG-21",
        f"(hidden, get_name(), verbose) = {got}; want (5, 'm', True)",
        repro,
    )


@clause("AG-21")
@pytest.mark.parametrize("name", ["TimeAgent", "SerializableAgent"])
def test_convention_classes_seed_returns_the_agent(impl: Any, name: str) -> None:
    agent = required(impl, name, "AG-21")()
    returned = agent.seed(3)
    expect(
        returned is agent,
        "AG-21",
        f"{name}().seed(3) returned {returned!r}",
        f"agent = impl.{name}()\nprint(agent.seed(3) is agent)  # want True",
    )


# ---------------------------------------------------------------------------------------------
# AG-22..AG-24: configuration helpers


class Point:
    def __init__(self, x: int = 0, y: int = 0) -> None:
        self.x, self.y = x, y


#: what the reproducers of the configuration helpers start with: the module of ``config_module``
CONFIG_SOURCE = (
    "import sys, types\n"
    + inspect.getsource(Point)
    + "module = types.ModuleType('bbrl_conformance_probe_config')\n"
    "module.Point, module.CONSTANT = Point, 3\nsys.modules[module.__name__] = module\n"
)


@pytest.fixture
def config_module() -> Iterator[str]:
    """A module ``bbrl_conformance_probe_config`` defining ``Point`` and ``CONSTANT``."""
    module = types.ModuleType("bbrl_conformance_probe_config")
    module.__dict__.update(Point=Point, CONSTANT=3)
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


@clause("AG-22", "AG-23")
def test_configuration_helpers(impl: Any, config_module: str) -> None:
    get_class = required(impl, "get_class", "AG-22")
    get_arguments = required(impl, "get_arguments", "AG-23")
    instantiate_class = required(impl, "instantiate_class", "AG-23")
    cfg = {"classname": f"{config_module}.Point", "x": 4, "y": -1}
    kept = dict(cfg)
    repro = CONFIG_SOURCE + f"cfg = {cfg!r}\n"
    expect(
        get_class(cfg) is Point,
        "AG-22",
        f"get_class({cfg}) = {get_class(cfg)!r}",
        repro + "print(impl.get_class(cfg), impl.get_class(cfg) is Point)  # want Point, True",
    )
    space = types.SimpleNamespace(classname="torch.optim.SGD")
    expect(
        get_class(space) is torch.optim.SGD,
        "AG-22",
        "get_class(obj with .classname)",
        "import torch, types\nspace = types.SimpleNamespace(classname='torch.optim.SGD')\n"
        "print(impl.get_class(space))  # want torch.optim.SGD",
    )
    arguments = get_arguments(cfg)
    expect(
        type(arguments) is dict and arguments == {"x": 4, "y": -1},
        "AG-23",
        f"get_arguments({cfg}) = {arguments!r}",
        repro + "arguments = impl.get_arguments(cfg)\n"
        "print(type(arguments).__name__, arguments)  # want dict {'x': 4, 'y': -1}",
    )
    arguments["x"] = 0
    point = instantiate_class(cfg)
    repro += (
        "arguments = impl.get_arguments(cfg)\narguments['x'] = 0\n"
        "point = impl.instantiate_class(cfg)\n"
    )
    expect(
        isinstance(point, Point) and (point.x, point.y) == (4, -1),
        "AG-23",
        f"instantiate_class({cfg}) = {vars(point) if isinstance(point, Point) else point!r}",
        repro + "print(type(point).__name__, vars(point))  # want Point {'x': 4, 'y': -1}",
    )
    expect(
        cfg == kept,
        "AG-23",
        f"the helpers changed their argument: {cfg}",
        repro + f"impl.get_class(cfg)\nprint(cfg)  # want {kept}",
    )
    expect(
        get_arguments({"lr": 0.1}) == {"lr": 0.1},
        "AG-23",
        "get_arguments without classname",
        "print(impl.get_arguments({'lr': 0.1}))  # want {'lr': 0.1}",
    )


@clause("AG-22")
def test_get_class_returns_any_attribute(impl: Any, config_module: str) -> None:
    """AG-22 returns the module's attribute, whatever it is: a constant too (only calling it,
    as instantiate_class does, needs a callable)."""
    get_class = required(impl, "get_class", "AG-22")
    cfg = {"classname": f"{config_module}.CONSTANT"}
    repro = CONFIG_SOURCE + f"print(impl.get_class({cfg!r}))  # want 3"
    try:
        found = get_class(cfg)
    except Exception as exc:
        expect(False, "AG-22", f"get_class({cfg}) raised {type(exc).__name__}: {exc}", repro)
    expect(found == 3, "AG-22", f"get_class({cfg}) = {found!r}, want 3", repro)


@clause("AG-22")
def test_get_class_reads_any_mapping(impl: Any) -> None:
    get_class = required(impl, "get_class", "AG-22")
    frozen = types.MappingProxyType({"classname": "collections.OrderedDict"})
    found = get_class(frozen)
    expect(
        found is __import__("collections").OrderedDict,
        "AG-22",
        f"get_class(MappingProxyType({{'classname': 'collections.OrderedDict'}})) = {found!r}",
        "import types\n"
        "frozen = types.MappingProxyType({'classname': 'collections.OrderedDict'})\n"
        "print(impl.get_class(frozen))  # want collections.OrderedDict",
    )


@clause("AG-24")
@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"x": 1}, KeyError),
        (types.SimpleNamespace(x=1), AttributeError),
        ({"classname": "Point"}, ValueError),
        ({"classname": "bbrl_conformance_no_such_module.Point"}, ImportError),
    ],
    ids=["missing-key", "missing-attribute", "no-dot", "no-module"],
)
def test_configuration_errors(impl: Any, arguments: object, error: type[Exception]) -> None:
    get_class = required(impl, "get_class", "AG-24")
    code = repr(arguments)
    if isinstance(arguments, types.SimpleNamespace):
        code = f"types.SimpleNamespace(**{vars(arguments)!r})"
    expect_raises(
        error,
        "AG-24",
        f"get_class({arguments!r})",
        lambda: get_class(arguments),
        f"import types\nimpl.get_class({code})",
    )


@clause("AG-27")
@pytest.mark.parametrize("classname", ["torch.", ".torch", "torch..nn", "torch.nn.", "."])
def test_classname_with_an_empty_part(impl: Any, classname: str) -> None:
    """A leading, trailing or doubled dot makes no dotted path: ValueError, not the ImportError
    or AttributeError of a lookup of the empty name."""
    get_class = required(impl, "get_class", "AG-27")
    expect_raises(
        ValueError,
        "AG-27",
        f"get_class({{'classname': {classname!r}}})",
        lambda: get_class({"classname": classname}),
        f"impl.get_class({{'classname': {classname!r}}})",
    )


@clause("AG-24")
@pytest.mark.parametrize("classname", [3, "bbrl_conformance_probe_config.Missing"])
def test_configuration_errors_typed(impl: Any, config_module: str, classname: object) -> None:
    get_class = required(impl, "get_class", "AG-24")
    error: type[Exception] = ValueError if classname == 3 else ImportError
    expect_raises(
        error,
        "AG-24",
        f"get_class({{'classname': {classname!r}}})",
        lambda: get_class({"classname": classname}),
        CONFIG_SOURCE + f"impl.get_class({{'classname': {classname!r}}})",
    )
