"""The program generator: one Hypothesis state machine over every public call of the core.

Each example is a random program. It makes workspaces, agent trees, env agents over generated
envs and replay buffers, and calls every public operation on them with arguments drawn from
each clause's whole domain: ten dtypes, item shapes of rank 0 to 3, batch sizes from 1, time
sizes from 1, integers beyond 2**53, repeated names, reruns at ``t0 > 0`` on used workspaces,
and failing calls interleaved with valid ones. The executable model (``_model``) predicts every
outcome; after every step the machine compares every observable value, dtype, shape and raised
error type of every live object with the model, through a :class:`Judge`.

A rule draws its arguments, asks the model for the outcome (a result; a ``ModelError`` naming
the builtin types the spec allows; or ``Unspecified``, and then the step is not made), appends
the step to the program's source, runs it on the subjects and judges what they did. A failure
names its clause and carries the program so far as a reproducer.

Adding an operation takes one model method and one rule; see "The program generator" in the
conformance README.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bbrl_conformance._failure import ConformanceFailure
from bbrl_conformance._judge import Judge, Outcome, Subject
from bbrl_conformance._model.agents import (
    Actor,
    EnvRef,
    Group,
    Node,
    Owner,
    Reader,
    Stopper,
    Temporal,
    TreeRun,
    Writer,
    leaves,
)
from bbrl_conformance._model.env_agent import SCALAR_VARIABLES, EnvAgentModel, EnvSetup
from bbrl_conformance._model.envfamily import (
    BOX_DTYPES,
    FLAG_KINDS,
    NOISE_RANGE,
    NOISY_DTYPES,
    REWARD_KINDS,
    ActionSpec,
    BoxObs,
    DictObs,
    DiscreteObs,
    EnvConfig,
    Leaf,
    ObsSpec,
    action_row,
    noise_target,
)
from bbrl_conformance._model.replay_buffer import ReplayBufferModel, item_key
from bbrl_conformance._model.values import (
    DTYPES,
    VALUE_KINDS,
    MValue,
    NotTensor,
    grad_mvalue,
    make_array,
)
from bbrl_conformance._model.workspace import ModelError, Reason, Unspecified, WorkspaceModel
from bbrl_conformance._programs import (
    LAYOUTS,
    agent_by_key,
    build_tree,
    env_factory,
    from_model,
    generator,
    grad_row,
    mutate,
    to_model,
    value,
)
from bbrl_conformance.generated_env import REGISTERED_LIMIT

__all__ = ["CLAUSES", "ProgramMachine", "make_program_machine"]

#: every clause the machine checks (the test cites them all)
CLAUSES = (
    *(f"WS-{i}" for i in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19)),
    *(f"AG-{i}" for i in range(1, 8)),
    *(f"TA-{i}" for i in range(1, 6)),
    *(f"ENV-{i}" for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15)),
    *(f"TR-{i}" for i in range(1, 9)),
    *(f"RB-{i}" for i in range(1, 13)),
    *(f"ERR-{i}" for i in (2, 3, 4, 5, 6, 7, 8)),
    *(f"DET-{i}" for i in (1, 2, 3, 4, 6, 7, 9)),
)
REQUIRED = (
    "Workspace",
    "Agent",
    "Agents",
    "TemporalAgent",
    "ParallelGymAgent",
    "make_env",
    "ReplayBuffer",
)
#: the clauses whose errors must name the variable or argument given in ``names`` (ERR-6)
NAMED_ERRORS = ("WS-4", "WS-5", "ERR-3", "ERR-8", "TR-6", "WS-17")

NAMES = ("x", "obs", "agent/q", "logp", "env/done", "y")
MAX_WS = 4
MAX_TREES = 3  # trees without an env agent (each env agent has its own tree besides)
MAX_ENVS = 2
MAX_BUFFERS = 3
#: a buffer check samples this many items per stored item (a stored item is missed with
#: probability (1 - 1/size)**(30 size) < e**-30 per item)
COVERAGE = 30

# The failing variants of a call, by name, with the clause each exercises: a differential run
# leaves out the variants of a clause (``skip``) whose divergence is already known.
SET_PERTURBATIONS = {
    "t<0": "ERR-2",
    "batch": "WS-4",
    "shape": "WS-5",
    "dtype": "WS-5",
    "not_tensor": "ERR-4",
    "0-dim": "ERR-4",
}
SET_FULL_PERTURBATIONS = {"not_tensor": "ERR-4", "1-dim": "ERR-4", "batch": "WS-4"}
READ_PERTURBATIONS = {"unknown": "ERR-3", "t<0": "ERR-2", "t>=T": "ERR-2"}
COPY_PERTURBATIONS = {"n<0": "WS-17", "n>T": "WS-17", "unknown": "WS-17"}
ROW_CLAUSES = {
    "reset": "ENV-3",
    "rerun": "ENV-14",
    "step": "ENV-4",
    "done": "ENV-5",
    "autoreset": "ENV-6",
    "frozen": "ENV-7",
}

item_shapes = st.lists(st.integers(1, 3), max_size=3).map(tuple)
seeds = st.integers(0, 2**32 - 1)
#: env-agent seeds: at the bounds of 32- and 64-bit integers and beyond (DET-4: every s >= 0)
BOUNDARY_SEEDS = (0, 1, 2**31 - 1, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**100)
#: DET-9: the accepted seeds are 0 <= s <= 2**64 - 1; larger ones raise ValueError
MAX_SEED = 2**64 - 1
agent_seeds = st.one_of(st.sampled_from(BOUNDARY_SEEDS), st.integers(0, 2**128))
extra_kwargs = st.dictionaries(
    st.sampled_from(["epoch", "stochastic", "tag"]),
    st.one_of(st.integers(-3, 3), st.booleans(), st.sampled_from(["a", "b"])),
    max_size=2,
)

Kwargs = tuple[tuple[str, object], ...]


# -- the generated env family ----------------------------------------------------------------


@st.composite
def leaf_obs(draw: st.DrawFn, floats_only: bool = False) -> Leaf:
    """A Box (any dtype, rank 0 to 3) or a Discrete (any start) observation space; with
    ``floats_only`` (a run looking past ENV-9) only float32 and float64 Boxes."""
    if floats_only:
        return BoxObs(draw(st.sampled_from(["float32", "float64"])), draw(item_shapes))
    if draw(st.sampled_from(["box", "box", "discrete"])) == "box":
        return BoxObs(draw(st.sampled_from(BOX_DTYPES)), draw(item_shapes))
    return DiscreteObs(draw(st.integers(1, 12)), draw(st.integers(-5, 5)), draw(st.booleans()))


@st.composite
def obs_specs(
    draw: st.DrawFn, noisy: bool, floats_only: bool = False, dicts: bool = True
) -> ObsSpec:
    if noisy and draw(st.booleans()):
        shape = draw(st.sampled_from([(2,), (3,), (2, 2), (1, 2, 2)]))
        return BoxObs(draw(st.sampled_from(NOISY_DTYPES)), shape)
    if dicts and draw(st.sampled_from(["leaf", "leaf", "leaf", "dict"])) == "dict":
        pool = ["pos", "img", "flag", "count", "z", "a_b"]
        keys = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        entries = tuple((k, draw(leaf_obs(floats_only))) for k in keys)
        return DictObs(entries, tuple(draw(st.permutations(keys))))
    return draw(leaf_obs(floats_only))


@st.composite
def action_specs(draw: st.DrawFn, rank0_box: bool = True) -> ActionSpec:
    n = draw(st.integers(4, 9))
    if draw(st.booleans()):
        start = draw(st.integers(-3, 3))
        dtypes = ["int64", "int32"] + (["uint8"] if start >= 0 else [])
        return ActionSpec("discrete", n, start, (), draw(st.sampled_from(dtypes)))
    shape = draw(st.sampled_from([(), (1,), (2,), (2, 2)] if rank0_box else [(1,), (2,), (2, 2)]))
    return ActionSpec("box", n, 0, shape, draw(st.sampled_from(["float32", "float64"])))


@st.composite
def env_setups(
    draw: st.DrawFn,
    noisy: bool,
    floats_only: bool = False,
    dicts: bool = True,
    rank0_box_action: bool = True,
) -> EnvSetup:
    """An env of the family, with its time limits (from the env, a wrapper, both, none)."""
    noise = noisy and draw(st.booleans())
    config = EnvConfig(
        obs=draw(obs_specs(noise, floats_only, dicts)),
        action=draw(action_specs(rank0_box_action)),
        reward=draw(st.sampled_from(REWARD_KINDS)),
        flags=draw(st.sampled_from(FLAG_KINDS)),
        own_limit=draw(st.one_of(st.none(), st.integers(1, 6))),
        noisy=noise,
    )
    limit = draw(st.sampled_from(["none", "kwarg", "registered"]))
    if limit == "registered":
        return EnvSetup(config, REGISTERED_LIMIT, registered=True)
    if limit == "kwarg":
        return EnvSetup(config, draw(st.integers(1, 6)))
    return EnvSetup(config)


# -- the machine -----------------------------------------------------------------------------


@dataclass
class EnvInfo:
    """An env agent of the program: its model, seed, and twin (DET-1: the same seed; DET-4:
    the seed plus one)."""

    model: EnvAgentModel
    seed: int | None
    twin: str | None = None
    twin_shift: int = 0
    twin_noises: list[tuple[int | None, ...]] = field(default_factory=list)
    #: a call failed: the next call must be at t = 0 (ERR-5 covers workspaces, not envs)
    needs_reset: bool = False


@dataclass
class TreeInfo:
    node: Node
    batch: int
    env: str | None
    #: a plain top node whose children include a TemporalAgent: called with ``n_steps``
    needs_steps: bool
    stops: tuple[str, ...]


@dataclass
class Pending:
    """A tensor read earlier, whose gradient is checked again after later writes (WS-10)."""

    ws: str
    probe: str
    weights: Any
    expected: float


def _entry(values: dict[int, Any], *index: object) -> Callable[[Subject], object]:
    """A getter of ``values[id(subject)][index]``: one subject's part of a shared read."""
    if not index:
        return lambda s: values[id(s)]
    return lambda s: values[id(s)][index if len(index) != 1 else index[0]]


def _calls_clause(
    got: list[tuple[str, int, Kwargs]],
    expected: list[tuple[str, int, Kwargs]],
    kwargs: dict[str, object],
) -> str:
    """The clause a wrong sequence of agent calls breaks: the steps run (TA-1..TA-3) when
    the time indices differ, else the order or number of the calls within a step (AG-4),
    else the keyword arguments (AG-2)."""
    if got == expected:
        return "TA-1"
    if [t for _, t, _ in got] != [t for _, t, _ in expected] and sorted(
        {t for _, t, _ in got}
    ) != sorted({t for _, t, _ in expected}):
        stop, steps = "stop_variable" in kwargs, "n_steps" in kwargs
        return "TA-3" if stop and steps else "TA-2" if stop else "TA-1"
    for t in sorted({t for _, t, _ in expected}):
        mine = [(k, kw) for k, tt, kw in got if tt == t]
        want = [(k, kw) for k, tt, kw in expected if tt == t]
        if mine != want:
            return "AG-4" if [k for k, _ in mine] != [k for k, _ in want] else "AG-2"
    return "AG-4"


