"""Hostile calls on agents and the workspace they run on (spec/agents.md, spec/errors.md).

The world holds ``ws`` (a workspace of batch size ``B``, modelled as in
:class:`~bbrl_conformance._hostile._workspace.WorkspaceWorld`) and an agent tree written in the
preamble: ``A = impl.Agents(Count("x", B), Double("x", "y"), Halt(B, at, STOP))`` and ``TA =
impl.TemporalAgent(A)``. Each step at ``t`` writes ``x[t] = 1000 t + b``, ``y[t] = 2 x[t]`` (read
back through ``self.get``, AG-3), ``stop[t]`` (the world's stop dtype, true (NaN for a floating
dtype) exactly when ``t >= at``, ``at`` given as a keyword argument or the agent's own) and
``flag[t]`` (complex64, outside TA-6). The model runs the same steps (TA-1..TA-3, TA-5, TA-8).

Bad calls: ``t``, ``n_steps`` and ``stop_variable`` of wrong types and values, huge and negative
times, a stop variable that is missing, without row ``t`` or of a dtype outside TA-6 (before and
after the first step), bad ``self.get``/``self.set`` inside ``forward``, a workspace or children
that are not what they should be, and ``load_model`` of files that are not ``P``'s state dict
(``P = Param()``, an agent with parameters, whose ``state_dict()`` is observed too). A refused
call leaves the workspace and ``P`` unchanged, except the rows that TA-8 keeps, which the model
writes too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch

from bbrl_conformance._failure import ConformanceFailure
from bbrl_conformance._hostile import _values as vals
from bbrl_conformance._hostile._engine import Call, Draw, Maker, World
from bbrl_conformance._hostile._workspace import WorkspaceWorld, _unbound, same_values, show
from bbrl_conformance._models import WorkspaceModel

PREAMBLE = '''

class Count(impl.Agent):
    """Writes row t of ``var``: float32 [B], 1000 * t + b (a runaway run, one that should
    have stopped long ago, raises RuntimeError). The first write does no arithmetic on t, so
    that a t of the wrong type meets the implementation's checks, not this agent's."""

    def __init__(self, var, B):
        super().__init__()
        self.var, self.B, self.calls = var, B, 0

    def forward(self, t, **kwargs):
        self.calls += 1
        if self.calls > 10_000:
            raise RuntimeError(f"Count: runaway run, called at t={t}")
        self.set((self.var, t), torch.arange(self.B, dtype=torch.float32))
        self.set((self.var, t), torch.arange(self.B, dtype=torch.float32) + 1000.0 * t)


class Double(impl.Agent):
    """Reads row t of ``src`` and writes twice it as row t of ``dst``."""

    def __init__(self, src, dst):
        super().__init__()
        self.src, self.dst = src, dst

    def forward(self, t, **kwargs):
        self.set((self.dst, t), self.get((self.src, t)) * 2)


class Halt(impl.Agent):
    """Writes row t of 'stop' (dtype ``dtype``: true, NaN for a floating dtype, exactly when
    t >= at) and of 'flag' (complex64, 1 exactly when t >= at)."""

    def __init__(self, B, at, dtype):
        super().__init__()
        self.B, self.at, self.dtype = B, at, dtype

    def forward(self, t, at=None, **kwargs):
        done = t >= (self.at if at is None else at)
        true = math.nan if self.dtype.is_floating_point else 1
        self.set(("stop", t), torch.full((self.B,), true if done else 0, dtype=self.dtype))
        self.set(("flag", t), torch.full((self.B,), 1 if done else 0, dtype=torch.complex64))


class Param(impl.Agent):
    """An agent with parameters (a Linear(n, n) with seeded weights) that writes nothing."""

    def __init__(self, n=2, seed=0):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.lin = torch.nn.Linear(n, n)

    def forward(self, t, **kwargs):
        pass


class Other(impl.Agent):
    """Parameters under other names than Param's."""

    def __init__(self):
        super().__init__()
        self.other = torch.nn.Linear(2, 2)

    def forward(self, t, **kwargs):
        pass


