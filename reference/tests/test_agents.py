"""Agent, Agents, TemporalAgent: spec/agents.md (AG-n, TA-n)."""

from __future__ import annotations

import pytest
import torch
from bbrl_reference import (
    Agent,
    AgentNotBoundError,
    Agents,
    DTypeError,
    InvalidArgumentError,
    TemporalAgent,
    TimeIndexError,
    UnknownVariableError,
    Workspace,
)


class Writer(Agent):
    """Writes x[t] = t + offset and logs its calls."""

    def __init__(self, offset: int = 0, name: str | None = None) -> None:
        super().__init__(name)
        self.offset = offset
        self.calls: list[tuple[int, dict[str, object]]] = []
        self.lin = torch.nn.Linear(1, 1)

    def forward(self, t: int, **kwargs: object) -> None:
        self.calls.append((t, dict(kwargs)))
        assert self.workspace is not None  # test-side check of AG-2
        self.set((f"x{self.offset}", t), torch.full((2,), t + self.offset))


class Reader(Agent):
    def forward(self, t: int, **kwargs: object) -> None:
        self.row = self.get(("x0", t))
        self.full = self.get("x0")


class Stopper(Agent):
    """Sets 'stop' True for env b from time stop_at[b] on."""

    def __init__(self, stop_at: list[int]) -> None:
        super().__init__()
        self.stop_at = stop_at
        self.ts: list[int] = []

    def forward(self, t: int, **kwargs: object) -> None:
        self.ts.append(t)
        self.set(("stop", t), torch.tensor([t >= s for s in self.stop_at]))


def test_call_binds_and_forwards_kwargs() -> None:
    """AG-2: forward gets exactly the kwargs, self.workspace is bound during the call only."""
    ws = Workspace()
    a = Writer()
    a(ws, t=3, stochastic=True)
    assert a.calls == [(3, {"stochastic": True})]
    assert a.workspace is None
    assert ws.get("x0", 3).tolist() == [3, 3]


def test_get_and_set_inside_forward() -> None:
    """AG-3: self.get((n, t)), self.get(n), self.set((n, t), v) map to the workspace."""
    ws = Workspace()
    Writer()(ws, t=0)
    Writer()(ws, t=1)
    r = Reader()
    r(ws, t=1)
    assert r.row.tolist() == [1, 1]
    assert torch.equal(r.full, ws["x0"])


def test_agents_order_and_kwargs() -> None:
    """AG-4: Agents calls each child once, in order, same workspace and kwargs."""
    log: list[str] = []

    class Named(Agent):
        def forward(self, t: int, **kwargs: object) -> None:
            log.append(f"{self.get_name()}:{t}:{sorted(kwargs)}")

    ws = Workspace()
    Agents(Named("a"), Named("b"), Named("c"))(ws, t=2, k=1)
    assert log == ["a:2:['k']", "b:2:['k']", "c:2:['k']"]


def test_parameters_are_registered() -> None:
    """AG-5: Agent is an nn.Module; Agents and TemporalAgent expose children's parameters."""
    a, b = Writer(0), Writer(1)
    assert isinstance(a, torch.nn.Module)
    assert len(list(Agents(a, b).parameters())) == 4
    assert len(list(TemporalAgent(Agents(a, b)).parameters())) == 4


def test_seed_returns_self() -> None:
    """AG-6: seed returns the agent itself, for every agent kind; negative seeds ValueError."""
    a = Writer()
    agents = Agents(a)
    t_agent = TemporalAgent(agents)
    assert a.seed(1) is a and agents.seed(1) is agents and t_agent.seed(2) is t_agent
    with pytest.raises(ValueError):
        a.seed(-1)
    with pytest.raises(ValueError):
        agents.seed(-1)


def test_negative_seed_is_refused_before_any_child_sees_it() -> None:
    """AG-25: Agents and TemporalAgent refuse s < 0 themselves, also over a child whose own
    seed accepts anything."""

    class Lenient(Agent):
        def __init__(self) -> None:
            super().__init__()
            self.seeds: list[int] = []

        def seed(self, seed: int) -> Lenient:
            self.seeds.append(seed)
            return self

    child = Lenient()
    for parent in (Agents(child), TemporalAgent(child), TemporalAgent(Agents(child))):
        with pytest.raises(ValueError):
            parent.seed(-1)
    assert child.seeds == []
    TemporalAgent(child).seed(0)
    assert child.seeds == [0]


def test_get_set_outside_a_call() -> None:
    """AG-7: get/set with no bound workspace raise RuntimeError."""
    a = Writer(name="w")
    with pytest.raises(AgentNotBoundError, match="'w'"):
        a.get(("x", 0))
    with pytest.raises(RuntimeError, match=r"'w'"):
        a.set(("x", 0), torch.zeros(2))
    with pytest.raises(RuntimeError):
        Reader().get("x")


