"""Conformance tests of the Workspace operations real bbrl programs call (WS-25..WS-43, TR-11).

Several names at once, workspaces made from workspaces (`Workspace(other)`, `select_batch`,
`select_batch_n`, `subtime`, `get_time_truncated(_workspace)`, `select_subtime`, `cat_batch`,
`to`, `contiguous`), `copy_time`, `remove_variable` and `get_transitions(no_final_state=...)`.

Every workspace here is built from known tensors (`full` below, whose source every reproducer
carries): the expected result of each operation is computed from those tensors by plain
indexing in the test, never read from the implementation. Each error case checks the builtin
type the clause names and that the workspace is unchanged afterwards (ERR-5).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises, raising
from bbrl_conformance._clauses import clause
from bbrl_conformance._strategies import full

HEADER = "import math\nimport torch\n\n\n" + inspect.getsource(full) + "\n\n"


def then(repro: str, *lines: str) -> str:
    """`repro` followed by `lines` (the prints of what a check compares)."""
    return repro.rstrip("\n") + "\n" + "".join(line + "\n" for line in lines)


def show_all(name: str = "ws") -> str:
    """A reproducer line printing every variable of the workspace `name` (what "unchanged"
    compares)."""
    return f"print({{k: {name}.get_full(k) for k in {name}.keys()}})"


@dataclass
class Built:
    """A workspace of the implementation, the tensors it holds (the model), and its code."""

    ws: Any
    model: dict[str, torch.Tensor]
    code: str
    weight: torch.Tensor | None = None
    lines: list[str] = field(default_factory=list)

    def repro(self, *more: str) -> str:
        return HEADER + self.code + "".join(line + "\n" for line in more)


def build(
    impl: Any,
    time_size: int,
    batch: int,
    grad: bool = False,
    offset: int = 0,
    name: str = "ws",
) -> Built:
    """`obs` float32 [T, B, 2] and `done` bool [T, B] written row by row with `set` (so absent
    when T = 0), `act` int64 [T, B] with `set_full`; with `grad`, `lp` = w * obs[..., 0] (w a
    0-d parameter set to 2.0) row by row, so that `lp` has autograd history. Its code calls the
    workspace `name`."""
    shape = (time_size, batch)
    model = {
        "obs": full((*shape, 2), torch.float32, offset),
        "done": full(shape, torch.bool, offset + 3),
        "act": full(shape, torch.int64, offset + 1000),
    }
    ws = impl.Workspace()
    code = [
        f"{name} = impl.Workspace()",
        f"obs = full({(*shape, 2)}, torch.float32, {offset})",
        f"done = full({shape}, torch.bool, {offset + 3})",
        f"for t in range({time_size}):",
        f"    {name}.set('obs', t, obs[t])",
        f"    {name}.set('done', t, done[t])",
        f"{name}.set_full('act', full({shape}, torch.int64, {offset + 1000}))",
    ]
    for t in range(time_size):
        ws.set("obs", t, model["obs"][t])
        ws.set("done", t, model["done"][t])
    ws.set_full("act", model["act"])
    weight = None
    if grad:
        weight = torch.tensor(2.0, requires_grad=True)
        model["lp"] = (2.0 * model["obs"][..., 0]).detach()
        code += [
            "w = torch.tensor(2.0, requires_grad=True)",
            f"for t in range({time_size}):",
            f"    {name}.set('lp', t, w * obs[t, :, 0])",
        ]
        for t in range(time_size):
            ws.set("lp", t, weight * model["obs"][t, :, 0])
    if time_size == 0:  # rows written by set: none, so only act (set_full) exists
        model = {"act": model["act"]}
    return Built(ws, model, "\n".join(code) + "\n", weight)


def observe(ws: Any) -> dict[str, torch.Tensor]:
    """Name -> detached copy of get_full(name): what "unchanged" compares."""
    return {name: ws.get_full(name).detach().clone() for name in list(ws.keys())}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return sorted(a) == sorted(b) and all(
        a[k].shape == b[k].shape and a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) for k in a
    )


def expect_contents(
    result: Any,
    expected: dict[str, torch.Tensor],
    clause_id: str,
    what: str,
    repro: str,
    name: str = "out",
) -> None:
    """`result` is a workspace holding exactly `expected` (names, shapes, dtypes, values);
    `repro` makes it as `name` (its reproducers print what differs)."""
    __tracebackhide__ = True
    names = sorted(result.keys())
    expect(
        names == sorted(expected),
        clause_id,
        f"{what}: variables {names}, expected {sorted(expected)}",
        then(repro, f"print(sorted({name}.keys()))"),
    )
    for var, want in expected.items():
        expect_equal_tensors(
            result.get_full(var).detach(),
            want,
            clause_id,
            f"{what}: variable {var!r}",
            then(repro, f"print({name}.get_full({var!r}))"),
        )


def expect_unchanged(
    ws: Any,
    before: dict[str, torch.Tensor],
    clause_id: str,
    what: str,
    repro: str,
    name: str = "ws",
) -> None:
    """`ws` (called `name` in `repro`) holds what `before` observed."""
    __tracebackhide__ = True
    after = observe(ws)
    expect(
        same(before, after),
        clause_id,
        f"{what} changed the workspace: before {sorted(before)}, after {sorted(after)} "
        f"(names, shapes, dtypes or values differ)",
        then(repro, show_all(name)),
    )


def expect_error_unchanged(
    exc: type[BaseException],
    clause_id: str,
    built: Built,
    code: str,
    call: Callable[[], object],
    setup: str = "",
) -> None:
    """`call` (`code`, after the reproducer lines `setup`) raises `exc` (the clause's type) and
    leaves `built.ws` unchanged (ERR-5)."""
    __tracebackhide__ = True
    before = observe(built.ws)
    repro = built.repro(setup + code)
    expect_raises(exc, clause_id, code, call, repro)
    expect_unchanged(built.ws, before, "ERR-5", f"{code} raised, but", raising(repro, exc))


# -- WS-25: several names at once -----------------------------------------------------------


@clause("WS-25")
@given(
    names=st.lists(st.sampled_from(["obs", "done", "act"]), max_size=5),
    as_list=st.booleans(),
)
def test_several_names_give_a_tuple_in_order(impl: Any, names: list[str], as_list: bool) -> None:
    built = build(impl, 3, 2)
    key: list[str] | tuple[str, ...] = list(names) if as_list else tuple(names)
    code = f"out = ws[{key!r}]"
    out = built.ws[key]
    repro = built.repro(code, "print(type(out), out)")
    expect(
        type(out) is tuple and len(out) == len(names),
        "WS-25",
        f"{code} returned {type(out).__name__} {out!r:.300}, "
        f"expected a tuple of {len(names)} tensors",
        repro,
    )
    for i, name in enumerate(names):
        expect_equal_tensors(out[i], built.model[name], "WS-25", f"{code}: element {i}", repro)


@clause("WS-25")
def test_several_names_unpack_like_bbrl_programs(impl: Any) -> None:
    """The course's critic losses: `reward, done, obs = ws["act", "done", "obs"]`."""
    built = build(impl, 4, 3)
    act, done, obs = built.ws["act", "done", "obs"]
    repro = built.repro("act, done, obs = ws['act', 'done', 'obs']")
    for name, got in (("act", act), ("done", done), ("obs", obs)):
        expect_equal_tensors(
            got, built.model[name], "WS-25", f"unpacked {name!r}", then(repro, f"print({name})")
        )


@clause("WS-25", "ERR-5")
def test_several_names_errors(impl: Any) -> None:
    built = build(impl, 2, 2)
    expect_error_unchanged(
        KeyError, "WS-25", built, "ws['obs', 'nope']", lambda: built.ws["obs", "nope"]
    )
    expect_error_unchanged(KeyError, "WS-25", built, "ws[['nope']]", lambda: built.ws[["nope"]])
    expect_error_unchanged(TypeError, "WS-25", built, "ws['obs', 3]", lambda: built.ws["obs", 3])


# -- WS-26: results never share storage with their sources ----------------------------------


@dataclass(frozen=True)
class Producer:
    """An operation returning a workspace: its code, how to call it, and the model of it."""

    code: str
    call: Callable[[Any, Any], Any]
    model: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]


