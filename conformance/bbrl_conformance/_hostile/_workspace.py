"""Hostile calls on one Workspace (spec/workspace.md, spec/transitions.md, spec/errors.md).

The world holds ``ws`` and a :class:`WorkspaceModel` of it. Valid calls (writes of every
dtype of WS-21, with autograd history or not, and the operations that read or derive
workspaces) move it between states; bad calls must raise the type their clause names and
change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from bbrl_conformance._failure import ConformanceFailure
from bbrl_conformance._hostile import _values as vals
from bbrl_conformance._hostile._engine import Call, Draw, Maker, World
from bbrl_conformance._models import WorkspaceModel, transitions_model

NAMES = ("x", "y", "env/done", "z")
Schema = tuple[tuple[int, ...], str]


def same_values(actual: object, expected: torch.Tensor) -> bool:
    """A tensor of the expected shape and dtype, with equal values (NaN equal to NaN)."""
    if not isinstance(actual, torch.Tensor):
        return False
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        return False
    a, b = actual.detach().cpu().resolve_conj().resolve_neg(), expected.detach().cpu()
    if a.dtype.is_complex:
        a, b = torch.view_as_real(a), torch.view_as_real(b.resolve_conj())
    if not a.dtype.is_floating_point:
        return torch.equal(a, b)
    return bool(((a == b) | (a.isnan() & b.isnan())).all())


def show(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor(shape={tuple(value.shape)}, dtype={value.dtype}) {value!r:.600}"
    return f"{type(value).__name__} {value!r:.600}"


def model_copy_time(
    model: WorkspaceModel, from_time: int, to_time: int, n_steps: int, names: list[str] | None
) -> None:
    """WS-41 on the model: rows from_time.. of each named variable, as they were before the
    call, become rows to_time..; a target row past the end grows the variable as `set` does."""
    for name in list(model.rows) if names is None else list(dict.fromkeys(names)):
        source = [row.clone() for row in model.rows[name][from_time : from_time + n_steps]]
        for i, row in enumerate(source):
            model.set(name, to_time + i, row)


class WorkspaceWorld(World):
    """``ws``: a workspace of batch size ``B`` with variables among NAMES."""

    preamble = vals.PREAMBLE
    state_source = "ws_state(ws)"

    def __init__(self, impl: Any, draw: Draw) -> None:
        super().__init__(impl)
        self.B = draw.integer(1, 3, "batch size")
        self.model = WorkspaceModel()
        self.schema: dict[str, Schema] = {}
        self.seed = 0
        self.setup(f"B = {self.B}\nws = impl.Workspace()")
        for name in draw.pick([(), ("x",), ("x", "env/done")], "initial variables"):
            self.write_full(name, draw.integer(1, 4, "time size"), self.new_schema(draw, name))

    # ------------------------------------------------------------------ helpers
    def next_seed(self) -> int:
        self.seed += 1
        return self.seed

    def new_schema(self, draw: Draw, name: str) -> Schema:
        if name == "env/done":  # the filter of get_transitions
            return (), "bool"
        shape = draw.pick([(), (2,), (1, 2), (3,)], f"{name} item shape")
        return shape, draw.pick(vals.WS_DTYPES, f"{name} dtype")

    def schema_for(self, draw: Draw, name: str) -> Schema:
        return self.schema[name] if name in self.schema else self.new_schema(draw, name)

    def write_full(self, name: str, time_size: int, schema: Schema) -> None:
        """Valid set-up: ``set_full`` of random bits (logged, applied to the model)."""
        shape = (time_size, self.B, *schema[0])
        source = vals.plain(shape, schema[1], self.next_seed())
        self.setup(f"ws.set_full({name!r}, {source})")
        self.model.set_full(name, self.value(source))
        self.schema[name] = schema

    def sizes(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.model.rows.items()}

    def uniform_time(self) -> int | None:
        """The common time size, None when the variables' time sizes differ (0 when empty)."""
        sizes = set(self.sizes().values())
        if len(sizes) > 1:
            return None
        return sizes.pop() if sizes else 0

    def present(self) -> list[str]:
        return sorted(self.model.rows)

    def row_source(self, draw: Draw, name: str) -> tuple[str, Schema]:
        schema = self.schema_for(draw, name)
        return vals.plain((self.B, *schema[0]), schema[1], self.next_seed()), schema

    # -------------------------------------------------------------- model checks
    def check_model(self, clause_id: str, when: str) -> None:
        __tracebackhide__ = True
        keys = self.value("outcome(lambda: sorted(ws.keys()))")
        if keys != self.present():
            raise ConformanceFailure(
                "WS-12" if clause_id.startswith("WS") else clause_id,
                f"{when}: keys() = {keys}, expected {self.present()}",
                self.repro("print(sorted(ws.keys()))"),
            )
        for name in self.present():
            got = self.value(f"outcome(lambda: ws.get_full({name!r}))")
            want = self.model.get_full(name)
            if not same_values(got, want):
                raise ConformanceFailure(
                    clause_id,
                    f"{when}: get_full({name!r}) differs from the model\nactual:   {show(got)}\n"
                    f"expected: {show(want)}",
                    self.repro(f"print(ws.get_full({name!r}))"),
                )
        batch = self.value("outcome(ws.batch_size)")
        want_batch = self.B if self.model.rows else 0
        if batch != want_batch:
            raise ConformanceFailure(
                "WS-13" if self.model.rows else "WS-1",
                f"{when}: batch_size() = {batch!r}, expected {want_batch}",
                self.repro("print(ws.batch_size())"),
            )
        common = self.uniform_time()
        try:
            time: object = self.ns["ws"].time_size()
        except Exception as exc:
            time = exc
        if common is None:
            ok = isinstance(time, ValueError)
            detail = f"ValueError (time sizes {self.sizes()})"
        else:
            ok, detail = time == common and type(time) is int, str(common)
        if not ok:
            raise ConformanceFailure(
                "WS-13" if self.model.rows else "WS-1",
                f"{when}: time_size() gives {time!r}, expected {detail}",
                self.repro("print(outcome(ws.time_size))"),
            )
        self.log.append("ws_state(ws)")

    def rebuild(self) -> None:
        """Start again from a new workspace (the model cannot follow an open success)."""
        self.model = WorkspaceModel()
        self.schema = {}
        self.setup("ws = impl.Workspace()")

    # ------------------------------------------------------------------- calls
    def valid(
        self,
        klass: str,
        clause_id: str,
        code: str,
        what: str,
        apply: Callable[[], None] = lambda: None,
        result: Callable[[Any], str | None] | None = None,
        result_source: str = "out",
    ) -> Call:
        """A call the spec allows: ``apply`` updates the model; ``result`` (if given) returns
        what is wrong with the value of ``out`` (None when right); then the model check."""

        def check() -> None:
            __tracebackhide__ = True
            if result is not None:
                problem = result(self.ns.get("out"))
                if problem is not None:
                    raise ConformanceFailure(
                        clause_id,
                        f"{what}: {problem}",
                        self.repro(f"print({result_source})"),
                    )
            apply()
            self.check_model(clause_id, f"after {what}")

        return Call(klass, clause_id, code, what, check=check)

    def describe(self) -> str:
        if not self.model.rows:
            return "an empty workspace"
        parts = [
            f"{n!r} [{len(self.model.rows[n])}, {self.B}, *{list(self.schema[n][0])}] "
            f"{self.schema[n][1]}"
            for n in self.present()
        ]
        return "a workspace with " + ", ".join(parts)

    def set_check(self, name: str, t: int, source: str, schema: Schema) -> Callable[[], None]:
        def check() -> None:
            self.model.set(name, t, self.value(source))
            self.schema[name] = schema
            self.check_model("WS-2", f"after ws.set({name!r}, {t}, ...)")

        return check

    # ================================================================ makers
    def makers(self) -> list[Maker]:
        table: Sequence[tuple[str, str, Callable[[Draw], Call | None]]] = [
            ("valid", "WS", self.set_row),
            ("valid", "WS", self.set_full),
            ("valid", "WS", self.read),
            ("valid", "WS", self.copy_steps),
            ("valid", "WS", self.copy_time),
            ("valid", "WS", self.clear),
            ("valid", "WS", self.derive),
            ("valid", "TR", self.transitions),
            ("valid", "TR", self.set_row),
            ("valid", "TR", self.set_full),
            ("view", "WS", self.set_view),
            ("view", "WS", self.index_view),
            ("nan-inf", "WS", self.set_special),
            ("python-type", "WS", self.set_not_a_tensor),
            ("python-type", "WS", self.name_not_a_str),
            ("python-type", "WS", self.time_not_an_int),
            ("python-type", "WS", self.int_argument_not_an_int),
            ("python-type", "WS", self.workspace_argument),
            ("nan-inf", "WS", self.int_argument_nan),
            ("shape", "WS", self.set_wrong_shape),
            ("shape", "WS", self.index_wrong_shape),
            ("shape", "WS", self.cat_mismatch),
            ("dtype", "WS", self.set_wrong_dtype),
            ("dtype", "WS", self.index_wrong_dtype),
            ("device", "WS", self.set_meta),
            ("device", "WS", self.to_bad_device),
            ("layout", "WS", self.set_layout),
            ("size", "WS", self.set_time_out_of_range),
            ("size", "WS", self.read_time_out_of_range),
            ("size", "WS", self.sizes_out_of_range),
            ("size", "WS", self.index_out_of_range),
            ("name", "WS", self.empty_name),
            ("name", "WS", self.unknown_name),
            ("name", "WS", self.several_names),
            ("state", "WS", self.mixed_time_sizes),
            ("python-type", "TR", self.transitions_arguments),
            ("name", "TR", self.transitions_filter_name),
            ("dtype", "TR", self.transitions_filter_dtype),
            ("shape", "TR", self.transitions_filter_shape),
            ("state", "TR", self.transitions_mixed),
        ]
        return [Maker(klass, area, _unbound(fn)) for klass, area, fn in table]

    # ---------------------------------------------------------------- valid writes
    def set_row(self, draw: Draw) -> Call | None:
        name = draw.pick(NAMES, "name")
        sizes = self.sizes()
        t = draw.integer(0, max(sizes.values(), default=0) + 2, "t")
        source, schema = self.row_source(draw, name)
        grad = schema[1].startswith(("float", "complex", "bfloat")) and draw.pick(
            [False, True], "with autograd history"
        )
        if grad:
            source += ".requires_grad_()"
        return self.valid(
            "valid",
            "WS-2",
            f"ws.set({name!r}, {t}, {source})",
            f"ws.set({name!r}, {t}, <{schema[1]} {list((self.B, *schema[0]))}>)",
            self.set_check(name, t, source, schema),
        )

    def set_full(self, draw: Draw) -> Call | None:
        name = draw.pick(NAMES, "name")
        schema = (
            self.new_schema(draw, name)
            if draw.pick([False, True], "new schema")
            else self.schema_for(draw, name)
        )
        time_size = draw.integer(1, 4, "time size")
        source = vals.plain((time_size, self.B, *schema[0]), schema[1], self.next_seed())

        def apply() -> None:
            self.model.set_full(name, self.value(source))
            self.schema[name] = schema

        return self.valid(
            "valid",
            "WS-11",
            f"ws.set_full({name!r}, {source})",
            f"ws.set_full({name!r}, <{schema[1]} [{time_size}, {self.B}, ...]>)",
            apply,
        )

    def read(self, draw: Draw) -> Call | None:
        present = self.present()
        if not present:
            return None
        name = draw.pick(present, "name")
        size = len(self.model.rows[name])
        kind = draw.pick(["get", "get_full", "getitem", "names", "in"], "read")
        if kind == "get":
            t = draw.integer(0, size - 1, "t")
            want = self.model.get(name, t)
            return self.valid(
                "valid",
                "WS-2",
                f"out = ws.get({name!r}, {t})",
                f"ws.get({name!r}, {t})",
                result=lambda out: (
                    None if same_values(out, want) else f"got {show(out)}, expected {show(want)}"
                ),
            )
        if kind in ("get_full", "getitem"):
            code = f"ws.get_full({name!r})" if kind == "get_full" else f"ws[{name!r}]"
            full = self.model.get_full(name)
            return self.valid(
                "valid",
                "WS-6",
                f"out = {code}",
                code,
                result=lambda out: None if same_values(out, full) else f"got {show(out)}",
            )
        if kind == "in":
            other = draw.pick(NAMES, "other name")
            want_in = other in self.model.rows
            return self.valid(
                "valid",
                "WS-12",
                f"out = {other!r} in ws",
                f"{other!r} in ws",
                result=lambda out: None if out is want_in else f"got {out!r}, expected {want_in}",
            )
        chosen = [draw.pick(present, "name") for _ in range(draw.integer(0, 3, "how many"))]
        container = draw.pick(["tuple", "list"], "container")
        key = repr(tuple(chosen)) if container == "tuple" else repr(chosen)
        wanted = [self.model.get_full(n) for n in chosen]

        def several(out: Any) -> str | None:
            if not isinstance(out, tuple) or len(out) != len(wanted):
                return f"got {type(out).__name__} {out!r:.300}, expected a tuple of {len(wanted)}"
            for i, (got, want) in enumerate(zip(out, wanted, strict=True)):
                if not same_values(got, want):
                    return f"element {i} ({chosen[i]!r}) is {show(got)}"
            return None

        return self.valid("valid", "WS-25", f"out = ws[{key}]", f"ws[{key}]", result=several)

    def copy_steps(self, draw: Draw) -> Call | None:
        present = self.present()
        if not present:
            return None
        names: list[str] | None = draw.pick(
            [None, [draw.pick(present, "name")], present, [present[0], present[0]]], "var_names"
        )
        selected = present if names is None else names
        n = draw.integer(0, min(len(self.model.rows[s]) for s in selected), "n")
        return self.valid(
            "valid" if names is None or len(set(names)) == len(names) else "name",
            "WS-15",
            f"ws.copy_n_last_steps({n}, var_names={names!r})",
            f"ws.copy_n_last_steps({n}, var_names={names!r})",
            lambda: self.model.copy_n_last_steps(n, names),
        )

    def copy_time(self, draw: Draw) -> Call | None:
        present = self.present()
        if not present:
            return None
        names = draw.pick([None, [draw.pick(present, "name")]], "var_names")
        selected = present if names is None else names
        top = min(len(self.model.rows[s]) for s in selected)
        n = draw.integer(0, top, "n_steps")
        start = draw.integer(0, top - n, "from_time")
        target = draw.integer(0, top + 1, "to_time")
        code = f"ws.copy_time({start}, {target}, {n}, var_names={names!r})"
        return self.valid(
            "valid",
            "WS-41",
            code,
            code,
            lambda: model_copy_time(self.model, start, target, n, names),
        )

    def clear(self, draw: Draw) -> Call | None:
        present = self.present()
        kind = draw.pick(["one", "all", "remove"], "clear")
        if kind == "all" or not present:

            def clear_all() -> None:
                self.model.clear()
                self.schema.clear()

            return self.valid("valid", "WS-19", "ws.clear()", "ws.clear()", clear_all)
        name = draw.pick(present, "name")

        def clear_one() -> None:
            self.model.clear(name)
            del self.schema[name]

        if kind == "one":
            code = f"ws.clear({name!r})"
            return self.valid("valid", "WS-19", code, code, clear_one)
        code = f"ws.remove_variable({name!r})"
        return self.valid("valid", "WS-43", code, code, clear_one)

    # ---------------------------------------------------------- derived workspaces
    def expected_derived(self, kind: str, args: tuple[Any, ...]) -> dict[str, torch.Tensor] | None:
        full = {n: self.model.get_full(n) for n in self.present()}
        if kind in ("copy", "contiguous", "to"):
            return full
        if kind == "select_batch":
            (index,) = args
            return {n: v[:, index] for n, v in full.items()}
        if kind in ("subtime", "get_time_truncated_workspace"):
            start, stop = args
            return {n: v[start:stop] for n, v in full.items()}
        if kind == "select_subtime":
            starts, window = args
            return {
                n: torch.stack(
                    [
                        torch.stack([v[s + k, b] for b, s in enumerate(starts)])
                        for k in range(window)
                    ]
                )
                if window
                else v[:0]
                for n, v in full.items()
            }
        if kind == "cat_batch":
            return {n: torch.cat([v, v], dim=1) for n, v in full.items()}
        return None

    def derive(self, draw: Draw) -> Call | None:
        common = self.uniform_time()
        kinds = ["copy", "contiguous", "to", "cat_batch"]
        if self.model.rows:  # an empty workspace has no batch size to index
            kinds.append("select_batch")
        if common is not None:
            kinds += ["subtime", "get_time_truncated_workspace"]
        if common is not None and self.model.rows:
            # an empty workspace has no batch size, so the length `t` must have is unspecified
            kinds.append("select_subtime")
        kind = draw.pick(kinds, "operation")
        args: tuple[Any, ...] = ()
        if kind == "copy":
            code = "out = impl.Workspace(ws)"
        elif kind == "contiguous":
            code = "out = ws.contiguous()"
        elif kind == "to":
            device = draw.pick(["'cpu'", "torch.device('cpu')"], "device")
            code = f"out = ws.to({device})"
        elif kind == "select_batch":
            index = [draw.integer(0, self.B - 1, "column") for _ in range(draw.integer(0, 4, "n"))]
            dtype = draw.pick(["int64", "int32"], "index dtype")
            code = f"out = ws.select_batch(torch.tensor({index}, dtype=torch.{dtype}))"
            args = (index,)
        elif kind == "cat_batch":
            code = draw.pick(
                ["out = impl.Workspace.cat_batch([ws, ws])", "out = ws.cat_batch([ws, ws])"],
                "spelling",
            )
        elif kind in ("subtime", "get_time_truncated_workspace"):
            assert common is not None
            start = draw.integer(0, common, "from")
            stop = draw.integer(start, common, "to")
            code = f"out = ws.{kind}({start}, {stop})"
            args = (start, stop)
        else:
            assert common is not None
            window = draw.integer(0, common, "window_size")
            starts = [draw.integer(0, common - window, "t[b]") for _ in range(self.B)]
            code = f"out = ws.select_subtime(torch.tensor({starts}), {window})"
            args = (starts, window)
        return self.derived_call("valid", kind, code, args)

    def derived_call(self, klass: str, kind: str, code: str, args: tuple[Any, ...]) -> Call:
        want = self.expected_derived(kind, args)
        clause_id = {
            "copy": "WS-27",
            "contiguous": "WS-40",
            "to": "WS-39",
            "select_batch": "WS-28",
            "cat_batch": "WS-37",
            "subtime": "WS-32",
            "get_time_truncated_workspace": "WS-32",
            "select_subtime": "WS-35",
        }[kind]

        def result(out: Any) -> str | None:
            assert want is not None
            return workspace_differs(out, want)

        return self.valid(
            klass,
            clause_id,
            code,
            code.removeprefix("out = "),
            result=result,
            result_source="ws_state(out)",
        )

    def transitions(self, draw: Draw) -> Call | None:
        common = self.uniform_time()
        if common is None:
            return None
        done = self.schema.get("env/done") == ((), "bool")
        spelling = draw.pick(
            ["filter_key=None", "no_final_state=True", "'env/done'", ""], "arguments"
        )
        filtered = spelling in ("'env/done'", "")
        if filtered and not done:
            return None
        full = {n: self.model.get_full(n) for n in self.present()}
        want = transitions_model(full, "env/done" if filtered else None) if full else {}
        code = f"out = ws.get_transitions({spelling})"

        def result(out: Any) -> str | None:
            return workspace_differs(out, want)

        return self.valid(
            "valid",
            "TR-1",
            code,
            code.removeprefix("out = "),
            result=result,
            result_source="ws_state(out)",
        )

    # ------------------------------------------------------------- valid odd values
    def set_view(self, draw: Draw) -> Call | None:
        name = draw.pick(NAMES, "name")
        schema = self.schema_for(draw, name)
        full = draw.pick([False, True], "set_full")
        if full:
            shape = (draw.integer(1, 3, "time size"), self.B, *schema[0])
        else:
            shape = (self.B, *schema[0])
        kind = draw.pick(vals.views(shape, schema[1]), "view")
        source = vals.view(shape, schema[1], self.next_seed(), kind)
        if not full:
            t = draw.integer(0, max(self.sizes().values(), default=0) + 1, "t")
            return self.valid(
                "view",
                "WS-2",
                f"ws.set({name!r}, {t}, {source})",
                f"ws.set({name!r}, {t}, <{kind} view>)",
                self.set_check(name, t, source, schema),
            )

        def apply() -> None:
            self.model.set_full(name, self.value(source))
            self.schema[name] = schema

        return self.valid(
            "view",
            "WS-11",
            f"ws.set_full({name!r}, {source})",
            f"ws.set_full({name!r}, <{kind} view>)",
            apply,
        )

    def set_special(self, draw: Draw) -> Call | None:
        name = draw.pick([n for n in NAMES if n != "env/done"], "name")
        schema = self.schema_for(draw, name)
        if not schema[1].startswith(("float", "bfloat", "complex")):
            if name in self.schema:
                return None
            schema = (
                schema[0],
                draw.pick(
                    ["float32", "float16", "bfloat16", "float64", "complex64", "complex128"],
                    "dtype",
                ),
            )
        t = draw.integer(0, max(self.sizes().values(), default=0) + 1, "t")
        source = vals.special_values((self.B, *schema[0]), schema[1])
        return self.valid(
            "nan-inf",
            "WS-2",
            f"ws.set({name!r}, {t}, {source})",
            f"ws.set({name!r}, {t}, <NaN, inf, -0.0 as {schema[1]}>)",
            self.set_check(name, t, source, schema),
        )

    def index_view(self, draw: Draw) -> Call | None:
        if not self.model.rows:
            return None
        kind = draw.pick(["select_batch", "select_subtime"], "operation")
        common = self.uniform_time()
        if kind == "select_batch":
            column = draw.integer(0, self.B - 1, "column")
            shape = draw.pick(["expanded", "sliced", "offset"], "view")
            index = {
                "expanded": f"torch.tensor({column}).expand(2)",
                "sliced": f"torch.tensor([{column}, 0, {column}, 0])[::2]",
                "offset": f"torch.tensor([0, {column}, {column}])[1:]",
            }[shape]
            return self.derived_call(
                "view", "select_batch", f"out = ws.select_batch({index})", ([column, column],)
            )
        if common is None or common == 0:
            return None
        start = draw.integer(0, common - 1, "t[b]")
        index = f"torch.tensor({start}).expand({self.B})"
        return self.derived_call(
            "view",
            "select_subtime",
            f"out = ws.select_subtime({index}, 1)",
            ([start] * self.B, 1),
        )

    # -------------------------------------------------------------- wrong types
    def set_not_a_tensor(self, draw: Draw) -> Call | None:
        name = draw.pick(NAMES, "name")
        value = draw.pick(vals.NOT_TENSORS, "value")
        method = draw.pick(["set", "set_full"], "method")
        code = (
            f"ws.set({name!r}, 0, {value})"
            if method == "set"
            else f"ws.set_full({name!r}, {value})"
        )
        return self.bad("python-type", "ERR-4", code, code, (TypeError,))

    def name_not_a_str(self, draw: Draw) -> Call | None:
        name = draw.pick(["None", "3", "b'x'", "('x',)", "1.5"], "name")
        method = draw.pick(["set", "set_full", "get", "get_full", "getitem", "clear"], "method")
        source, schema = self.row_source(draw, "x")
        if method == "set":
            code = f"ws.set({name}, 0, {source})"
            return self.bad("python-type", "WS-20", code, f"ws.set({name}, 0, ...)", (TypeError,))
        if method == "set_full":
            full = vals.plain((1, self.B, *schema[0]), schema[1], self.next_seed())
            code = f"ws.set_full({name}, {full})"
            return self.bad("python-type", "WS-20", code, f"ws.set_full({name}, ...)", (TypeError,))
        code = {
            "get": f"ws.get({name}, 0)",
            "get_full": f"ws.get_full({name})",
            "getitem": f"ws[{name}]",
            "clear": f"ws.clear({name})",
        }[method]
        if name == "None" and method == "clear":
            return None  # clear(None) clears every variable (WS-19)
        if method == "getitem" and name == "('x',)":
            return None  # a tuple of names (WS-25)
        # "a name that is not a variable" (ERR-3) and "a value of the wrong Python type"
        # (errors.md): both name this input
        return self.bad("python-type", "ERR-3", code, code, (KeyError, TypeError))

    def time_not_an_int(self, draw: Draw) -> Call | None:
        name = draw.pick(NAMES, "name")
        method = draw.pick(["set", "get"], "method")
        if method == "get" and name not in self.model.rows:
            return None
        kind = draw.pick(["not an int", "int-like"], "kind")
        if kind == "not an int":
            klass, t = vals.not_int(draw)
            gap, check = None, None
            raises: tuple[type[BaseException], ...] = (TypeError,)
        else:
            klass = "python-type"
            value = draw.integer(0, 1, "t")
            gap, t = vals.int_like(draw, value)
            raises = ()
        if method == "set":
            source, schema = self.row_source(draw, name)
            code = f"ws.set({name!r}, {t}, {source})"
            if gap is not None:
                check = self.set_check(name, value, source, schema)
            return self.bad(klass, "WS-2", code, f"ws.set({name!r}, {t}, ...)", raises, gap, check)
        code = f"out = ws.get({name!r}, {t})"
        if gap is not None:
            if value >= len(self.model.rows[name]):
                return None
            want = self.model.get(name, value)

            def check_row() -> None:
                out = self.ns.get("out")
                if not same_values(out, want):
                    raise ConformanceFailure(
                        "WS-2",
                        f"ws.get({name!r}, {t}) accepted {t} and returned {show(out)}, not row "
                        f"{value} {show(want)}",
                        self.repro("print(out)"),
                    )

            check = check_row
        return self.bad(klass, "WS-2", code, code.removeprefix("out = "), raises, gap, check)

    def int_argument_not_an_int(self, draw: Draw) -> Call | None:
        klass, value = vals.not_int(draw)
        return self.int_argument(draw, klass, value)

    def int_argument_nan(self, draw: Draw) -> Call | None:
        return self.int_argument(draw, "nan-inf", draw.pick(["math.nan", "math.inf"], "value"))

    def int_argument(self, draw: Draw, klass: str, value: str) -> Call | None:
        """An int argument of a workspace operation given ``value`` (not an int): TypeError,
        the errors.md row for a value of the wrong Python type."""
        T = max(self.sizes().values(), default=0)
        common = self.uniform_time()
        calls = {
            "copy_n_last_steps": ("WS-17", f"ws.copy_n_last_steps({value})"),
            "copy_time n_steps": ("WS-42", f"ws.copy_time(0, 0, {value})"),
            "copy_time from_time": ("WS-42", f"ws.copy_time({value}, 0, 0)"),
            "select_batch_n": ("WS-31", f"ws.select_batch_n({value})"),
            "get_time_truncated": ("WS-34", f"ws.get_time_truncated('x', 0, {value})"),
        }
        if "x" not in self.model.rows:
            del calls["get_time_truncated"]
        if common is not None:
            calls["subtime"] = ("WS-33", f"ws.subtime({value}, {common})")
            calls["get_time_truncated_workspace"] = (
                "WS-33",
                f"ws.get_time_truncated_workspace(0, {value})",
            )
        if common is not None and self.model.rows:  # no batch size when empty: unspecified
            calls["select_subtime"] = (
                "WS-36",
                f"ws.select_subtime(torch.zeros({self.B}, dtype=torch.int64), {value})",
            )
        del T
        key = draw.pick(sorted(calls), "operation")
        clause_id, code = calls[key]
        return self.bad(klass, clause_id, code, code, (TypeError,))

    def workspace_argument(self, draw: Draw) -> Call | None:
        kind = draw.pick(["Workspace", "cat_batch", "cat_batch tuple", "to", "in"], "operation")
        if kind == "Workspace":
            other = draw.pick(["{}", "{'x': torch.zeros(1, B)}", "3", "'ws'", "[ws]"], "other")
            code = f"impl.Workspace({other})"
            return self.bad("python-type", "WS-27", code, code, (TypeError,))
        if kind == "cat_batch":
            other = draw.pick(["[ws, 3]", "[ws, None]", "[{}]"], "list")
            code = f"impl.Workspace.cat_batch({other})"
            return self.bad("python-type", "WS-38", code, code, (TypeError,))
        if kind == "cat_batch tuple":
            code = draw.pick(["ws", "3", "(ws, ws)"], "argument")
            call = f"out = impl.Workspace.cat_batch({code})"
            if code == "(ws, ws)":
                derived = self.derived_call("python-type", "cat_batch", call, ())
                derived.gap = "cat-batch-sequence"
                derived.check = derived.check
                return derived
            return self.bad("python-type", "WS-38", call, call, gap="cat-batch-sequence")
        if kind == "to":
            device = draw.pick(["None", "1.5", "[]", "b'cpu'"], "device")
            code = f"ws.to({device})"
            return self.bad("python-type", "WS-39", code, code, (TypeError,))
        other = draw.pick(["3", "None", "('x',)"], "x")
        code = f"out = {other} in ws"

        def check_false() -> None:
            if self.ns.get("out") is not False:
                raise ConformanceFailure(
                    "WS-12",
                    f"{other} in ws returned {self.ns.get('out')!r}",
                    self.repro("print(out)"),
                )

        return self.bad("python-type", "WS-12", code, code, gap="in-non-str", check=check_false)

    # --------------------------------------------------------------- shapes
    def set_wrong_shape(self, draw: Draw) -> Call | None:
        name = draw.pick(NAMES, "name")
        exists = name in self.model.rows
        schema = self.schema_for(draw, name)
        item, dtype = schema
        method = draw.pick(["set", "set_full"], "method")
        choices: list[tuple[str, tuple[int, ...], str]] = [
            ("ERR-4", (), "no batch dimension"),
        ]
        if self.model.rows:
            choices.append(("WS-4", (self.B + 1, *item), "batch size B + 1"))
            choices.append(("WS-4", (0, *item), "batch size 0"))
            if self.B > 1:
                choices.append(("WS-4", (self.B - 1, *item), "batch size B - 1"))
        if exists and method == "set":
            for other in [(*item, 1), (*item, 2), item[:-1] if item else None]:
                if other is not None:
                    choices.append(("WS-5", (self.B, *other), f"item shape {list(other)}"))
        clause_id, shape, why = draw.pick(choices, "wrong shape")
        if method == "set":
            source = vals.plain(shape, dtype, self.next_seed()) if shape else "torch.tensor(1.0)"
            code = f"ws.set({name!r}, 0, {source})"
        else:
            if clause_id == "ERR-4":
                shape = draw.pick([(), (self.B,)], "fewer than two dimensions")
                source = (
                    vals.plain(shape, dtype, self.next_seed()) if shape else "torch.tensor(1.0)"
                )
            else:
                source = vals.plain((2, *shape), dtype, self.next_seed())
            code = f"ws.set_full({name!r}, {source})"
        return self.bad(
            "shape", clause_id, code, f"ws.{method}({name!r}, ...) with {why}", (ValueError,)
        )

    def index_wrong_shape(self, draw: Draw) -> Call | None:
        kind = draw.pick(["2-d", "0-d", "mask length"], "index")
        if kind == "mask length":
            length = draw.pick([self.B + 1, max(self.B - 1, 0)], "mask length")
            code = f"ws.select_batch(torch.ones({length}, dtype=torch.bool))"
            if length == self.B or not self.model.rows:
                return None
        elif kind == "2-d":
            code = "ws.select_batch(torch.zeros((1, 1), dtype=torch.int64))"
        else:
            code = "ws.select_batch(torch.tensor(0))"
        if (
            draw.pick([False, True], "select_subtime")
            and self.uniform_time() is not None
            and self.model.rows
        ):
            shape = draw.pick([(self.B + 1,), (1, self.B), ()], "t shape")
            code = f"ws.select_subtime(torch.zeros({shape}, dtype=torch.int64), 0)"
            return self.bad("shape", "WS-36", code, code, (ValueError,))
        return self.bad("shape", "WS-30", code, code, (ValueError,))

    def cat_mismatch(self, draw: Draw) -> Call | None:
        present = self.present()
        if not present:
            return None
        name = draw.pick(present, "name")
        item, dtype = self.schema[name]
        size = len(self.model.rows[name])
        kind = draw.pick(["missing", "extra", "time", "item", "dtype"], "mismatch")
        raises: tuple[type[BaseException], ...]
        if kind == "missing":
            setup = f"other = impl.Workspace(ws)\nother.clear({name!r})"
            clause_id, raises, klass = "WS-38", (KeyError,), "name"
        elif kind == "extra":
            setup = "other = impl.Workspace(ws)\nother.set('extra', 0, torch.zeros(B))"
            clause_id, raises, klass = "WS-38", (KeyError,), "name"
            if "extra" in present:
                return None
        else:
            if kind == "time":
                shape, other_dtype = (size + 1, self.B, *item), dtype
                raises, klass = (ValueError,), "shape"
            elif kind == "item":
                shape, other_dtype = (size, self.B, *item, 2), dtype
                raises, klass = (ValueError,), "shape"
            else:
                shape = (size, self.B, *item)
                other_dtype = "float64" if dtype != "float64" else "int32"
                raises, klass = (TypeError,), "dtype"
            source = vals.plain(shape, other_dtype, self.next_seed())
            setup = f"other = impl.Workspace(ws)\nother.set_full({name!r}, {source})"
            clause_id = "WS-38"
        order = draw.pick(["[ws, other]", "[other, ws]"], "order")
        code = f"{setup}\nimpl.Workspace.cat_batch({order})"
        return self.bad(klass, clause_id, code, f"cat_batch({order}) with {kind} {name!r}", raises)

    # --------------------------------------------------------------- dtypes
    def set_wrong_dtype(self, draw: Draw) -> Call | None:
        name = draw.pick(NAMES, "name")
        exists = name in self.model.rows
        item, dtype = self.schema_for(draw, name)
        shape = (self.B, *item)
        kind = draw.pick(
            ["other", "excluded", "quantized"] if exists else ["excluded", "quantized"],
            "dtype kind",
        )
        method = draw.pick(["set", "set_full"], "method")
        raises: tuple[type[BaseException], ...]
        if kind == "other":
            other = draw.pick([d for d in vals.WS_DTYPES if d != dtype], "other dtype")
            source = vals.plain(shape, other, self.next_seed())
            clause_id, raises, gap = "WS-5", (TypeError,), None
        elif kind == "excluded":
            other = draw.pick(vals.EXCLUDED_DTYPES, "excluded dtype")
            source = vals.excluded(shape, other)
            # an existing variable has another dtype (WS-5); a new one is open
            clause_id, raises, gap = (
                ("WS-5", (TypeError,), None)
                if exists and method == "set"
                else ("WS-21", (), "excluded-dtype")
            )
        else:
            other = draw.pick(vals.QUANTIZED, "quantized dtype")
            source = vals.quantized(shape, other)
            clause_id, raises, gap = "WS-22", (TypeError,), None
        if method == "set_full":
            if kind == "other":
                return None  # set_full may change a variable's dtype (WS-11)
            source = source.replace(vals.shape_source(shape), vals.shape_source((2, *shape)), 1)
            code = f"ws.set_full({name!r}, {source})"
        else:
            code = f"ws.set({name!r}, 0, {source})"
        return self.bad("dtype", clause_id, code, f"ws.{method}({name!r}, <{other}>)", raises, gap)

    def index_wrong_dtype(self, draw: Draw) -> Call | None:
        dtype = draw.pick(
            ["float32", "uint8", "int16", "int8", "float64", "complex64"], "index dtype"
        )
        if (
            draw.pick([False, True], "select_subtime")
            and self.uniform_time() is not None
            and self.model.rows
        ):
            code = f"ws.select_subtime(torch.zeros({self.B}, dtype=torch.{dtype}), 0)"
            return self.bad("dtype", "WS-36", code, code, (TypeError,))
        code = f"ws.select_batch(torch.zeros(1, dtype=torch.{dtype}))"
        return self.bad("dtype", "WS-30", code, code, (TypeError,))

    # -------------------------------------------------------- devices and layouts
    def set_meta(self, draw: Draw) -> Call | None:
        name = draw.pick(NAMES, "name")
        item, dtype = self.schema_for(draw, name)
        if draw.pick([False, True], "set_full"):
            code = f"ws.set_full({name!r}, {vals.meta((2, self.B, *item), dtype)})"
        else:
            code = f"ws.set({name!r}, 0, {vals.meta((self.B, *item), dtype)})"
        return self.bad("device", "WS-22", code, code, (TypeError,))

    def to_bad_device(self, draw: Draw) -> Call | None:
        device = draw.pick(["'meta'", "'foo'", "'cuda:99'", "99", "-1", "'cpu:x'"], "device")
        if device in ("'cuda'", "0") and torch.cuda.is_available():
            return None
        code = f"ws.to({device})"
        return self.bad("device", "WS-39", code, code, (ValueError,))

    def set_layout(self, draw: Draw) -> Call | None:
        name = draw.pick(NAMES, "name")
        item, _ = self.schema_for(draw, name)
        full = draw.pick([False, True], "set_full")
        shape = (2, self.B, *item) if full else (self.B, *item)
        source = draw.pick(vals.layouts(shape, self.next_seed()), "layout")
        code = f"ws.set_full({name!r}, {source})" if full else f"ws.set({name!r}, 0, {source})"
        return self.bad("layout", "WS-22", code, code, (TypeError,))

    # ------------------------------------------------------------------ sizes
    def set_time_out_of_range(self, draw: Draw) -> Call | None:
        name = draw.pick(NAMES, "name")
        source, _ = self.row_source(draw, name)
        kind = draw.pick(["negative", "huge", "huge rows"], "kind")
        if kind == "negative":
            t = draw.pick(vals.NEGATIVE, "t")
            code = f"ws.set({name!r}, {vals.int_source(t)}, {source})"
            return self.bad(
                "size", "ERR-2", code, f"ws.set({name!r}, {vals.int_source(t)}, ...)", (IndexError,)
            )
        if kind == "huge":
            t = draw.pick(vals.HUGE, "t")
            code = f"ws.set({name!r}, {vals.int_source(t)}, {source})"
            return self.bad(
                "size",
                "WS-23",
                code,
                f"ws.set({name!r}, {vals.int_source(t)}, ...)",
                (IndexError,),
                guarded=True,
            )
        item, dtype = self.schema_for(draw, name)
        rows = draw.pick([2**31 + 1, 2**40], "rows")
        source = (
            f"torch.zeros((1, B, *{item!r}), dtype=torch.{dtype})"
            f".expand({vals.int_source(rows)}, B, *{item!r})"
        )
        code = f"ws.set_full({name!r}, {source})"
        return self.bad(
            "size",
            "WS-23",
            code,
            f"ws.set_full({name!r}, <{vals.int_source(rows)} rows, stride 0>)",
            (ValueError,),
            guarded=True,
        )

    def read_time_out_of_range(self, draw: Draw) -> Call | None:
        present = self.present()
        if not present:
            return None
        name = draw.pick(present, "name")
        size = len(self.model.rows[name])
        t = draw.pick([-1, size, size + 1, 2**31, 2**63, -(2**63)], "t")
        code = f"ws.get({name!r}, {vals.int_source(t)})"
        return self.bad("size", "ERR-2", code, code, (IndexError,))

    def sizes_out_of_range(self, draw: Draw) -> Call | None:
        present = self.present()
        T = self.uniform_time()
        calls: list[tuple[str, str, tuple[type[BaseException], ...], bool]] = [
            ("WS-17", "ws.copy_n_last_steps(-1)", (ValueError,), False),
            ("WS-31", "ws.select_batch_n(-1)", (ValueError,), False),
            ("WS-42", "ws.copy_time(0, 0, -1)", (ValueError,), False),
            ("WS-42", "ws.copy_time(-1, 0, 1)", (IndexError,), False),
            ("WS-42", "ws.copy_time(0, -1, 0)", (IndexError,), False),
            ("WS-42", "ws.copy_time(0, 2**31, 1)", (IndexError,), True),
            ("WS-42", "ws.copy_time(0, 2**63, 1)", (IndexError,), True),
            (
                "WS-31",
                "ws.select_batch_n(2**40)",
                (MemoryError,) if self.model.rows else (ValueError,),  # batch size 0
                True,
            ),
        ]
        if present:
            top = min(len(r) for r in self.model.rows.values())
            calls += [
                ("WS-17", f"ws.copy_n_last_steps({top + 1})", (ValueError,), False),
                ("WS-17", "ws.copy_n_last_steps(2**63)", (ValueError,), False),
                ("WS-42", f"ws.copy_time({top}, 0, 1)", (IndexError,), False),
                ("WS-42", "ws.copy_time(2**63, 0, 1)", (IndexError,), False),
                ("WS-34", f"ws.get_time_truncated({present[0]!r}, -1, 0)", (IndexError,), False),
                (
                    "WS-34",
                    f"ws.get_time_truncated({present[0]!r}, 0, "
                    f"{len(self.model.rows[present[0]]) + 1})",
                    (IndexError,),
                    False,
                ),
                ("WS-34", f"ws.get_time_truncated({present[0]!r}, 1, 0)", (ValueError,), False),
            ]
        else:
            calls.append(("WS-31", "ws.select_batch_n(1)", (ValueError,), False))
        if T is not None:
            calls += [
                ("WS-33", "ws.subtime(-1, 0)", (IndexError,), False),
                ("WS-33", f"ws.subtime(0, {T + 1})", (IndexError,), False),
                ("WS-33", "ws.get_time_truncated_workspace(0, 2**63)", (IndexError,), False),
                ("WS-33", f"ws.subtime({min(T, 1)}, 0)", (ValueError,), T > 0),
                (
                    "WS-36",
                    f"ws.select_subtime(torch.zeros({self.B}, dtype=torch.int64), -1)",
                    (ValueError,),
                    False,
                ),
                (
                    "WS-36",
                    f"ws.select_subtime(torch.zeros({self.B}, dtype=torch.int64), {T + 1})",
                    (IndexError,),
                    False,
                ),
                (
                    "WS-36",
                    f"ws.select_subtime(torch.zeros({self.B}, dtype=torch.int64), 2**63)",
                    (IndexError,),
                    False,
                ),
                (
                    "WS-36",
                    f"ws.select_subtime(torch.full(({self.B},), -1), 0)",
                    (IndexError,),
                    False,
                ),
            ]
        if not self.model.rows:  # no batch size: the length `t` must have is unspecified
            calls = [c for c in calls if c[0] != "WS-36"]
        clause_id, code, raises, guarded = draw.pick(calls, "call")
        if code == f"ws.subtime({min(T or 0, 1)}, 0)" and not T:
            return None
        return self.bad("size", clause_id, code, code, raises, guarded=guarded)

    def index_out_of_range(self, draw: Draw) -> Call | None:
        if not self.model.rows:
            return None
        value = draw.pick([self.B, -1, 2**40, 2**63 - 1, -(2**63)], "position")
        dtype = draw.pick(["int64", "int32"], "dtype")
        if dtype == "int32" and not -(2**31) <= value < 2**31:
            dtype = "int64"
        code = f"ws.select_batch(torch.tensor([0, {vals.int_source(value)}], dtype=torch.{dtype}))"
        return self.bad("size", "WS-30", code, code, (IndexError,))

    # ------------------------------------------------------------------ names
    def empty_name(self, draw: Draw) -> Call | None:
        source, schema = self.row_source(draw, "x")
        if draw.pick([False, True], "set_full"):
            full = vals.plain((1, self.B, *schema[0]), schema[1], self.next_seed())
            code = f"ws.set_full('', {full})"
        else:
            code = f"ws.set('', 0, {source})"
        return self.bad("name", "WS-20", code, code.split(",")[0] + ", ...)", (ValueError,))

    def unknown_name(self, draw: Draw) -> Call | None:
        absent = [n for n in (*NAMES, "", "X", "x ") if n not in self.model.rows]
        name = draw.pick(absent, "unknown name")
        code, clause_id = draw.pick(
            [
                (f"ws.get({name!r}, 0)", "ERR-3"),
                (f"ws.get_full({name!r})", "ERR-3"),
                (f"ws[{name!r}]", "ERR-3"),
                (f"ws.clear({name!r})", "ERR-3"),
                (f"ws.remove_variable({name!r})", "WS-43"),
                (f"ws.copy_n_last_steps(0, var_names=[{name!r}])", "WS-17"),
                (f"ws.copy_time(0, 0, 0, var_names=[{name!r}])", "WS-42"),
                (f"ws.get_time_truncated({name!r}, 0, 0)", "WS-34"),
            ],
            "operation",
        )
        return self.bad("name", clause_id, code, code, (KeyError,))

    def several_names(self, draw: Draw) -> Call | None:
        present = self.present()
        kind = draw.pick(["unknown", "not a str", "set", "copy str", "copy non-iterable"], "kind")
        first = present[:1]
        if kind == "unknown":
            key = repr(tuple([*first, "zz"]))
            return self.bad("name", "WS-25", f"ws[{key}]", f"ws[{key}]", (KeyError,))
        if kind == "not a str":
            key = repr([*first, 3])
            return self.bad("name", "WS-25", f"ws[{key}]", f"ws[{key}]", (TypeError,))
        if kind == "set":
            if not present:
                return None
            code = f"ws[{{{present[0]!r}}}]"
            return self.bad("name", "WS-25", code, code, gap="names-container")
        if kind == "copy str":
            if not present:
                return None
            code = f"ws.copy_time(0, 0, 0, var_names={present[0]!r})"
            if draw.pick([False, True], "copy_n_last_steps"):
                code = f"ws.copy_n_last_steps(0, var_names={present[0]!r})"
                return self.bad("name", "WS-16", code, code, gap="names-type")
            return self.bad("name", "WS-42", code, code, (TypeError,))
        code = "ws.copy_time(0, 0, 0, var_names=3)"
        if draw.pick([False, True], "copy_n_last_steps"):
            code = "ws.copy_n_last_steps(0, var_names=3)"
            return self.bad("python-type", "WS-16", code, code, gap="names-type")
        return self.bad("python-type", "WS-42", code, code, (TypeError,))

    # ------------------------------------------------------------------ states
    def mixed_time_sizes(self, draw: Draw) -> Call | None:
        if self.uniform_time() is not None:
            return None
        code = draw.pick(
            [
                "ws.time_size()",
                "ws.subtime(0, 0)",
                "ws.get_time_truncated_workspace(0, 0)",
                f"ws.select_subtime(torch.zeros({self.B}, dtype=torch.int64), 0)",
            ],
            "operation",
        )
        clause_id = {"ws.time_size()": "WS-13"}.get(
            code, "WS-33" if "subtime(0" in code or "workspace" in code else "WS-36"
        )
        return self.bad("state", clause_id, code, code, (ValueError,))

    # ----------------------------------------------------------- transitions
    def transitions_arguments(self, draw: Draw) -> Call | None:
        if draw.pick([False, True], "no_final_state"):
            value = draw.pick(["'yes'", "1", "None", "np.bool_(True)"], "no_final_state")
            code = f"ws.get_transitions(no_final_state={value})"
            return self.bad("python-type", "TR-11", code, code, (TypeError,))
        value = draw.pick(["3", "True", "b'env/done'", "('env/done',)"], "filter_key")
        code = f"ws.get_transitions({value})"
        return self.bad("python-type", "TR-12", code, code, (TypeError,))

    def transitions_filter_name(self, draw: Draw) -> Call | None:
        if self.uniform_time() is None:
            return None
        name = draw.pick(
            [n for n in ("env/done", "zz", "") if n not in self.model.rows] or ["zz"], "filter"
        )
        code = f"ws.get_transitions({name!r})"
        return self.bad("name", "TR-6", code, code, (KeyError,))

    def transitions_filter_dtype(self, draw: Draw) -> Call | None:
        if self.uniform_time() is None:
            return None
        candidates = [n for n in self.present() if self.schema[n] != ((), "bool")]
        if not candidates:
            return None
        name = draw.pick(candidates, "filter")
        item, dtype = self.schema[name]
        code = f"ws.get_transitions({name!r})"
        raises: tuple[type[BaseException], ...] = (TypeError,) if dtype != "bool" else (ValueError,)
        klass = "dtype" if dtype != "bool" else "shape"
        return self.bad(klass, "TR-6", code, f"{code} ({dtype}, item shape {list(item)})", raises)

    def transitions_filter_shape(self, draw: Draw) -> Call | None:
        T = self.uniform_time()
        if T is None or T == 0:
            return None
        shape = draw.pick([(T, self.B, 1), (T, self.B, 2)], "shape")
        source = vals.plain(shape, "bool", self.next_seed())
        code = (
            f"flag = impl.Workspace(ws)\nflag.set_full('flag', {source})\n"
            "flag.get_transitions('flag')"
        )
        return self.bad(
            "shape",
            "TR-6",
            code,
            f"get_transitions('flag') with a bool filter of shape {list(shape)}",
            (ValueError,),
        )

    def transitions_mixed(self, draw: Draw) -> Call | None:
        if self.uniform_time() is not None:
            return None
        code = draw.pick(
            ["ws.get_transitions(None)", "ws.get_transitions(no_final_state=True)"], "spelling"
        )
        return self.bad("state", "TR-7", code, code, (ValueError,))


def _unbound(fn: Callable[[Draw], Call | None]) -> Callable[[Any, Draw], Call | None]:
    """A maker of one world as a function of (world, draw): the world's own method."""
    name = fn.__name__

    def make(world: Any, draw: Draw) -> Call | None:
        return getattr(world, name)(draw)  # type: ignore[no-any-return]

    return make


def workspace_differs(out: Any, want: dict[str, Any]) -> str | None:
    """How the workspace ``out`` differs from the variables ``want`` (None if it does not)."""
    try:
        keys = sorted(out.keys())
    except Exception as exc:
        return f"the result has no keys(): {type(exc).__name__}: {exc}"
    if keys != sorted(want):
        return f"the result holds {keys}, expected {sorted(want)}"
    for name, value in want.items():
        got = out.get_full(name)
        if not same_values(got, value):
            return f"{name!r} is {show(got)}, expected {show(value)}"
    return None