def test_bad_arguments() -> None:
    """ERR-4 style: wrong argument types raise TypeError."""
    a = Writer()
    with pytest.raises(TypeError, match="Workspace"):
        a("not a workspace")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Agent"):
        Agents(a, "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Agent"):
        TemporalAgent("x")  # type: ignore[arg-type]

    class BadSet(Agent):
        def forward(self, t: int, **kwargs: object) -> None:
            self.set(("x", t, 0), torch.zeros(2))  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="tuple"):
        BadSet()(Workspace(), t=0)


def test_workspace_unbound_after_error() -> None:
    """AG-2: the workspace is unbound even when forward raises."""

    class Boom(Agent):
        def forward(self, t: int, **kwargs: object) -> None:
            raise ZeroDivisionError

    boom = Boom()
    with pytest.raises(ZeroDivisionError):
        boom(Workspace(), t=0)
    assert boom.workspace is None


def test_temporal_agent_steps() -> None:
    """TA-1: n_steps from t0 calls t0..t0+n-1 in order, kwargs forwarded; t defaults to 0."""
    a = Writer()
    ws = Workspace()
    TemporalAgent(a)(ws, n_steps=3, mode="x")
    TemporalAgent(a)(ws, t=5, n_steps=2)
    assert [t for t, _ in a.calls] == [0, 1, 2, 5, 6]
    assert a.calls[0][1] == {"mode": "x"} and a.calls[3][1] == {}
    assert ws["x0"][:, 0].tolist() == [0, 1, 2, 0, 0, 5, 6]


def test_stop_variable_needs_all_and_keeps_row() -> None:
    """TA-2: stops after the first step where the variable is True for all envs."""
    s = Stopper([2, 4])
    ws = Workspace()
    TemporalAgent(s)(ws, stop_variable="stop")
    assert s.ts == [0, 1, 2, 3, 4] and ws.time_size() == 5


def test_stop_variable_and_n_steps_first_wins() -> None:
    """TA-3: with both limits the first reached wins."""
    s = Stopper([3, 3])
    TemporalAgent(s)(Workspace(), n_steps=2, stop_variable="stop")
    assert s.ts == [0, 1]
    s2 = Stopper([3, 3])
    TemporalAgent(s2)(Workspace(), n_steps=10, stop_variable="stop")
    assert s2.ts == [0, 1, 2, 3]