def _per_var(
    fn: Callable[[torch.Tensor], torch.Tensor],
) -> Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]:
    return lambda model: {name: fn(value) for name, value in model.items()}


def _window(value: torch.Tensor) -> torch.Tensor:
    # select_subtime(t=[1, 0, 1], window_size=2) on B = 3
    rows = torch.tensor([[1, 0, 1], [2, 1, 2]])
    return value[rows, torch.arange(3)]


PRODUCERS: dict[str, Producer] = {
    "Workspace(ws)": Producer(
        "impl.Workspace(ws)", lambda impl, ws: impl.Workspace(ws), _per_var(lambda x: x)
    ),
    "select_batch": Producer(
        "ws.select_batch(torch.tensor([2, 0, 2]))",
        lambda impl, ws: ws.select_batch(torch.tensor([2, 0, 2])),
        _per_var(lambda x: x[:, [2, 0, 2]]),
    ),
    "select_batch-mask": Producer(
        "ws.select_batch(torch.tensor([True, False, True]))",
        lambda impl, ws: ws.select_batch(torch.tensor([True, False, True])),
        _per_var(lambda x: x[:, [0, 2]]),
    ),
    "select_batch_n": Producer(
        "ws.select_batch_n(4)",
        lambda impl, ws: ws.select_batch_n(4),
        lambda model: model,  # random columns: the test decodes them from act[0, b] = 1000 + b
    ),
    "subtime": Producer(
        "ws.subtime(1, 3)", lambda impl, ws: ws.subtime(1, 3), _per_var(lambda x: x[1:3])
    ),
    "get_time_truncated_workspace": Producer(
        "ws.get_time_truncated_workspace(0, 3)",
        lambda impl, ws: ws.get_time_truncated_workspace(0, 3),
        _per_var(lambda x: x[0:3]),
    ),
    "select_subtime": Producer(
        "ws.select_subtime(torch.tensor([1, 0, 1]), 2)",
        lambda impl, ws: ws.select_subtime(torch.tensor([1, 0, 1]), 2),
        _per_var(_window),
    ),
    "cat_batch": Producer(
        "impl.Workspace.cat_batch([ws, ws])",
        lambda impl, ws: impl.Workspace.cat_batch([ws, ws]),
        _per_var(lambda x: torch.cat([x, x], dim=1)),
    ),
    # a list of one: nothing to concatenate, but still a new workspace (WS-26)
    "cat_batch-one": Producer(
        "impl.Workspace.cat_batch([ws])",
        lambda impl, ws: impl.Workspace.cat_batch([ws]),
        _per_var(lambda x: x),
    ),
    "to": Producer("ws.to('cpu')", lambda impl, ws: ws.to("cpu"), _per_var(lambda x: x)),
    "contiguous": Producer(
        "ws.contiguous()", lambda impl, ws: ws.contiguous(), _per_var(lambda x: x)
    ),
}


def _writes(ws: Any, name: str) -> dict[str, tuple[str, Callable[[], object]]]:
    """Every kind of write WS-26 names, each valid on `ws` (read for shapes only): kind ->
    (its code on the workspace called `name`, the call)."""
    obs = ws.get_full("obs")
    time_size = obs.shape[0]
    shape = tuple(obs.shape[1:])
    row = torch.full(shape, -7.0)
    row_code = f"torch.full({shape}, -7.0)"
    return {
        "set row 0": (
            f"{name}.set('obs', 0, {row_code})",
            functools.partial(ws.set, "obs", 0, row),
        ),
        "set row T + 1": (
            f"{name}.set('obs', {time_size + 1}, {row_code})",
            functools.partial(ws.set, "obs", time_size + 1, row),
        ),
        "set_full": (
            f"{name}.set_full('act', -{name}.get_full('act'))",
            lambda: ws.set_full("act", -ws.get_full("act")),
        ),
        "copy_time": (f"{name}.copy_time(1, 0, 1)", functools.partial(ws.copy_time, 1, 0, 1)),
        "copy_n_last_steps": (
            f"{name}.copy_n_last_steps(1)",
            functools.partial(ws.copy_n_last_steps, 1),
        ),
        "zero_grad": (f"{name}.zero_grad()", ws.zero_grad),
        "clear": (f"{name}.clear('done')", functools.partial(ws.clear, "done")),
        # the epoch loop: zero_grad, then writes into the variable it detached ('lp')
        "zero_grad, set lp row 0": (
            f"{name}.zero_grad()\n{name}.set('lp', 0, torch.full({shape[:1]}, -7.0))",
            lambda: (ws.zero_grad(), ws.set("lp", 0, torch.full(shape[:1], -7.0))),
        ),
        "zero_grad, copy_n_last_steps": (
            f"{name}.zero_grad()\n{name}.copy_n_last_steps(1)",
            lambda: (ws.zero_grad(), ws.copy_n_last_steps(1)),
        ),
    }


