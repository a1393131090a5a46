"""Hostile calls on one ReplayBuffer (spec/replay-buffer.md, spec/errors.md).

The world holds ``rb``, a buffer of capacity ``M``, and a model of it: the suite's
:class:`~bbrl_conformance._models.ReplayBufferModel` (the items, oldest first) and the ring
position of RB-16. Valid calls (puts of every dtype of RB-18, NaN payloads included, samples
with seeded generators, moves, state dicts, files) are checked against the model: the size, the
items by slot (``rb.variables``) bit for bit, each sampled column one stored item. Bad calls
must raise the type their clause names and change nothing: the size, the items by slot, the
device and the state of ``rb.generator`` are compared before and after.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch

from bbrl_conformance._failure import ConformanceFailure
from bbrl_conformance._hostile import _values as vals
from bbrl_conformance._hostile._engine import Call, Draw, Maker, World
from bbrl_conformance._models import ReplayBufferModel

#: (name, item shape, dtype) of each stored variable
Field = tuple[str, tuple[int, ...], str]
Schema = tuple[Field, ...]

PREAMBLE = '''

def batch(schema, T, N, seed, kind="bits"):
    """A workspace of N items: each variable (name, item shape, dtype) of ``schema`` is a
    [T, N, *shape] tensor of random bits (``kind="special"``: NaN, infinities, -0.0 for the
    floating dtypes)."""
    ws = impl.Workspace()
    for i, (name, shape, dtype) in enumerate(schema):
        ws.set_full(name, values(schema, T, N, seed, kind)[name])
    return ws


def values(schema, T, N, seed, kind="bits"):
    """The tensors of batch(schema, T, N, seed, kind), by name."""
    out = {}
    for i, (name, shape, dtype) in enumerate(schema):
        dt = getattr(torch, dtype)
        special_ok = kind == "special" and (dt.is_floating_point or dt.is_complex)
        full = (T, N, *shape)
        out[name] = special(full, dt) if special_ok else bits(full, dt, seed + i)
    return out


def rb_state(rb):
    """A buffer's observable state: size, capacity, fullness, device, the items by slot
    (RB-16) and the state of its generator (RB-19)."""
    return (
        outcome(rb.size),
        outcome(lambda: rb.max_size),
        outcome(lambda: rb.is_full),
        outcome(lambda: str(rb.device)),
        outcome(lambda: sorted((n, digest(v)) for n, v in rb.variables.items())),
        outcome(lambda: digest(rb.generator.get_state())),
    )


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def bad_state(state, kind):
    """A state that is not what state_dict() returns: ``state`` broken one way."""
    if kind == "none":
        return None
    if kind == "empty":
        return {}
    if kind == "list":
        return list(state.items()) if hasattr(state, "items") else [state]
    if not hasattr(state, "items"):
        return 3
    state = dict(state)
    if kind == "dropped":
        del state[sorted(state)[0]]
    elif kind == "extra":
        state["zz"] = 1
    elif kind == "negative":
        state = {k: -1 if isinstance(v, int) and not isinstance(v, bool) else v
                 for k, v in state.items()}
    elif kind == "huge":
        state = {k: 2**40 if isinstance(v, int) and not isinstance(v, bool) else v
                 for k, v in state.items()}
    elif kind == "strings":
        state = {k: "x" if isinstance(v, int) else v for k, v in state.items()}
    return state
'''

NAMES = ("obs", "action", "env/done")


def bits_of(value: torch.Tensor) -> bytes:
    value = value.detach().cpu().resolve_conj().resolve_neg()
    if value.numel() == 0:
        return b""
    fresh = torch.empty(value.numel(), dtype=value.dtype)  # standard strides, whatever value's
    fresh.copy_(value.reshape(-1))
    return bytes(fresh.view(torch.uint8).numpy().tobytes())


def same_bits(actual: object, expected: torch.Tensor) -> bool:
    """A tensor of the expected shape and dtype with the same bits (RB-18)."""
    if not isinstance(actual, torch.Tensor):
        return False
    return (
        actual.shape == expected.shape
        and actual.dtype == expected.dtype
        and bits_of(actual) == bits_of(expected)
    )


def show(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor(shape={tuple(value.shape)}, dtype={value.dtype}) {value!r:.400}"
    return f"{type(value).__name__} {value!r:.400}"


class BufferWorld(World):
    """``rb``: ``impl.ReplayBuffer(M)``, fed with ``batch(SCHEMA, T, N, seed)`` workspaces."""

    preamble = vals.PREAMBLE + PREAMBLE
    state_source = "rb_state(rb)"

    def __init__(self, impl: Any, draw: Draw) -> None:
        super().__init__(impl)
        self.M = draw.integer(1, 5, "max_size")
        self.T = draw.integer(1, 2, "time size")
        fields: list[Field] = []
        for name in NAMES[: draw.integer(1, 3, "variables")]:
            shape = draw.pick([(), (2,), (1, 2)], f"{name} item shape")
            dtype = "bool" if name == "env/done" else draw.pick(vals.RB_DTYPES, f"{name} dtype")
            fields.append((name, shape, dtype))
        self.schema: Schema = tuple(fields)
        self.seed = 0
        self.saved: dict[str, tuple[ReplayBufferModel, int, object] | None] = {}
        self.setup(f"SCHEMA = {self.schema!r}\nrb = impl.ReplayBuffer({self.M})")
        self.reset_model()

    def reset_model(self) -> None:
        self.model = ReplayBufferModel(self.M)
        self.position = 0

    def next_seed(self) -> int:
        self.seed += 100
        return self.seed

    # ------------------------------------------------------------------ the model
    def apply_put(self, variables: dict[str, torch.Tensor]) -> None:
        """RB-2, RB-4, RB-5, RB-16 on the model."""
        self.model.put(variables)
        n = next(iter(variables.values())).shape[1]
        self.position = (self.position + n) % self.M

    def slots(self) -> list[dict[str, torch.Tensor]]:
        """The stored items by slot (RB-16): the oldest at the position once the ring is full."""
        items = [dict(item.values) for item in self.model.items]
        if len(items) < self.M:
            return items
        by_slot: list[dict[str, torch.Tensor]] = [{} for _ in items]
        for i, item in enumerate(items):
            by_slot[(self.position + i) % self.M] = item
        return by_slot

    def check_model(self, clause_id: str, when: str) -> None:
        __tracebackhide__ = True
        size = self.value("outcome(rb.size)")
        want = self.model.size()
        if size != want or type(size) is not int:
            raise ConformanceFailure(
                "RB-3",
                f"{when}: size() = {size!r}, expected {want}",
                self.repro("print(rb.size())"),
            )
        full = self.value("outcome(lambda: rb.is_full)")
        if full is not (want == self.M):
            raise ConformanceFailure(
                "RB-15",
                f"{when}: is_full = {full!r} with {want} items of {self.M}",
                self.repro("print(rb.is_full)"),
            )
        variables = self.value("outcome(lambda: dict(rb.variables))")
        names = sorted(n for n, _, _ in self.schema) if self.model.schema is not None else []
        if not isinstance(variables, dict) or sorted(variables) != names:
            shown = sorted(variables) if isinstance(variables, dict) else variables
            raise ConformanceFailure(
                "RB-16",
                f"{when}: rb.variables holds {shown!r}, expected the variables {names}",
                self.repro("print(rb.variables)"),
            )
        slots = self.slots()
        for name, shape, dtype in self.schema if names else ():
            got = variables[name]
            expected = (
                torch.stack([item[name] for item in slots])
                if slots
                else torch.zeros((0, self.T, *shape), dtype=getattr(torch, dtype))
            )
            if not same_bits(got, expected):
                same_shape = isinstance(got, torch.Tensor) and got.shape == expected.shape
                raise ConformanceFailure(
                    clause_id if clause_id.startswith("RB") and same_shape else "RB-16",
                    f"{when}: rb.variables[{name!r}] (the items by slot, position "
                    f"{self.position}) differs from the model\nactual:   {show(got)}\n"
                    f"expected: {show(expected)}",
                    self.repro(f"print(rb.variables[{name!r}])"),
                )
        self.log.append(self.state_source)

    def rebuild(self) -> None:
        """Start again from a new, empty buffer."""
        self.setup(f"rb = impl.ReplayBuffer({self.M})")
        self.reset_model()

    def describe(self) -> str:
        fields = ", ".join(f"{n!r} {list(s)} {d}" for n, s, d in self.schema)
        return (
            f"a ReplayBuffer({self.M}) holding {self.model.size()} items of T={self.T} "
            f"({fields}), position {self.position}"
        )

    # ------------------------------------------------------------------- calls
    def valid(
        self,
        klass: str,
        clause_id: str,
        code: str,
        what: str,
        apply: Callable[[], None] = lambda: None,
        result: Callable[[], str | None] | None = None,
    ) -> Call:
        def check() -> None:
            __tracebackhide__ = True
            if result is not None:
                try:
                    problem = result()
                except Exception as exc:  # the result is not even a workspace
                    problem = f"reading the result raised {type(exc).__name__}: {exc}"
                if problem is not None:
                    raise ConformanceFailure(
                        clause_id, f"{what} on {self.describe()}: {problem}", self.repro()
                    )
            apply()
            self.check_model(clause_id, f"after {what}")

        return Call(klass, clause_id, code, what, check=check)

    def put_call(
        self, klass: str, code: str, what: str, variables: dict[str, torch.Tensor]
    ) -> Call:
        return self.valid(klass, "RB-2", code, what, lambda: self.apply_put(variables))

    def batch(self, schema: Schema, T: int, N: int, kind: str = "bits") -> tuple[str, Any]:
        """(source of a workspace of N items, its tensors by name)."""
        seed = self.next_seed()
        source = f"batch({'SCHEMA' if schema == self.schema else repr(schema)}, {T}, {N}, {seed}"
        source += ")" if kind == "bits" else f", {kind!r})"
        return source, self.ns["values"](schema, T, N, seed, kind)

    # ================================================================ makers
    def makers(self) -> list[Maker]:
        table: Sequence[tuple[str, Callable[[Draw], Call | None]]] = [
            ("valid", self.put),
            ("valid", self.sample),
            ("valid", self.move),
            ("valid", self.state_dict),
            ("valid", self.save_load),
            ("valid", self.construct),
            ("nan-inf", self.put_special),
            ("view", self.put_then_write),
            ("python-type", self.max_size_not_an_int),
            ("python-type", self.put_not_a_workspace),
            ("python-type", self.sample_not_an_int),
            ("python-type", self.bad_generator),
            ("python-type", self.bad_state_dict),
            ("nan-inf", self.max_size_nan),
            ("size", self.max_size_too_small),
            ("size", self.huge_max_size),
            ("size", self.sample_size),
            ("device", self.bad_device),
            ("shape", self.put_other_shape),
            ("dtype", self.put_other_dtype),
            ("name", self.put_other_names),
            ("file", self.bad_file),
            ("state", self.sample_empty),
        ]
        return [Maker(klass, "RB", _method(fn)) for klass, fn in table]

    # -------------------------------------------------------------- valid calls
    def put(self, draw: Draw) -> Call | None:
        n = draw.integer(0 if self.model.schema is not None else 1, self.M + 2, "N")
        source, variables = self.batch(self.schema, self.T, n)
        code = f"rb.put({source})"
        return self.put_call("valid", code, f"rb.put(<{n} items>)", variables)

    def put_special(self, draw: Draw) -> Call | None:
        n = draw.integer(1, 3, "N")
        source, variables = self.batch(self.schema, self.T, n, "special")
        return self.put_call("nan-inf", f"rb.put({source})", f"rb.put(<{n} items, NaN>)", variables)

    def put_then_write(self, draw: Draw) -> Call | None:
        n = draw.integer(1, 3, "N")
        source, variables = self.batch(self.schema, self.T, n)
        name, shape, dtype = draw.pick(self.schema, "name")
        other = vals.plain((self.T, n, *shape), dtype, self.next_seed())
        code = f"w = {source}\nrb.put(w)\nw.set_full({name!r}, {other})"
        if self.model.size() and draw.pick([False, True], "write into a sample"):
            code += f"\ns = rb.get_shuffled(2)\ns.set_full({name!r}, torch.zeros_like(s[{name!r}]))"
        return self.valid(
            "view",
            "RB-11",
            code,
            f"rb.put(w), then writes into w (and a sample) [{n} items]",
            lambda: self.apply_put(variables),
        )

    def sample(self, draw: Draw) -> Call | None:
        if not self.model.size():
            return None
        n = draw.integer(1, 6, "batch_size")
        seed = draw.integer(0, 3, "generator seed")
        own = draw.pick([False, True], "own generator")
        gen = "" if own else f", generator=torch.Generator().manual_seed({seed})"
        code = f"out = rb.get_shuffled({n}{gen})"
        if not own:
            code += (
                f"\nagain = rb.get_shuffled({n}, generator=torch.Generator().manual_seed({seed}))"
            )
        before = None if own else self.value("outcome(lambda: digest(rb.generator.get_state()))")
        keys = {
            b"".join(bits_of(item[name]) for name, _, _ in self.schema) for item in self.slots()
        }

        def result() -> str | None:
            out = self.ns.get("out")
            for name, shape, dtype in self.schema:
                try:
                    got = out.get_full(name)  # type: ignore[union-attr]
                except Exception as exc:
                    return f"get_full({name!r}) of the sample raised {exc!r}"
                want_shape = (self.T, n, *shape)
                if tuple(got.shape) != want_shape or got.dtype != getattr(torch, dtype):
                    return (
                        f"{name!r} of the sample is {show(got)}, expected shape "
                        f"{list(want_shape)} dtype {dtype} (RB-8)"
                    )
            for j in range(n):
                key = b"".join(bits_of(out[name][:, j]) for name, _, _ in self.schema)  # type: ignore[index]
                if key not in keys:
                    return f"column {j} of the sample is not one stored item (RB-8, RB-9)"
            if before is not None:
                again = self.ns.get("again")
                for name, _, _ in self.schema:
                    if not same_bits(again[name], out[name]):  # type: ignore[index]
                        return f"two samples with generators seeded alike differ in {name!r}"
                if self.value("outcome(lambda: digest(rb.generator.get_state()))") != before:
                    return "get_shuffled(generator=h) changed rb.generator (RB-19)"
            return None

        return self.valid("valid", "RB-8", code, f"rb.get_shuffled({n}{gen})", result=result)

    def move(self, draw: Draw) -> Call | None:
        device = draw.pick(["'cpu'", "torch.device('cpu')"], "device")
        code = f"out = rb.to({device})"

        def result() -> str | None:
            if self.ns.get("out") is not self.ns["rb"]:
                return "rb.to(d) did not return the buffer (RB-17)"
            if self.value("rb.device") != torch.device("cpu"):
                return f"rb.device is {self.value('rb.device')!r} after rb.to({device})"
            return None

        return self.valid("valid", "RB-17", code, f"rb.to({device})", result=result)

    def state_dict(self, draw: Draw) -> Call | None:
        code = (
            f"other = impl.ReplayBuffer({self.M})\n"
            "other.load_state_dict(rb.state_dict())\nrb = other"
        )
        return self.valid(
            "valid", "RB-12", code, "load_state_dict(rb.state_dict()) on a new buffer"
        )

    def save_load(self, draw: Draw) -> Call | None:
        kind = draw.pick(["save", "load new", "load back"], "file operation")
        name = draw.pick(["a.rb", "b.rb"], "file")
        path = f"os.path.join(tmp, {name!r})"
        if kind == "save":
            generator = self.value("outcome(lambda: digest(rb.generator.get_state()))")
            snapshot = (copy.deepcopy(self.model), self.position, generator)

            def remember() -> None:
                self.saved[name] = snapshot

            return self.valid("valid", "RB-23", f"rb.save({path})", f"rb.save({name!r})", remember)
        saved = self.saved.get(name)
        if saved is None:
            return None
        model, position, generator = saved
        if self.model.schema is not None and model.schema not in (None, self.model.schema):
            return None
        target = f"other = impl.ReplayBuffer({self.M})\nout = other.load({path})\nrb = other"
        if kind == "load back":
            target = f"out = rb.load({path})\nother = rb"

        def restore() -> None:
            schema = self.model.schema if model.schema is None else model.schema
            if kind == "load new":
                schema = model.schema
            self.model = copy.deepcopy(model)
            self.model.schema = schema
            self.position = position

        def result() -> str | None:
            if self.ns.get("out") is not self.ns.get("other"):
                return "load(path) did not return the buffer (RB-25)"
            if self.value("outcome(lambda: digest(other.generator.get_state()))") != generator:
                return "the loaded buffer's generator state is not the saved one (RB-25)"
            return None

        return self.valid("valid", "RB-25", target, f"{kind} {name!r}", restore, result)

    def construct(self, draw: Draw) -> Call | None:
        size, want = draw.pick([("4.0", 4), ("1e3", 1000), ("1", 1), ("2**40", 2**40)], "max_size")
        extra = draw.pick(
            [
                "",
                ", device='cpu'",
                ", torch.device('cpu')",
                ", None",
                ", generator=torch.Generator()",
            ],
            "arguments",
        )
        code = f"other = impl.ReplayBuffer({size}{extra})"

        def result() -> str | None:
            other = self.ns["other"]
            got = (other.max_size, type(other.max_size), other.size(), other.device)
            expected = (want, int, 0, torch.device("cpu"))
            if got != expected:
                return f"(max_size, its type, size(), device) = {got}, expected {expected}"
            return None

        return self.valid("valid", "RB-1", code, code.removeprefix("other = "), result=result)

    # -------------------------------------------------------------- bad calls
    def max_size_not_an_int(self, draw: Draw) -> Call | None:
        kind = draw.pick(["not an int", "int-like"], "kind")
        if kind == "int-like":
            gap, value = vals.int_like(draw, draw.integer(1, 1, "max_size"))
            code = f"impl.ReplayBuffer({value})"
            return self.bad("python-type", "RB-1", code, code, gap=gap)
        value = draw.pick(["2.5", "'4'", "None", "[4]", "True", "False", "4 + 0j"], "max_size")
        code = f"impl.ReplayBuffer({value})"
        return self.bad("python-type", "RB-1", code, code, (TypeError,))

    def max_size_nan(self, draw: Draw) -> Call | None:
        value = draw.pick(["math.nan", "math.inf", "-math.inf"], "max_size")
        code = f"impl.ReplayBuffer({value})"
        return self.bad("nan-inf", "RB-1", code, code, (TypeError,))

    def max_size_too_small(self, draw: Draw) -> Call | None:
        value = draw.pick(["0", "-1", "-2**63", "0.0", "-3.0"], "max_size")
        code = f"impl.ReplayBuffer({value})"
        return self.bad("size", "RB-1", code, code, (ValueError,))

    def huge_max_size(self, draw: Draw) -> Call | None:
        """RB-22: a put whose storage cannot be allocated raises MemoryError and leaves the
        buffer's schema unset; one that can (storage grown as needed) succeeds."""
        rows = draw.pick(["2**46", "2**60"], "max_size")
        n = draw.integer(1, 2, "N")
        source, _ = self.batch(self.schema, self.T, n)
        code = f"big = impl.ReplayBuffer({rows})\nbig.put({source})\nbig.put({source})"

        def grown() -> None:
            got = self.value("big.size()")
            if got != 2 * n:
                raise ConformanceFailure(
                    "RB-3",
                    f"ReplayBuffer({rows}) after two puts of {n} items: size() = {got}",
                    self.repro("print(big.size())"),
                )

        return self.bad(
            "size",
            "RB-22",
            code,
            f"two puts of {n} items into ReplayBuffer({rows})",
            (MemoryError,),
            check=grown,
            guarded=True,
        )

    def put_not_a_workspace(self, draw: Draw) -> Call | None:
        value = draw.pick(
            ["None", "3", "{}", "{'obs': torch.zeros(1, 1)}", "rb", "impl.Workspace()", "mixed"],
            "argument",
        )
        if value == "mixed":
            if len(self.schema) < 2 or self.T < 2:
                return None
            first, second = self.schema[0], self.schema[1]
            value = (
                f"(lambda w: (w.set_full({second[0]!r}, "
                f"{vals.plain((1, 1, *second[1]), second[2], self.next_seed())}), w)[1])("
                f"batch({(first,)!r}, {self.T}, 1, {self.next_seed()}))"
            )
        code = f"rb.put({value})"
        return self.bad("python-type", "RB-6", code, code, gap="buffer-put-argument")

    def sample_not_an_int(self, draw: Draw) -> Call | None:
        kind = draw.pick(["not an int", "int-like"], "kind")
        if kind == "int-like":
            if not self.model.size():
                return None
            gap, value = vals.int_like(draw, 1)
            code = f"rb.get_shuffled({value}, generator=torch.Generator())"
            return self.bad("python-type", "RB-10", code, code, gap=gap)
        klass, value = vals.not_int(draw)
        code = f"rb.get_shuffled({value})"
        # an empty buffer raises ValueError (RB-10): which check comes first is open
        raises = (TypeError,) if self.model.size() else (TypeError, ValueError)
        return self.bad(klass, "RB-10", code, code, raises)

    def sample_size(self, draw: Draw) -> Call | None:
        value = draw.pick(["0", "-1", "-2**63", "2**40", "2**50"], "batch_size")
        code = f"rb.get_shuffled({value})"
        if value.startswith("2**"):
            if not self.model.size():
                return None
            return self.bad("size", "RB-21", code, code, (MemoryError,), guarded=True)
        return self.bad("size", "RB-10", code, code, (ValueError,))

    def sample_empty(self, draw: Draw) -> Call | None:
        if self.model.size():
            return None
        code = f"rb.get_shuffled({draw.integer(1, 3, 'batch_size')})"
        return self.bad("state", "RB-10", code, code, (ValueError,))

    def bad_generator(self, draw: Draw) -> Call | None:
        value = draw.pick(
            ["3", "'g'", "np.random.default_rng(0)", "torch.Generator", "[torch.Generator()]"],
            "generator",
        )
        if draw.pick([False, True], "at construction"):
            code = f"impl.ReplayBuffer({self.M}, generator={value})"
            return self.bad("python-type", "RB-19", code, code, (TypeError,))
        code = f"rb.get_shuffled(1, generator={value})"
        if not self.model.size():
            return None  # an empty buffer raises ValueError too (RB-10): both are right
        return self.bad("python-type", "RB-21", code, code, (TypeError,))

    def bad_device(self, draw: Draw) -> Call | None:
        value, raises, gap = draw.pick(
            [
                ("'foo'", (ValueError,), None),
                ("'cpu:x'", (ValueError,), None),
                ("'cuda:99'", (ValueError,), None),
                ("''", (ValueError,), None),
                ("3", (TypeError,), None),
                ("1.5", (TypeError,), None),
                ("b'cpu'", (TypeError,), None),
                ("'meta'", (), "buffer-device"),
            ],
            "device",
        )
        if value == "'cuda:99'" and torch.cuda.device_count() > 99:
            return None
        if draw.pick([False, True], "to"):
            code = f"rb.to({value})"
            if gap is not None:
                return None  # to('meta') is open and its success would lose the items
            return self.bad("device", "RB-17", code, code, raises)
        code = f"impl.ReplayBuffer({self.M}, device={value})"
        return self.bad("device", "RB-14", code, code, raises, gap)

    def bad_state_dict(self, draw: Draw) -> Call | None:
        kind = draw.pick(
            ["none", "empty", "list", "dropped", "extra", "negative", "huge", "strings"], "state"
        )
        code = f"rb.load_state_dict(bad_state(rb.state_dict(), {kind!r}))"
        return self.bad("python-type", "RB-12", code, code, gap="buffer-state-dict")

    # ---------------------------------------------------------- schema mismatches
    def needs_schema(self) -> bool:
        return self.model.schema is not None

    def mismatch(self, klass: str, schema: Schema, T: int, why: str, raises: type) -> Call:
        source, _ = self.batch(schema, T, 2)
        code = f"rb.put({source})"
        return Call(
            klass,
            "RB-6",
            code,
            f"rb.put(<{why}>) on {self.describe()}",
            (raises,),
            unchanged="RB-7",
        )

    def put_other_shape(self, draw: Draw) -> Call | None:
        if not self.needs_schema():
            return None
        if draw.pick([False, True], "time size"):
            T = draw.pick([t for t in (1, 2, 3) if t != self.T], "T")
            return self.mismatch("shape", self.schema, T, f"T = {T}", ValueError)
        i = draw.integer(0, len(self.schema) - 1, "variable")
        name, shape, dtype = self.schema[i]
        other = draw.pick([s for s in [(), (2,), (3,), (1, 2), (2, 1)] if s != shape], "shape")
        schema = (*self.schema[:i], (name, other, dtype), *self.schema[i + 1 :])
        return self.mismatch(
            "shape", schema, self.T, f"{name!r} item shape {list(other)}", ValueError
        )

    def put_other_dtype(self, draw: Draw) -> Call | None:
        i = draw.integer(0, len(self.schema) - 1, "variable")
        name, shape, dtype = self.schema[i]
        if self.needs_schema() and draw.pick([False, True], "a stored dtype"):
            other = draw.pick([d for d in vals.RB_DTYPES if d != dtype], "dtype")
        else:  # RB-18: a dtype outside the 12 is refused, by an empty buffer too
            other = draw.pick(("uint16", "uint32", "uint64"), "dtype")
        schema = (*self.schema[:i], (name, shape, other), *self.schema[i + 1 :])
        return self.mismatch("dtype", schema, self.T, f"{name!r} of dtype {other}", TypeError)

    def put_other_names(self, draw: Draw) -> Call | None:
        if not self.needs_schema():
            return None
        kind = draw.pick(["missing", "extra", "renamed"], "names")
        if kind == "missing":
            if len(self.schema) < 2:
                return None
            drop = draw.integer(0, len(self.schema) - 1, "missing")
            schema = self.schema[:drop] + self.schema[drop + 1 :]
            why = f"no {self.schema[drop][0]!r}"
        elif kind == "extra":
            schema = (*self.schema, ("extra", (), "float32"))
            why = "an extra variable 'extra'"
        else:
            name, shape, dtype = self.schema[0]
            schema = ((name + "_", shape, dtype), *self.schema[1:])
            why = f"{name + '_'!r} for {name!r}"
        return self.mismatch("name", schema, self.T, why, KeyError)

    # ------------------------------------------------------------------ files
    def bad_file(self, draw: Draw) -> Call | None:
        kind = draw.pick(
            [
                "missing",
                "directory",
                "garbage",
                "truncated",
                "extended",
                "other max_size",
                "other schema",
                "save into a missing directory",
                "save onto a directory",
                "path type",
            ],
            "file",
        )
        good = "os.path.join(tmp, 'good.rb')"
        bad = "os.path.join(tmp, 'bad.rb')"
        raises: tuple[type[BaseException], ...] = (ValueError,)
        clause_id, gap = "RB-26", None
        if kind == "missing":
            code, raises = "rb.load(os.path.join(tmp, 'missing.rb'))", (OSError,)
        elif kind == "directory":
            code, raises = "rb.load(tmp)", (OSError,)
        elif kind == "garbage":
            code = f"write({bad}, b'\\x89BBRLRB\\n' + bytes(40))\nrb.load({bad})"
        elif kind in ("truncated", "extended"):
            cut = "[:-7]" if kind == "truncated" else " + b'\\0'"
            code = f"rb.save({good})\nwrite({bad}, read({good}){cut})\nrb.load({bad})"
        elif kind == "other max_size":
            code = f"impl.ReplayBuffer({self.M + 1}).save({bad})\nrb.load({bad})"
        elif kind == "other schema":
            if not self.needs_schema():
                return None
            name, shape, dtype = self.schema[0]
            change = draw.pick(["dtype", "shape", "T", "name"], "change")
            T = self.T
            if change == "dtype":
                other: Field = (name, shape, "float64" if dtype != "float64" else "int32")
                raises = (TypeError,)
            elif change == "shape":
                other = (name, (*shape, 2), dtype)
            elif change == "name":
                other = (name + "_", shape, dtype)
                raises = (KeyError,)
            else:
                other, T = self.schema[0], self.T + 1
            schema = (other, *self.schema[1:])
            source, _ = self.batch(schema, T, 1)
            code = (
                f"o = impl.ReplayBuffer({self.M})\no.put({source})\no.save({bad})\nrb.load({bad})"
            )
        elif kind == "save into a missing directory":
            code = "rb.save(os.path.join(tmp, 'no', 'such', 'dir.rb'))"
            raises, clause_id = (OSError,), "RB-24"
        elif kind == "save onto a directory":
            code = "os.makedirs(os.path.join(tmp, 'dir'), exist_ok=True)\n"
            code += "rb.save(os.path.join(tmp, 'dir'))"
            raises, clause_id = (OSError,), "RB-24"
        else:
            value = draw.pick(
                ["3", "None", "os.fsencode(os.path.join(tmp, 'x.rb'))", "[tmp]"], "path"
            )
            code = f"rb.{draw.pick(['save', 'load'], 'method')}({value})"
            raises, gap, clause_id = (), "buffer-path-type", "RB-23"
        return self.bad("file", clause_id, code, f"{kind}: {code.splitlines()[-1]}", raises, gap)


def _method(fn: Callable[[Draw], Call | None]) -> Callable[[Any, Draw], Call | None]:
    """A maker of one world as a function of (world, draw): the world's own method."""
    name = fn.__name__

    def make(world: Any, draw: Draw) -> Call | None:
        return getattr(world, name)(draw)  # type: ignore[no-any-return]

    return make