def agent_state(agent):
    """An agent's parameters: names and digests of its state_dict()."""
    return outcome(lambda: sorted((k, digest(v)) for k, v in agent.state_dict().items()))


class Probe(impl.Agent):
    """Runs ``op(self, t)`` in forward and keeps its result as ``out``."""

    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, t, **kwargs):
        self.out = self.op(self, t)
'''

#: the variables a step writes, by name: (item shape, dtype); 'stop' takes the world's dtype
WRITTEN = ("x", "y", "stop", "flag")


class AgentsWorld(WorkspaceWorld):
    """``ws``, the tree ``A`` and ``TA = impl.TemporalAgent(A)`` over it (see the module)."""

    preamble = vals.PREAMBLE + PREAMBLE
    state_source = "(ws_state(ws), agent_state(P))"

    def __init__(self, impl: Any, draw: Draw) -> None:
        World.__init__(self, impl)  # not WorkspaceWorld's: no random variables
        self.B = draw.integer(1, 3, "batch size")
        self.at = draw.integer(0, 4, "Halt's own at")
        self.stop_dtype = draw.pick(vals.STOP_DTYPES, "stop dtype")
        self.model = WorkspaceModel()
        self.schema = {}
        self.seed = 0
        self.setup(
            f"B = {self.B}\nSTOP = torch.{self.stop_dtype}\nws = impl.Workspace()\n"
            f'A = impl.Agents(Count("x", B), Double("x", "y"), Halt(B, {self.at}, STOP))\n'
            "TA = impl.TemporalAgent(A)\nP = Param()"
        )
        extra = draw.pick([(), ("old",), ("old", "bad"), ("bad",)], "initial variables")
        if "old" in extra:  # a stop variable with one row only (TA-8: IndexError past it)
            self.write_full("old", 1, ((), "bool"))
        if "bad" in extra:  # a variable whose dtype TA-6 refuses
            self.write_full("bad", 1, ((), draw.pick(["complex64", "uint16", "uint64"], "dtype")))

    # ------------------------------------------------------------------ the model
    def row(self, name: str, t: int, at: int) -> torch.Tensor:
        x = torch.arange(self.B, dtype=torch.float32) + 1000.0 * t
        done = t >= at
        if name == "x":
            return x
        if name == "y":
            return x * 2
        if name == "flag":
            return torch.full((self.B,), 1 if done else 0, dtype=torch.complex64)
        dtype = getattr(torch, self.stop_dtype)
        true = float("nan") if dtype.is_floating_point else 1
        return torch.full((self.B,), true if done else 0, dtype=dtype)

    def schema_of(self, name: str) -> tuple[tuple[int, ...], str]:
        return (), {"x": "float32", "y": "float32", "flag": "complex64"}.get(name, self.stop_dtype)

    def step_model(self, model: WorkspaceModel, t: int, at: int) -> None:
        for name in WRITTEN:
            model.set(name, t, self.row(name, t, at))

    def simulate(
        self, t0: int, n_steps: int | None, stop: str | None, at: int
    ) -> tuple[WorkspaceModel, type[BaseException] | None, str]:
        """The model after ``TA(ws, t=t0, n_steps=n_steps, stop_variable=stop, at=at)``, the
        error it must raise (None if none) and the clause that says so."""
        model = copy.deepcopy(self.model)
        schema = {n: s for n, s in self.schema.items()}
        schema.update({n: self.schema_of(n) for n in WRITTEN})
        stop_ok = {*vals.STOP_DTYPES}
        if stop is not None and stop in model.rows and self.schema[stop][1] not in stop_ok:
            return model, TypeError, "TA-7"
        t = t0
        while n_steps is None or t < t0 + n_steps:
            self.step_model(model, t, at)
            if stop is not None:
                if stop not in model.rows:
                    return model, KeyError, "TA-8"
                if len(model.rows[stop]) <= t:
                    return model, IndexError, "TA-8"
                if schema[stop][1] not in stop_ok:
                    return model, TypeError, "TA-8"
                value = model.rows[stop][t]
                if bool((value != 0).all()):  # NaN != 0: true (TA-6)
                    break
            t += 1
        return model, None, "TA-1"

    def adopt(self, model: WorkspaceModel) -> None:
        self.model = model
        for name in WRITTEN:
            if name in model.rows:
                self.schema[name] = self.schema_of(name)

    def check_value(self, clause_id: str, what: str, want: torch.Tensor) -> Callable[[], None]:
        def check() -> None:
            out = getattr(self.ns.get("p"), "out", None)
            if not same_values(out, want):
                raise ConformanceFailure(
                    clause_id,
                    f"{what}: got {show(out)}, expected {show(want)}",
                    self.repro("print(p.out)"),
                )
            self.check_model(clause_id, f"after {what}")

        return check

    def model_call(
        self,
        klass: str,
        code: str,
        what: str,
        t0: int,
        n: int | None,
        stop: str | None,
        at: int,
        clause_id: str = "TA-1",
    ) -> Call | None:
        """A TemporalAgent run (or, with n == 1 and no stop, one call of A), as the model says:
        a success, or the error of TA-7/TA-8 with the rows kept by the steps already run."""
        model, error, clause_why = self.simulate(t0, n, stop, at)
        if error is None:
            return self.valid(klass, clause_id, code, what, lambda: self.adopt(model))

        def kept() -> None:
            self.adopt(model)

        call = self.bad(klass, clause_why, code, what, (error,))
        if call is None:
            return None
        if clause_why == "TA-8":  # the rows written by the steps already run stay
            call.after_error = kept
            call.unchanged = clause_why
        return call

    def bad(
        self,
        klass: str,
        clause_id: str,
        code: str,
        what: str,
        raises: tuple[type[BaseException], ...] = (),
        gap: str | None = None,
        check: Callable[[], None] | None = None,
        guarded: bool = False,
    ) -> Call | None:
        """A bad call; a TemporalAgent run is guarded (a faulty one may never stop: bbrl
        1.0.1 runs ``n_steps=math.nan`` until memory runs out)."""
        guarded = guarded or "TA(" in code or "TemporalAgent(" in code
        return super().bad(klass, clause_id, code, what, raises, gap, check, guarded)

    def rebuild(self) -> None:
        self.model = WorkspaceModel()
        self.schema = {}
        self.setup("ws = impl.Workspace()")

    # ================================================================ makers
    def makers(self) -> list[Maker]:
        table: Sequence[tuple[str, str, Callable[[Draw], Call | None]]] = [
            ("valid", "TA", self.temporal),
            ("valid", "TA", self.temporal_stop),
            ("valid", "AG", self.one_step),
            ("valid", "AG", self.probe_valid),
            ("nan-inf", "TA", self.temporal_nan_stop),
            ("python-type", "TA", self.bad_t),
            ("python-type", "TA", self.bad_n_steps),
            ("python-type", "TA", self.bad_stop_type),
            ("python-type", "TA", self.not_a_workspace),
            ("python-type", "AG", self.not_a_workspace),
            ("python-type", "AG", self.not_agents),
            ("python-type", "AG", self.probe_types),
            ("nan-inf", "TA", self.nan_arguments),
            ("size", "TA", self.negative_sizes),
            ("size", "TA", self.huge_sizes),
            ("size", "AG", self.agent_bad_t),
            ("size", "AG", self.probe_out_of_range),
            ("name", "TA", self.stop_missing),
            ("name", "AG", self.probe_names),
            ("state", "TA", self.stop_without_row),
            ("dtype", "TA", self.stop_bad_dtype),
            ("dtype", "AG", self.probe_dtype),
            ("valid", "AG", self.model_file),
            ("file", "AG", self.bad_model_file),
            ("shape", "AG", self.probe_shape),
        ]
        return [Maker(klass, area, _unbound(fn)) for klass, area, fn in table]

    def top(self) -> int:
        return max((len(r) for r in self.model.rows.values()), default=0)

    # -------------------------------------------------------------- valid calls
    def temporal(self, draw: Draw) -> Call | None:
        t0 = draw.integer(0, self.top() + 1, "t")
        n = draw.integer(1, 4, "n_steps")
        spelled = f"t={t0}, " if t0 or draw.pick([False, True], "spell t=0") else ""
        code = f"TA(ws, {spelled}n_steps={n})"
        return self.model_call("valid", code, code, t0, n, None, self.at)

    def temporal_stop(self, draw: Draw) -> Call | None:
        t0 = draw.integer(0, self.top() + 1, "t")
        at = draw.integer(t0, t0 + 3, "at")
        stop = draw.pick(["stop", "y"], "stop_variable")
        n = draw.pick([None, draw.integer(1, 4, "n_steps")], "n_steps")
        steps = "" if n is None else f", n_steps={n}"
        code = f"TA(ws, t={t0}{steps}, stop_variable={stop!r}, at={at})"
        return self.model_call("valid", code, code, t0, n, stop, at, "TA-2")

    def temporal_nan_stop(self, draw: Draw) -> Call | None:
        if not self.stop_dtype.startswith(("float", "bfloat")):
            return None
        t0 = draw.integer(0, self.top(), "t")
        code = f"TA(ws, t={t0}, stop_variable='stop', at={t0})"
        return self.model_call(
            "nan-inf", code, f"{code} (NaN is true)", t0, None, "stop", t0, "TA-6"
        )

    def one_step(self, draw: Draw) -> Call | None:
        t = draw.integer(0, self.top() + 1, "t")
        at = draw.integer(0, 4, "at")
        code = draw.pick([f"A(ws, t={t}, at={at})", f"TA(ws, t={t}, n_steps=1, at={at})"], "call")
        return self.model_call("valid", code, code, t, 1, None, at, "AG-4")

    def probe_valid(self, draw: Draw) -> Call | None:
        present = [n for n in self.present() if self.model.rows[n]]
        if not present:
            return None
        name = draw.pick(present, "name")
        size = len(self.model.rows[name])
        if draw.pick([False, True], "full"):
            code = f"p = Probe(lambda a, t: a.get({name!r}))\np(ws, t=0)"
            return self.bad_or_valid(code, f"self.get({name!r})", self.model.get_full(name))
        t = draw.integer(0, size - 1, "t")
        code = f"p = Probe(lambda a, t: a.get(({name!r}, t)))\np(ws, t={t})"
        return self.bad_or_valid(code, f"self.get(({name!r}, {t}))", self.model.get(name, t))

    def bad_or_valid(self, code: str, what: str, want: torch.Tensor) -> Call:
        return Call("valid", "AG-3", code, what, check=self.check_value("AG-3", what, want))

    # -------------------------------------------------------------- bad arguments
    def bad_t(self, draw: Draw) -> Call | None:
        if draw.pick([False, True], "int-like"):
            value = draw.integer(0, 1, "t")
            gap, t = vals.int_like(draw, value)
            code = f"TA(ws, t={t}, n_steps=1)"
            model, _, _ = self.simulate(value, 1, None, self.at)
            call = self.bad("python-type", "TA-7", code, code, gap=gap)
            if call is None:
                return None

            def check() -> None:
                self.adopt(model)
                self.check_model("TA-1", f"after {code} (accepted as t={value})")

            call.check = check
            return call
        klass, t = vals.not_int(draw)
        code = f"TA(ws, t={t}, n_steps=1)"
        return self.bad(klass, "TA-7", code, code, (TypeError,))

    def bad_n_steps(self, draw: Draw) -> Call | None:
        if draw.pick([False, True], "int-like"):
            gap, n = vals.int_like(draw, 1)
            code = f"TA(ws, t=0, n_steps={n})"
            model, _, _ = self.simulate(0, 1, None, self.at)
            call = self.bad("python-type", "TA-7", code, code, gap=gap)
            if call is None:
                return None

            def check() -> None:
                self.adopt(model)
                self.check_model("TA-1", f"after {code} (accepted as n_steps=1)")

            call.check = check
            return call
        klass, n = draw.pick([c for c in vals.NOT_INTS if c[1] != "None"], "n_steps")
        code = f"TA(ws, t=0, n_steps={n})"
        return self.bad(klass, "TA-7", code, code, (TypeError,))

    def bad_stop_type(self, draw: Draw) -> Call | None:
        value = draw.pick(["3", "b'stop'", "['stop']", "('stop',)", "1.5"], "stop_variable")
        n = draw.pick(["", ", n_steps=2"], "n_steps")
        code = f"TA(ws, t=0{n}, stop_variable={value})"
        return self.bad("python-type", "TA-7", code, code, (TypeError,))

    def nan_arguments(self, draw: Draw) -> Call | None:
        value = draw.pick(["math.nan", "math.inf", "-math.inf"], "value")
        code = draw.pick([f"TA(ws, t={value}, n_steps=1)", f"TA(ws, t=0, n_steps={value})"], "arg")
        return self.bad("nan-inf", "TA-7", code, code, (TypeError,))

    def negative_sizes(self, draw: Draw) -> Call | None:
        kind = draw.pick(["t", "n_steps", "neither"], "argument")
        if kind == "t":
            value = vals.int_source(draw.pick(vals.NEGATIVE, "t"))
            code = f"TA(ws, t={value}, n_steps=1)"
            return self.bad("size", "TA-7", code, code, (ValueError,))
        if kind == "n_steps":
            value = draw.pick(["0", "-1", "-2**63"], "n_steps")
            stop = draw.pick(["", ", stop_variable='stop'"], "stop_variable")
            code = f"TA(ws, t=0, n_steps={value}{stop})"
            return self.bad("size", "TA-4", code, code, (ValueError,))
        code = draw.pick(["TA(ws, t=0)", "TA(ws)", "TA(ws, t=1, n_steps=None)"], "call")
        return self.bad("size", "TA-4", code, code, (ValueError,))

    def huge_sizes(self, draw: Draw) -> Call | None:
        if draw.pick([False, True], "huge n_steps"):
            # stops at the first step (stop true at t0): n_steps never matters
            t0 = draw.integer(0, self.top(), "t")
            n = vals.int_source(draw.pick(vals.HUGE, "n_steps"))
            code = f"TA(ws, t={t0}, n_steps={n}, stop_variable='stop', at={t0})"
            model, _, _ = self.simulate(t0, 1, None, t0)
            return self.valid("size", "TA-3", code, code, lambda: self.adopt(model))
        t = vals.int_source(draw.pick(vals.HUGE, "t"))
        code = f"TA(ws, t={t}, n_steps=1)"
        return self.bad("size", "WS-23", code, code, (IndexError,), guarded=True)

    def not_a_workspace(self, draw: Draw) -> Call | None:
        value = draw.pick(["None", "3", "{}", "'ws'", "A", "[ws]"], "workspace")
        code = draw.pick([f"TA({value}, t=0, n_steps=1)", f"A({value}, t=0)"], "call")
        return self.bad("python-type", "AG-2", code, code, (TypeError,))

    def not_agents(self, draw: Draw) -> Call | None:
        value = draw.pick(
            ["None", "3", "'agent'", "lambda ws, t: None", "[A]", "torch.nn.Linear(1, 1)"], "child"
        )
        code = draw.pick(
            [
                f"impl.TemporalAgent({value})",
                f"impl.Agents(A, {value})",
                f"impl.Agents({value})",
                f"impl.TemporalAgent({value})(ws, t=0, n_steps=1)",
                f"impl.Agents(A, {value})(ws, t=0)",
            ],
            "call",
        )
        return self.bad("python-type", "AG-4", code, code, gap="agent-children")

    def agent_bad_t(self, draw: Draw) -> Call | None:
        value = draw.pick(["-1", "-2**63", "2**40", "2**63", "1.5", "'0'", "None", "True"], "t")
        code = f"A(ws, t={value})"
        if value == "True":
            model, _, _ = self.simulate(1, 1, None, self.at)
            call = self.bad("python-type", "AG-3", code, code, gap="bool-as-int")
            if call is None:
                return None

            def check() -> None:
                self.adopt(model)
                self.check_model("AG-3", f"after {code} (accepted as t=1)")

            call.check = check
            return call
        if value.startswith("-"):
            return self.bad("size", "ERR-2", code, code, (IndexError,))
        if value.startswith("2**"):
            return self.bad("size", "WS-23", code, code, (IndexError,), guarded=True)
        return self.bad("python-type", "AG-3", code, code, (TypeError,))

    # --------------------------------------------------------- the stop variable
    def stop_missing(self, draw: Draw) -> Call | None:
        name = draw.pick(["zz", "Stop", "stop/"], "stop_variable")
        t0 = draw.integer(0, self.top() + 1, "t")
        n = draw.pick([None, 1, 3], "n_steps")
        steps = "" if n is None else f", n_steps={n}"
        code = f"TA(ws, t={t0}{steps}, stop_variable={name!r})"
        return self.model_call("name", code, code, t0, n, name, self.at)

    def stop_without_row(self, draw: Draw) -> Call | None:
        if "old" not in self.model.rows:
            return None
        t0 = draw.integer(0, self.top() + 1, "t")
        n = draw.pick([None, 2], "n_steps")
        steps = "" if n is None else f", n_steps={n}"
        code = f"TA(ws, t={t0}{steps}, stop_variable='old')"
        return self.model_call(
            "state",
            code,
            f"{code} ('old' has {len(self.model.rows['old'])} rows)",
            t0,
            n,
            "old",
            self.at,
        )

    def stop_bad_dtype(self, draw: Draw) -> Call | None:
        name = draw.pick(["flag", "bad"], "stop_variable")
        if name == "bad" and "bad" not in self.model.rows:
            return None
        t0 = draw.integer(0, self.top() + 1, "t")
        code = f"TA(ws, t={t0}, n_steps=2, stop_variable={name!r})"
        return self.model_call("dtype", code, code, t0, 2, name, self.at)

    # ------------------------------------------------------ get and set in forward
    def probe(
        self,
        klass: str,
        clause_id: str,
        op: str,
        t: int,
        raises: tuple[type[BaseException], ...] = (),
        gap: str | None = None,
    ) -> Call | None:
        code = f"p = Probe(lambda a, t: {op})\np(ws, t={t})"
        return self.bad(klass, clause_id, code, f"{op} in forward at t={t}", raises, gap)

    def probe_types(self, draw: Draw) -> Call | None:
        kind = draw.pick(["index", "value", "t"], "kind")
        if kind == "index":
            index = draw.pick(
                ["3", "None", "('x',)", "('x', 0, 1)", "['x', 0]", "(0, 'x')"], "index"
            )
            op = draw.pick([f"a.get({index})", f"a.set({index}, torch.zeros(B))"], "method")
            return self.probe("python-type", "AG-3", op, 0, gap="agent-index")
        if kind == "value":
            value = draw.pick(vals.NOT_TENSORS, "value")
            op = draw.pick([f"a.set(('x', t), {value})", f"a.set('x', {value})"], "method")
            return self.probe("python-type", "ERR-4", op, 0, (TypeError,))
        if "x" not in self.model.rows:
            return None
        t = draw.pick(["1.5", "'0'", "None"], "t")
        op = draw.pick([f"a.get(('x', {t}))", f"a.set(('x', {t}), torch.zeros(B))"], "method")
        return self.probe("python-type", "AG-3", op, 0, (TypeError,))

    def probe_out_of_range(self, draw: Draw) -> Call | None:
        present = [n for n in self.present() if self.model.rows[n]]
        kind = draw.pick(["get", "set"], "method")
        if kind == "get":
            if not present:
                return None
            name = draw.pick(present, "name")
            t = draw.pick([-1, len(self.model.rows[name]), 2**31, -(2**63)], "t")
            op = f"a.get(({name!r}, {vals.int_source(t)}))"
            return self.probe("size", "ERR-2", op, 0, (IndexError,))
        t = draw.pick([-1, -(2**63)], "t")
        op = f"a.set(('x', {vals.int_source(t)}), torch.zeros(B))"
        return self.probe("size", "ERR-2", op, 0, (IndexError,))

    def probe_names(self, draw: Draw) -> Call | None:
        absent = [n for n in ("zz", "X", "x ", "stop") if n not in self.model.rows]
        if draw.pick([False, True], "empty name"):
            op = draw.pick(["a.set(('', t), torch.zeros(B))", "a.set('', torch.zeros(1, B))"], "op")
            return self.probe("name", "WS-20", op, 0, (ValueError,))
        name = draw.pick(absent, "name")
        op = draw.pick([f"a.get(({name!r}, 0))", f"a.get({name!r})"], "op")
        return self.probe("name", "ERR-3", op, 0, (KeyError,))

    def probe_dtype(self, draw: Draw) -> Call | None:
        if "x" not in self.model.rows:
            return None
        dtype = draw.pick([d for d in vals.WS_DTYPES if d != "float32"], "dtype")
        op = f"a.set(('x', t), {vals.plain((self.B,), dtype, self.next_seed())})"
        return self.probe("dtype", "WS-5", op, 0, (TypeError,))

    def probe_shape(self, draw: Draw) -> Call | None:
        kind = draw.pick(["batch", "item", "0-d", "full 1-d"], "shape")
        if kind == "batch":
            if not self.model.rows:
                return None
            op = f"a.set(('x', t), torch.zeros({self.B + 1}))"
            return self.probe("shape", "WS-4", op, 0, (ValueError,))
        if kind == "item":
            if "x" not in self.model.rows:
                return None
            op = "a.set(('x', t), torch.zeros(B, 2))"
            return self.probe("shape", "WS-5", op, 0, (ValueError,))
        if kind == "0-d":
            return self.probe(
                "shape", "ERR-4", "a.set(('x', t), torch.tensor(1.0))", 0, (ValueError,)
            )
        return self.probe("shape", "ERR-4", "a.set('x', torch.zeros(B))", 0, (ValueError,))

    # ------------------------------------------------------------ model files
    def model_file(self, draw: Draw) -> Call | None:
        """AG-14, AG-15: save_model, then load_model gives a copy with equal parameters and
        leaves the agent as it was."""
        path = f"os.path.join(tmp, {draw.pick(['p.pt', 'q.pt'], 'file')!r})"
        code = f"P.save_model({path})\nloaded = P.load_model({path})"
        want = self.value("agent_state(P)")

        def check() -> None:
            got = self.value("agent_state(loaded)"), self.value("agent_state(P)")
            if got != (want, want) or self.ns.get("loaded") is self.ns["P"]:
                raise ConformanceFailure(
                    "AG-15",
                    f"save_model then load_model: (loaded, agent) state_dicts are {got!r:.600}, "
                    f"expected both {want!r:.300} and a new agent",
                    self.repro("print(agent_state(loaded), agent_state(P))"),
                )
            self.check_model("AG-15", "after save_model and load_model")

        return Call("valid", "AG-15", code, "P.save_model(path); P.load_model(path)", check=check)

    def bad_model_file(self, draw: Draw) -> Call | None:
        """AG-16: a file that is not a state dict of P's keys, shapes and dtypes is refused
        with nothing returned and P unchanged; paths that cannot be used are open."""
        bad = "os.path.join(tmp, 'bad.pt')"
        kind = draw.pick(
            ["garbage", "not a mapping", "other keys", "other shape", "other dtype", "path"],
            "file",
        )
        raises: tuple[type[BaseException], ...] = (ValueError,)
        if kind == "garbage":
            setup = f"with open({bad}, 'wb') as f:\n    f.write(b'not a torch file')"
        elif kind == "not a mapping":
            setup = f"torch.save([torch.zeros(2)], {bad})"
        elif kind == "other keys":
            setup, raises = f"Other().save_model({bad})", (KeyError,)
        elif kind == "other shape":
            setup = f"Param(3).save_model({bad})"
        elif kind == "other dtype":
            setup, raises = f"Param().double().save_model({bad})", (TypeError,)
        else:
            path = draw.pick(["os.path.join(tmp, 'missing.pt')", "tmp", "3", "None"], "path")
            method = draw.pick(["load_model", "save_model"], "method")
            if method == "save_model" and path.endswith("'missing.pt')"):
                path = "os.path.join(tmp, 'no', 'dir.pt')"
            code = f"out = P.{method}({path})"
            return self.bad("file", "AG-16", code, code, gap="model-path")
        code = f"{setup}\nout = P.load_model({bad})"
        return self.bad("file", "AG-16", code, f"P.load_model(<{kind}>)", raises)