def _grad_state(ws: Any) -> bool:
    return bool(ws.get_full("lp").requires_grad)


@clause("WS-26")
@pytest.mark.parametrize("producer", sorted(PRODUCERS))
def test_results_share_no_storage_with_sources(impl: Any, producer: str) -> None:
    """The call changes no source; writes to the result never reach the source and writes to
    the source never reach the result; the result keeps autograd history."""
    op = PRODUCERS[producer]
    built = build(impl, 4, 3, grad=True)
    before = observe(built.ws)
    torch.manual_seed(0)
    result = op.call(impl, built.ws)
    call = f"torch.manual_seed(0)\nout = {op.code}"
    expect_unchanged(built.ws, before, "WS-26", call, built.repro(call))
    expected = op.model(built.model)
    if producer == "select_batch_n":  # random columns: decoded from act[0, b] = 1000 + b
        columns = [int(c) - 1000 for c in result.get_full("act")[0].tolist()]
        expected = {name: value[:, columns] for name, value in built.model.items()}
    expect_contents(result, expected, "WS-26", call, built.repro(call))
    # autograd: lp = w * obs[..., 0], so d sum(out['lp']) / dw = sum(out['obs'][..., 0])
    lp = result.get_full("lp")
    expect(
        lp.requires_grad,
        "WS-26",
        f"{call}: out['lp'] (from values with autograd history) does not require grad",
        built.repro(call, "print(out.get_full('lp').requires_grad)"),
    )
    repro = built.repro(call, "out.get_full('lp').sum().backward()", "print(w.grad)")
    lp.sum().backward()
    want = float(expected["obs"][..., 0].sum())
    got = None if built.weight is None or built.weight.grad is None else float(built.weight.grad)
    expect(
        got == want,
        "WS-26",
        f"{call}: sum(out['lp']).backward() gave w.grad = {got}, expected {want}",
        repro,
    )
    for direction in ("result", "source"):
        for kind in _writes(built.ws, "ws"):
            pair = build(impl, 4, 3, grad=True)
            torch.manual_seed(0)
            out = op.call(impl, pair.ws)
            target, other = (out, pair.ws) if direction == "result" else (pair.ws, out)
            target_name, other_name = ("out", "ws") if direction == "result" else ("ws", "out")
            other_before = observe(other)
            other_grad = _grad_state(other)
            code, write = _writes(target, target_name)[kind]
            write()
            repro = pair.repro(
                call,
                code,
                show_all(other_name),
                f"print({other_name}.get_full('lp').requires_grad)",
            )
            expect(
                same(other_before, observe(other)) and _grad_state(other) == other_grad,
                "WS-26",
                f"{call}; {code} changed {other_name} (values or autograd history)",
                repro,
            )


@clause("WS-13", "WS-4")
@pytest.mark.parametrize("producer", sorted(PRODUCERS))
def test_results_have_the_sizes_of_their_variables(impl: Any, producer: str) -> None:
    """A derived workspace is a workspace like any other: batch_size() and time_size() are those
    of its variables, and its batch size is fixed (WS-4): a write of another batch size raises
    ValueError and changes nothing, one of the same batch size is accepted."""
    op = PRODUCERS[producer]
    built = build(impl, 4, 3)
    torch.manual_seed(0)
    out = op.call(impl, built.ws)
    call = f"torch.manual_seed(0)\nout = {op.code}"
    shapes = {name: tuple(out.get_full(name).shape) for name in list(out.keys())}
    batch, time_size = shapes["act"][1], shapes["act"][0]
    sizes = (out.batch_size(), out.time_size())
    expect(
        sizes == (batch, time_size),
        "WS-13",
        f"{call}: (batch_size(), time_size()) = {sizes}, but its variables have shapes {shapes}",
        built.repro(call, "print(out.batch_size(), out.time_size())"),
    )
    wrong = torch.zeros(batch + 1)
    code = f"out.set('extra', 0, torch.zeros({batch + 1}))"
    before = observe(out)
    expect_raises(
        ValueError,
        "WS-4",
        f"{call}; {code} (batch size {batch + 1} on a workspace of batch size {batch})",
        functools.partial(out.set, "extra", 0, wrong),
        built.repro(call, code),
    )
    expect_unchanged(out, before, "WS-4", f"{call}; {code} raised, but", built.repro(call, code))
    out.set("extra", 0, torch.zeros(batch))
    expect(
        "extra" in out and out.batch_size() == batch,
        "WS-4",
        f"{call}; out.set('extra', 0, torch.zeros({batch})) was not stored",
        built.repro(call, f"out.set('extra', 0, torch.zeros({batch}))", "print(list(out.keys()))"),
    )


# -- WS-27, WS-40: copies -------------------------------------------------------------------


@clause("WS-27", "WS-40")
@given(time_size=st.integers(0, 4), batch=st.integers(0, 3))
def test_copy_and_contiguous_hold_the_same_variables(impl: Any, time_size: int, batch: int) -> None:
    built = build(impl, time_size, batch)
    for code, call, clause_id in (
        ("impl.Workspace(ws)", lambda: impl.Workspace(built.ws), "WS-27"),
        ("ws.contiguous()", built.ws.contiguous, "WS-40"),
    ):
        out = call()
        repro = built.repro(f"out = {code}")
        expect_contents(out, built.model, clause_id, code, repro)
        expect(
            out.time_size() == time_size and out.batch_size() == batch,
            clause_id,
            f"{code}: (time_size, batch_size) = {(out.time_size(), out.batch_size())}, "
            f"expected {(time_size, batch)}",
            then(repro, "print(out.time_size(), out.batch_size())"),
        )
    empty = impl.Workspace(impl.Workspace())
    expect(
        list(empty.keys()) == [],
        "WS-27",
        "impl.Workspace(impl.Workspace()) is not empty",
        "print(list(impl.Workspace(impl.Workspace()).keys()))",
    )


@clause("WS-27")
def test_copy_of_a_non_workspace_raises(impl: Any) -> None:
    for code, arg in (
        ("{'x': torch.zeros(2, 2)}", {"x": torch.zeros(2, 2)}),
        ("[]", []),
        ("5", 5),
        ("torch.zeros(2, 2)", torch.zeros(2, 2)),
    ):
        expect_raises(
            TypeError,
            "WS-27",
            f"impl.Workspace({code})",
            functools.partial(impl.Workspace, arg),
            f"import torch\nimpl.Workspace({code})",
        )


# -- WS-28..WS-31: select_batch, select_batch_n ---------------------------------------------

