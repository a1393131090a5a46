"""Hostile calls on an env agent over the counting env (spec/env-agent.md, spec/errors.md).

The world holds ``env_agent``, an ``impl.ParallelGymAgent`` of one declared backend over a
:class:`~bbrl_conformance.counting_env.CountingPlan` of one or two short episodes per env, and
``ws``, the workspace it writes, modelled as in
:class:`~bbrl_conformance._hostile._workspace.WorkspaceWorld`. Valid calls (a reset at ``t =
0``, a step at the next ``t`` after writing ``action`` row ``t - 1``, seeds) are checked against
the plan's model (``CountingPlan.simulate``: every row of every env, ENV-2..ENV-8, ENV-14) and
against the actions the envs consumed (their logs). Bad calls (wrong ``t``, action rows of the
wrong dtype, shape, batch size or values, a missing ``action``, bad seeds, bad constructor and
``make_env`` arguments) must raise the type their clause names before any env is touched: the
workspace, the workspace given to the call and every env's log of consumed actions are compared
before and after, and the next valid step must write the rows the model says (ENV-22).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import torch

from bbrl_conformance._backends import Backend
from bbrl_conformance._failure import ConformanceFailure
from bbrl_conformance._hostile import _values as vals
from bbrl_conformance._hostile._engine import Call, Draw, Maker, World
from bbrl_conformance._hostile._workspace import WorkspaceWorld, _unbound
from bbrl_conformance._models import WorkspaceModel
from bbrl_conformance._rollouts import expected_values, in_process
from bbrl_conformance.counting_env import (
    MAX_ACTION,
    CountingPlan,
    action_row,
    episodes_used,
)

PREAMBLE = '''
from bbrl_conformance.counting_env import ENV_ID, CountingPlan, action_row, close_agent


def env_state(ws, w2, plan):
    """The observable state: the workspace, the one given to the call, and the actions every
    env consumed (its log: episode, step, action)."""
    return ws_state(ws), ws_state(w2), repr([env.actions for env in plan.envs])
'''


class EnvWorld(WorkspaceWorld):
    """``env_agent`` over ``plan`` writing ``ws`` (see the module); ``spare`` is a plan for the
    agents and envs that bad constructor calls may build."""

    preamble = vals.PREAMBLE + PREAMBLE
    state_source = "env_state(ws, w2, plan)"

    def __init__(self, impl: Any, draw: Draw, backend: Backend | None = None) -> None:
        World.__init__(self, impl)  # not WorkspaceWorld's: the env agent writes the variables
        self.backend = backend or Backend("default")
        self.in_process = in_process(impl, self.backend)
        self.B = draw.integer(1, 2, "num_envs")
        self.autoreset = True if self.backend.vector else draw.pick([True, False], "autoreset")
        self.kind = draw.pick(["discrete", "box"], "action kind")
        self.lengths = [draw.integer(1, 3, f"episode length of env {b}") for b in range(self.B)]
        self.truncated = [draw.pick([False, True], f"env {b} truncates") for b in range(self.B)]
        self.seed = 0
        self.plan_source = (
            f"CountingPlan({self.lengths!r}, truncated={self.truncated!r}, "
            f"action_kind={self.kind!r})"
        )
        self.setup(
            f"B = {self.B}\nspare = CountingPlan([2] * 64)\n"
            "spare_factory = spare.factory(impl, autoreset=True)"
        )
        self.start()

    def start(self) -> None:
        """A new plan, a new env agent over it and a new workspace; the model starts over."""
        self.model = WorkspaceModel()
        self.schema = {}
        #: the next t to call (None before the first call at t = 0)
        self.next_t: int | None = None
        self.seeded = False
        #: the env id in each batch column, known after the first reset
        self.columns: list[int] | None = None
        self.first_episode = [0] * self.B
        self.consumed: list[list[tuple[int, int, Any]]] = [[] for _ in range(self.B)]
        self.setup(
            f"plan = {self.plan_source}\n"
            f"factory = plan.factory(impl, autoreset={self.autoreset})\n"
            f"env_agent = impl.ParallelGymAgent(factory, num_envs=B{self.backend.source()})\n"
            "ws = w2 = impl.Workspace()"
        )
        self.w2_is_ws = True
        self.plan: CountingPlan = self.ns["plan"]

    def use_ws(self) -> None:
        """Make ``w2`` (observed with ``ws``) the workspace itself again (logged set-up)."""
        if not self.w2_is_ws:
            self.setup("w2 = ws")
            self.w2_is_ws = True

    def close(self) -> None:
        try:
            for name in ("env_agent", "bad"):
                close = getattr(self.ns.get(name), "close", None)
                if callable(close):
                    with contextlib.suppress(Exception):
                        close()
            for name in ("plan", "spare"):
                if name in self.ns:
                    self.ns[name].close()
        finally:
            super().close()

    # ------------------------------------------------------------------ the model
    def rows_of(self, b: int, n_rows: int) -> list[Any]:
        return self.plan.simulate(
            b, n_rows, autoreset=self.autoreset, first_episode=self.first_episode[b]
        )

    def apply_reset(self) -> None:
        """ENV-3, ENV-14: a new rollout; each env starts the episode after its last one."""
        if self.next_t is not None:
            for b in range(self.B):
                self.first_episode[b] += episodes_used(self.rows_of(b, self.next_t))
        if self.columns is None:
            self.columns = self.find_columns()
        self.write_row(0)
        self.next_t = 1

    def find_columns(self) -> list[int]:
        """The env id in each batch column: b for a backend stepping its envs in this process
        (ENV-1), else read from the first reset's observations (ENV-13: workers build their
        envs in any order), when they are a permutation of the ids."""
        identity = list(range(self.B))
        if self.in_process:
            return identity
        ids = self.value("outcome(lambda: ws.get('env/env_obs', 0)[:, 0].long().tolist())")
        return ids if isinstance(ids, list) and sorted(ids) == identity else identity

    def apply_step(self, action: torch.Tensor) -> None:
        """ENV-4..ENV-7: ``action`` written at row t - 1, then row t."""
        assert self.next_t is not None
        t = self.next_t
        self.model.set("action", t - 1, action)
        self.schema["action"] = (tuple(action.shape[1:]), str(action.dtype).removeprefix("torch."))
        assert self.columns is not None
        for b, env_id in enumerate(self.columns):
            rows = self.rows_of(env_id, t + 1)
            if rows[t - 1].consumed:
                value: Any = action[b].tolist()
                logged = int(value) if self.kind == "discrete" else tuple(float(v) for v in value)
                self.consumed[env_id].append((rows[t - 1].episode, rows[t - 1].step, logged))
        self.write_row(t)
        self.next_t = t + 1

    def write_row(self, t: int) -> None:
        assert self.columns is not None
        per_env = [expected_values(self.rows_of(k, t + 1), t, k) for k in self.columns]
        for name in per_env[0]:
            value = torch.stack([values[name] for values in per_env])
            self.model.set(name, t, value)
            self.schema[name] = (tuple(value.shape[1:]), str(value.dtype).removeprefix("torch."))

    def check_model(self, clause_id: str, when: str) -> None:
        __tracebackhide__ = True
        super().check_model(clause_id, when)
        got = [env.actions for env in self.plan.envs]
        want = [[tuple(e) for e in entries] for entries in self.consumed]
        if repr([[tuple(e) for e in env] for env in got]) != repr(want):
            raise ConformanceFailure(
                "ENV-4" if clause_id.startswith("ENV") else clause_id,
                f"{when}: the envs consumed (episode, step, action) {got}, expected {want} "
                f"(autoreset={self.autoreset}, lengths {self.plan.lengths_spec()})",
                self.repro("print([env.actions for env in plan.envs])"),
            )

    def rebuild(self) -> None:
        """A success the model cannot follow: a new plan, agent and workspace."""
        self.setup("close_agent(env_agent)\nplan.close()")
        self.start()

    def describe(self) -> str:
        where = "never reset" if self.next_t is None else f"next t={self.next_t}"
        return (
            f"ParallelGymAgent(num_envs={self.B}{self.backend.source()}) over {self.plan_source}"
            f" (autoreset={self.autoreset}, {where})"
        )

    def action_source(self, t: int) -> str:
        return f"action_row({self.kind!r}, {t}, B)"

    # ================================================================ makers
    def makers(self) -> list[Maker]:
        table: Sequence[tuple[str, Callable[[Draw], Call | None]]] = [
            ("valid", self.reset),
            ("valid", self.step),
            ("valid", self.step),
            ("valid", self.seed_valid),
            ("nan-inf", self.box_nan),
            ("python-type", self.bad_t_type),
            ("python-type", self.bad_seed_type),
            ("python-type", self.bad_constructor_type),
            ("python-type", self.bad_make_env),
            ("size", self.bad_t),
            ("size", self.bad_seed),
            ("size", self.bad_num_envs),
            ("size", self.action_out_of_range),
            ("dtype", self.action_dtype),
            ("shape", self.action_shape),
            ("name", self.no_action),
            ("state", self.before_reset),
            ("state", self.bad_options),
        ]
        return [Maker(klass, "ENV", _unbound(fn)) for klass, fn in table]

    def bad_env(
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
        return self.bad(klass, clause_id, code, what, raises, gap, check, guarded)

    # -------------------------------------------------------------- valid calls
    def reset(self, draw: Draw) -> Call | None:
        self.use_ws()
        spelled = draw.pick(["env_agent(ws, t=0)", "impl.Agents(env_agent)(ws, t=0)"], "call")
        return self.valid("valid", "ENV-3", spelled, spelled, self.apply_reset)

    def step(self, draw: Draw) -> Call | None:
        if self.next_t is None:
            return None
        t = self.next_t
        self.use_ws()
        action = action_row(self.kind, t - 1, self.B)  # type: ignore[arg-type]
        code = f"ws.set('action', {t - 1}, {self.action_source(t - 1)})\n"
        code += f"env_agent(ws, t={t})"
        return self.valid(
            "valid", "ENV-4", code, f"env_agent(ws, t={t})", lambda: self.apply_step(action)
        )

    def seed_valid(self, draw: Draw) -> Call | None:
        value = draw.pick(["0", "7", "2**64 - 1", "np.uint64(5)", "np.int32(3)"], "seed")
        code = f"out = env_agent.seed({value})"
        what = code.removeprefix("out = ")
        if self.seeded or self.next_t is not None:
            # seeding again, or after a rollout: open (bbrl raises Exception, not-specified.md)
            call = self.bad("python-type", "DET-9", code, what, gap="seed-again")
            if call is not None:
                call.check = lambda: self.check_model("DET-9", f"after {what}")
            return call

        def seeded() -> None:
            self.seeded = True

        return self.valid("valid", "DET-9", code, what, seeded)

    def box_nan(self, draw: Draw) -> Call | None:
        """A Box action holding NaN or infinities is sent as given (bounds are not checked)."""
        if self.next_t is None or self.kind != "box":
            return None
        t = self.next_t
        value = draw.pick(["math.nan", "math.inf", "-math.inf"], "value")
        self.use_ws()
        number = {"math.nan": float("nan"), "math.inf": float("inf"), "-math.inf": -float("inf")}
        action = torch.full((self.B, 2), number[value])
        code = f"ws.set('action', {t - 1}, torch.full((B, 2), {value}))\n"
        code += f"env_agent(ws, t={t})"
        return self.valid(
            "nan-inf",
            "ENV-11",
            code,
            f"env_agent(ws, t={t}) after a {value} action",
            lambda: self.apply_step(action),
        )

    # ------------------------------------------------------------ bad times
    def bad_t(self, draw: Draw) -> Call | None:
        value = draw.pick(["-1", "-2**63", "np.int64(-1)", "2**31", "2**63"], "t")
        self.use_ws()
        code = f"env_agent(ws, t={value})"
        if value.startswith(("-", "np.int64(-")):
            return self.bad("size", "ENV-32", code, code, (ValueError,), guarded=True)
        return self.bad("size", "ENV-22", code, code, gap="env-t", guarded=True)

    def bad_t_type(self, draw: Draw) -> Call | None:
        if draw.pick([False, True], "int-like"):
            gap, value = vals.int_like(draw, 0)
            self.use_ws()
            code = f"env_agent(ws, t={value})"
            if gap == "bool-as-int":  # never taken as 0 (ENV-32)
                return self.bad("python-type", "ENV-32", code, code, (TypeError,))
            return self.valid("valid", "ENV-32", code, f"{code} (taken as t=0)", self.apply_reset)
        value = draw.pick(["1.5", "'0'", "None", "[0]", "math.nan", "torch.tensor(0.0)"], "t")
        self.use_ws()
        code = f"env_agent(ws, t={value})"
        klass = "nan-inf" if "nan" in value else "python-type"
        return self.bad(klass, "ENV-32", code, code, (TypeError,))

    def before_reset(self, draw: Draw) -> Call | None:
        if self.next_t is not None:
            return None
        t = draw.integer(1, 3, "t")
        self.use_ws()
        self.setup(f"ws.set('action', {t - 1}, {self.action_source(t - 1)})")
        self.model.set("action", t - 1, action_row(self.kind, t - 1, self.B))  # type: ignore[arg-type]
        self.schema["action"] = (
            (2,) if self.kind == "box" else (),
            "float32" if self.kind == "box" else "int64",
        )
        code = f"env_agent(ws, t={t})"
        return self.bad("state", "ENV-15", code, f"{code} before any call at t=0", (RuntimeError,))

    # ---------------------------------------------------------- bad action rows
    def with_action(
        self,
        klass: str,
        clause_id: str,
        source: str,
        what: str,
        raises: tuple[type[BaseException], ...] = (),
        gap: str | None = None,
        fresh: bool = False,
    ) -> Call | None:
        """A call at the next t on ``w2``: a copy of ``ws`` (or, ``fresh``, a new workspace)
        whose ``action`` row t - 1 is ``source`` (the set-up is logged before the call)."""
        if self.next_t is None:
            return None
        t = self.next_t
        if fresh:
            self.setup(f"w2 = impl.Workspace()\nw2.set('action', {t - 1}, {source})")
        else:  # every row of the copy's action is the bad one
            self.setup(
                f"w2 = impl.Workspace(ws)\nw2.set_full('action', torch.stack([{source}] * {t}))"
            )
        self.w2_is_ws = False
        code = f"env_agent(w2, t={t})"
        return self.bad(klass, clause_id, code, f"{code} with {what}", raises, gap)

    def action_dtype(self, draw: Draw) -> Call | None:
        shape = "(B,)" if self.kind == "discrete" else "(B, 2)"
        if self.kind == "discrete":  # ENV-11: integer or bool dtypes
            dtype = draw.pick(["float32", "float64", "complex64", "bool"], "dtype")
            accepted = dtype == "bool"
        else:  # ENV-11: floating or integer dtypes
            dtype = draw.pick(["complex64", "int64", "bool"], "dtype")
            accepted = dtype == "int64"
        source = f"torch.zeros({shape}, dtype=torch.{dtype})"
        call = self.with_action(
            "dtype", "ENV-11", source, f"a {dtype} action", () if accepted else (TypeError,)
        )
        if call is not None and accepted:  # taken: the envs stepped on the copy w2
            call.check = self.rebuild
        return call

    def action_shape(self, draw: Draw) -> Call | None:
        if self.kind == "discrete":
            shape = draw.pick(["(B, 1)", "(B, 2)"], "shape")
            source = f"torch.zeros({shape}, dtype=torch.int64)"
        else:
            shape = draw.pick(["(B, 3)", "(B, 1)", "(B, 2, 1)"], "shape")
            source = f"torch.zeros({shape})"
        if draw.pick([False, True], "batch size"):
            dtype = "torch.int64" if self.kind == "discrete" else "torch.float32"
            item = "" if self.kind == "discrete" else ", 2"
            source = f"torch.zeros(({self.B + 1}{item}), dtype={dtype})"
            return self.with_action(
                "shape",
                "ERR-7",
                source,
                f"an action of batch size {self.B + 1}",
                (ValueError,),
                fresh=True,
            )
        return self.with_action(
            "shape", "ENV-11", source, f"an action of shape {shape}", (ValueError,)
        )

    def action_out_of_range(self, draw: Draw) -> Call | None:
        if self.kind != "discrete":
            return None
        value = draw.pick([-1, MAX_ACTION, 2**40, -(2**63)], "action")
        source = f"torch.full((B,), {vals.int_source(value)}, dtype=torch.int64)"
        return self.with_action(
            "size", "ENV-23", source, f"action {vals.int_source(value)}", (ValueError,)
        )

    def no_action(self, draw: Draw) -> Call | None:
        if self.next_t is None:
            return None
        t = self.next_t
        if t >= 2 and draw.pick([False, True], "short action"):
            rows = ", ".join(self.action_source(s) for s in range(t - 1))
            self.setup(f"w2 = impl.Workspace(ws)\nw2.set_full('action', torch.stack([{rows}]))")
            self.w2_is_ws = False
            code = f"env_agent(w2, t={t})"
            return self.bad(
                "name", "ENV-31", code, f"{code} without action row {t - 1}", (IndexError,)
            )
        if "action" in self.model.rows:
            self.setup("w2 = impl.Workspace(ws)\nw2.clear('action')")
            self.w2_is_ws = False
        else:
            self.use_ws()
        code = f"env_agent(w2, t={t})"
        return self.bad("name", "ERR-8", code, f"{code} without an 'action' variable", (KeyError,))

    # ------------------------------------------------------------------ seeds
    def bad_seed(self, draw: Draw) -> Call | None:
        value = draw.pick(["-1", "-2**63", "2**64", "2**70"], "seed")
        code = draw.pick(
            [
                f"env_agent.seed({value})",
                f"bad = impl.ParallelGymAgent(spare_factory, num_envs=1, seed={value})",
            ],
            "call",
        )
        return self.bad("size", "DET-9", code, code, (ValueError,))

    def bad_seed_type(self, draw: Draw) -> Call | None:
        value = draw.pick(["True", "1.5", "'3'", "[3]", "np.float64(3.0)"], "seed")
        code = draw.pick(
            [
                f"env_agent.seed({value})",
                f"bad = impl.ParallelGymAgent(spare_factory, num_envs=1, seed={value})",
            ],
            "call",
        )
        return self.bad("python-type", "DET-9", code, code, (TypeError,))

    # ----------------------------------------------------------- construction
    def closing(self, name: str) -> Callable[[], None]:
        """The check of a construction the spec leaves open that succeeded: close it."""

        def check() -> None:
            close = getattr(self.ns.get(name), "close", None)
            if callable(close):
                close()

        return check

    def bad_num_envs(self, draw: Draw) -> Call | None:
        value = draw.pick(["0", "-1", "-2**63"], "num_envs")
        code = f"bad = impl.ParallelGymAgent(spare_factory, num_envs={value})"
        return self.bad("size", "ERR-7", code, code.removeprefix("bad = "), (ValueError,))

    def bad_constructor_type(self, draw: Draw) -> Call | None:
        kind = draw.pick(["num_envs", "int-like", "make_env_fn", "make_env_args", "flags"], "arg")
        if kind == "num_envs":
            value = draw.pick(["1.5", "'2'", "None", "[2]", "math.nan"], "num_envs")
            code = f"bad = impl.ParallelGymAgent(spare_factory, num_envs={value})"
            return self.bad("python-type", "ERR-7", code, code.removeprefix("bad = "), (TypeError,))
        if kind == "int-like":
            gap, value = vals.int_like(draw, 1)
            code = f"bad = impl.ParallelGymAgent(spare_factory, num_envs={value})"
            return self.bad(
                "python-type",
                "ENV-1",
                code,
                code.removeprefix("bad = "),
                gap=gap,
                check=self.closing("bad"),
            )
        if kind == "make_env_fn":
            value = draw.pick(["None", "3", "'CartPole-v1'", "spare"], "make_env_fn")
            code = f"bad = impl.ParallelGymAgent({value}, num_envs=1)"
            return self.bad(
                "python-type",
                "ENV-1",
                code,
                code.removeprefix("bad = "),
                gap="env-arguments",
                check=self.closing("bad"),
            )
        if kind == "make_env_args":
            value = draw.pick(["'x'", "3", "[('plan', 1)]"], "make_env_args")
            code = f"bad = impl.ParallelGymAgent(spare_factory, num_envs=1, make_env_args={value})"
            return self.bad(
                "python-type",
                "ENV-1",
                code,
                code.removeprefix("bad = "),
                gap="env-arguments",
                check=self.closing("bad"),
            )
        value = draw.pick(
            ["include_last_state='yes'", "reward_at_t=0", "include_last_state=None"], "flag"
        )
        code = f"bad = impl.ParallelGymAgent(spare_factory, num_envs=1, {value})"
        return self.bad(
            "python-type",
            "ENV-28",
            code,
            code.removeprefix("bad = "),
            gap="env-arguments",
            check=self.closing("bad"),
        )

    def bad_options(self, draw: Draw) -> Call | None:
        value = draw.pick(["include_last_state=False", "reward_at_t=True"], "option")
        code = f"bad = impl.ParallelGymAgent(spare_factory, num_envs=1, {value})"
        return self.bad("state", "ENV-28", code, code.removeprefix("bad = "), (ValueError,))

    def bad_make_env(self, draw: Draw) -> Call | None:
        kind = draw.pick(["autoreset", "name", "wrappers"], "argument")
        if kind == "autoreset":
            value = draw.pick(["'no'", "1", "None", "np.bool_(True)"], "autoreset")
            code = f"e = impl.make_env(ENV_ID, autoreset={value}, plan=spare.key)"
            return self.bad("python-type", "ENV-27", code, code.removeprefix("e = "), (TypeError,))
        if kind == "name":
            value = draw.pick(["3", "None", "b'x'"], "env_name")
            code = f"e = impl.make_env({value}, plan=spare.key)"
            return self.bad(
                "python-type",
                "ENV-27",
                code,
                code.removeprefix("e = "),
                gap="make-env-arguments",
                check=self.closing("e"),
            )
        value = draw.pick(["3", "[3]", "'wrapper'"], "wrappers")
        code = f"e = impl.make_env(ENV_ID, wrappers={value}, plan=spare.key)\ne.reset(seed=0)"
        return self.bad(
            "python-type",
            "ENV-27",
            code,
            code.splitlines()[0].removeprefix("e = "),
            gap="make-env-arguments",
            check=self.closing("e"),
        )