def test_bad_step_arguments_run_nothing() -> None:
    """TA-4: n_steps <= 0 or neither limit raises ValueError before any step."""
    a = Writer()
    ws = Workspace()
    for kwargs in ({"n_steps": 0}, {"n_steps": -2}, {}):
        with pytest.raises(InvalidArgumentError):
            TemporalAgent(a)(ws, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TemporalAgent(a)(ws, t=-1, n_steps=1)
    with pytest.raises(TypeError):
        TemporalAgent(a)(ws, stop_variable=3)  # type: ignore[arg-type]
    assert a.calls == [] and list(ws.keys()) == []


def test_stop_variable_truth_is_nonzero() -> None:
    """TA-2, TA-6: a real stop variable stops when every entry is nonzero (NaN included)."""

    class FloatStop(Agent):
        def __init__(self, values: list[list[float]], dtype: torch.dtype) -> None:
            super().__init__()
            self.values, self.dtype = values, dtype

        def forward(self, t: int, **kwargs: object) -> None:
            self.set(("stop", t), torch.tensor(self.values[t]).to(self.dtype))

    nan = float("nan")
    for dtype in (torch.float32, torch.bfloat16, torch.int64, torch.uint8):
        ws = Workspace()
        TemporalAgent(FloatStop([[0, 0], [1, 0], [2, -1], [0, 0]], dtype))(ws, stop_variable="stop")
        assert ws.time_size() == 3, dtype
    ws = Workspace()
    TemporalAgent(FloatStop([[0.0], [nan]], torch.float32))(ws, stop_variable="stop")
    assert ws.time_size() == 2


def test_stop_variable_checks_before_and_after_steps() -> None:
    """TA-7, TA-8: a held stop variable of a bad dtype raises before any step; a missing one,
    one without row t, or one of a bad dtype written by the step raise after it."""
    ws = Workspace()
    ws.set("s", 0, torch.zeros(2, dtype=torch.complex64))
    writer = Writer()
    with pytest.raises(DTypeError, match="before the first step"):
        TemporalAgent(writer)(ws, stop_variable="s")
    assert writer.calls == [] and "x0" not in ws
    with pytest.raises(UnknownVariableError, match=r"'nope'.*t=0"):
        TemporalAgent(writer)(Workspace(), stop_variable="nope")
    assert [t for t, _ in writer.calls] == [0]

    class Ahead(Agent):  # writes 'stop' at t + 3 only: no row t = 0 ... before
        def forward(self, t: int, **kwargs: object) -> None:
            self.set(("late", 0), torch.zeros(1, dtype=torch.bool))
            self.set(("bad", t), torch.zeros(1, dtype=torch.complex64))

    with pytest.raises(TimeIndexError, match=r"'late'.*t=2"):
        TemporalAgent(Ahead())(Workspace(), t=2, stop_variable="late")
    with pytest.raises(DTypeError, match="after the step at t=0"):
        TemporalAgent(Ahead())(Workspace(), stop_variable="bad")


def test_never_shrinks() -> None:
    """TA-5: rows the run does not reach keep their values."""
    ws = Workspace()
    TemporalAgent(Writer())(ws, n_steps=6)
    TemporalAgent(Writer(offset=0))(ws, t=1, n_steps=2)
    assert ws.time_size() == 6 and ws["x0"][:, 0].tolist() == [0, 1, 2, 3, 4, 5]


def test_base_forward_is_not_implemented() -> None:
    """AG-2: an Agent without forward raises NotImplementedError when called."""
    with pytest.raises(NotImplementedError):
        Agent()(Workspace(), t=0)


class CountingCall(Agent):
    """Overrides __call__ (TemporalAgent must then call it at every step)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __call__(self, workspace: Workspace, **kwargs: object) -> None:
        self.count += 1
        super().__call__(workspace, **kwargs)

    def forward(self, t: int, **kwargs: object) -> None:
        self.set(("c", t), torch.zeros(2))


def test_temporal_agent_binding_of_nested_agents() -> None:
    """TA-1, AG-2: nested, repeated and __call__-overriding agents are bound during the run
    only, also when a step raises."""
    a, b, c = Writer(), Writer(offset=1), CountingCall()
    ws = Workspace()
    TemporalAgent(Agents(a, Agents(b, a)))(ws, n_steps=2)
    assert [t for t, _ in a.calls] == [0, 0, 1, 1]
    assert a.workspace is None and b.workspace is None
    TemporalAgent(Agents(a, c))(ws, n_steps=3)
    assert c.count == 3 and c.workspace is None and a.workspace is None

    class FailAt(Agent):
        def forward(self, t: int, **kwargs: object) -> None:
            assert self.workspace is ws
            if t == 1:
                raise ZeroDivisionError

    fail = FailAt()
    with pytest.raises(ZeroDivisionError):
        TemporalAgent(Agents(a, fail))(ws, n_steps=3)
    assert fail.workspace is None and a.workspace is None
    with pytest.raises(TypeError, match="Workspace"):
        TemporalAgent(a)(object(), n_steps=1)  # type: ignore[arg-type]
    assert a.workspace is None


class Once(Agent):
    """Writes ``c`` at ``t == 0`` only; raises at ``t == fail_at``."""

    def __init__(self, fail_at: int = -1) -> None:
        super().__init__()
        self.fail_at = fail_at

    def forward(self, t: int, **kwargs: object) -> None:
        if t == self.fail_at:
            raise RuntimeError("planned failure")
        if t == 0:
            self.set(("c", t), torch.ones(2))


def test_a_run_of_n_steps_grows_each_buffer_once() -> None:
    # Memory, not behaviour: a buffer that must grow during a run of n_steps grows to the run's
    # last row at once; one written at t=0 only keeps its first small buffer.
    ws = Workspace()
    TemporalAgent(Agents(Writer(), Once()))(ws, t=0, n_steps=200)
    x, c = ws._vars["x0"], ws._vars["c"]
    assert (x.capacity, x.size) == (200, 200)
    assert (c.capacity, c.size) == (16, 1)
    assert ws["x0"][:, 0].tolist() == list(range(200))
    assert ws._reserve == 0  # only while the run lasts


def test_the_reserve_ends_with_the_run() -> None:
    ws = Workspace()
    with pytest.raises(RuntimeError, match="planned failure"):
        TemporalAgent(Agents(Writer(), Once(fail_at=20)))(ws, t=0, n_steps=500)
    assert ws._reserve == 0
    assert ws._vars["x0"].capacity == 500  # grew at t=16 to the run's end
    stop = Workspace()
    stop.set("stop", 40, torch.ones(2, dtype=torch.bool))
    TemporalAgent(Writer())(stop, t=0, n_steps=10**9, stop_variable="stop")
    assert stop._vars["x0"].capacity == 64  # a stop variable may end the run: plain doubling