INDEX_DTYPES = (torch.int64, torch.int32)


@clause("WS-28")
@given(
    time_size=st.integers(0, 4),
    batch=st.integers(0, 4),
    data=st.data(),
    dtype=st.sampled_from(INDEX_DTYPES),
)
def test_select_batch_by_positions(
    impl: Any, time_size: int, batch: int, data: st.DataObject, dtype: torch.dtype
) -> None:
    # batch size 0: only the empty index is valid
    within = st.lists(st.integers(0, batch - 1), max_size=6) if batch else st.just([])
    positions = data.draw(within, label="positions")
    built = build(impl, time_size, batch)
    index = torch.tensor(positions, dtype=dtype)
    code = f"out = ws.select_batch(torch.tensor({positions}, dtype={dtype}))"
    out = built.ws.select_batch(index)
    repro = built.repro(code)
    expected = {name: value[:, positions] for name, value in built.model.items()}
    expect_contents(out, expected, "WS-28", code, repro)
    expect(
        out.batch_size() == len(positions),
        "WS-28",
        f"{code}: batch_size() = {out.batch_size()}, expected {len(positions)}",
        then(repro, "print(out.batch_size())"),
    )


@clause("WS-28")
def test_select_batch_keeps_each_variables_time_size(impl: Any) -> None:
    built = build(impl, 2, 3)
    extra = full((4, 3), torch.float64, 50)
    for t in range(4):
        built.ws.set("long", t, extra[t])
    built.model["long"] = extra
    code = "out = ws.select_batch(torch.tensor([1]))"
    out = built.ws.select_batch(torch.tensor([1]))
    repro = built.repro(
        "long = full((4, 3), torch.float64, 50)",
        "for t in range(4):",
        "    ws.set('long', t, long[t])",
        code,
    )
    expected = {name: value[:, [1]] for name, value in built.model.items()}
    expect_contents(out, expected, "WS-28", code + " (variables of time sizes 2 and 4)", repro)


@clause("WS-29")
@given(
    time_size=st.integers(0, 4),
    mask=st.lists(st.booleans(), max_size=5),
)
def test_select_batch_by_mask(impl: Any, time_size: int, mask: list[bool]) -> None:
    built = build(impl, time_size, len(mask))
    code = f"out = ws.select_batch(torch.tensor({mask}, dtype=torch.bool))"
    out = built.ws.select_batch(torch.tensor(mask, dtype=torch.bool))
    positions = [b for b, keep in enumerate(mask) if keep]
    expected = {name: value[:, positions] for name, value in built.model.items()}
    expect_contents(out, expected, "WS-29", code, built.repro(code))


@clause("WS-45")
@pytest.mark.parametrize("history", ["new", "cleared"])
@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32, torch.bool])
def test_select_batch_of_an_empty_workspace(
    impl: Any, history: str, index_dtype: torch.dtype
) -> None:
    """An empty index (or mask) selects from a workspace without variables: the result has no
    variables and takes a first write of any batch size (3, and 7 on a second result)."""
    setup = "import torch\nws = impl.Workspace()\n"
    if history == "cleared":
        setup += "ws.set('y', 0, torch.zeros(2))\nws.clear()\n"
    code = f"out = ws.select_batch(torch.tensor([], dtype={index_dtype}))\n"
    for batch in (3, 7):
        ws = impl.Workspace()
        if history == "cleared":
            ws.set("y", 0, torch.zeros(2))
            ws.clear()
        out = ws.select_batch(torch.tensor([], dtype=index_dtype))
        keys = sorted(out.keys())
        expect(
            keys == [],
            "WS-45",
            f"{code}gave variables {keys}",
            setup + code + "print(list(out.keys()))",
        )
        write = f"out.set('x', 0, torch.zeros({batch}))"
        try:
            out.set("x", 0, torch.zeros(batch))
            problem = None if out.batch_size() == batch else f"batch_size() {out.batch_size()}"
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        expect(
            problem is None,
            "WS-45",
            f"after {code.strip()} on a {history} workspace, {write} gave {problem}",
            setup + code + write + "\nprint(out.batch_size())  # want " + str(batch),
        )


@clause("WS-30", "ERR-5")
def test_select_batch_errors(impl: Any) -> None:
    built = build(impl, 3, 3)
    ws = built.ws
    cases: list[tuple[type[BaseException], str, Any]] = [
        (IndexError, "torch.tensor([0, 3])", torch.tensor([0, 3])),
        (IndexError, "torch.tensor([2, -1])", torch.tensor([2, -1])),
        (IndexError, "torch.tensor([-3])", torch.tensor([-3])),
        (TypeError, "[0, 1]", [0, 1]),
        (TypeError, "torch.tensor([0.0, 1.0])", torch.tensor([0.0, 1.0])),
        (TypeError, "torch.tensor([0, 1], dtype=torch.uint8)", torch.tensor([0, 1]).byte()),
        (TypeError, "torch.tensor([0, 1], dtype=torch.int16)", torch.tensor([0, 1]).short()),
        (ValueError, "torch.tensor([[0, 1]])", torch.tensor([[0, 1]])),
        (ValueError, "torch.tensor(1)", torch.tensor(1)),
        (ValueError, "torch.tensor([True, False])", torch.tensor([True, False])),
        (ValueError, "torch.tensor([True, False, True, True])", torch.tensor([True] * 4)),
    ]
    for exc, code, index in cases:
        expect_error_unchanged(
            exc,
            "WS-30",
            built,
            f"ws.select_batch({code})",
            functools.partial(ws.select_batch, index),
        )
    # the other side of each bound: the largest position and a mask of length B are accepted
    expect_contents(
        ws.select_batch(torch.tensor([2, 0])),
        {name: value[:, [2, 0]] for name, value in built.model.items()},
        "WS-30",
        "ws.select_batch(torch.tensor([2, 0]))",
        built.repro("out = ws.select_batch(torch.tensor([2, 0]))"),
    )