def _gradient(p: torch.Tensor) -> float:
    """``p.grad`` as a float (0 when backward() reached nothing)."""
    grad: torch.Tensor | None = p.grad
    return 0.0 if grad is None else float(grad)


def _const(value: object) -> Callable[[Subject], object]:
    """A getter of a value the machine computed itself (from what it learned)."""
    return lambda s: value


def _choose(data: st.DataObject, options: Sequence[Any], label: str) -> Any:
    return data.draw(st.sampled_from(list(options)), label=label)


class ProgramMachine(RuleBasedStateMachine):
    """See the module docstring; configured by :func:`make_program_machine`."""

    make_subjects: ClassVar[Callable[[], list[Subject]]]
    skip: ClassVar[frozenset[str]] = frozenset()
    noisy_envs: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.subjects = type(self).make_subjects()
        self.lines: list[str] = []
        self.judge = Judge(self.subjects, self.lines, frozenset(type(self).skip))
        self.p = torch.ones((), dtype=torch.float64, requires_grad=True)
        self.ws: dict[str, WorkspaceModel] = {}
        self.rbs: dict[str, ReplayBufferModel] = {}
        self.envs: dict[str, EnvInfo] = {}
        self.trees: dict[str, TreeInfo] = {}
        #: tensors passed to a successful set/set_full: program name -> its workspace
        self.sources: dict[str, str] = {}
        self.pending: dict[int, Pending] = {}
        #: pairs of objects that must not share storage, and the clause that says so
        self.links: list[tuple[str, str, str]] = []
        #: the clause a mismatch found by the next check is reported under
        self.blame: dict[str | tuple[str, str], str] = {}
        self.counter = itertools.count()
        #: workspaces the implementation made itself (transitions, samples)
        self.derived: set[str] = set()
        for subject in self.subjects:
            missing = [n for n in REQUIRED if not hasattr(subject.impl, n)]
            if missing:
                raise ConformanceFailure("AG-1", f"{subject.module} does not define {missing}")

    # -- plumbing ------------------------------------------------------------------------

    def enabled(self, clause: str) -> bool:
        """Whether the calls and checks of ``clause`` (or ``clause.facet``) are made."""
        return clause not in self.skip and clause.split(".")[0] not in self.skip

    def new_name(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def emit(self, line: str) -> None:
        self.lines.append(line)

    def each(self, action: Callable[[Subject], object]) -> list[Outcome]:
        return self.judge.run(action)

    def store(self, name: str, outcomes: list[Outcome]) -> None:
        for subject, outcome in zip(self.subjects, outcomes, strict=True):
            subject.objects[name] = outcome.value

    def apply(
        self,
        code: str,
        model_call: Callable[[], object],
        impl_call: Callable[[Subject], object],
        ok_clause: str,
        touched: Sequence[str] = (),
        names: Sequence[str] = (),
        assign: str | None = None,
    ) -> list[Outcome] | None:
        """Ask the model, run ``impl_call`` on every subject and judge it. Returns the outcomes
        of a call the model accepts (stored as ``assign`` if given); None for a call that must
        fail (it was judged) or whose outcome the spec leaves open (it was not made)."""
        try:
            model_call()
        except Unspecified:
            return None
        except ModelError as err:
            outcomes = self.each(impl_call)
            single = len(err.reasons) == 1 and err.clause in NAMED_ERRORS
            named = names if single else ()
            self.judge.failed(err, code, code, outcomes, named)
            self.emit(f"raises(lambda: {code})")
            for name in touched:
                self.blame[name] = "RB-7" if name.startswith("rb") else "ERR-5"
            return None
        outcomes = self.each(impl_call)
        self.judge.succeeded(ok_clause, code, code, outcomes)
        self.emit(code if assign is None else f"{assign} = {code}")
        if assign is not None:
            self.store(assign, outcomes)
        return outcomes

    def drop(self, name: str) -> None:
        """Forget an object: its state is no longer fixed by the spec, or there are enough."""
        self.ws.pop(name, None)
        self.rbs.pop(name, None)
        self.sources = {k: w for k, w in self.sources.items() if w != name}
        self.pending = {k: v for k, v in self.pending.items() if v.ws != name}
        self.links = [link for link in self.links if name not in link[:2]]
        for subject in self.subjects:
            subject.objects.pop(name, None)

    def make_room(self, models: dict[str, Any], limit: int) -> None:
        while len(models) >= limit:
            self.drop(next(iter(models)))

    def add_workspace(self, name: str, model: WorkspaceModel) -> None:
        self.ws[name] = model

    def touched(self, name: str, clause: str) -> None:
        """``name`` was written: the objects that must not share its storage keep their values,
        under the clause of the link."""
        for a, b, why in self.links:
            if name in (a, b):
                self.blame.setdefault(b if name == a else a, why)
        self.blame.setdefault(name, clause)

    def invalidate_pending(self, ws: str) -> None:
        self.pending = {k: v for k, v in self.pending.items() if v.ws != ws}

    def pick_ws(self, data: st.DataObject, nonempty: bool = False) -> str | None:
        names = [n for n, m in self.ws.items() if m.vars or not nonempty]
        return str(_choose(data, names, "workspace")) if names else None

    @staticmethod
    def rare(data: st.DataObject, label: str, one_in: int = 6) -> bool:
        """True about once in ``one_in`` draws (sampled, not an integer bound, which
        Hypothesis draws far more often than its share)."""
        return bool(data.draw(st.sampled_from([False] * (one_in - 1) + [True]), label=label))

    def perturbation(self, data: st.DataObject, options: dict[str, str]) -> str:
        """``none`` (2 times in 3), or a failing variant whose clause is enabled."""
        failing = [k for k, c in options.items() if self.enabled(c)]
        choices = ["none"] * (2 * len(failing) or 1) + failing
        return str(_choose(data, choices, "perturbation"))

    @staticmethod
    def draw_time(data: st.DataObject, size: int, label: str) -> int:
        """A time index for a variable of time size ``size``: the first, middle and last rows,
        the next one (growth) and one further away (growth with zero-filled rows)."""
        options = {0, size // 2, size - 1, size, size + 1, size + 3}
        return int(_choose(data, sorted(t for t in options if t >= 0), label))

    def draw_dtype(self, data: st.DataObject, name: str) -> str:
        pool = ("bool",) * 4 + DTYPES if name in ("env/done", "stop") else DTYPES
        return str(_choose(data, pool, f"dtype of {name}"))

    def other(self, data: st.DataObject, options: Sequence[Any], not_this: Any) -> Any:
        return _choose(data, [o for o in options if o != not_this], "another")

    def not_tensor(self, data: st.DataObject, shape: tuple[int, ...], seed: int) -> str:
        """Source text of an argument that is not a tensor (ERR-4)."""
        form = _choose(data, ["list", "numpy", "float"], "non-tensor argument")
        if form == "float":
            return "1.5"
        if form == "numpy":
            return f"value('float32', {shape}, seed={seed}).numpy()"
        return f"value('int64', {shape}, seed={seed}).tolist()"

    # -- workspace: creating and writing -------------------------------------------------

    @precondition(lambda self: len(self.ws) < 3)
    @rule()
    def new_workspace(self) -> None:
        """WS-1: a new workspace is empty."""
        name = self.new_name("ws")
        self.apply(
            "impl.Workspace()", lambda: None, lambda s: s.impl.Workspace(), "WS-1", assign=name
        )
        self.add_workspace(name, WorkspaceModel())
        self.blame[name] = "WS-1"

    def _write(
        self,
        data: st.DataObject,
        full: bool,
        ws: str | None = None,
        valid: bool = False,
    ) -> None:
        """``set`` (``full=False``) or ``set_full`` of a value drawn from the whole domain,
        valid or (unless ``valid``) broken in one way; into ``ws`` or a drawn workspace."""
        ws = ws or self.pick_ws(data)
        if ws is None:
            return
        model = self.ws[ws]
        existing = bool(model.vars) and (valid or not self.rare(data, "a new name", 3))
        names = tuple(sorted(model.vars)) if existing else NAMES + tuple(sorted(model.vars))
        name = str(_choose(data, names, "name"))
        var = model.vars.get(name)
        options = SET_FULL_PERTURBATIONS if full else SET_PERTURBATIONS
        perturbation = "none" if valid else self.perturbation(data, options)
        if full and var is not None and not self.enabled("WS-11"):
            return  # a run looking past WS-11 replaces no variable with set_full
        dtype = var.dtype if var else self.draw_dtype(data, name)
        shape = var.item_shape if var else data.draw(item_shapes, label="item shape")
        batch = model.batch_size() if model.vars else data.draw(st.integers(1, 4), label="B")
        size = var.time_size if var else 0
        t = self.draw_time(data, size, "t")
        if perturbation not in ("none", "t<0"):
            # a failing call where a valid one would write a row or grow the variable
            t = int(_choose(data, sorted({max(size - 1, 0), size, size + 2}), "t"))
        if perturbation == "t<0":
            t = data.draw(st.integers(-3, -1), label="t<0")
        elif perturbation == "batch":
            batch = self.other(data, range(6), batch)
        elif perturbation == "shape":
            shape = self.other(data, [(), (1,), (2,), (3, 1), (2, 2, 2)], shape)
        elif perturbation == "dtype":
            dtype = self.other(data, DTYPES, dtype)
        value_shape: tuple[int, ...] = (batch, *shape)
        if full:
            time_size = int(_choose(data, [1, 2, 3, 4, 6], "T"))
            value_shape = (time_size, batch, *shape)
            if perturbation == "1-dim":
                value_shape = (batch,)
        elif perturbation == "0-dim":
            value_shape = ()
        kind = _choose(data, VALUE_KINDS, "kind")
        layouts = LAYOUTS if not full or self.enabled("WS-11.views") else ("contiguous",)
        layout = _choose(data, layouts, "layout")
        seed = data.draw(seeds, label="seed")
        made = f"value({dtype!r}, {value_shape}, seed={seed}, kind={kind!r}, layout={layout!r})"
        argument: MValue | NotTensor
        if perturbation == "not_tensor":
            made = self.not_tensor(data, value_shape, seed)
            argument = NotTensor(made)
        else:
            argument = MValue(dtype, make_array(dtype, value_shape, seed, kind))
        source = self.new_name("v")

        def impl_call(s: Subject) -> object:
            s.sources[source] = eval(made, {"value": value})
            if full:
                return s[ws].set_full(name, s.sources[source])
            return s[ws].set(name, t, s.sources[source])

        self.emit(f"{source} = {made}")
        if full:
            code = f"{ws}.set_full({name!r}, {source})"
            clause = "WS-11"
            done = self.apply(
                code,
                lambda: model.set_full(name, argument),
                impl_call,
                clause,
                touched=[ws],
                names=[name],
            )
        else:
            code = f"{ws}.set({name!r}, {t}, {source})"
            clause = "WS-2" if t < size else "WS-3"
            done = self.apply(
                code,
                lambda: model.set(name, t, argument),
                impl_call,
                clause,
                touched=[ws],
                names=[name],
            )
        if done is not None:
            if isinstance(argument, MValue):
                self.sources[source] = ws
            if full:
                self.invalidate_pending(ws)
            self.touched(ws, clause)

    @precondition(lambda self: bool(self.ws))
    @rule(data=st.data())
    def ws_set(self, data: st.DataObject) -> None:
        """WS-2..WS-5, ERR-2, ERR-4, ERR-5: set, valid or broken in one way."""
        self._write(data, full=False)

    @precondition(lambda self: bool(self.ws))
    @rule(data=st.data())
    def ws_set_full(self, data: st.DataObject) -> None:
        """WS-4, WS-11, ERR-4, ERR-5: set_full, valid or broken in one way."""
        self._write(data, full=True)

    @precondition(lambda self: bool(self.ws))
    @rule(data=st.data())
    def ws_set_grad(self, data: st.DataObject) -> None:
        """WS-9: a row with autograd history through the program's parameter ``p``."""
        ws = self.pick_ws(data)
        if ws is None:
            return
        model = self.ws[ws]
        floats = [n for n, v in model.vars.items() if v.dtype in ("float32", "float64")]
        fresh = [n for n in ("logp", "value") if n not in model.vars]
        if not floats + fresh:
            return
        name = str(_choose(data, floats + fresh, "grad variable"))
        var = model.vars.get(name)
        dtype = var.dtype if var else _choose(data, ["float32", "float64"], "dtype")
        shape = var.item_shape if var else data.draw(item_shapes, label="item shape")
        batch = model.batch_size() if model.vars else data.draw(st.integers(1, 4), label="B")
        t = self.draw_time(data, var.time_size if var else 0, "t")
        seed = data.draw(seeds, label="seed")
        full_shape = (batch, *shape)
        argument = grad_mvalue(dtype, full_shape, seed)
        code = f"{ws}.set({name!r}, {t}, grad_row({dtype!r}, {full_shape}, {seed}, p))"
        done = self.apply(
            code,
            lambda: model.set(name, t, argument),
            lambda s: s[ws].set(name, t, grad_row(dtype, full_shape, seed, self.p)),
            "WS-9",
            touched=[ws],
            names=[name],
        )
        if done is not None:
            self.touched(ws, "WS-9")

    # -- workspace: reading --------------------------------------------------------------

    @precondition(lambda self: bool(self.ws))
    @rule(data=st.data())
    def ws_read(self, data: st.DataObject) -> None:
        """WS-2, WS-6, ERR-2, ERR-3: get, get_full and ``ws[name]``; WS-9 for their gradients."""
        ws = self.pick_ws(data)
        if ws is None:
            return
        model = self.ws[ws]
        perturbation = self.perturbation(data, READ_PERTURBATIONS)
        if perturbation == "unknown" or not model.vars:
            if not self.enabled("ERR-3"):
                return
            name = str(_choose(data, ["nope", "X", *NAMES], "unknown name"))
        else:
            name = str(_choose(data, sorted(model.vars), "name"))
        size = model.vars[name].time_size if name in model.vars else 1
        mode = _choose(data, ["get", "get_full", "getitem"], "read")
        t = int(_choose(data, sorted({0, size // 2, max(size - 1, 0)}), "t"))
        if perturbation == "t<0":
            t = data.draw(st.integers(-3, -1), label="t<0")
        elif perturbation == "t>=T":
            t = data.draw(st.integers(size, size + 2), label="t>=T")
        if mode == "get":
            code, clause = f"{ws}.get({name!r}, {t})", "WS-2"
        elif mode == "get_full":
            code, clause = f"{ws}.get_full({name!r})", "WS-6"
        else:
            code, clause = f"{ws}[{name!r}]", "WS-6"

        def read(s: Subject) -> Any:
            if mode == "get":
                return s[ws].get(name, t)
            if mode == "get_full":
                return s[ws].get_full(name)
            return s[ws][name]

        try:
            expected = model.get(name, t) if mode == "get" else model.get_full(name)
        except ModelError as err:
            outcomes = self.each(read)
            self.judge.failed(err, code, code, outcomes, [name] if err.clause == "ERR-3" else ())
            self.emit(f"raises(lambda: {code})")
            self.blame[ws] = "ERR-5"
            return
        got = self.judge.tensor(clause, f"{code} after the program", code, read, expected)
        if expected.coef is not None and expected.dtype in ("float32", "float64"):
            self.grad_check(ws, code, got, expected)

    def grad_check(self, ws: str, code: str, tensors: list[object], expected: MValue) -> None:
        """WS-9: backward() of ``sum(w * tensor)`` gives ``p`` the model's gradient; the tensor
        is kept, and checked again after later writes (WS-10)."""
        if expected.coef is None or not self.enabled("WS-9"):
            return
        size = int(np.prod(expected.coef.shape, dtype=np.int64))
        weights = (np.arange(size, dtype=np.float64) % 5 - 2).reshape(expected.coef.shape)
        key = next(self.counter)
        self.emit(f"pending{key} = {code}")
        for subject, tensor in zip(self.subjects, tensors, strict=True):
            if isinstance(tensor, torch.Tensor):
                subject.pending[key] = tensor
        want = float(np.sum(weights * np.asarray(expected.coef, dtype=np.float64)))
        self.pending[key] = Pending(ws, f"pending{key}", weights, want)
        self.check_pending(key, "WS-9")

    def check_pending(self, key: int, clause: str) -> None:
        info = self.pending[key]

        def grad(s: Subject) -> float:
            self.p.grad = None
            weights = torch.from_numpy(info.weights)
            loss = (s.pending[key].double() * weights).sum()
            torch.autograd.backward(loss, retain_graph=True)
            return _gradient(self.p)

        self.judge.value(
            clause,
            f"the gradient of sum(w * {info.probe}) w.r.t. p, with w = arange(n) % 5 - 2",
            f"{info.probe}.grad_fn",
            grad,
            info.expected,
        )

    @precondition(lambda self: bool(self.pending))
    @rule()
    def ws_backward_after_writes(self) -> None:
        """WS-10: tensors read before later writes still give the same gradients."""
        for key in list(self.pending):
            self.check_pending(key, "WS-10")

    # -- workspace: whole-workspace operations -------------------------------------------

    def copy_n_last_steps(self, ws: str, n: int, var_names: list[str] | None) -> bool:
        model = self.ws[ws]
        known = sorted(model.vars)
        selected = known if var_names is None else [v for v in var_names if v in model.vars]
        sizes = {model.vars[v].time_size for v in known}
        if not self.enabled("WS-16") and var_names is not None:
            return False  # a run looking past WS-16 (B1) selects every variable
        if not self.enabled("WS-15") and (len(sizes) > 1 or 2 * n > min(sizes, default=0)):
            return False  # ... or past WS-15 (B2): no overlapping copy, one time size
        code = f"{ws}.copy_n_last_steps({n}, var_names={var_names!r})"
        unknown = [v for v in var_names or [] if v not in model.vars]
        done = self.apply(
            code,
            lambda: model.copy_n_last_steps(n, var_names),
            lambda s: s[ws].copy_n_last_steps(n, var_names=var_names),
            "WS-15",
            touched=[ws],
            names=unknown,
        )
        if done is None:
            return False
        self.invalidate_pending(ws)
        for name in known:
            self.blame[(ws, name)] = "WS-15" if name in selected else "WS-16"
        self.touched(ws, "WS-15")
        return True

    @precondition(lambda self: any(m.vars for m in self.ws.values()))
    @rule(data=st.data())
    def ws_copy_n_last_steps(self, data: st.DataObject) -> None:
        """WS-15..WS-17: any selection (None, repeated names, unknown names), any n."""
        ws = self.pick_ws(data, nonempty=True)
        if ws is None:
            return
        model = self.ws[ws]
        perturbation = self.perturbation(data, COPY_PERTURBATIONS)
        known = sorted(model.vars)
        var_names: list[str] | None = None
        if perturbation == "unknown" or data.draw(st.booleans(), label="var_names given"):
            var_names = data.draw(st.lists(st.sampled_from(known), max_size=3), label="names")
            repeat = data.draw(st.booleans(), label="repeat a name")
            if var_names and repeat:
                var_names.append(_choose(data, var_names, "repeated name"))
            if perturbation == "unknown":
                var_names.insert(data.draw(st.integers(0, len(var_names))), "nope")
        selected = known if var_names is None else [v for v in var_names if v in model.vars]
        smallest = min((model.vars[v].time_size for v in selected), default=3)
        half = smallest // 2
        n = int(_choose(data, sorted({0, 1, half, half + 1, smallest - 1, smallest}), "n"))
        n = min(max(n, 0), smallest)
        if perturbation == "n<0":
            n = data.draw(st.integers(-3, -1), label="n<0")
        elif perturbation == "n>T":
            n = data.draw(st.integers(smallest + 1, smallest + 2), label="n>T")
        self.copy_n_last_steps(ws, n, var_names)

    @precondition(lambda self: bool(self.ws))
    @rule(data=st.data())
    def ws_clear(self, data: st.DataObject) -> None:
        """WS-19, ERR-3: clear one variable, every variable, or an unknown one."""
        ws = self.pick_ws(data)
        if ws is None:
            return
        model = self.ws[ws]
        options: list[str | None] = [*sorted(model.vars)]
        if self.enabled("ERR-3"):
            options.append("nope")
        name = (
            None
            if not options or self.rare(data, "clear all", 4)
            else _choose(data, options, "name")
        )
        code = f"{ws}.clear()" if name is None else f"{ws}.clear({name!r})"
        done = self.apply(
            code,
            lambda: model.clear(name),
            lambda s: s[ws].clear() if name is None else s[ws].clear(name),
            "WS-19",
            touched=[ws],
            names=[] if name is None else [name],
        )
        if done is not None:
            self.invalidate_pending(ws)
            self.touched(ws, "WS-19")

    def zero_grad(self, ws: str) -> None:
        model = self.ws[ws]
        done = self.apply(
            f"{ws}.zero_grad()", model.zero_grad, lambda s: s[ws].zero_grad(), "WS-14"
        )
        if done is None:
            return
        self.invalidate_pending(ws)
        self.touched(ws, "WS-14")
        for name in sorted(model.vars):

            def detached(s: Subject, name: str = name) -> str | None:
                full = s[ws].get_full(name)
                if full.requires_grad or full.grad_fn is not None:
                    return f"requires_grad={full.requires_grad}, grad_fn={full.grad_fn}"
                return None

            self.judge.verdict(
                "WS-14",
                f"{ws}.get_full({name!r}) after {ws}.zero_grad()",
                f"{ws}.get_full({name!r}).grad_fn",
                detached,
            )

    @precondition(lambda self: bool(self.ws))
    @rule(data=st.data())
    def ws_zero_grad(self, data: st.DataObject) -> None:
        """WS-14."""
        ws = self.pick_ws(data)
        if ws is not None:
            self.zero_grad(ws)

    def get_transitions(self, ws: str, filter_key: str | None) -> str | None:
        """TR-1..TR-8: the result joins the program's workspaces; returns its name."""
        model = self.ws[ws]
        code = f"{ws}.get_transitions(filter_key={filter_key!r})"
        try:
            result = model.get_transitions(filter_key)
        except Unspecified:
            return None
        except ModelError as err:
            outcomes = self.each(lambda s: s[ws].get_transitions(filter_key=filter_key))
            names = [filter_key] if err.clause == "TR-6" and filter_key else []
            self.judge.failed(err, code, code, outcomes, names)
            self.emit(f"raises(lambda: {code})")
            self.blame[ws] = "ERR-5"
            return None
        self.make_room(self.ws, MAX_WS)
        if ws not in self.ws:
            return None
        out = self.new_name("ws")
        outcomes = self.each(lambda s: s[ws].get_transitions(filter_key=filter_key))
        self.judge.succeeded("TR-1", code, code, outcomes)
        self.emit(f"{out} = {code}")
        self.store(out, outcomes)
        self.add_workspace(out, result)
        self.derived.add(out)
        self.links.append((ws, out, "TR-8"))
        self.blame[ws] = "TR-8"
        flags = model.vars.get(filter_key) if filter_key else None
        if filter_key is None:
            clause = "TR-4"
        elif model.time_size() == 1:
            clause = "TR-5"
        elif flags is not None and any(bool(r.any()) for r in flags.rows[:-1]):
            clause = "TR-3"
        else:
            clause = "TR-2"
        batch = result.batch_size()
        for name, var in result.vars.items():
            want = (var.dtype, (2, batch, *var.item_shape))

            def layout(s: Subject, name: str = name, want: Any = want) -> str | None:
                full = s[out].get_full(name)
                got = (to_model(full).dtype, tuple(full.shape))
                return None if got == want else f"(dtype, shape) {got}, expected {want}"

            probe = f"{out}.get_full({name!r}).shape"
            self.judge.verdict("TR-1", f"{out}.get_full({name!r})", probe, layout)
            self.blame[(out, name)] = clause
        return out

    def write_one_side(self, data: st.DataObject, one: str, other: str) -> None:
        """Check both objects now, then write into one of them through a drawn path (set,
        set_full, copy_n_last_steps, clear, an in-place change of a returned tensor): the
        other must keep its values (TR-8, RB-11, RB-12: copies promised are copies)."""
        for name in (one, other):
            if name in self.ws:
                self.check_workspace(name)
            if name in self.rbs:
                self.check_buffer(name)
        self.blame.clear()
        sides = [n for n in (one, other) if n in self.ws and self.ws[n].vars]
        if not sides:
            return
        side = _choose(data, sides, "written side")
        paths = ["set", "set_full", "copy_n_last_steps", "clear", "a returned tensor"]
        path = _choose(data, paths, "write path")
        if path == "a returned tensor":
            self.mutate_returned(data, side)
        elif path in ("set", "set_full"):
            self._write(data, path == "set_full", ws=side, valid=True)
        elif path == "copy_n_last_steps":
            size = min(v.time_size for v in self.ws[side].vars.values())
            self.copy_n_last_steps(side, int(_choose(data, sorted({1, size}), "n")), None)
        else:
            name = _choose(data, sorted(self.ws[side].vars), "cleared variable")
            model = self.ws[side]
            self.apply(
                f"{side}.clear({name!r})",
                lambda: model.clear(name),
                lambda s: s[side].clear(name),
                "WS-19",
            )
            self.touched(side, "WS-19")

    @precondition(lambda self: any(m.vars for m in self.ws.values()))
    @rule(data=st.data())
    def ws_get_transitions(self, data: st.DataObject) -> None:
        """TR-1..TR-8, mostly of workspaces whose variables share one time size."""
        uniform = [
            n for n, m in self.ws.items() if len({v.time_size for v in m.vars.values()}) == 1
        ]
        ws = self.pick_ws(data, nonempty=True)
        if uniform and not self.rare(data, "any workspace", 4):
            ws = _choose(data, sorted(uniform), "workspace")
        if ws is None:
            return
        model = self.ws[ws]
        if not self.enabled("TR-7") and len({v.time_size for v in model.vars.values()}) > 1:
            return
        others: list[str | None] = [*sorted(model.vars)]
        if self.enabled("TR-6"):
            others.append("nope")
        else:
            others = [o for o in others if o is not None and self._good_filter(model, o)]
        kind = _choose(
            data, ["None", "env/done", "another"] if others else ["None", "env/done"], "filter"
        )
        filter_key = {"None": None, "env/done": "env/done"}.get(kind)
        if kind == "another":
            filter_key = _choose(data, others, "filter_key")
        if not self.enabled("TR-6") and filter_key and not self._good_filter(model, filter_key):
            return
        if filter_key is None and ws in self.derived and not self.enabled("TR-4.derived"):
            return  # a run looking past get_transitions(None) on workspaces it did not make
        out = self.get_transitions(ws, filter_key)
        if out is not None and ws in self.ws and not self.rare(data, "no write after", 2):
            self.write_one_side(data, ws, out)

    @staticmethod
    def _good_filter(model: WorkspaceModel, name: str) -> bool:
        var = model.vars.get(name)
        return var is not None and var.dtype == "bool" and not var.item_shape

    # -- copies --------------------------------------------------------------------------

    @precondition(lambda self: any(w in self.ws for w in self.sources.values()))
    @rule(data=st.data())
    def mutate_source(self, data: st.DataObject) -> None:
        """WS-8: a tensor given to set or set_full (or the tensor it is a view of) changed in
        place after the call."""
        if not self.enabled("WS-8"):
            return
        source = _choose(data, sorted(k for k, w in self.sources.items() if w in self.ws), "v")
        for subject in self.subjects:
            mutate(subject.sources[source])
        self.emit(f"mutate({source})")
        self.blame[self.sources[source]] = "WS-8"

    def mutate_returned(self, data: st.DataObject, ws: str) -> None:
        """TR-8, RB-11: a tensor returned by ``ws`` changed in place. Whether ``ws`` changes
        is not specified (views or copies); the objects it must share no storage with keep
        their values. ``ws`` is forgotten afterwards."""
        name = _choose(data, sorted(self.ws[ws].vars), "variable")
        how = _choose(data, ["get_full", "get"], "read")
        t = data.draw(st.integers(0, self.ws[ws].vars[name].time_size - 1), label="t")
        code = f"{ws}.get_full({name!r})" if how == "get_full" else f"{ws}.get({name!r}, {t})"
        for subject in self.subjects:
            w = subject[ws]
            mutate(w.get_full(name) if how == "get_full" else w.get(name, t))
        self.emit(f"mutate({code})")
        self.touched(ws, "WS-6")
        self.drop(ws)

    # -- the check after every step ------------------------------------------------------

    @invariant()
    def world_matches_model(self) -> None:
        """Every live workspace and buffer, observed in full, equals the model."""
        for ws in list(self.ws):
            self.check_workspace(ws)
        for rb in list(self.rbs):
            self.check_buffer(rb)
        self.blame.clear()

    def check_workspace(self, ws: str) -> None:
        model = self.ws[ws]
        blame = self.blame.get(ws, "WS-6")
        keys_clause = "WS-12" if blame in ("WS-6", "WS-2", "WS-3", "WS-11", "WS-9") else blame
        expected = model.keys()
        judge = self.judge
        judge.value(
            keys_clause,
            f"set({ws}.keys())",
            f"sorted({ws}.keys())",
            lambda s: set(s[ws].keys()),
            expected,
        )
        if self.enabled("WS-12.variables"):
            judge.value(
                keys_clause,
                f"set({ws}.variables.keys())",
                f"sorted({ws}.variables.keys())",
                lambda s: set(s[ws].variables.keys()),
                expected,
            )
        if self.enabled("WS-12.contains"):
            probes = [*sorted(expected)[:3], "nope"]
            code = f"[n in {ws} for n in {probes}]"
            judge.value(
                "WS-12",
                code,
                code,
                lambda s: [n in s[ws] for n in probes],
                [n in expected for n in probes],
            )
        size_clause = "WS-13" if model.vars else "WS-1"
        judge.value(
            size_clause,
            f"{ws}.batch_size()",
            f"{ws}.batch_size()",
            lambda s: s[ws].batch_size(),
            model.batch_size(),
        )
        try:
            time_size = model.time_size()
        except ModelError as err:
            if self.enabled("WS-13"):
                outcomes = self.each(lambda s: s[ws].time_size())
                judge.failed(err, f"{ws}.time_size()", f"{ws}.time_size()", outcomes)
        else:
            judge.value(
                size_clause,
                f"{ws}.time_size()",
                f"{ws}.time_size()",
                lambda s: s[ws].time_size(),
                time_size,
            )
        for name in sorted(model.vars):
            clause = self.blame.get((ws, name), blame)
            judge.tensor(
                clause,
                f"{ws}.get_full({name!r}) after the program",
                f"{ws}.get_full({name!r})",
                lambda s, name=name: s[ws].get_full(name),  # type: ignore[misc]
                model.get_full(name),
            )

    # -- agents --------------------------------------------------------------------------

    def draw_writer(self, data: st.DataObject, batch: int) -> Writer:
        name = str(_choose(data, ("x", "obs", "agent/q", "logp", "w"), "writer name"))
        existing = [m.vars[name] for m in self.ws.values() if name in m.vars]
        like = data.draw(st.booleans(), label="like the existing variable")
        if existing and like:
            dtype, shape = existing[0].dtype, existing[0].item_shape
        else:
            dtype = str(_choose(data, DTYPES, "dtype"))
            shape = data.draw(item_shapes, label="item shape")
        grad = dtype in ("float32", "float64") and data.draw(st.booleans(), label="grad")
        kind = str(_choose(data, VALUE_KINDS, "kind"))
        seed = data.draw(seeds, label="seed")
        return Writer(self.new_name("w"), name, dtype, shape, batch, seed, kind, grad)

    def draw_leaf(self, data: st.DataObject, batch: int) -> Node:
        kind = _choose(data, ["writer", "writer", "reader", "stopper"], "leaf kind")
        if kind == "writer":
            return self.draw_writer(data, batch)
        if kind == "reader":
            name = str(_choose(data, ("x", "obs", "logp", "w", "stop", "action", "nope"), "name"))
            mode = _choose(data, ["row", "prev", "full"], "read mode")
            return Reader(self.new_name("r"), name, mode)
        stops = st.lists(st.integers(0, 6), min_size=batch, max_size=batch)
        return Stopper(self.new_name("s"), "stop", tuple(data.draw(stops, label="stop at")))

    def draw_node(self, data: st.DataObject, batch: int, depth: int, steps: bool) -> Node:
        """A random tree: leaves, ``Agents`` (with repeated children), owners of sub-agents,
        and ``TemporalAgent`` where ``n_steps`` reaches it (``steps``)."""
        kinds = ["leaf", "leaf"]
        if depth < 3:
            kinds += ["group", "group", "owner"] + (["temporal"] if steps else [])
        kind = _choose(data, kinds, "node kind")
        if kind == "leaf":
            return self.draw_leaf(data, batch)
        if kind == "temporal":
            return Temporal(self.new_name("T"), self.draw_node(data, batch, depth + 1, False))
        if kind == "owner":
            calls: list[tuple[Node, Kwargs]] = []
            for _ in range(data.draw(st.integers(1, 2), label="owned")):
                give_steps = data.draw(st.booleans(), label="owner passes n_steps")
                child = self.draw_node(data, batch, depth + 1, give_steps)
                extra: Kwargs = ()
                if give_steps:
                    extra = (("n_steps", data.draw(st.integers(1, 3), label="n_steps")),)
                calls.append((child, extra))
            return Owner(self.new_name("o"), tuple(calls))
        members: list[Node] = []
        for _ in range(data.draw(st.integers(1, 3), label="group size")):
            if members and self.rare(data, "repeat a child", 4):
                members.append(_choose(data, members, "repeated child"))
            else:
                members.append(self.draw_node(data, batch, depth + 1, steps))
        return Group(self.new_name("g"), tuple(members))

    def build(self, tree: str) -> None:
        info = self.trees[tree]
        envs = [info.env] if info.env else []
        env_source = "{" + ", ".join(f"{k!r}: {k}" for k in envs) + "}"
        self.emit(f"{tree} = build_tree(impl, {info.node!r}, {env_source}, calls, reads, p)")
        for s in self.subjects:
            agents = {k: s[k] for k in envs}
            s.objects[tree] = build_tree(s.impl, info.node, agents, s.calls, s.reads, self.p)
        plain = (EnvRef, Group, Temporal)
        keys = [k for k, n in leaves(info.node).items() if not isinstance(n, plain)]

        def included(s: Subject) -> str | None:
            owned = {id(q) for q in s[tree].parameters()}
            missing = [k for k in keys if id(agent_by_key(s[tree], k).weight) not in owned]
            return f"parameters() lacks those of the agents {missing}" if missing else None

        self.judge.verdict("AG-5", f"{tree}.parameters()", f"list({tree}.parameters())", included)

    @precondition(lambda self: sum(not i.env for i in self.trees.values()) < MAX_TREES)
    @rule(data=st.data())
    def new_tree(self, data: st.DataObject) -> None:
        """AG-5, AG-6: a random tree of agents."""
        batches = sorted({m.batch_size() for m in self.ws.values() if m.vars} | {1, 2, 3})
        batch = int(_choose(data, batches, "batch"))
        if data.draw(st.booleans(), label="TemporalAgent on top"):
            node: Node = Temporal(self.new_name("T"), self.draw_node(data, batch, 1, False))
            needs_steps = False
        else:
            needs_steps = data.draw(st.booleans(), label="called with n_steps")
            node = self.draw_node(data, batch, 0, needs_steps)
        stops = tuple(sorted({n.name for n in leaves(node).values() if isinstance(n, Stopper)}))
        tree = self.new_name("tree")
        self.trees[tree] = TreeInfo(node, batch, None, needs_steps, stops)
        self.build(tree)
        if self.enabled("AG-6"):
            seed = data.draw(st.integers(0, 2**31), label="seed")
            code = f"{tree}.seed({seed}) is {tree}"
            self.judge.value("AG-6", code, code, lambda s: s[tree].seed(seed) is s[tree], True)
        if self.enabled("AG-7") and self.rare(data, "use an agent outside a call", 3):
            self.agent_outside_a_call(data, tree)
        if data.draw(st.booleans(), label="run at once"):
            choices = self.fitting(tree) + (["new"] if len(self.ws) < MAX_WS else [])
            if choices:
                self.draw_run(data, tree, _choose(data, choices, "workspace"), later=False)

    def agent_outside_a_call(self, data: st.DataObject, tree: str) -> None:
        """AG-7: self.get and self.set while no workspace is bound."""
        node = self.trees[tree].node
        kinds = (Writer, Reader, Stopper, Actor)
        keys = sorted(k for k, n in leaves(node).items() if isinstance(n, kinds))
        if not keys:
            return
        key = _choose(data, keys, "agent")
        how = _choose(data, ["get", "set"], "call")
        agent = f"agent_by_key({tree}, {key!r})"
        if how == "get":
            code = f"{agent}.get(('x', 0))"

            def call(s: Subject) -> object:
                return agent_by_key(s[tree], key).get(("x", 0))
        else:
            code = f"{agent}.set(('x', 0), torch.zeros(1))"

            def call(s: Subject) -> object:
                return agent_by_key(s[tree], key).set(("x", 0), torch.zeros(1))

        error = ModelError([Reason(RuntimeError, "AG-7", "no workspace is bound")])
        self.judge.failed(error, code, code, self.each(call))
        self.emit(f"raises(lambda: {code})")

    @precondition(lambda self: bool(self.trees))
    @rule(data=st.data())
    def run_tree(self, data: st.DataObject) -> None:
        """AG-2..AG-4, TA-1..TA-5 (and the ENV and DET clauses for trees with an env agent):
        a tree called on a new or used workspace, at t0 = 0 or later."""
        tree = _choose(data, sorted(self.trees), "tree")
        choices = self.fitting(tree) + (["new"] if len(self.ws) < MAX_WS else [])
        if choices:
            self.draw_run(data, tree, _choose(data, choices, "workspace"), later=False)

    @precondition(lambda self: bool(self.trees) and any(m.vars for m in self.ws.values()))
    @rule(data=st.data())
    def rerun_tree(self, data: st.DataObject) -> None:
        """TA-5, ENV-14: a tree called again on a used workspace, mostly at t0 > 0."""
        tree = _choose(data, sorted(self.trees), "tree")
        used = [w for w in self.fitting(tree) if self.ws[w].vars]
        if used:
            self.draw_run(data, tree, _choose(data, used, "workspace"), later=True)

    def fitting(self, tree: str) -> list[str]:
        """The workspaces whose batch size is the tree's (or empty ones)."""
        batch = self.trees[tree].batch
        return sorted(w for w, m in self.ws.items() if not m.vars or m.batch_size() == batch)

    def draw_run(self, data: st.DataObject, tree: str, ws: str, later: bool) -> None:
        """Draw the arguments of a call of ``tree`` on ``ws`` (t0 > 0 mostly, if ``later``)."""
        info = self.trees[tree]
        model_ws = self.ws[ws] if ws != "new" else WorkspaceModel()
        kwargs: dict[str, object] = dict(data.draw(extra_kwargs, label="kwargs"))
        t: int | None
        if info.env is not None:
            env = self.envs[info.env]
            if env.model.started and self.enabled("ERR-8") and self.rare(data, "no action", 8):
                self.env_call_without_action(data, info.env)
            starts = [0]
            if not env.needs_reset:
                size = max((v.time_size for v in model_ws.vars.values()), default=0)
                starts += [t for t in range(1, size + 2) if env.model.continues(model_ws, t)]
            if later and len(starts) > 1:
                starts = starts[1:]
            t = int(_choose(data, starts, "t0"))
        else:
            size = max((v.time_size for v in model_ws.vars.values()), default=0)
            t = data.draw(st.integers(1 if later else 0, size + 2), label="t0")
        if isinstance(info.node, Temporal):
            if t == 0 and data.draw(st.booleans(), label="t left out"):
                t = None
            steps = data.draw(st.one_of(st.integers(1, 6), st.none()), label="n_steps")
            if self.enabled("TA-4") and self.rare(data, "bad n_steps", 10):
                steps = data.draw(st.one_of(st.integers(-2, 0), st.none()), label="bad n_steps")
            stop = None
            use_stop = data.draw(st.booleans(), label="stop")
            if info.stops and use_stop:
                stop = _choose(data, info.stops, "stop_variable")
            elif steps is None and info.stops and not self.enabled("TA-4"):
                stop = info.stops[0]
            if steps is None and (info.env is not None or not self.enabled("TA-4")):
                steps = data.draw(st.integers(1, 6), label="n_steps")
            if steps is not None:
                kwargs["n_steps"] = steps
            if stop is not None:
                kwargs["stop_variable"] = stop
        elif info.needs_steps:
            kwargs["n_steps"] = data.draw(st.integers(1, 3), label="n_steps")
        self.run(tree, ws, t, kwargs)

    def noise_source(self, ws: str) -> Callable[[str, int, int], int | None]:
        """The noise of each reset row: read from the first subject's workspace (its value is
        the env's, from a reset seed the spec does not fix), after checking it is one the env
        can return."""

        def noise(key: str, t: int, b: int) -> int | None:
            config = self.envs[key].model.setup.config
            target = noise_target(config.obs)
            if target is None or not config.noisy:
                return None
            row = to_model(self.subjects[0][ws].get(target, t)).array
            got = float(row[b].reshape(-1)[0])
            if not (got.is_integer() and 0 <= got < NOISE_RANGE):
                raise ConformanceFailure(
                    "ENV-3" if t == 0 else "ENV-6",
                    f"{ws}.get({target!r}, {t})[{b}] starts with {got}, which the env never "
                    f"returns after a reset (integers in [0, {NOISE_RANGE}))",
                    self.judge.repro(f"{ws}.get({target!r}, {t})"),
                )
            return int(got)

        return noise

    def run(self, tree: str, ws: str, t: int | None, kwargs: dict[str, object]) -> bool:
        """Run a tree (checked against a dry run of the model first); returns whether it ran."""
        info = self.trees[tree]
        env_keys = [info.env] if info.env else []
        model_ws = self.ws[ws] if ws != "new" else WorkspaceModel()
        envs = {k: self.envs[k].model.copy() for k in env_keys}
        try:
            TreeRun(model_ws.copy(), envs, lambda k, tt, b: 0).top(info.node, t, kwargs)
        except Unspecified:
            return False
        except ModelError as err:
            expected_error: ModelError | None = err
        else:
            expected_error = None
        if ws == "new":
            self.make_room(self.ws, MAX_WS)
            ws = self.new_name("ws")
            self.apply(
                "impl.Workspace()", lambda: None, lambda s: s.impl.Workspace(), "WS-1", assign=ws
            )
            self.add_workspace(ws, WorkspaceModel())
        args = [ws, *([] if t is None else [f"t={t}"]), *(f"{k}={v!r}" for k, v in kwargs.items())]
        code = f"{tree}({', '.join(args)})"
        self.emit("calls.clear(); reads.clear()")

        def call(s: Subject) -> object:
            s.calls.clear()
            s.reads.clear()
            before = torch.get_rng_state()
            if t is None:
                s[tree](s[ws], **kwargs)
            else:
                s[tree](s[ws], t=t, **kwargs)
            return torch.equal(before, torch.get_rng_state())

        outcomes = self.each(call)
        if expected_error is not None:
            self.judge.failed(expected_error, code, code, outcomes)
            self.emit(f"raises(lambda: {code})")
            self.blame[ws] = "TA-4"
            self.judge.value(
                "TA-4", f"the agents called by {code}", "calls", lambda s: len(s.calls), 0
            )
            return False
        self.judge.succeeded(
            "TA-1" if isinstance(info.node, Temporal) else "AG-2", code, code, outcomes
        )
        self.emit(code)
        if env_keys and self.enabled("DET-6"):
            rng = {id(s): o.value for s, o in zip(self.subjects, outcomes, strict=True)}
            self.judge.verdict(
                "DET-6",
                f"torch's global random state across {code} (an env agent runs inside)",
                None,
                lambda s: None if rng[id(s)] else "the call changed torch's global RNG state",
            )
        model_ws = self.ws[ws]
        models = {k: self.envs[k].model for k in env_keys}
        run = TreeRun(model_ws, models, self.noise_source(ws))
        run.top(info.node, t, kwargs)
        self.check_calls(tree, ws, code, run, kwargs)
        for key in env_keys:
            self.envs[key].needs_reset = False
            self.check_env_rows(ws, key, run)
            self.check_determinism(ws, key, run)
        written = {n.name for n in leaves(info.node).values() if isinstance(n, (Writer, Stopper))}
        for name in model_ws.vars:
            if name in written:
                self.blame[(ws, name)] = "AG-3"
        self.touched(ws, "TA-5")
        return True

    def check_calls(
        self, tree: str, ws: str, code: str, run: TreeRun, kwargs: dict[str, object]
    ) -> None:
        """AG-2, AG-4, TA-1..TA-3: the calls each agent received; AG-3: what it read."""
        expected = list(run.calls)

        def calls_of(s: Subject) -> list[tuple[str, int, Kwargs]]:
            return [(k, t, kw) for k, t, kw, _ in s.calls]

        clause = _calls_clause(calls_of(self.subjects[0]), expected, kwargs)
        self.judge.value(
            clause,
            f"the calls (agent, t, kwargs) the agents of {tree} received in {code}",
            "calls",
            calls_of,
            expected,
        )
        self.judge.verdict(
            "AG-2",
            f"self.workspace inside the agents during {code}",
            "calls",
            lambda s: (
                None
                if all(w is s[ws] for *_, w in s.calls)
                else "an agent's self.workspace was not the workspace it was called with"
            ),
        )
        want = run.reads
        errors = [e for _, _, e in want if isinstance(e, ModelError)]

        def reads_ok(s: Subject, errors_only: bool) -> str | None:
            if len(s.reads) != len(want):
                return f"{len(s.reads)} reads, expected {len(want)}"
            for (key, t, got), (_, _, expect) in zip(s.reads, want, strict=True):
                if isinstance(expect, ModelError):
                    if errors_only and not isinstance(got, expect.allowed):
                        return f"reader {key} at t={t}: got {got!r}, expected {expect.allowed}"
                elif not errors_only and not (
                    isinstance(got, MValue)
                    and (got.dtype, got.shape) == (expect.dtype, expect.shape)
                    and np.array_equal(got.array, expect.array)
                ):
                    return f"reader {key} at t={t}: got {got!r:.300}, expected {expect!r:.300}"
            return None

        what = f"what self.get returned in the agents during {code}"
        self.judge.verdict("AG-3", what, "reads", lambda s: reads_ok(s, False))
        if errors:  # the exception self.get raised, under the clause of the error
            self.judge.verdict(errors[0].clause, what, "reads", lambda s: reads_ok(s, True))

    def check_env_rows(self, ws: str, key: str, run: TreeRun) -> None:
        """ENV-2..ENV-10, ENV-14: every row the env agent wrote in this run, env by env."""
        env = self.envs[key].model
        is_dict = isinstance(env.setup.config.obs, DictObs)
        for name, layout in env.variables().items():
            observation = name not in SCALAR_VARIABLES
            clause = ("ENV-10" if is_dict else "ENV-9") if observation else "ENV-2"
            self.check_env_variable(ws, key, name, layout, clause, run)

    def check_env_variable(
        self,
        ws: str,
        key: str,
        name: str,
        layout: tuple[str, tuple[int, ...]],
        clause: str,
        run: TreeRun,
    ) -> None:
        env = self.envs[key].model

        def dtype_and_shape(s: Subject) -> str | None:
            if name not in set(s[ws].keys()):
                return f"no variable {name!r} (variables: {sorted(s[ws].keys())})"
            full = s[ws].get_full(name)
            got = (to_model(full).dtype, tuple(full.shape[2:]))
            return None if got == layout else f"{got}, expected {layout}"

        what = f"(dtype, item shape) of {name!r} written by {key}"
        self.judge.verdict(clause, what, f"{ws}.get_full({name!r}).dtype", dtype_and_shape)
        var = self.ws[ws].vars[name]
        outcomes = self.each(lambda s: s[ws].get_full(name))
        fulls = {id(s): o.value for s, o in zip(self.subjects, outcomes, strict=True)}
        for k, t, kinds in run.env_rows:
            if k != key:
                continue
            for b, kind in enumerate(kinds):
                row_clause = ROW_CLAUSES[kind]
                if kind == "done" and not env.autoreset:
                    row_clause = "ENV-4"
                self.judge.tensor(
                    row_clause,
                    f"{name!r} at t={t} for env {b} ({kind} row written by {key})",
                    f"{ws}.get({name!r}, {t})[{b}]",
                    _entry(fulls, t, b),
                    MValue(var.dtype, var.rows[t][b]),
                )

    def check_determinism(self, ws: str, key: str, run: TreeRun) -> None:
        """DET-1..DET-4 on the noise of first observations of a seeded agent."""
        env = self.envs[key]
        if env.seed is None or not any(k == key and t == 0 for k, t, _ in run.env_rows):
            return
        history = env.model.first_noises
        latest = history[-1]
        if any(n is None for n in latest):
            return
        if len(latest) > 1:
            self.judge.value(
                "DET-2",
                f"distinct first-observation noises of {key}'s envs",
                "None",
                _const(len(set(latest))),
                len(latest),
            )
        for b, noise in enumerate(latest):
            earlier = [h[b] for h in history[:-1]]
            self.judge.value(
                "DET-3",
                f"env {b} of {key}: first-observation noise {noise} of rollout "
                f"{len(history) - 1} repeats an earlier rollout's ({earlier})",
                "None",
                _const(noise in earlier),
                False,
            )
        if env.twin is None:
            return
        twin = env.twin
        names = sorted(env.model.variables())
        shadow = self.new_name("shadow")
        self.emit(f"{shadow} = impl.Workspace(); {twin}({shadow}, t=0)")

        def twin_rows(s: Subject) -> dict[str, torch.Tensor]:
            w = s.impl.Workspace()
            s[twin](w, t=0)
            return {n: w.get(n, 0) for n in names}

        outcomes = self.each(twin_rows)
        self.judge.succeeded("DET-1", f"{twin}({shadow}, t=0)", f"{shadow}.keys()", outcomes)
        rows = {id(s): o.value for s, o in zip(self.subjects, outcomes, strict=True)}
        if env.twin_shift == 0:
            for name in names:
                self.judge.tensor(
                    "DET-1",
                    f"row 0 of {name!r} from {twin}, seeded like {key}, against {key}'s",
                    f"{shadow}.get({name!r}, 0)",
                    _entry(rows, name),
                    MValue(self.ws[ws].vars[name].dtype, self.ws[ws].vars[name].rows[0]),
                )
            return
        target = noise_target(env.model.setup.config.obs)
        first = rows[id(self.subjects[0])]
        if target is None or not isinstance(first, dict):
            return
        noises = tuple(int(float(v.reshape(-1)[0])) for v in to_model(first[target]).array)
        env.twin_noises.append(noises)
        clash = [n for n in history if n in env.twin_noises]
        self.judge.value(
            "DET-4",
            f"first-observation noises of {key} (seed s) and {twin} (seed s + 1) in common",
            "None",
            _const(clash),
            [],
        )

    # -- env agents ----------------------------------------------------------------------

    @precondition(lambda self: len(self.envs) < MAX_ENVS)
    @rule(data=st.data())
    def new_env_agent(self, data: st.DataObject) -> None:
        """ENV-1, ENV-15, ERR-7, AG-6: an env agent over a generated env, built through the
        implementation's make_env, and a tree stepping it with an action agent."""
        family = env_setups(
            self.noisy_envs,
            floats_only=not self.enabled("ENV-9"),
            dicts=self.enabled("ENV-10"),
            rank0_box_action=self.enabled("ENV-11.rank0"),
        )
        setup = data.draw(family, label="env")
        autoreset = data.draw(st.booleans(), label="autoreset")
        via_args = data.draw(st.booleans(), label="config in make_env_args")
        num_envs = data.draw(st.integers(1, 4), label="num_envs")
        if self.rare(data, "wide batch", 4):  # wide batches take other code paths
            num_envs = data.draw(st.integers(5, 24), label="num_envs (wide)")
        if self.enabled("ERR-7") and self.rare(data, "bad num_envs"):
            num_envs = data.draw(st.integers(-1, 0), label="num_envs < 1")
        make = self.new_name("make")
        self.emit(f"{make}, {make}_args = env_factory(impl, {setup!r}, {autoreset}, {via_args})")
        holder: list[EnvAgentModel] = []

        def construct(s: Subject) -> object:
            factory, args = env_factory(s.impl, setup, autoreset, via_args)
            if args is None:
                return s.impl.ParallelGymAgent(factory, num_envs)
            return s.impl.ParallelGymAgent(factory, num_envs, args)

        agent = self.new_name("env")
        made = self.apply(
            f"impl.ParallelGymAgent({make}, {num_envs}, {make}_args)",
            lambda: holder.append(EnvAgentModel(setup, num_envs, autoreset)),
            construct,
            "ENV-1",
            assign=agent,
        )
        if made is None:
            return
        model = holder[0]
        seed = data.draw(st.one_of(st.none(), agent_seeds), label="seed")
        if self.enabled("ENV-15") and self.rare(data, "call before t=0", 4):
            self.bad_env_call(agent, model, 1)
        if seed is not None:
            if self.enabled("ERR-7") and self.rare(data, "seed(-1)"):
                error = ModelError([Reason(ValueError, "ERR-7", "seed(-1)")])
                self.judge.failed(
                    error,
                    f"{agent}.seed(-1)",
                    f"{agent}.seed(-1)",
                    self.each(lambda s: s[agent].seed(-1)),
                )
                self.emit(f"raises(lambda: {agent}.seed(-1))")
            if not self.seed_agent(agent, seed):
                seed = None
        info = EnvInfo(model, seed)
        self.envs[agent] = info
        if seed is not None and setup.config.noisy and noise_target(setup.config.obs):
            shift = _choose(data, [None, 0, 1], "twin")
            if shift is not None:
                twin = f"{agent}_twin"
                self.apply(
                    f"impl.ParallelGymAgent({make}, {num_envs}, {make}_args)",
                    lambda: None,
                    construct,
                    "ENV-1",
                    assign=twin,
                )
                if self.seed_agent(twin, seed + shift):
                    info.twin, info.twin_shift = twin, shift
        if self.enabled("ENV-12"):
            self.env_sizes(agent)
        self.new_env_tree(data, agent)

    def seed_agent(self, agent: str, seed: int) -> bool:
        """DET-4, DET-9: every seed 0 <= s <= 2**64 - 1 is accepted, a larger one raises
        ValueError; AG-6: seed() returns the agent. Whether the agent is seeded now."""
        code = f"{agent}.seed({seed})"
        if seed > MAX_SEED:
            error = ModelError([Reason(ValueError, "DET-9", f"seed {seed} > 2**64 - 1")])
            self.judge.failed(error, code, code, self.each(lambda s: s[agent].seed(seed)))
            self.emit(f"raises(lambda: {code})")
            return False
        outcomes = self.each(lambda s: s[agent].seed(seed) is s[agent])
        self.judge.succeeded("DET-4", code, code, outcomes)
        self.emit(code)
        if self.enabled("AG-6"):
            returned = {id(s): o.value for s, o in zip(self.subjects, outcomes, strict=True)}
            self.judge.value(
                "AG-6", f"{code} is {agent}", f"{code} is {agent}", _entry(returned), True
            )
        return True

    def new_env_tree(self, data: st.DataObject, agent: str) -> None:
        model = self.envs[agent].model
        batch = model.num_envs
        actor = Actor(self.new_name("a"), model.setup.config.action, batch, data.draw(seeds))
        extras = [self.draw_leaf(data, batch) for _ in range(data.draw(st.integers(0, 2)))]
        group = Group(self.new_name("g"), (EnvRef(agent), actor, *extras))
        node: Node = group
        if not self.rare(data, "plain Agents", 4):
            node = Temporal(self.new_name("T"), group)
        stops = {n.name for n in extras if isinstance(n, Stopper)} | {"env/done"}
        tree = self.new_name("tree")
        self.trees[tree] = TreeInfo(node, batch, agent, False, tuple(sorted(stops)))
        self.build(tree)
        if len(self.ws) < MAX_WS and data.draw(st.booleans(), label="run at once"):
            self.draw_run(data, tree, "new", later=False)

    def bad_env_call(self, agent: str, model: EnvAgentModel, t: int) -> None:
        """ENV-15 (a call at t > 0 before t = 0) or ERR-8 (no ``action``), on a new workspace
        holding at most an ``action``, which the failed call leaves unchanged (ERR-5). The
        workspace is not kept: the program's workspaces stay as they were."""
        scratch = WorkspaceModel()
        setup = f"{agent}_ws = impl.Workspace()"
        action: MValue | None = None
        if not model.started:
            spec = model.setup.config.action
            action = MValue(spec.dtype, action_row(spec, 0, t - 1, model.num_envs))
            made = f"torch.tensor({action.array.tolist()}, dtype=torch.{spec.dtype})"
            setup += f"; {agent}_ws.set('action', {t - 1}, {made})"
            scratch.set("action", t - 1, action)
        workspaces: dict[int, Any] = {}

        def call(s: Subject) -> object:
            w = s.impl.Workspace()
            if action is not None:
                w.set("action", t - 1, from_model(action))
            workspaces[id(s)] = w
            return s[agent](w, t=t)

        self.emit(setup)
        code = f"{agent}({agent}_ws, t={t})"
        self.apply(
            code,
            lambda: model.copy().call(scratch.copy(), t, lambda tt, b: 0),
            call,
            "ENV-4",
            names=["action"],
        )
        self.judge.value(
            "ERR-5",
            f"the variables of {agent}_ws after the failed {code}",
            f"sorted({agent}_ws.keys())",
            lambda s: set(workspaces[id(s)].keys()),
            scratch.keys(),
        )

    def env_call_without_action(self, data: st.DataObject, agent: str) -> None:
        """ERR-8: a call at t > 0 on a workspace without ``action``."""
        self.bad_env_call(agent, self.envs[agent].model, data.draw(st.integers(1, 3)))
        self.envs[agent].needs_reset = True

    def env_sizes(self, agent: str) -> None:
        """ENV-12: for one-dimensional Box and Discrete spaces."""
        config = self.envs[agent].model.setup.config
        obs, action = config.obs, config.action
        if isinstance(obs, DiscreteObs):
            obs_size = obs.n
        elif isinstance(obs, BoxObs) and len(obs.shape) == 1:
            obs_size = obs.shape[0]
        else:
            return
        if action.kind == "box" and len(action.shape) != 1:
            return
        act_size = action.n if action.kind == "discrete" else action.shape[0]
        code = f"{agent}.get_obs_and_actions_sizes()"
        self.judge.value(
            "ENV-12",
            f"{code} and the types of its items",
            code,
            lambda s: [(type(v).__name__, v) for v in s[agent].get_obs_and_actions_sizes()],
            [("int", obs_size), ("int", act_size)],
        )

    def epoch_candidates(self) -> list[tuple[str, str]]:
        """(tree, workspace) pairs where the tree's env agent wrote the last row of every
        variable it writes: after copy_n_last_steps(1), a run from t = 1 continues it."""
        found = []
        for tree, info in sorted(self.trees.items()):
            if info.env is None or not isinstance(info.node, Temporal):
                continue
            env = self.envs[info.env]
            for ws, model in self.ws.items():
                done = model.vars.get("env/done")
                if done is None or env.needs_reset:
                    continue
                sizes = {model.vars[n].time_size for n in env.model.last_rows if n in model.vars}
                if sizes == {done.time_size} and env.model.continues(model, done.time_size):
                    found.append((tree, ws))
        return found

    @precondition(lambda self: bool(self.epoch_candidates()))
    @rule(data=st.data())
    def epoch(self, data: st.DataObject) -> None:
        """TR-10's epoch protocol: zero_grad, copy_n_last_steps(1), a run from t = 1, then
        get_transitions, on a workspace the env agent has just written."""
        candidates = self.epoch_candidates()
        tree, ws = _choose(data, candidates, "tree and workspace")
        self.zero_grad(ws)
        if not self.copy_n_last_steps(ws, 1, None):
            return
        steps = data.draw(st.integers(1, 5), label="n_steps")
        if not self.run(tree, ws, 1, {"n_steps": steps}):
            return
        out = self.get_transitions(ws, "env/done")
        if out is not None and self.rbs and not self.rare(data, "no put", 4):
            self.put(_choose(data, sorted(self.rbs), "buffer"), out)

    # -- replay buffers ------------------------------------------------------------------

    @precondition(lambda self: len(self.rbs) < MAX_BUFFERS)
    @rule(data=st.data())
    def new_buffer(self, data: st.DataObject) -> None:
        """RB-1."""
        max_size: object = _choose(data, [1, 2, 3, 5, 8, 12], "max_size")
        if self.enabled("RB-1") and self.rare(data, "another max_size"):
            max_size = _choose(data, [1000, 0, -2, "8", None], "max_size")
        name = self.new_name("rb")
        holder: list[ReplayBufferModel] = []
        done = self.apply(
            f"impl.ReplayBuffer({max_size!r})",
            lambda: holder.append(ReplayBufferModel(max_size)),
            lambda s: s.impl.ReplayBuffer(max_size),
            "RB-1",
            assign=name,
        )
        if done is None:
            return
        self.rbs[name] = holder[0]
        self.blame[name] = "RB-1"
        accepted = self.accepting(name)
        put_now = not self.rare(data, "no put at once", 5)
        if accepted and put_now:
            self.put(name, _choose(data, accepted, "workspace"))
            return
        if self.enabled("RB-10") and self.rare(data, "sample the empty buffer", 4):
            code = self.sample_code(name, 1, 0)
            error = ModelError([Reason(ValueError, "RB-10", "get_shuffled of an empty buffer")])
            self.judge.failed(error, code, code, self.each(lambda s: self.sample(s, name, 1, 0)))
            self.emit(f"raises(lambda: {code})")

    def accepts(self, ws: str) -> list[str]:
        """The buffers that accept a put of ``ws`` (by the model)."""
        found = []
        for name, model in self.rbs.items():
            try:
                model.copy().put(self.ws[ws])
            except (ModelError, Unspecified):
                continue
            found.append(name)
        return found

    def accepting(self, rb: str) -> list[str]:
        """The workspaces a put into ``rb`` accepts (by the model)."""
        accepted = []
        for name, model in self.ws.items():
            try:
                self.rbs[rb].copy().put(model)
            except (ModelError, Unspecified):
                continue
            accepted.append(name)
        return accepted

    def set_full_values(
        self, ws: str, name: str, dtype: str, shape: tuple[int, ...], seed: int
    ) -> None:
        """``ws.set_full(name, value(dtype, shape, seed))``, a valid call."""
        argument = MValue(dtype, make_array(dtype, shape, seed, "wide"))
        code = f"{ws}.set_full({name!r}, value({dtype!r}, {shape}, seed={seed}))"
        self.apply(
            code,
            lambda: self.ws[ws].set_full(name, argument),
            lambda s: s[ws].set_full(name, value(dtype, shape, seed)),
            "WS-11",
        )

    def fitting_workspace(self, data: st.DataObject, rb: str) -> str | None:
        """A new workspace of random values with the schema of ``rb`` (so that puts, and the
        wrap-arounds they cause, do not depend on finding one)."""
        schema = self.rbs[rb].schema
        if schema is None:
            return None
        self.make_room(self.ws, MAX_WS)
        ws = self.new_name("ws")
        self.apply(
            "impl.Workspace()", lambda: None, lambda s: s.impl.Workspace(), "WS-1", assign=ws
        )
        self.add_workspace(ws, WorkspaceModel())
        items = int(_choose(data, [1, 2, 3, 5], "items"))
        for name, (dtype, time_size, shape) in sorted(schema.items()):
            seed = data.draw(seeds, label="seed")
            self.set_full_values(ws, name, dtype, (time_size, items, *shape), seed)
        return ws

    def put(self, rb: str, ws: str) -> bool:
        model = self.rbs[rb]
        items = self.ws[ws].batch_size()
        clause = "RB-5" if items > model.max_size else "RB-2"
        if not self.enabled("RB-5") and items > model.max_size:
            return False  # a run looking past RB-5 makes no put larger than the buffer
        if not self.enabled("RB-6") and rb not in self.accepts(ws):
            return False  # ... or past RB-6: no put of another schema
        done = self.apply(
            f"{rb}.put({ws})",
            lambda: model.put(self.ws[ws]),
            lambda s: s[rb].put(s[ws]),
            clause,
            touched=[rb],
            names=[],
        )
        if done is not None:
            self.links.append((ws, rb, "RB-11"))
            self.blame[rb] = clause if clause == "RB-5" else "RB-4"
        return done is not None

    @precondition(lambda self: bool(self.rbs) and any(m.vars for m in self.ws.values()))
    @rule(data=st.data())
    def rb_put(self, data: st.DataObject) -> None:
        """RB-2, RB-4..RB-7: a put of a workspace, mostly one the buffer accepts (a schema
        error raises, changing nothing)."""
        rb = _choose(data, sorted(self.rbs), "buffer")
        accepted = self.accepting(rb)
        if self.rbs[rb].schema is not None and (not accepted or self.rare(data, "new items", 3)):
            made = self.fitting_workspace(data, rb)
            accepted = [made] if made else accepted
        if accepted and (not self.enabled("RB-6") or not self.rare(data, "any workspace", 5)):
            ws = _choose(data, accepted, "workspace")
            follow = _choose(data, ["nothing", "sample", "write the source"], "then")
            if self.put(rb, ws) and follow == "sample":
                self.draw_sample(data, rb)
            elif follow == "write the source" and ws in self.ws:
                self.write_one_side(data, ws, rb)
        elif self.enabled("RB-6"):
            ws = self.pick_ws(data, nonempty=True)
            if ws is not None:
                self.put(rb, ws)

    def sample(self, s: Subject, rb: str, batch_size: int, seed: int) -> Any:
        if self.enabled("DET-7"):
            return s[rb].get_shuffled(batch_size, generator=generator(seed))
        return s[rb].get_shuffled(batch_size)

    def sample_code(self, rb: str, batch_size: int, seed: int) -> str:
        if self.enabled("DET-7"):
            return f"{rb}.get_shuffled({batch_size}, generator=generator({seed}))"
        return f"{rb}.get_shuffled({batch_size})"

    def check_sample(
        self,
        clause: str,
        what: str,
        probe: str,
        samples: dict[int, Any],
        model: ReplayBufferModel,
        batch_size: int,
        coverage: bool,
    ) -> None:
        """RB-8 (layout), RB-11 (detached), RB-9 (every column a stored item; with
        ``coverage``, every stored item among them: a check of the buffer's contents)."""
        schema = model.schema or {}
        stored = set(model.keys())

        def layout(s: Subject) -> str | None:
            sample = samples[id(s)]
            if set(sample.keys()) != set(schema):
                return f"variables {sorted(sample.keys())}, expected {sorted(schema)}"
            for name, (dtype, time_size, shape) in schema.items():
                full = sample.get_full(name)
                contiguous = full.is_contiguous() or not self.enabled("RB-8.contiguous")
                got = (to_model(full).dtype, tuple(full.shape), contiguous)
                want = (dtype, (time_size, batch_size, *shape), True)
                if got != want:
                    return f"{name!r}: (dtype, shape, contiguous) {got}, expected {want}"
            return None

        def detached(s: Subject) -> str | None:
            sample = samples[id(s)]
            grads = [n for n in schema if sample.get_full(n).requires_grad]
            return f"{grads} require grad" if grads else None

        def columns(s: Subject) -> list[bytes]:
            sample = samples[id(s)]
            arrays = {n: to_model(sample.get_full(n)).array for n in schema}
            return [item_key({n: a[:, j] for n, a in arrays.items()}) for j in range(batch_size)]

        def members(s: Subject) -> str | None:
            foreign = [j for j, k in enumerate(columns(s)) if k not in stored]
            return f"columns {foreign[:10]} are no stored item" if foreign else None

        def covers(s: Subject) -> str | None:
            missing = len(stored - set(columns(s)))
            return (
                f"{missing} of the {len(stored)} distinct stored items never drawn"
                if missing
                else None
            )

        self.judge.verdict("RB-8", f"the layout of {what}", probe, layout)
        self.judge.verdict("RB-11", f"requires_grad of {what}", probe, detached)
        self.judge.verdict(clause, f"the items of {what}", probe, members)
        if coverage:
            self.judge.verdict(clause, f"the items of {what} ({batch_size} draws)", probe, covers)

    @precondition(lambda self: any(m.size() for m in self.rbs.values()))
    @rule(data=st.data())
    def rb_sample(self, data: st.DataObject) -> None:
        """RB-8..RB-11, DET-7: get_shuffled with a seeded generator (or a bad batch size)."""
        rb = _choose(data, sorted(k for k, m in self.rbs.items() if m.size()), "buffer")
        self.draw_sample(data, rb)

    def draw_sample(self, data: st.DataObject, rb: str) -> None:
        model = self.rbs[rb]
        batch_size = data.draw(st.integers(1, 2 * model.size() + 3), label="batch_size")
        if self.enabled("RB-10") and self.rare(data, "bad batch_size", 8):
            batch_size = data.draw(st.integers(-2, 0), label="batch_size <= 0")
        seed = data.draw(seeds, label="generator seed")
        code = self.sample_code(rb, batch_size, seed)
        try:
            model.check_sample(batch_size)
        except ModelError as err:
            outcomes = self.each(lambda s: self.sample(s, rb, batch_size, seed))
            self.judge.failed(err, code, code, outcomes)
            self.emit(f"raises(lambda: {code})")
            self.blame[rb] = "RB-7"
            return

        def draw(s: Subject) -> object:
            before = torch.get_rng_state()
            sample = self.sample(s, rb, batch_size, seed)
            again = self.sample(s, rb, batch_size, seed)
            return sample, again, torch.equal(before, torch.get_rng_state())

        outcomes = self.each(draw)
        self.judge.succeeded("RB-8", code, code, outcomes)
        pairs = zip(self.subjects, outcomes, strict=True)
        results: dict[int, Any] = {id(s): o.value for s, o in pairs}
        samples = {k: v[0] for k, v in results.items()}
        self.check_sample("RB-9", code, code, samples, model, batch_size, coverage=False)
        if self.enabled("DET-7"):
            self.judge.verdict(
                "DET-7",
                f"{code}, twice, and torch's global random state",
                code,
                lambda s: (
                    self.same_samples(results[id(s)][0], results[id(s)][1], model)
                    or (None if results[id(s)][2] else "the call changed torch's global RNG state")
                ),
            )
        if self.judge.differential or len(self.ws) >= MAX_WS:
            return
        out = self.new_name("ws")
        self.emit(f"{out} = {code}")
        sample = samples[id(self.subjects[0])]
        learned = WorkspaceModel()
        for name in sorted(model.schema or {}):
            learned.set_full(name, to_model(sample.get_full(name)))
        self.subjects[0].objects[out] = sample
        self.add_workspace(out, learned)
        self.derived.add(out)
        self.links.append((rb, out, "RB-11"))
        if not self.rare(data, "no write after", 2):
            self.write_one_side(data, out, rb)

    @staticmethod
    def same_samples(a: Any, b: Any, model: ReplayBufferModel) -> str | None:
        for name in sorted(model.schema or {}):
            if not torch.equal(a.get_full(name), b.get_full(name)):
                return f"two samples drawn with equally seeded generators differ in {name!r}"
        return None

    @precondition(lambda self: any(m.size() for m in self.rbs.values()))
    @rule(data=st.data())
    def rb_state_dict(self, data: st.DataObject) -> None:
        """RB-12: state_dict, then load_state_dict on a new buffer of the same max_size."""
        if not self.enabled("RB-12"):
            return
        full = sorted(k for k, m in self.rbs.items() if m.size() == m.max_size)
        rb = _choose(data, sorted(k for k, m in self.rbs.items() if m.size()), "buffer")
        if full and not self.rare(data, "any buffer", 3):
            rb = _choose(data, full, "full buffer")
        model = self.rbs[rb]
        self.make_room(self.rbs, MAX_BUFFERS)
        if rb not in self.rbs:
            return
        new = self.new_name("rb")

        def restore(s: Subject) -> object:
            restored = s.impl.ReplayBuffer(model.max_size)
            restored.load_state_dict(s[rb].state_dict())
            return restored

        code = f"{new} = impl.ReplayBuffer({model.max_size})"
        code += f"; {new}.load_state_dict({rb}.state_dict())"
        probe = f"impl.ReplayBuffer({model.max_size}).load_state_dict({rb}.state_dict())"
        outcomes = self.each(restore)
        self.judge.succeeded("RB-12", code, probe, outcomes)
        self.emit(code)
        self.store(new, outcomes)
        self.rbs[new] = model.copy()
        self.links.append((rb, new, "RB-12"))
        self.blame[new] = "RB-12"
        if model.size() and self.enabled("DET-7"):
            seed = data.draw(seeds, label="generator seed")
            n = data.draw(st.integers(1, 3 * model.size()), label="batch_size")
            self.judge.verdict(
                "RB-12",
                f"samples of {rb} and {new} with generators seeded alike",
                self.sample_code(new, n, seed),
                lambda s: self.same_samples(
                    self.sample(s, rb, n, seed), self.sample(s, new, n, seed), model
                ),
            )
        if data.draw(st.booleans(), label="write the restored buffer alone"):
            accepted = self.accepting(new)
            made = (
                None
                if accepted and self.rare(data, "new items", 2)
                else self.fitting_workspace(data, new)
            )
            if made or accepted:
                self.put(new, made or _choose(data, accepted, "workspace"))

    def check_buffer(self, rb: str) -> None:
        model = self.rbs[rb]
        blame = self.blame.get(rb, "RB-4")
        size_clause = "RB-3" if blame in ("RB-4", "RB-2", "RB-1") else blame
        self.judge.value(
            size_clause,
            f"{rb}.size() and its type",
            f"{rb}.size()",
            lambda s: (type(s[rb].size()).__name__, s[rb].size()),
            ("int", model.size()),
        )
        if not model.size():
            return
        batch_size = min(COVERAGE * model.size(), 2000)
        seed = 1234
        code = self.sample_code(rb, batch_size, seed)
        outcomes = self.each(lambda s: self.sample(s, rb, batch_size, seed))
        self.judge.succeeded(blame, code, code, outcomes)
        samples = {id(s): o.value for s, o in zip(self.subjects, outcomes, strict=True)}
        coverage = model.size() <= 60
        self.check_sample(
            blame, f"{code} (the stored items)", code, samples, model, batch_size, coverage
        )


def make_program_machine(
    subjects: Callable[[], list[Subject]],
    skip: Sequence[str] = (),
    noisy_envs: bool = True,
) -> type[ProgramMachine]:
    """The machine running programs on the subjects ``subjects()`` makes for each example;
    ``skip`` leaves out the calls and checks of those clauses (differential runs)."""
    return type(
        "GeneratedPrograms",
        (ProgramMachine,),
        {
            "make_subjects": staticmethod(subjects),
            "skip": frozenset(skip),
            "noisy_envs": noisy_envs,
        },
    )
