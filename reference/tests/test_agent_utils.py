"""bbrl's agent conveniences and configuration helpers: spec/agents.md AG-8..AG-24."""

from __future__ import annotations

import os
import pickle
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from bbrl_reference import (
    Agent,
    AgentNotBoundError,
    Agents,
    ClassNotFoundError,
    CopyTAgent,
    DTypeError,
    EpisodesDone,
    FileFormatError,
    InvalidArgumentError,
    KWAgentWrapper,
    MissingKeyError,
    PrintAgent,
    SeedableAgent,
    SerializableAgent,
    ShapeError,
    TemporalAgent,
    TimeAgent,
    Workspace,
    get_arguments,
    get_class,
    instantiate_class,
)


class Log(Agent):
    """Logs its calls and writes x[t] = t."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self.calls: list[tuple[int, dict[str, object]]] = []

    def forward(self, t: int, **kwargs: object) -> None:
        self.calls.append((t, dict(kwargs)))
        self.set(("x", t), torch.full((2,), float(t)))


class Net(Agent):
    steps: torch.Tensor

    def __init__(self, width: int = 3) -> None:
        super().__init__(name="net")
        self.lin = torch.nn.Linear(2, width)
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))


def test_names_verbose_and_prefix() -> None:
    """AG-8, AG-9, AG-11: name/verbose keywords, get_name/set_name/name, with_prefix."""
    a = Agent(name="a", verbose=True)
    assert a.get_name() == "a" and a.name == "a" and a.verbose is True
    assert Agent().get_name() is None and Agent().verbose is False and Agent("p").name == "p"
    assert a.set_name("b") is a and a.get_name() == "b"
    a.name = "c"
    assert a.get_name() == "c"
    assert a.prefix == "" and a.with_prefix("env2/") is a and a.prefix == "env2/"
    for agent in (Agents(a, name="n", verbose=True), TemporalAgent(a, name="n", verbose=True)):
        assert agent.get_name() == "n" and agent.verbose is True


def test_get_by_name_walks_the_tree() -> None:
    """AG-10: children first, then the agent; repeated agents repeated; wrappers searched."""
    a, b = Log("w"), Log("w")
    inner = Agents(a, b)
    tree = Agents(a, TemporalAgent(inner, name="w"), KWAgentWrapper(a), name="w")
    assert tree.get_by_name("w") == [a, a, b, tree.agents[1], a, tree]
    assert tree.get_by_name("none") == [] and Log().get_by_name("w") == []
    with pytest.raises(TypeError, match="name"):
        tree.get_by_name(None)  # type: ignore[arg-type]


def test_set_with_a_name_sets_the_full_variable() -> None:
    """AG-12: self.set(name, full) is workspace.set_full."""

    class Full(Agent):
        def forward(self, t: int, **kwargs: object) -> None:
            self.set("y", torch.arange(6.0).reshape(3, 2))

    ws = Workspace()
    Full()(ws, t=0)
    assert torch.equal(ws["y"], torch.arange(6.0).reshape(3, 2))


def test_agents_children_can_be_read_and_replaced() -> None:
    """AG-13: agents[k], Agents[k], TemporalAgent.agent; replacing a child takes effect."""
    a, b, c = Log(), Log(), Log()
    group = Agents(a, b)
    assert group[0] is a and group.agents[1] is b and TemporalAgent(group).agent is group
    group.agents[1] = c
    TemporalAgent(group)(Workspace(), n_steps=2)
    assert len(a.calls) == 2 and b.calls == [] and len(c.calls) == 2


def test_save_and_load_model(tmp_path: Path) -> None:
    """AG-14, AG-15: a weights-only state dict; load_model returns a loaded deep copy."""
    net = Net()
    with torch.no_grad():
        net.lin.weight.fill_(0.5)
    net.steps += 7
    path = tmp_path / "net.pt"
    net.save_model(path)
    state = torch.load(path, weights_only=True)
    assert set(state) == set(net.state_dict())
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())
    assert os.listdir(tmp_path) == ["net.pt"]
    fresh = Net()
    loaded = fresh.load_model(str(path))
    assert type(loaded) is Net and loaded is not fresh
    assert torch.equal(loaded.lin.weight, net.lin.weight) and int(loaded.steps) == 7
    assert not torch.equal(fresh.lin.weight, net.lin.weight) and int(fresh.steps) == 0

    class Loader(Agent):  # load_model while bound: the copy is not bound, nor the workspace
        def forward(self, t: int, **kwargs: object) -> None:
            self.results = [Net().load_model(path), self.load_model(inner_path)]

        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(1, 1)

    inner_path = tmp_path / "loader.pt"
    loader = Loader()
    loader.save_model(inner_path)
    ws = Workspace()
    loader(ws, t=0)
    assert [agent.workspace for agent in loader.results] == [None, None]
    assert loader.workspace is None

    class RootLoader(Agent):  # the root's load_model during a run: the leaves are bound
        def forward(self, t: int, **kwargs: object) -> None:
            self.results = [tree.load_model(inner_path)]

    leaf = RootLoader()
    tree = TemporalAgent(Agents(leaf))
    tree.save_model(inner_path)
    tree(Workspace(), t=0, n_steps=1)
    copies = [m for m in leaf.results[0].modules() if isinstance(m, Agent)]
    assert len(copies) == 3 and all(agent.workspace is None for agent in copies)


def test_load_model_rejects_bad_files(tmp_path: Path) -> None:
    """AG-16: unreadable, pickled-module, non-mapping, key, shape and dtype mismatches."""
    net = Net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    cases: list[tuple[object, type[Exception]]] = [
        (b"not a torch file", ValueError),
        ([torch.zeros(1)], FileFormatError),
        ({**net.state_dict(), "extra": torch.zeros(1)}, MissingKeyError),
        ({k: v for k, v in net.state_dict().items() if k != "steps"}, KeyError),
        ({**net.state_dict(), "lin.bias": torch.zeros(4)}, ShapeError),
        ({**net.state_dict(), "steps": torch.zeros(())}, DTypeError),
        ({**net.state_dict(), "steps": 3}, FileFormatError),
        ({**net.state_dict(), "lin.weight": net.lin.weight.detach().to_sparse()}, FileFormatError),
        ({**net.state_dict(), "lin.weight": net.lin.weight.detach().to("meta")}, FileFormatError),
    ]
    for i, (content, error) in enumerate(cases):
        path = tmp_path / f"bad{i}.pt"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            torch.save(content, path)
        with pytest.raises(error):
            net.load_model(path)
    module_file = tmp_path / "module.pt"
    torch.save(net, module_file)  # bbrl 1.0.1's save_model: a pickled module
    with pytest.raises(ValueError, match="state dict"):
        net.load_model(module_file)
    with pytest.raises(FileNotFoundError):
        net.load_model(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="path"):
        net.load_model(3)  # type: ignore[arg-type]
    assert all(torch.equal(net.state_dict()[k], v) for k, v in before.items())


def test_load_model_hands_over_extra_state(tmp_path: Path) -> None:
    """AG-15: entries that are not tensors (get_extra_state) are loaded by torch as usual."""

    class Extra(Agent):
        def __init__(self) -> None:
            super().__init__()
            self.value = 1

        def get_extra_state(self) -> object:
            return {"value": self.value}

        def set_extra_state(self, state: object) -> None:
            assert isinstance(state, dict)
            self.value = int(state["value"])

    saved = Extra()
    saved.value = 5
    saved.save_model(tmp_path / "e.pt")
    assert Extra().load_model(tmp_path / "e.pt").value == 5


def test_kw_agent_wrapper() -> None:
    """AG-17: the fixed keywords are added; a clash is a TypeError before the agent runs."""
    inner = Log()
    wrapper = KWAgentWrapper(inner, stochastic=False)
    ws = Workspace()
    TemporalAgent(wrapper)(ws, n_steps=2, epsilon=0.1)
    assert inner.calls == [(t, {"epsilon": 0.1, "stochastic": False}) for t in (0, 1)]
    assert inner.workspace is None and wrapper.wrapped is inner
    with pytest.raises(TypeError, match="stochastic"):
        wrapper(ws, t=5, stochastic=True)
    assert len(inner.calls) == 2
    group = Agents(Log(), Log())  # a wrapped Agents runs as itself (bbrl calls its forward)
    KWAgentWrapper(group, k=1)(ws, t=0)
    with pytest.raises(TypeError, match="Agent"):
        KWAgentWrapper("x")  # type: ignore[arg-type]
    with pytest.raises(AgentNotBoundError):
        wrapper.forward(0)
    net = Net()
    assert list(KWAgentWrapper(net).parameters()) == list(net.parameters())


def test_print_agent(capsys: pytest.CaptureFixture[str]) -> None:
    """AG-18: prints each named variable's row t (or every variable), writes nothing."""
    ws = Workspace()
    ws.set("a", 0, torch.tensor([1.5]))
    ws.set("b", 0, torch.tensor([True]))
    PrintAgent("b")(ws, t=0)
    PrintAgent()(ws, t=0)
    assert capsys.readouterr().out.splitlines() == [
        f"b = {torch.tensor([True])}",
        f"a = {torch.tensor([1.5])}",
        f"b = {torch.tensor([True])}",
    ]
    assert list(ws.keys()) == ["a", "b"]
    with pytest.raises(KeyError):
        PrintAgent("a", "zz")(ws, t=0)
    assert capsys.readouterr().out == ""
    with pytest.raises(TypeError):
        PrintAgent(3)  # type: ignore[arg-type]
    with pytest.raises(AgentNotBoundError):
        PrintAgent().forward(0)