@clause("WS-31")
@given(batch=st.integers(1, 5), n=st.integers(0, 12), seed=st.integers(0, 2**16))
def test_select_batch_n_draws_columns(impl: Any, batch: int, n: int, seed: int) -> None:
    built = build(impl, 2, batch)
    code = f"torch.manual_seed({seed})\nout = ws.select_batch_n({n})"
    repro = built.repro(code)
    torch.manual_seed(seed)
    out = built.ws.select_batch_n(n)
    torch.manual_seed(seed)
    again = built.ws.select_batch_n(n)
    expect(
        out.batch_size() == n,
        "WS-31",
        f"{code}: batch_size() = {out.batch_size()}, expected {n}",
        then(repro, "print(out.batch_size())"),
    )
    # act[0, b] = 1000 + b names the column: every variable must hold that same column
    columns = [int(c) - 1000 for c in out.get_full("act")[0].tolist()]
    expect(
        all(0 <= b < batch for b in columns),
        "WS-31",
        f"{code}: drew columns {columns} outside 0..{batch - 1}",
        then(repro, "print([int(c) - 1000 for c in out.get_full('act')[0].tolist()])"),
    )
    expected = {name: value[:, columns] for name, value in built.model.items()}
    expect_contents(out, expected, "WS-31", f"{code} (columns {columns})", repro)
    expect_contents(
        again,
        expected,
        "WS-31",
        f"{code} twice after the same torch.manual_seed",
        then(repro, f"torch.manual_seed({seed})", f"again = ws.select_batch_n({n})"),
        name="again",
    )


@clause("WS-31")
def test_select_batch_n_draws_every_column_uniformly(impl: Any) -> None:
    built = build(impl, 1, 3)
    torch.manual_seed(0)
    out = built.ws.select_batch_n(3000)
    counts = [0, 0, 0]
    for c in out.get_full("act")[0].tolist():
        counts[int(c) - 1000] += 1
    expect(
        all(800 <= k <= 1200 for k in counts),
        "WS-31",
        f"select_batch_n(3000) on B = 3 drew the columns {counts} times (expected about "
        "1000 each: uniform, with replacement)",
        built.repro(
            "torch.manual_seed(0)",
            "out = ws.select_batch_n(3000)",
            "columns = out.get_full('act')[0].tolist()",
            "print([columns.count(1000 + b) for b in range(3)])",
        ),
    )


@clause("WS-31", "ERR-5")
@given(
    negative=st.integers(max_value=-1) | st.just(-1),
    positive=st.integers(min_value=1) | st.just(1),
    time_size=st.integers(0, 3),
)
def test_select_batch_n_errors(impl: Any, negative: int, positive: int, time_size: int) -> None:
    """Both sides of each bound: every n < 0 raises, n = 0 does not; on a workspace of batch
    size 0 (without variables, or with variables of batch 0) every n > 0 raises, n = 0 does
    not."""
    built = build(impl, 2, 3)
    expect_error_unchanged(
        ValueError,
        "WS-31",
        built,
        f"ws.select_batch_n({negative})",
        functools.partial(built.ws.select_batch_n, negative),
    )
    no_columns = build(impl, time_size, 0)
    expect_error_unchanged(
        ValueError,
        "WS-31",
        no_columns,
        f"ws.select_batch_n({positive})",
        functools.partial(no_columns.ws.select_batch_n, positive),
    )
    empty = impl.Workspace()
    expect_raises(
        ValueError,
        "WS-31",
        f"impl.Workspace().select_batch_n({positive})",
        functools.partial(empty.select_batch_n, positive),
        f"impl.Workspace().select_batch_n({positive})",
    )
    for source in (built, no_columns, Built(empty, {}, "ws = impl.Workspace()\n")):
        keys = sorted(source.ws.keys())
        out = source.ws.select_batch_n(0)
        expect(
            out.batch_size() == 0 and sorted(out.keys()) == keys,
            "WS-31",
            f"ws.select_batch_n(0) is not a workspace of batch size 0 with the variables "
            f"{keys}: keys {sorted(out.keys())}, batch_size() = {out.batch_size()}",
            source.repro(
                "out = ws.select_batch_n(0)", "print(sorted(out.keys()), out.batch_size())"
            ),
        )


# -- WS-32..WS-34: subtime, get_time_truncated(_workspace) ----------------------------------

RANGE_OPS: dict[str, Callable[[Any, int, int], Any]] = {
    "subtime": lambda ws, a, b: ws.subtime(a, b),
    "get_time_truncated_workspace": lambda ws, a, b: ws.get_time_truncated_workspace(a, b),
}


@clause("WS-32")
@given(
    time_size=st.integers(0, 5),
    batch=st.integers(0, 3),
    op=st.sampled_from(sorted(RANGE_OPS)),
    data=st.data(),
)
def test_time_ranges(impl: Any, time_size: int, batch: int, op: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, time_size), label="from")
    stop = data.draw(st.integers(start, time_size), label="to")
    built = build(impl, time_size, batch)
    code = f"out = ws.{op}({start}, {stop})"
    out = RANGE_OPS[op](built.ws, start, stop)
    expected = {name: value[start:stop] for name, value in built.model.items()}
    expect_contents(out, expected, "WS-32", code, built.repro(code))


@clause("WS-33", "ERR-5")
@given(op=st.sampled_from(sorted(RANGE_OPS)))
def test_time_range_errors(impl: Any, op: str) -> None:
    built = build(impl, 4, 2)
    call = RANGE_OPS[op]
    for exc, a, b in (
        (IndexError, -1, 2),
        (IndexError, -2, -1),
        (IndexError, 0, 5),
        (IndexError, 3, 9),
        (ValueError, 3, 2),
        (ValueError, 4, 0),
    ):
        expect_error_unchanged(
            exc, "WS-33", built, f"ws.{op}({a}, {b})", functools.partial(call, built.ws, a, b)
        )
    expect_contents(
        call(built.ws, 0, 4),
        built.model,
        "WS-33",
        f"ws.{op}(0, 4)",
        built.repro(f"out = ws.{op}(0, 4)"),
    )
    built.ws.set("obs", 4, torch.zeros(2, 2))
    expect_error_unchanged(
        ValueError,
        "WS-33",
        built,
        f"ws.set('obs', 4, torch.zeros(2, 2))\nws.{op}(0, 1)",
        functools.partial(call, built.ws, 0, 1),
    )


@clause("WS-34", "ERR-5")
@given(time_size=st.integers(1, 5), data=st.data())
def test_get_time_truncated(impl: Any, time_size: int, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, time_size), label="from")
    stop = data.draw(st.integers(start, time_size), label="to")
    built = build(impl, time_size, 2)
    for name in ("obs", "act"):
        code = f"ws.get_time_truncated({name!r}, {start}, {stop})"
        expect_equal_tensors(
            built.ws.get_time_truncated(name, start, stop),
            built.model[name][start:stop],
            "WS-34",
            code,
            built.repro(f"print({code})"),
        )
    for exc, a, b, name in (
        (IndexError, -1, 1, "obs"),
        (IndexError, 0, time_size + 1, "obs"),
        (ValueError, 1, 0, "obs"),
        (KeyError, 0, 1, "nope"),
    ):
        code = f"ws.get_time_truncated({name!r}, {a}, {b})"
        expect_error_unchanged(
            exc, "WS-34", built, code, functools.partial(built.ws.get_time_truncated, name, a, b)
        )


# -- WS-35, WS-36: select_subtime -----------------------------------------------------------


@clause("WS-35")
@given(time_size=st.integers(0, 5), batch=st.integers(0, 4), data=st.data())
def test_select_subtime_windows(impl: Any, time_size: int, batch: int, data: st.DataObject) -> None:
    window = data.draw(st.integers(0, time_size), label="window_size")
    starts = data.draw(
        st.lists(st.integers(0, time_size - window), min_size=batch, max_size=batch),
        label="t",
    )
    built = build(impl, time_size, batch)
    code = f"out = ws.select_subtime(torch.tensor({starts}, dtype=torch.int64), {window})"
    out = built.ws.select_subtime(torch.tensor(starts, dtype=torch.int64), window)
    rows = torch.tensor(starts, dtype=torch.int64)[None, :] + torch.arange(window)[:, None]
    expected = {name: value[rows, torch.arange(batch)] for name, value in built.model.items()}
    expect_contents(out, expected, "WS-35", code, built.repro(code))


@clause("WS-36", "ERR-5")
def test_select_subtime_errors(impl: Any) -> None:
    built = build(impl, 4, 3)
    ws = built.ws
    cases: list[tuple[type[BaseException], str, Any, int]] = [
        (IndexError, "torch.tensor([0, 3, 1])", torch.tensor([0, 3, 1]), 2),
        (IndexError, "torch.tensor([-1, 0, 0])", torch.tensor([-1, 0, 0]), 1),
        (IndexError, "torch.tensor([5, 0, 0])", torch.tensor([5, 0, 0]), 0),
        (ValueError, "torch.tensor([0, 0])", torch.tensor([0, 0]), 1),
        (ValueError, "torch.tensor([0, 0, 0, 0])", torch.tensor([0, 0, 0, 0]), 1),
        (ValueError, "torch.tensor([[0, 0, 0]])", torch.tensor([[0, 0, 0]]), 1),
        (ValueError, "torch.tensor([0, 0, 0])", torch.tensor([0, 0, 0]), -1),
        (TypeError, "torch.tensor([0.0, 0.0, 0.0])", torch.tensor([0.0, 0.0, 0.0]), 1),
        (TypeError, "[0, 0, 0]", [0, 0, 0], 1),
    ]
    for exc, code, starts, window in cases:
        expect_error_unchanged(
            exc,
            "WS-36",
            built,
            f"ws.select_subtime({code}, {window})",
            functools.partial(ws.select_subtime, starts, window),
        )
    ws.set("obs", 4, torch.zeros(3, 2))
    expect_error_unchanged(
        ValueError,
        "WS-36",
        built,
        "ws.set('obs', 4, torch.zeros(3, 2))\nws.select_subtime(torch.tensor([0, 0, 0]), 1)",
        functools.partial(ws.select_subtime, torch.tensor([0, 0, 0]), 1),
    )


# -- WS-37, WS-38: cat_batch ----------------------------------------------------------------


@clause("WS-37")
@given(time_size=st.integers(0, 3), batches=st.lists(st.integers(0, 3), min_size=1, max_size=3))
def test_cat_batch(impl: Any, time_size: int, batches: list[int]) -> None:
    parts = [
        build(impl, time_size, b, offset=100 * i, name=f"ws{i}") for i, b in enumerate(batches)
    ]
    members = f"[{', '.join(f'ws{i}' for i in range(len(parts)))}]"
    last = f"ws{len(parts) - 1}"
    repro = (
        HEADER
        + "".join(part.code for part in parts)
        + f"out = impl.Workspace.cat_batch({members})\n"
        + f"bound = {last}.cat_batch({members})\n"
    )
    expected = {
        name: torch.cat([part.model[name] for part in parts], dim=1) for name in parts[0].model
    }
    static = impl.Workspace.cat_batch([part.ws for part in parts])
    expect_contents(static, expected, "WS-37", f"impl.Workspace.cat_batch({members})", repro)
    bound = parts[-1].ws.cat_batch([part.ws for part in parts])
    expect_contents(bound, expected, "WS-37", f"{last}.cat_batch({members})", repro, "bound")
    expect(
        static.batch_size() == sum(batches),
        "WS-37",
        f"cat_batch of batch sizes {batches}: batch_size() = {static.batch_size()}",
        then(repro, "print(out.batch_size())"),
    )


#: A workspace `other` like `ws` but for one thing: (error, the change as code, the change).
CAT_MISMATCHES: dict[str, tuple[type[BaseException], str, Callable[[Any], None]]] = {
    "an extra variable": (
        KeyError,
        "other.set_full('more', torch.zeros(2, 2))",
        lambda ws: ws.set_full("more", torch.zeros(2, 2)),
    ),
    "a missing variable": (KeyError, "other.clear('act')", lambda ws: ws.clear("act")),
    "a longer time size": (
        ValueError,
        "other.set_full('act', torch.zeros(3, 2).long())",
        lambda ws: ws.set_full("act", torch.zeros(3, 2).long()),
    ),
    "another item shape": (
        ValueError,
        "other.set_full('obs', torch.zeros(2, 2, 3))",
        lambda ws: ws.set_full("obs", torch.zeros(2, 2, 3)),
    ),
    "another dtype": (
        TypeError,
        "other.set_full('act', torch.zeros(2, 2, dtype=torch.int32))",
        lambda ws: ws.set_full("act", torch.zeros(2, 2, dtype=torch.int32)),
    ),
}


@clause("WS-38", "ERR-5")
def test_cat_batch_errors(impl: Any) -> None:
    a = build(impl, 2, 2)
    for what, (exc, change_code, change) in CAT_MISMATCHES.items():
        for order in ("[ws, other]", "[other, ws]"):
            other = build(impl, 2, 2, name="other")
            change(other.ws)
            setup = other.code + change_code + "\n"
            members = [a.ws, other.ws] if order == "[ws, other]" else [other.ws, a.ws]
            before_other = observe(other.ws)
            code = f"ws.cat_batch({order})"
            # called on an instance (WS-37), so that an implementation whose cat_batch is not
            # a static method shows how it handles the mismatch
            expect_error_unchanged(
                exc,
                "WS-38",
                a,
                f"{code}  # other: ws with {what}",
                functools.partial(a.ws.cat_batch, members),
                setup,
            )
            expect_unchanged(
                other.ws,
                before_other,
                "ERR-5",
                f"{code} with {what} raised, but",
                raising(a.repro(setup + code), exc),
                "other",
            )
    for exc, code, arg in (
        (ValueError, "[]", []),
        (TypeError, "[ws, 'ws']", [a.ws, "ws"]),
        (TypeError, "[ws, {}]", [a.ws, {}]),
    ):
        expect_error_unchanged(
            exc, "WS-38", a, f"ws.cat_batch({code})", functools.partial(a.ws.cat_batch, arg)
        )