def test_episodes_done() -> None:
    """AG-19: out[t] = truth(in[t]) or out[t-1], as bool; in place or into another variable."""
    done = torch.tensor([[False, True], [True, False], [False, False]])
    ws = Workspace()
    ws.set_full("env/done", done)
    TemporalAgent(EpisodesDone())(ws, n_steps=3)
    assert ws["env/done"].tolist() == [[False, True], [True, True], [True, True]]
    ws = Workspace()
    ws.set_full("d", torch.tensor([[0.0, 0.0], [float("nan"), 0.0], [0.0, 2.0]]))
    TemporalAgent(EpisodesDone("d", "ever"))(ws, n_steps=3)
    assert ws["ever"].tolist() == [[False, False], [True, False], [True, True]]
    assert ws["ever"].dtype == torch.bool
    ws.set_full("c", torch.zeros(3, 2, dtype=torch.complex64))
    with pytest.raises(DTypeError):
        EpisodesDone("c", "e")(ws, t=0)


def test_copy_t_agent() -> None:
    """AG-20: a row at t, the whole variable without t; detach drops the history."""
    w = torch.nn.Parameter(torch.ones(()))
    ws = Workspace()
    ws.set_full("x", w * torch.arange(6.0).reshape(3, 2))
    CopyTAgent("x", "y")(ws, t=1)
    CopyTAgent("x", "z", detach=True)(ws, t=2)
    CopyTAgent("x", "full", name="copy")(ws)
    CopyTAgent("x", "full_d", detach=True)(ws, t=None)
    assert ws.get("y", 1).requires_grad and not ws.get("z", 2).requires_grad
    assert torch.equal(ws["full"], ws["x"]) and ws["full"].requires_grad
    assert torch.equal(ws["full_d"], ws["x"].detach()) and not ws["full_d"].requires_grad
    assert ws.get("z", 2).tolist() == [4.0, 5.0]