# -- WS-39: to(device) ----------------------------------------------------------------------


def _unusable_device() -> str:
    """A CUDA device this machine cannot use."""
    return "cuda" if not torch.cuda.is_available() else f"cuda:{torch.cuda.device_count()}"


@clause("WS-39")
def test_to_device(impl: Any) -> None:
    built = build(impl, 3, 2, grad=True)
    devices: list[tuple[str, str | torch.device]] = [
        ("'cpu'", "cpu"),
        ("torch.device('cpu')", torch.device("cpu")),
    ]
    if torch.cuda.is_available():  # the round trip through the accelerator
        devices += [("'cuda'", "cuda"), ("torch.device('cuda', 0)", torch.device("cuda", 0))]
    for code, device in devices:
        out = built.ws.to(device)
        repro = built.repro(f"out = ws.to({code})")
        for name, want in built.model.items():
            got = out.get_full(name)
            expect(
                got.device == torch.device(device),
                "WS-39",
                f"ws.to({code}): {name!r} is on {got.device}",
                then(repro, f"print(out.get_full({name!r}).device)"),
            )
            expect_equal_tensors(
                got.detach().cpu(),
                want,
                "WS-39",
                f"ws.to({code}): variable {name!r}",
                then(repro, f"print(out.get_full({name!r}))"),
            )
        expect(
            out.get_full("lp").requires_grad,
            "WS-39",
            f"ws.to({code}): 'lp' lost its autograd history",
            then(repro, "print(out.get_full('lp').requires_grad)"),
        )


@clause("WS-39", "ERR-5")
def test_to_device_errors(impl: Any) -> None:
    built = build(impl, 2, 2)
    unusable = _unusable_device()
    for exc, code, device in (
        (TypeError, "1.5", 1.5),
        (TypeError, "None", None),
        (TypeError, "['cpu']", ["cpu"]),
        (ValueError, "'no-such-device'", "no-such-device"),
        (ValueError, "'meta'", "meta"),
        (ValueError, repr(unusable), unusable),
    ):
        expect_error_unchanged(
            exc, "WS-39", built, f"ws.to({code})", functools.partial(built.ws.to, device)
        )


# -- WS-41..WS-43: copy_time, remove_variable -----------------------------------------------


def _copy_time_model(value: torch.Tensor, start: int, target: int, n: int) -> torch.Tensor:
    """Rows start..start+n-1 (read first) written at target..; growth zero-fills."""
    rows = [value[t].clone() for t in range(value.shape[0])]
    source = [rows[start + i].clone() for i in range(n)]
    for i, row in enumerate(source):
        while len(rows) <= target + i:
            rows.append(torch.zeros_like(row))
        rows[target + i] = row
    return torch.stack(rows)


@clause("WS-41")
@given(
    time_size=st.integers(1, 5),
    data=st.data(),
    selected=st.sampled_from([None, ["obs"], ["act", "done"]]),
)
def test_copy_time(
    impl: Any, time_size: int, data: st.DataObject, selected: list[str] | None
) -> None:
    n = data.draw(st.integers(0, time_size), label="n_steps")
    start = data.draw(st.integers(0, time_size - n), label="from_time")
    target = data.draw(st.integers(0, time_size + 2), label="to_time")
    built = build(impl, time_size, 2, grad=True)
    code = f"ws.copy_time({start}, {target}, {n}, {selected!r})"
    built.ws.copy_time(start, target, n, selected)
    names = list(built.model) if selected is None else selected
    expected = {
        name: _copy_time_model(value, start, target, n) if name in names else value
        for name, value in built.model.items()
    }
    expect_contents(built.ws, expected, "WS-41", code, built.repro(code), "ws")


@clause("WS-42", "ERR-5")
def test_copy_time_errors(impl: Any) -> None:
    built = build(impl, 4, 2)
    built.ws.set("obs", 4, torch.zeros(2, 2))  # obs has 5 rows, the others 4
    built.code += "ws.set('obs', 4, torch.zeros(2, 2))\n"
    built.model["obs"] = torch.cat([built.model["obs"], torch.zeros(1, 2, 2)])
    cases: list[tuple[type[BaseException], tuple[Any, ...]]] = [
        (ValueError, (0, 1, -1)),
        (IndexError, (-1, 0, 1)),
        (IndexError, (0, -1, 1)),
        (IndexError, (3, 0, 2)),  # act and done have 4 rows
        (IndexError, (4, 0, 1, ["act"])),
        (IndexError, (0, 2**31 - 1, 2)),
        (KeyError, (0, 1, 1, ["obs", "nope"])),
        (TypeError, (0, 1, 1, "obs")),
        (TypeError, (0, 1, 1, 5)),
    ]
    for exc, args in cases:
        code = f"ws.copy_time({', '.join(repr(a) for a in args)})"
        expect_error_unchanged(
            exc, "WS-42", built, code, functools.partial(built.ws.copy_time, *args)
        )
    built.ws.copy_time(3, 0, 2, ["obs"])  # obs has 5 rows: the same call is valid for it


@clause("WS-43", "ERR-5")
def test_remove_variable(impl: Any) -> None:
    built = build(impl, 2, 2)
    built.ws.remove_variable("obs")
    expected = {k: v for k, v in built.model.items() if k != "obs"}
    code = "ws.remove_variable('obs')"
    expect_contents(built.ws, expected, "WS-43", code, built.repro(code), "ws")
    expect_error_unchanged(
        KeyError,
        "WS-43",
        built,
        f"{code}  # twice",
        functools.partial(built.ws.remove_variable, "obs"),
        code + "\n",
    )


# -- TR-11, TR-12: get_transitions as bbrl spells it ----------------------------------------


@clause("TR-11")
@given(time_size=st.integers(1, 4), batch=st.integers(1, 3))
def test_no_final_state(impl: Any, time_size: int, batch: int) -> None:
    built = build(impl, time_size, batch)
    pairs = [(t, b) for t in range(time_size - 1) for b in range(batch)]
    expected = {
        name: torch.stack(
            [
                torch.stack([value[t, b] for t, b in pairs]) if pairs else value[:0, 0],
                torch.stack([value[t + 1, b] for t, b in pairs]) if pairs else value[:0, 0],
            ]
        )
        for name, value in built.model.items()
    }
    calls: list[tuple[str, Callable[[], Any]]] = [
        (
            "ws.get_transitions(no_final_state=True)",
            lambda: built.ws.get_transitions(no_final_state=True),
        ),
        (
            "ws.get_transitions(filter_key='missing', no_final_state=True)",
            lambda: built.ws.get_transitions(filter_key="missing", no_final_state=True),
        ),
        (
            "ws.get_transitions(filter_key='done', no_final_state=True)",
            lambda: built.ws.get_transitions(filter_key="done", no_final_state=True),
        ),
    ]
    for code, call in calls:
        expect_contents(call(), expected, "TR-11", code, built.repro(f"out = {code}"))
    # no_final_state=False leaves the filter in effect: done drops pairs
    kept = [(t, b) for t, b in pairs if not bool(built.model["done"][t, b])]
    code = "ws.get_transitions(filter_key='done', no_final_state=False)"
    out = built.ws.get_transitions(filter_key="done", no_final_state=False)
    expect(
        out.batch_size() == len(kept) or (not kept and out.batch_size() == 0),
        "TR-11",
        f"{code}: {out.batch_size()} pairs, expected {len(kept)} (the done filter applies)",
        built.repro(f"out = {code}", "print(out.batch_size())"),
    )


@clause("TR-11", "TR-12", "ERR-5")
def test_transition_argument_types(impl: Any) -> None:
    built = build(impl, 3, 2)
    for exc, clause_id, code, kwargs in (
        (TypeError, "TR-11", "no_final_state=1", {"no_final_state": 1}),
        (TypeError, "TR-11", "no_final_state='yes'", {"no_final_state": "yes"}),
        (TypeError, "TR-11", "no_final_state=None", {"no_final_state": None}),
        (TypeError, "TR-12", "filter_key=5", {"filter_key": 5}),
        (TypeError, "TR-12", "filter_key=['done']", {"filter_key": ["done"]}),
        (TypeError, "TR-12", "filter_key=True", {"filter_key": True}),
    ):
        expect_error_unchanged(
            exc,
            clause_id,
            built,
            f"ws.get_transitions({code})",
            functools.partial(built.ws.get_transitions, **kwargs),
        )


# ---------------------------------------------------------------------------------------------
# WS-21: item shapes with a side of size 0


def _zero_size_workspaces(impl: Any, item: tuple[int, ...]) -> tuple[Any, Any, str]:
    """A workspace of two ordinary variables (``o``, ``env/done``) and the same with a third,
    ``z``, of item shape ``item`` (a side of size 0), written row by row; and the source."""
    generator = torch.Generator().manual_seed(3)
    obs = torch.randn(4, 3, 2, generator=generator)
    done = torch.tensor([[False, False, True]] * 2 + [[True, False, False]] * 2)
    base, with_zero = impl.Workspace(), impl.Workspace()
    for ws in (base, with_zero):
        ws.set_full("o", obs)
        ws.set_full("env/done", done)
    for t in range(4):
        with_zero.set("z", t, torch.zeros(3, *item))
    source = (
        "import torch\ngenerator = torch.Generator().manual_seed(3)\n"
        "obs = torch.randn(4, 3, 2, generator=generator)\n"
        "done = torch.tensor([[False, False, True]] * 2 + [[True, False, False]] * 2)\n"
        "ws = impl.Workspace()\nws.set_full('o', obs)\nws.set_full('env/done', done)\n"
        f"for t in range(4):\n    ws.set('z', t, torch.zeros(3, *{item}))\n"
    )
    return base, with_zero, source


#: operation -> (its source, the call on an implementation and a workspace)
_ZERO_SIZE_OPS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "copy": ("impl.Workspace(ws)", lambda impl, ws: impl.Workspace(ws)),
    "get_transitions": ("ws.get_transitions()", lambda impl, ws: ws.get_transitions()),
    "select_batch": (
        "ws.select_batch(torch.tensor([2, 0]))",
        lambda impl, ws: ws.select_batch(torch.tensor([2, 0])),
    ),
    "subtime": ("ws.subtime(1, 3)", lambda impl, ws: ws.subtime(1, 3)),
    "cat_batch": (
        "impl.Workspace.cat_batch([ws, ws])",
        lambda impl, ws: impl.Workspace.cat_batch([ws, ws]),
    ),
    "copy_n_last_steps": (
        "(ws.copy_n_last_steps(2), ws)[1]",
        lambda impl, ws: (ws.copy_n_last_steps(2), ws)[1],
    ),
}


@clause("WS-21", "TR-1", "WS-28", "WS-30", "WS-37", "WS-15")
@pytest.mark.parametrize("operation", sorted(_ZERO_SIZE_OPS))
@pytest.mark.parametrize("item", [(0,), (2, 0), (0, 3)], ids=str)
def test_zero_size_items_are_variables_like_any_other(
    impl: Any, operation: str, item: tuple[int, ...]
) -> None:
    """A variable whose item shape has a side of size 0 goes through every operation with the
    shape any other variable gets, and its presence changes no other variable's result."""
    base, with_zero, source = _zero_size_workspaces(impl, item)
    code, run = _ZERO_SIZE_OPS[operation]
    repro = f"{source}out = {code}\nprint({{k: out[k].shape for k in out.keys()}})"
    want_other = run(impl, base)
    got = run(impl, with_zero)
    keys = list(got.keys())
    expect(
        sorted(keys) == ["env/done", "o", "z"],
        "WS-21",
        f"{code} with a variable z of item shape {item}: variables {sorted(keys)}",
        repro,
    )
    for name in ("o", "env/done"):
        expect_equal_tensors(
            got[name],
            want_other[name],
            "WS-21",
            f"{name} after {code}, with a variable z of item shape {item} beside it (without "
            "z, the same operation gives the expected tensor)",
            repro,
        )
    shape = tuple(want_other["o"].shape[:2])
    z = got["z"]
    expect(
        tuple(z.shape) == (*shape, *item) and z.dtype == torch.float32,
        "WS-21",
        f"z after {code}: shape {tuple(z.shape)}, dtype {z.dtype}; expected "
        f"{(*shape, *item)}, torch.float32 (the time and batch sizes of the other variables)",
        repro,
    )