class NamedCritic(TimeAgent, SeedableAgent, SerializableAgent):
    """The bbrl_algos pattern: the convention classes combined by cooperative inheritance."""

    def __init__(self, name: str = "critic", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.name = name

    def forward(self, t: int, **kwargs: object) -> None:
        self.set(("q", t), torch.zeros(1))


def test_convention_classes() -> None:
    """AG-21: TimeAgent, SeedableAgent, SerializableAgent combine; seed and serialize."""
    critic = NamedCritic(seed=3, verbose=True)
    assert critic.get_name() == "critic" and critic.verbose and critic._seed == 3
    assert critic.seed(5) is critic and critic._seed == 5 and critic.serialize() is critic
    assert SeedableAgent(7)._seed == 7 and SeedableAgent(name="s").get_name() == "s"
    TemporalAgent(critic)(Workspace(), n_steps=2)
    with pytest.raises(ValueError):
        critic.seed(-1)
    with pytest.raises(NotImplementedError):
        TimeAgent()(Workspace(), t=0)


class Point:
    def __init__(self, x: int = 0) -> None:
        self.x = x


@pytest.fixture
def config_module() -> Iterator[types.ModuleType]:
    """A module ``agrb_config_probe`` defining ``Point`` and ``CONSTANT = 3``."""
    module = types.ModuleType("agrb_config_probe")
    setattr(module, "Point", Point)  # noqa: B010 (a module built at run time)
    setattr(module, "CONSTANT", 3)  # noqa: B010
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def test_configuration_helpers(config_module: types.ModuleType) -> None:
    """AG-22, AG-23: classes by dotted path; arguments without 'classname'; input unchanged."""
    cfg = {"classname": "agrb_config_probe.Point", "x": 4}
    assert get_class(cfg) is Point
    assert get_class(types.SimpleNamespace(classname="torch.optim.Adam")) is torch.optim.Adam
    assert get_arguments(cfg) == {"x": 4} and get_arguments({"x": 1}) == {"x": 1}
    point = instantiate_class(cfg)
    assert isinstance(point, Point) and point.x == 4
    assert cfg == {"classname": "agrb_config_probe.Point", "x": 4}
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_configuration_helper_errors(config_module: types.ModuleType) -> None:
    """AG-24, AG-27: missing classname, not a dotted string or one with an empty part, unknown
    module or name."""
    with pytest.raises(KeyError):
        get_class({"x": 1})
    with pytest.raises(AttributeError):
        get_class(object())
    for bad in ("Adam", 3, ".Adam", "torch.", "torch..optim.Adam", "torch.optim.", ""):
        with pytest.raises(InvalidArgumentError):
            get_class({"classname": bad})
    with pytest.raises(ImportError):
        get_class({"classname": "no_such_module_agrb.Thing"})
    with pytest.raises(ClassNotFoundError):
        get_class({"classname": "agrb_config_probe.Missing"})
    assert get_class({"classname": "agrb_config_probe.CONSTANT"}) == 3  # AG-22: any attribute
    with pytest.raises(TypeError, match="callable"):
        instantiate_class({"classname": "agrb_config_probe.CONSTANT"})
    with pytest.raises(TypeError):
        get_arguments([("classname", "x")])  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        instantiate_class({"x": 1})
