"""Conformance tests of spec/workspace.md (WS).

Expected contents come from `_models.WorkspaceModel` (a dict of per-time lists of rows). The
error contract of each call (message, nothing changed) is tested in test_errors.py; here the
tests check the exception type each WS clause names, and that a rejected call changed nothing.

The domains the clauses quantify over (see `_strategies` for how they are drawn):

- a value `v` of `set` (WS-2, WS-3, WS-5, WS-6, WS-8): a tensor `[B, *S]` of any of the ten
  `DTYPES`, `S` of rank 0..3, `B >= 1` (1 included), at any time index `t >= 0`, with any
  values of its dtype (bounds, int64 beyond 2**53, NaN, infinities, subnormals), with or
  without autograd history, contiguous or a view; written first or over an earlier row, into
  a fresh workspace or one already written, read, copied and cleared.
- a value of `set_full` (WS-4, WS-8, WS-11): the same, `[T, B, *S]` with `T >= 1`; it may
  change the variable's time size, dtype and item shape.
- the rejected sides (WS-4, WS-5): every batch size but the workspace's (smaller, larger, 1),
  every other dtype (narrower and wider, of every kind), item shapes of lower and higher rank
  and of smaller and larger sides; after each, nothing changed.
- `copy_n_last_steps(n, var_names)` (WS-15..WS-17): every `n` in `0..T` and just outside it
  (`-1`, `T + 1`), `var_names` None, empty, a subset, with repeated and unknown names.
- `clear` (WS-19): of one variable, of the last one, of all; afterwards the workspace takes a
  new batch size and a name takes a new dtype and item shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bbrl_conformance._assertions import (
    ConformanceFailure,
    expect,
    expect_equal_tensors,
    expect_raises,
    raising,
)
from bbrl_conformance._clauses import clause
from bbrl_conformance._models import WorkspaceModel, observe_workspace, same_contents
from bbrl_conformance._strategies import (
    DTYPES,
    batch_sizes,
    dtypes,
    full,
    make_values,
    other_dtypes,
    other_item_shapes,
    trailing_shapes,
)

IMPORTS = "import torch\nfrom bbrl_conformance._strategies import make_values, values_equal\n"


def _values(shape: tuple[int, ...], dtype: torch.dtype, seed: int, extremes: bool) -> str:
    """The `make_values` call that rebuilds a drawn tensor, for reproducers."""
    return f"make_values({shape}, {dtype}, seed={seed}, extremes={extremes})"


@clause("WS-1")
def test_new_workspace_is_empty(impl: Any) -> None:
    ws = impl.Workspace()
    repro = "ws = impl.Workspace()\nprint(list(ws.keys()), ws.time_size(), ws.batch_size())"
    expect(list(ws.keys()) == [], "WS-1", f"Workspace().keys() = {list(ws.keys())}", repro)
    expect(ws.time_size() == 0, "WS-1", f"Workspace().time_size() = {ws.time_size()!r}", repro)
    expect(ws.batch_size() == 0, "WS-1", f"Workspace().batch_size() = {ws.batch_size()!r}", repro)


@clause("WS-2")
@given(
    batch=batch_sizes(),
    trailing=trailing_shapes(),
    dtype=dtypes(),
    t=st.integers(0, 5),
    seed=st.integers(0, 2**16),
    extremes=st.booleans(),
    overwrite=st.booleans(),
)
def test_set_get_round_trip(
    impl: Any,
    batch: int,
    trailing: tuple[int, ...],
    dtype: torch.dtype,
    t: int,
    seed: int,
    extremes: bool,
    overwrite: bool,
) -> None:
    shape = (batch, *trailing)
    value = make_values(shape, dtype, seed, extremes)
    ws = impl.Workspace()
    lines = [f"{IMPORTS}ws = impl.Workspace()"]
    if overwrite:  # an earlier value at the same row, then the one read back
        ws.set("x", t, make_values(shape, dtype, seed + 1, extremes))
        lines.append(f"ws.set('x', {t}, {_values(shape, dtype, seed + 1, extremes)})")
    ws.set("x", t, value)
    code = _values(shape, dtype, seed, extremes)
    lines += [f"v = {code}", f"ws.set('x', {t}, v)"]
    check = f"assert values_equal(ws.get('x', {t}), v), (ws.get('x', {t}), v)"
    expect_equal_tensors(
        ws.get("x", t),
        value,
        "WS-2",
        f"ws.set('x', {t}, v) with v = {code}"
        f"{' over an earlier value' if overwrite else ''}; ws.get('x', {t}) should equal v",
        "\n".join([*lines, check]),
        nan_equal=True,
    )


@clause("WS-2")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_every_dtype_at_its_extremes(impl: Any, dtype: torch.dtype) -> None:
    """Each dtype's bounds, int64 beyond 2**53, NaN, +-inf, -0.0, subnormals: stored exactly,
    by `set` row by row and by `set_full`, for batch sizes 1 and 5 and item ranks 0 and 3."""
    for batch, trailing in ((1, ()), (5, ()), (1, (2, 3, 2)), (5, (3, 1, 2))):
        shape = (3, batch, *trailing)
        full = make_values(shape, dtype, seed=batch, extremes=True)
        code = _values(shape, dtype, batch, True)
        ws = impl.Workspace()
        for t in range(3):
            ws.set("rows", t, full[t])
        ws.set_full("full", full)
        setup = (
            f"{IMPORTS}v = {code}\nws = impl.Workspace()\n"
            "for t in range(3):\n    ws.set('rows', t, v[t])\nws.set_full('full', v)\n"
        )
        for t in range(3):
            expect_equal_tensors(
                ws.get("rows", t),
                full[t],
                "WS-2",
                f"ws.set('rows', {t}, v[{t}]) with v = {code}: get('rows', {t}) should be v[{t}]",
                setup + f"assert values_equal(ws.get('rows', {t}), v[{t}]), ws.get('rows', {t})",
                nan_equal=True,
            )
        for name, clause_id in (("rows", "WS-6"), ("full", "WS-11")):
            expect_equal_tensors(
                ws.get_full(name),
                full,
                clause_id,
                f"get_full({name!r}) of v = {code} written with "
                f"{'set row by row' if name == 'rows' else 'set_full'} should equal v",
                setup + f"assert values_equal(ws.get_full({name!r}), v), ws.get_full({name!r})",
                nan_equal=True,
            )


@clause("WS-2")
def test_set_accepts_views(impl: Any) -> None:
    """Rows that are views (transposed, strided, lazily negated) are stored by value."""
    base = torch.arange(12.0).reshape(3, 4)
    z = torch.tensor([1 + 2j, 3 - 4j, 5 + 6j])
    views = {
        "base.t()[1]": base.t()[1],  # strided: elements 4 apart
        "base[:, ::2].t()": base[:, ::2].t(),  # [2, 3], non-contiguous
        "z.conj().imag": z.conj().imag,  # negative bit set
    }
    for code, row in views.items():
        ws = impl.Workspace()
        for t in (0, 1):  # the first write of a variable, and a later one
            ws.set("x", t, row)
        got = ws.get("x", 1)
        setup = (
            "base = torch.arange(12.0).reshape(3, 4)\nz = torch.tensor([1 + 2j, 3 - 4j, 5 + 6j])"
        )
        expect_equal_tensors(
            got,
            row.clone(),
            "WS-2",
            f"ws.set('x', t, {code}) for t = 0, 1; ws.get('x', 1) should equal {code}",
            f"import torch\n{setup}\nws = impl.Workspace()\nws.set('x', 0, {code})\n"
            f"ws.set('x', 1, {code})\nprint(ws.get('x', 1), {code})",
        )


@clause("WS-3", "WS-11")
@given(
    first=st.integers(0, 3),
    gap=st.integers(1, 6),
    trailing=trailing_shapes(),
    dtype=dtypes(),
    shrink=st.booleans(),
)
def test_growth_zero_fills_the_gap(
    impl: Any, first: int, gap: int, trailing: tuple[int, ...], dtype: torch.dtype, shrink: bool
) -> None:
    """Rows 0..first, then (with `shrink`) `set_full` to one row, then a row `gap` beyond:
    growth from a fresh variable, and from one whose storage held more rows before."""
    shape = (2, *trailing)
    model = WorkspaceModel()
    ws = impl.Workspace()
    lines = [f"{IMPORTS}ws = impl.Workspace()"]
    for t in range(first + 1):
        value = make_values(shape, dtype, seed=t, extremes=True)
        ws.set("x", t, value)
        model.set("x", t, value)
        lines.append(f"ws.set('x', {t}, {_values(shape, dtype, t, True)})")
    if shrink:
        one = make_values((1, *shape), dtype, seed=50)
        ws.set_full("x", one)
        model.set_full("x", one)
        lines.append(f"ws.set_full('x', make_values({(1, *shape)}, {dtype}, seed=50))")
        expect_equal_tensors(  # the replacement itself first: growth starts from it
            ws.get_full("x"),
            one,
            "WS-11",
            f"rows 0..{first} written, then set_full('x', one row): get_full('x') must be that row",
            "\n".join([*lines, "print(ws.time_size(), ws.get_full('x'))  # one row"]),
        )
    start = 0 if shrink else first
    late = start + gap
    value = make_values(shape, dtype, seed=99)
    ws.set("x", late, value)
    model.set("x", late, value)
    lines.append(f"ws.set('x', {late}, make_values({shape}, {dtype}, seed=99))")
    repro = "\n".join(lines)
    written = f"rows 0..{first}{', set_full to 1 row' if shrink else ''}, then row {late}"
    expect(
        ws.time_size() == late + 1,
        "WS-3",
        f"after writing {written}: time_size() = {ws.time_size()}, expected {late + 1}",
        repro + f"\nassert ws.time_size() == {late + 1}, ws.time_size()",
    )
    expect_equal_tensors(
        ws.get_full("x"),
        model.get_full("x"),
        "WS-3",
        f"after writing {written}: rows {start + 1}..{late - 1} must be zeros and the others "
        "unchanged",
        repro + f"\nprint(ws.get_full('x'))  # rows {start + 1}..{late - 1} must be zeros",
        nan_equal=True,
    )


@clause("WS-4")
def test_batch_size_is_shared(impl: Any) -> None:
    ws = impl.Workspace()
    ws.set("x", 0, torch.zeros(3))
    repro = "import torch\nws = impl.Workspace()\nws.set('x', 0, torch.zeros(3))\n"
    expect_raises(
        ValueError,
        "WS-4",
        "ws.set('y', 0, torch.zeros(2)) on a workspace of batch size 3",
        lambda: ws.set("y", 0, torch.zeros(2)),
        repro + "ws.set('y', 0, torch.zeros(2))",
    )
    expect_raises(
        ValueError,
        "WS-4",
        "ws.set('x', 1, torch.zeros(4)) on a workspace of batch size 3",
        lambda: ws.set("x", 1, torch.zeros(4)),
        repro + "ws.set('x', 1, torch.zeros(4))",
    )
    expect_raises(
        ValueError,
        "WS-4",
        "ws.set_full('z', torch.zeros(5, 2)) on a workspace of batch size 3",
        lambda: ws.set_full("z", torch.zeros(5, 2)),
        repro + "ws.set_full('z', torch.zeros(5, 2))",
    )
    rejected = [
        "ws.set('y', 0, torch.zeros(2))",
        "ws.set('x', 1, torch.zeros(4))",
        "ws.set_full('z', torch.zeros(5, 2))",
    ]
    expect(
        ws.batch_size() == 3,
        "WS-4",
        f"after rejected writes of batch size 2, 4 and 2: batch_size() = {ws.batch_size()}",
        repro
        + "\n".join(raising(code, ValueError) for code in rejected)
        + "\nprint(ws.batch_size())",
    )


@clause("WS-4", "ERR-5")
@pytest.mark.parametrize("first", ["set", "set_full"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_batch_size_zero_is_fixed_like_any_other(impl: Any, first: str, dtype: torch.dtype) -> None:
    """WS-4 when the first value written has batch size 0 (every env filtered out): 0 is the
    workspace's batch size like any other, so later writes of batch size 1 and 2 raise
    ValueError and change nothing, and one of batch size 0 is accepted."""
    ws = impl.Workspace()
    if first == "set":
        ws.set("x", 0, torch.zeros((0, 2), dtype=dtype))
        ws.set("x", 1, torch.zeros((0, 2), dtype=dtype))
        setup = (
            f"ws.set('x', 0, torch.zeros((0, 2), dtype={dtype}))\n"
            f"ws.set('x', 1, torch.zeros((0, 2), dtype={dtype}))\n"
        )
    else:
        ws.set_full("x", torch.zeros((2, 0, 2), dtype=dtype))
        setup = f"ws.set_full('x', torch.zeros((2, 0, 2), dtype={dtype}))\n"
    repro = f"{IMPORTS}ws = impl.Workspace()\n{setup}"
    before = observe_workspace(ws)
    for other in (1, 2):
        for call, fn in (
            (
                f"ws.set('y', 0, torch.zeros({other}))",
                functools.partial(ws.set, "y", 0, torch.zeros(other)),
            ),
            (
                f"ws.set('x', 2, torch.zeros(({other}, 2), dtype={dtype}))",
                functools.partial(ws.set, "x", 2, torch.zeros((other, 2), dtype=dtype)),
            ),
            (
                f"ws.set_full('z', torch.zeros(2, {other}))",
                functools.partial(ws.set_full, "z", torch.zeros(2, other)),
            ),
        ):
            _rejected(ws, before, (2, 0), ValueError, "WS-4", call, fn, repro)
    accepted = "ws.set('y', 1, torch.zeros(0))\nws.set_full('z', torch.zeros(2, 0))"
    try:
        ws.set("y", 1, torch.zeros(0))
        ws.set_full("z", torch.zeros(2, 0))
        problem = None
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    expect(
        problem is None,
        "WS-4",
        f"writes of batch size 0 into a workspace of batch size 0 raised {problem}",
        repro + accepted,
    )


@clause("WS-5")
def test_item_shape_and_dtype_are_fixed(impl: Any) -> None:
    ws = impl.Workspace()
    ws.set("x", 0, torch.zeros(3, 2))
    repro = "import torch\nws = impl.Workspace()\nws.set('x', 0, torch.zeros(3, 2))\n"
    expect_raises(
        ValueError,
        "WS-5",
        "ws.set('x', 1, torch.zeros(3, 4)) on 'x' of item shape (2,)",
        lambda: ws.set("x", 1, torch.zeros(3, 4)),
        repro + "ws.set('x', 1, torch.zeros(3, 4))",
    )
    expect_raises(
        ValueError,
        "WS-5",
        "ws.set('x', 1, torch.zeros(3)) on 'x' of item shape (2,)",
        lambda: ws.set("x", 1, torch.zeros(3)),
        repro + "ws.set('x', 1, torch.zeros(3))",
    )
    rejected = [
        raising("ws.set('x', 1, torch.zeros(3, 4))", ValueError),
        raising("ws.set('x', 1, torch.zeros(3))", ValueError),
    ]
    for dtype in (torch.float64, torch.int64, torch.bool):
        code = f"ws.set('x', 1, torch.zeros((3, 2), dtype={dtype}))"
        expect_raises(
            TypeError,
            "WS-5",
            f"{code} on 'x' of dtype float32 (no silent cast)",
            functools.partial(ws.set, "x", 1, torch.zeros((3, 2), dtype=dtype)),
            repro + code,
        )
        rejected.append(raising(code, TypeError))
    expect(
        ws.time_size() == 1 and ws.get_full("x").dtype == torch.float32,
        "WS-5",
        "after rejected writes, 'x' should still be float32 with time size 1: got "
        f"{ws.get_full('x').dtype}, time size {ws.time_size()}",
        repro + "\n".join(rejected) + "\nprint(ws.get_full('x'))",
    )


def _rejected(
    ws: Any,
    before: dict[str, torch.Tensor],
    sizes: tuple[int, int],
    exc_type: type[BaseException],
    clause_id: str,
    call: str,
    fn: Any,
    repro: str,
) -> None:
    """`fn()` raises `exc_type` (`clause_id`) and leaves every variable and both sizes as they
    were (ERR-5)."""
    __tracebackhide__ = True
    expect_raises(exc_type, clause_id, call, fn, repro + call)
    after = observe_workspace(ws)
    got = (ws.time_size(), ws.batch_size())
    expect(
        same_contents(before, after) and got == sizes,
        "ERR-5",
        f"{call} raised but changed the workspace: (time_size, batch_size) {sizes} -> {got}, "
        f"variables before {before}, after {after}",
        raising(repro + call, exc_type)
        + "\nprint({k: ws.get_full(k) for k in ws.keys()}, ws.batch_size())",
    )


@clause("WS-4", "ERR-5")
@given(batch=st.integers(1, 6), trailing=trailing_shapes(max_dims=2), dtype=dtypes())
def test_every_other_batch_size_is_rejected(
    impl: Any, batch: int, trailing: tuple[int, ...], dtype: torch.dtype
) -> None:
    """Both sides of WS-4: every batch size but B (1, B - 1, B + 1, 2B) is rejected by `set` and
    `set_full`, of a new or an existing variable, at a row inside or beyond T; B is accepted."""
    ws = impl.Workspace()
    for t in range(2):
        ws.set("x", t, make_values((batch, *trailing), dtype, seed=t))
    repro = (
        f"{IMPORTS}ws = impl.Workspace()\nfor t in range(2):\n"
        f"    ws.set('x', t, make_values({(batch, *trailing)}, {dtype}, seed=t))\n"
    )
    before = observe_workspace(ws)
    for other in sorted({1, batch - 1, batch + 1, 2 * batch} - {0, batch}):
        row = (other, *trailing)
        calls = [
            (f"ws.set('x', 1, torch.zeros({row}, dtype={dtype}))", "x", 1),
            (f"ws.set('x', 4, torch.zeros({row}, dtype={dtype}))", "x", 4),
            (f"ws.set('y', 0, torch.zeros({row}, dtype={dtype}))", "y", 0),
        ]
        for call, name, t in calls:
            value = torch.zeros(row, dtype=dtype)
            _rejected(
                ws,
                before,
                (2, batch),
                ValueError,
                "WS-4",
                f"{call}  # batch size {other} into a workspace of batch size {batch}",
                functools.partial(ws.set, name, t, value),
                repro,
            )
        for name in ("x", "y"):
            full = torch.zeros((2, *row), dtype=dtype)
            _rejected(
                ws,
                before,
                (2, batch),
                ValueError,
                "WS-4",
                f"ws.set_full({name!r}, torch.zeros({(2, *row)}, dtype={dtype}))",
                functools.partial(ws.set_full, name, full),
                repro,
            )
    accepted = "ws.set('y', 1, torch.ones((B, 3)))"
    try:
        ws.set("y", 1, torch.ones((batch, 3)))
        ws.set_full("z", torch.ones((3, batch), dtype=torch.int8))
        problem = None
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    expect(
        problem is None,
        "WS-4",
        f"{accepted} and a set_full of batch size B = {batch} (the workspace's) raised {problem}",
        repro + accepted.replace("B", str(batch)),
    )


@clause("WS-5", "ERR-5")
@given(batch=st.integers(1, 4), trailing=trailing_shapes(max_dims=2), dtype=dtypes())
def test_every_other_dtype_and_item_shape_is_rejected(
    impl: Any, batch: int, trailing: tuple[int, ...], dtype: torch.dtype
) -> None:
    """Both sides of WS-5: every other dtype (narrower and wider, of every kind) raises
    TypeError and every other item shape (lower and higher rank, smaller and larger sides)
    raises ValueError, at a row inside T and beyond it; nothing is cast or changed."""
    ws = impl.Workspace()
    for t in range(2):
        ws.set("x", t, make_values((batch, *trailing), dtype, seed=t, extremes=True))
    repro = (
        f"{IMPORTS}ws = impl.Workspace()\nfor t in range(2):\n"
        f"    ws.set('x', t, make_values({(batch, *trailing)}, {dtype}, seed=t, extremes=True))\n"
    )
    before = observe_workspace(ws)
    for t in (1, 3):
        for other in other_dtypes(dtype):
            value = make_values((batch, *trailing), other, seed=7)
            _rejected(
                ws,
                before,
                (2, batch),
                TypeError,
                "WS-5",
                f"ws.set('x', {t}, make_values({(batch, *trailing)}, {other}, seed=7))"
                f"  # 'x' is {dtype}",
                functools.partial(ws.set, "x", t, value),
                repro,
            )
        for shape in other_item_shapes(trailing):
            row = (batch, *shape)
            _rejected(
                ws,
                before,
                (2, batch),
                ValueError,
                "WS-5",
                f"ws.set('x', {t}, torch.zeros({row}, dtype={dtype}))  # 'x' has item shape "
                f"{trailing}",
                functools.partial(ws.set, "x", t, torch.zeros(row, dtype=dtype)),
                repro,
            )


@clause("WS-6")
@given(
    steps=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 2**16)), min_size=1, max_size=12),
)
def test_get_full_never_stale(impl: Any, steps: list[tuple[int, int]]) -> None:
    ws = impl.Workspace()
    model = WorkspaceModel()
    lines = [f"{IMPORTS}ws = impl.Workspace()"]
    for i, (t, seed) in enumerate(steps):
        value = make_values((3, 2), torch.float32, seed)
        ws.set("x", t, value)
        model.set("x", t, value)
        lines.append(f"ws.set('x', {t}, make_values((3, 2), torch.float32, seed={seed}))")
        lines.append("full = ws.get_full('x')")
        repro = "\n".join(lines) + "\nprint(full, ws['x'])"
        expect_equal_tensors(
            ws.get_full("x"),
            model.get_full("x"),
            "WS-6",
            f"get_full('x') after the writes {steps[: i + 1]} (t, seed)",
            repro,
        )
        expect_equal_tensors(
            ws["x"],
            model.get_full("x"),
            "WS-6",
            f"ws['x'] after the writes {steps[: i + 1]} (t, seed)",
            repro,
        )


@clause("WS-8")
def test_set_and_set_full_copy(impl: Any) -> None:
    ws = impl.Workspace()
    row = torch.tensor([1.0, 2.0])
    full = torch.tensor([[5, 6], [7, 8]])
    ws.set("x", 0, row)
    ws.set_full("y", full)
    row[0] = -1.0
    full[1, 1] = -1
    repro = (
        "import torch\nws = impl.Workspace()\nrow = torch.tensor([1.0, 2.0])\n"
        "full = torch.tensor([[5, 6], [7, 8]])\nws.set('x', 0, row)\nws.set_full('y', full)\n"
        "row[0] = -1.0\nfull[1, 1] = -1\nprint(ws.get('x', 0), ws.get_full('y'))"
    )
    expect_equal_tensors(
        ws.get("x", 0),
        torch.tensor([1.0, 2.0]),
        "WS-8",
        "ws.set('x', 0, row) then row[0] = -1: the workspace must keep the written value",
        repro,
    )
    expect_equal_tensors(
        ws.get_full("y"),
        torch.tensor([[5, 6], [7, 8]]),
        "WS-8",
        "ws.set_full('y', full) then full[1, 1] = -1: the workspace must keep the written value",
        repro,
    )


# -- WS-8 through every way a source can change ----------------------------------------------

#: how the caller's tensor `v` ([3, 2, 2] float32) is written; `passed` lists what it passed
_WRITES: dict[str, str] = {
    "set rows": "for t in range(3):\n    ws.set('x', t, v[t])\npassed = [v]",
    "set rows with grad": "w = v.clone().requires_grad_()\nrows = [w[t] * 1 for t in range(3)]\n"
    "for t in range(3):\n    ws.set('x', t, rows[t])\npassed = rows",
    "set_full": "ws.set_full('x', v)\npassed = [v]",
    "set_full with grad": "w = v.clone().requires_grad_() * 1\nws.set_full('x', w)\npassed = [w]",
}
#: how the caller changes a tensor it passed (`src`), afterwards
_CHANGES: dict[str, str] = {
    "index assignment": "src[0] = -7",
    "in-place op": "src.mul_(-3).add_(1)",
    "copy_": "src.copy_(torch.full_like(src, -5))",
    "out=": "torch.neg(src, out=src)",
    "fill_ on a view": "src.view(-1)[:2].fill_(-9)",
}


def _write(ws: Any, how: str, v: torch.Tensor) -> list[torch.Tensor]:
    """Write `v` into 'x' as `_WRITES[how]` says; returns `passed`."""
    if how == "set rows":
        for t in range(3):
            ws.set("x", t, v[t])
        return [v]
    if how == "set rows with grad":
        w = v.clone().requires_grad_()
        rows = [w[t] * 1 for t in range(3)]
        for t in range(3):
            ws.set("x", t, rows[t])
        return rows
    if how == "set_full":
        ws.set_full("x", v)
        return [v]
    w = v.clone().requires_grad_() * 1
    ws.set_full("x", w)
    return [w]


def _change(how: str, src: torch.Tensor) -> None:
    """`_CHANGES[how]` applied to `src`."""
    with torch.no_grad():
        if how == "index assignment":
            src[0] = -7
        elif how == "in-place op":
            src.mul_(-3).add_(1)
        elif how == "copy_":
            src.copy_(torch.full_like(src, -5))
        elif how == "out=":
            torch.neg(src, out=src)
        else:
            src.view(-1)[:2].fill_(-9)


@clause("WS-8")
def test_copies_survive_every_change_of_the_source(impl: Any) -> None:
    """`set` and `set_full` store copies, with and without autograd history: no in-place change
    of the caller's tensor, by any route, reaches the workspace."""
    for write in _WRITES:
        for change in _CHANGES:
            ws = impl.Workspace()
            for src in _write(ws, write, torch.arange(12.0).reshape(3, 2, 2)):
                _change(change, src)
            code = (
                "import torch\nv = torch.arange(12.0).reshape(3, 2, 2)\nws = impl.Workspace()\n"
                f"{_WRITES[write]}\nwith torch.no_grad():\n    for src in passed:\n"
                f"        {_CHANGES[change]}\n"
                "assert torch.equal(ws.get_full('x').detach(), torch.arange(12.0).reshape(3, 2, 2)"
                "), ws.get_full('x')"
            )
            expect_equal_tensors(
                ws.get_full("x").detach(),
                torch.arange(12.0).reshape(3, 2, 2),
                "WS-8",
                f"'x' written by {write}, then the caller's tensor changed by {change} "
                f"({_CHANGES[change]}): the workspace must keep the values written",
                code,
            )


_REWRITE = (
    "ws.set('x', 0, torch.full((2, 2), -1.0))\nws.copy_n_last_steps(2)\nws.zero_grad()\n"
    "ws.set_full('x', torch.full((3, 2, 2), -2.0))\nws.set('x', 1, torch.full((2, 2), -3.0))\n"
    "ws.clear()"
)


@clause("WS-8")
def test_writes_to_the_workspace_do_not_reach_the_caller(impl: Any) -> None:
    """The other direction: tensors given to two workspaces, then the first rewritten by `set`,
    `copy_n_last_steps`, `zero_grad`, `set_full` and `clear`: the caller's tensors and the
    second workspace keep their values."""
    want = torch.arange(12.0).reshape(3, 2, 2)
    for write in _WRITES:
        first, second = impl.Workspace(), impl.Workspace()
        passed = _write(first, write, want.clone())
        for t, src in enumerate(passed):  # the same tensors, into the second workspace
            if src.dim() == 3:
                second.set_full("x", src)
            else:
                second.set("x", t, src)
        kept = [src.detach().clone() for src in passed]
        first.set("x", 0, torch.full((2, 2), -1.0))
        first.copy_n_last_steps(2)
        first.zero_grad()
        first.set_full("x", torch.full((3, 2, 2), -2.0))
        first.set("x", 1, torch.full((2, 2), -3.0))
        first.clear()
        code = (
            "import torch\nv = torch.arange(12.0).reshape(3, 2, 2)\nws = impl.Workspace()\n"
            f"{_WRITES[write]}\nother = impl.Workspace()\nfor t, src in enumerate(passed):\n"
            "    other.set_full('x', src) if src.dim() == 3 else other.set('x', t, src)\n"
            f"kept = [src.detach().clone() for src in passed]\n{_REWRITE}\n"
        )
        for src, before in zip(passed, kept, strict=True):
            expect_equal_tensors(
                src.detach(),
                before,
                "WS-8",
                f"a tensor passed to {write} changed when the workspace was written afterwards",
                code + "assert all(torch.equal(s.detach(), k) for s, k in zip(passed, kept))",
            )
        expect_equal_tensors(
            second.get_full("x").detach(),
            want,
            "WS-8",
            f"a second workspace given the same tensors ({write}) changed when the first was "
            "written",
            code + "assert torch.equal(other.get_full('x').detach(), v), other.get_full('x')",
        )


def _a2c_log_probs(
    policy: torch.nn.Module, obs: torch.Tensor, actions: torch.Tensor
) -> list[torch.Tensor]:
    """log pi(a_t | s_t) for every step: a list of `[B]` tensors with autograd history."""
    return [
        torch.log_softmax(policy(obs[t]), dim=-1).gather(1, actions[t].unsqueeze(1)).squeeze(1)
        for t in range(obs.shape[0])
    ]


A2C_REPRO = """import torch
torch.manual_seed(0)
policy = torch.nn.Linear(4, 2)
obs, actions, adv = torch.randn(100, 8, 4), torch.randint(0, 2, (100, 8)), torch.randn(100, 8)
ws = impl.Workspace()
for t in range(100):
    logp = torch.log_softmax(policy(obs[t]), -1).gather(1, actions[t].unsqueeze(1)).squeeze(1)
    ws.set('logp', t, logp)
(-(ws.get_full('logp') * adv).mean()).backward()
print([p.grad for p in policy.parameters()])"""


@clause("WS-9")
def test_autograd_through_values_written_at_each_step(impl: Any) -> None:
    steps, batch = 100, 8
    torch.manual_seed(0)
    policy = torch.nn.Linear(4, 2)
    obs = torch.randn(steps, batch, 4)
    actions = torch.randint(0, 2, (steps, batch))
    adv = torch.randn(steps, batch)

    # direct computation, no workspace
    direct = torch.stack(_a2c_log_probs(policy, obs, actions))
    torch.autograd.backward((direct * adv).mean().neg())
    expected = [p.grad.clone() for p in policy.parameters() if p.grad is not None]
    policy.zero_grad()

    for read in ("get_full", "getitem", "get"):
        ws = impl.Workspace()
        for t, logp in enumerate(_a2c_log_probs(policy, obs, actions)):
            ws.set("logp", t, logp)
        if read == "get_full":
            full = ws.get_full("logp")
        elif read == "getitem":
            full = ws["logp"]
        else:
            full = torch.stack([ws.get("logp", t) for t in range(steps)])
        try:
            (full * adv).mean().neg().backward()
            problem = None
        except RuntimeError as exc:
            problem = f"backward() raised {type(exc).__name__}: {exc}"
        expect(
            problem is None,
            "WS-9",
            f"A2C pattern over {steps} steps (set a log-prob at each t, read with {read}, "
            f"backward): {problem}",
            A2C_REPRO,
        )
        got = [p.grad for p in policy.parameters()]
        expect(
            all(g is not None and bool(g.abs().sum() > 0) for g in got),
            "WS-9",
            f"A2C pattern read with {read}: some parameter got no (or a zero) gradient: {got}",
            A2C_REPRO,
        )
        expect(
            all(
                g is not None and torch.allclose(g, e, rtol=1e-5, atol=1e-7)
                for g, e in zip(got, expected, strict=True)
            ),
            "WS-9",
            f"A2C pattern read with {read}: gradients {got} differ from the direct "
            f"computation {expected}",
            A2C_REPRO,
        )
        policy.zero_grad()


@clause("WS-10")
def test_set_after_read_keeps_backward_valid(impl: Any) -> None:
    weight = torch.ones(3, requires_grad=True)
    ws = impl.Workspace()
    ws.set("v", 0, weight * 1.0)
    ws.set("v", 1, weight * 2.0)
    full = ws.get_full("v")
    row = ws.get("v", 1)
    # writes after the reads: overwrite a row that was read, then grow well past it
    ws.set("v", 0, weight * 10.0)
    ws.set("v", 1, weight * 20.0)
    for t in range(2, 40):
        ws.set("v", t, weight * float(t))
    repro = (
        "import torch\nweight = torch.ones(3, requires_grad=True)\nws = impl.Workspace()\n"
        "ws.set('v', 0, weight * 1.0)\nws.set('v', 1, weight * 2.0)\n"
        "full = ws.get_full('v')\nrow = ws.get('v', 1)\n"
        "ws.set('v', 0, weight * 10.0)\nws.set('v', 1, weight * 20.0)\n"
        "for t in range(2, 40):\n    ws.set('v', t, weight * float(t))\n"
        "(full.sum() + row.sum()).backward()\nprint(weight.grad)"
    )
    try:
        (full.sum() + row.sum()).backward()
        problem = None
    except RuntimeError as exc:
        problem = f"backward() raised {type(exc).__name__}: {exc}"
    expect(
        problem is None,
        "WS-10",
        f"backward through get_full/get results read before later set() calls: {problem}",
        repro,
    )
    # d/dw of sum(1*w) + sum(2*w) + sum(2*w) = 5 per element
    expect_equal_tensors(
        weight.grad,
        torch.full((3,), 5.0),
        "WS-10",
        "(full.sum() + row.sum()).backward() with full = [w, 2w] and row = 2w read before "
        "the later writes: weight.grad should be 5 everywhere",
        repro,
    )


_FLOAT_DTYPES = [d for d in DTYPES if d.is_floating_point]


@clause("WS-10")
@pytest.mark.parametrize("read", ["get", "get_full", "getitem", "get_time_truncated"])
@pytest.mark.parametrize("dtype", _FLOAT_DTYPES, ids=str)
def test_set_after_read_keeps_backward_valid_without_history(
    impl: Any, read: str, dtype: torch.dtype
) -> None:
    """WS-10 for values written without autograd history (observations), read and then used
    with a parameter: `backward()` needs the tensor read, so the `set` calls after the read (at
    every row read, then growing the variable) must neither make it fail nor change the
    gradient, which is the sum of the values read."""
    values = (torch.arange(12.0).reshape(4, 3) + 1).to(dtype)
    ws = impl.Workspace()
    for t in range(4):
        ws.set("x", t, values[t])
    weight = torch.ones(3, dtype=dtype, requires_grad=True)
    reads: dict[str, tuple[str, Callable[[], torch.Tensor], torch.Tensor]] = {
        "get": ("ws.get('x', 1)", lambda: ws.get("x", 1), values[1]),
        "get_full": ("ws.get_full('x')", lambda: ws.get_full("x"), values.sum(0)),
        "getitem": ("ws['x']", lambda: ws["x"], values.sum(0)),
        "get_time_truncated": (
            "ws.get_time_truncated('x', 1, 3)",
            lambda: ws.get_time_truncated("x", 1, 3),
            values[1:3].sum(0),
        ),
    }
    code, call, want = reads[read]
    loss = (call() * weight).sum()
    for t in range(4):
        ws.set("x", t, torch.full((3,), -1.0, dtype=dtype))
    for t in range(4, 40):
        ws.set("x", t, torch.full((3,), float(t), dtype=dtype))
    repro = (
        f"import torch\nvalues = (torch.arange(12.0).reshape(4, 3) + 1).to({dtype})\n"
        "ws = impl.Workspace()\nfor t in range(4):\n    ws.set('x', t, values[t])\n"
        f"weight = torch.ones(3, dtype={dtype}, requires_grad=True)\n"
        f"loss = ({code} * weight).sum()\n"
        f"for t in range(4):\n    ws.set('x', t, torch.full((3,), -1.0, dtype={dtype}))\n"
        f"for t in range(4, 40):\n    ws.set('x', t, torch.full((3,), float(t), dtype={dtype}))\n"
        "loss.backward()\nprint(weight.grad)"
    )
    try:
        torch.autograd.backward(loss)
        problem = None
    except RuntimeError as exc:
        problem = f"backward() raised {type(exc).__name__}: {exc}"
    expect(
        problem is None,
        "WS-10",
        f"backward through {code}, read before later set() calls: {problem}",
        repro,
    )
    expect_equal_tensors(
        weight.grad,
        want,
        "WS-10",
        f"(({code}) * weight).sum().backward() after later set() calls: weight.grad should be "
        "the sum of the values read, as they were when read",
        repro,
    )


@clause("WS-11")
@given(
    old_t=st.integers(1, 8),
    new_t=st.integers(1, 8),
    via_set=st.booleans(),
)
def test_set_full_replaces_whole_variable(impl: Any, old_t: int, new_t: int, via_set: bool) -> None:
    ws = impl.Workspace()
    old = torch.arange(old_t * 2).reshape(old_t, 2)
    if via_set:
        for t in range(old_t):
            ws.set("x", t, old[t])
    else:
        ws.set_full("x", old)
    new = 100 + torch.arange(new_t * 2).reshape(new_t, 2)
    ws.set_full("x", new)
    writes = (
        f"for t in range({old_t}):\n    ws.set('x', t, old[t])"
        if via_set
        else "ws.set_full('x', old)"
    )
    repro = (
        "import torch\nws = impl.Workspace()\n"
        f"old = torch.arange({old_t * 2}).reshape({old_t}, 2)\n"
        f"{writes}\nws.set_full('x', 100 + torch.arange({new_t * 2}).reshape({new_t}, 2))\n"
        "print(ws.time_size(), ws.get_full('x'))"
    )
    expect_equal_tensors(
        ws.get_full("x"),
        new,
        "WS-11",
        f"'x' of time size {old_t} written with {'set' if via_set else 'set_full'}, then "
        f"set_full('x', value of time size {new_t}): get_full must equal the new value",
        repro,
    )
    expect(
        ws.time_size() == new_t,
        "WS-11",
        f"after set_full of time size {new_t} over {old_t}: time_size() = {ws.time_size()}",
        repro,
    )


@clause("WS-12", "WS-19")
def test_keys_variables_contains_and_clear(impl: Any) -> None:
    ws = impl.Workspace()
    ws.set("a", 0, torch.zeros(2))
    ws.set("env/b", 1, torch.zeros(2))
    ws.set_full("c", torch.zeros(3, 2))
    repro = (
        "import torch\nws = impl.Workspace()\nws.set('a', 0, torch.zeros(2))\n"
        "ws.set('env/b', 1, torch.zeros(2))\nws.set_full('c', torch.zeros(3, 2))\n"
    )

    def check(expected: set[str], step: str) -> None:
        __tracebackhide__ = True
        code = repro + step + "\nprint(list(ws.keys()), list(ws.variables.keys()))"
        keys = set(ws.keys())
        expect(keys == expected, "WS-12", f"{step or 'writes'}: keys() = {keys}", code)
        variables = set(ws.variables.keys())
        expect(
            variables == expected,
            "WS-12",
            f"{step or 'writes'}: variables.keys() = {variables}, expected {expected}",
            code,
        )
        for name in ("a", "env/b", "c", "zz"):
            try:
                contained: object = name in ws
            except Exception as exc:  # e.g. no __contains__: iteration by index fails
                contained = f"an error ({type(exc).__name__}: {exc})"
            expect(
                contained is (name in expected),
                "WS-12",
                f"{step or 'writes'}: {name!r} in ws gave {contained}, expected {name in expected}",
                code,
            )

    check({"a", "env/b", "c"}, "")
    ws.clear("env/b")
    check({"a", "c"}, "ws.clear('env/b')")
    ws.clear()
    check(set(), "ws.clear('env/b')\nws.clear()")
    expect(
        ws.time_size() == 0 and ws.batch_size() == 0,
        "WS-19",
        f"after clear(): time_size() = {ws.time_size()}, batch_size() = {ws.batch_size()}, "
        "expected 0 and 0 (empty as in WS-1)",
        repro + "ws.clear()\nprint(ws.time_size(), ws.batch_size())",
    )


@clause("WS-19", "WS-4", "WS-1")
@given(
    old_batch=st.integers(1, 4),
    new_batch=st.integers(1, 4),
    old_dtype=dtypes(),
    new_dtype=dtypes(),
    new_trailing=trailing_shapes(max_dims=2),
)
def test_cleared_workspace_starts_afresh(
    impl: Any,
    old_batch: int,
    new_batch: int,
    old_dtype: torch.dtype,
    new_dtype: torch.dtype,
    new_trailing: tuple[int, ...],
) -> None:
    """After `clear()`, and after `clear(name)` of the last variable, the workspace takes any
    batch size (WS-19: empty as in WS-1; WS-4 binds B only while a variable exists); after
    `clear(name)`, the name takes any dtype and item shape (it is a first write again)."""
    setup = (
        f"{IMPORTS}ws = impl.Workspace()\n"
        f"ws.set('x', 0, make_values({(old_batch, 2)}, {old_dtype}, seed=1))\n"
        f"ws.set('y', 2, make_values({(old_batch,)}, {old_dtype}, seed=2))\n"
    )
    new_row = make_values((new_batch, *new_trailing), new_dtype, seed=3, extremes=True)
    new_code = _values((new_batch, *new_trailing), new_dtype, 3, True)
    for how, clause_id in (("ws.clear()", "WS-19"), ("ws.clear('x')\nws.clear('y')", "WS-4")):
        ws = impl.Workspace()
        ws.set("x", 0, make_values((old_batch, 2), old_dtype, seed=1))
        ws.set("y", 2, make_values((old_batch,), old_dtype, seed=2))
        if how == "ws.clear()":
            ws.clear()
        else:
            ws.clear("x")
            ws.clear("y")
        repro = f"{setup}{how}\n"
        sizes = (ws.time_size(), ws.batch_size(), sorted(ws.keys()))
        expect(
            sizes == (0, 0, []),
            "WS-19",
            f"after {how!r}: (time_size(), batch_size(), keys()) = {sizes}, expected (0, 0, [])",
            repro + "assert (ws.time_size(), ws.batch_size(), list(ws.keys())) == (0, 0, [])",
        )
        call = f"ws.set('x', 1, v)  # v = {new_code}"
        try:
            ws.set("x", 1, new_row)
            problem = None
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        expect(
            problem is None,
            clause_id,
            f"after {how!r} (batch size {old_batch}, 'x' {old_dtype} of item shape (2,)), "
            f"{call} raised {problem}: the emptied workspace must take a new batch size, dtype "
            "and item shape",
            repro + f"v = {new_code}\nws.set('x', 1, v)",
        )
        expect_equal_tensors(
            ws.get("x", 1),
            new_row,
            "WS-2",
            f"after {how!r}, {call}: get('x', 1) should be v",
            repro + f"v = {new_code}\nws.set('x', 1, v)\n"
            "assert values_equal(ws.get('x', 1), v), ws.get('x', 1)",
            nan_equal=True,
        )
        expect(
            (ws.time_size(), ws.batch_size()) == (2, new_batch),
            "WS-13",
            f"after {how!r} and {call}: (time_size(), batch_size()) = "
            f"{(ws.time_size(), ws.batch_size())}, expected {(2, new_batch)}",
            repro + f"ws.set('x', 1, {new_code})\nprint(ws.time_size(), ws.batch_size())",
        )
    # clear(name) with other variables left: the name is free, the batch size stays
    ws = impl.Workspace()
    ws.set("x", 0, make_values((old_batch, 2), old_dtype, seed=1))
    ws.set("y", 2, make_values((old_batch,), old_dtype, seed=2))
    ws.clear("x")
    row = make_values((old_batch, *new_trailing), new_dtype, seed=4)
    code = f"make_values({(old_batch, *new_trailing)}, {new_dtype}, seed=4)"
    repro = f"{setup}ws.clear('x')\nws.set('x', 0, {code})"
    try:
        ws.set("x", 0, row)
        problem = None
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    expect(
        problem is None,
        "WS-19",
        f"clear('x') of 'x' ({old_dtype}, item shape (2,)), then set('x', 0, {code}) raised "
        f"{problem}: a cleared variable is removed, so this is its first write",
        repro,
    )
    expect_equal_tensors(
        ws.get_full("x"),
        row.unsqueeze(0),
        "WS-19",
        f"clear('x'), then set('x', 0, {code}): get_full('x') should be that one row",
        repro + "\nprint(ws.get_full('x'))",
    )


@clause("WS-13")
def test_time_size_and_batch_size(impl: Any) -> None:
    ws = impl.Workspace()
    ws.set("a", 3, torch.zeros(5, 2))
    ws.set_full("b", torch.zeros(4, 5))
    repro = (
        "import torch\nws = impl.Workspace()\nws.set('a', 3, torch.zeros(5, 2))\n"
        "ws.set_full('b', torch.zeros(4, 5))\n"
    )
    expect(
        ws.time_size() == 4 and ws.batch_size() == 5,
        "WS-13",
        f"two variables of T=4, B=5: time_size() = {ws.time_size()}, "
        f"batch_size() = {ws.batch_size()}",
        repro + "print(ws.time_size(), ws.batch_size())",
    )
    ws.set("a", 6, torch.zeros(5, 2))
    expect_raises(
        ValueError,
        "WS-13",
        "time_size() with 'a' of T=7 and 'b' of T=4",
        ws.time_size,
        repro + "ws.set('a', 6, torch.zeros(5, 2))\nws.time_size()",
    )


@clause("WS-14")
def test_zero_grad_detaches_and_keeps_values(impl: Any) -> None:
    weight = torch.tensor([1.0, 2.0], requires_grad=True)
    ws = impl.Workspace()
    for t in range(3):
        ws.set("v", t, weight * (t + 1))
    ws.set_full("w", torch.stack([weight, weight]) * 3)
    ws.set("plain", 0, torch.tensor([7, 8]))
    ws.zero_grad()
    repro = (
        "import torch\nweight = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "ws = impl.Workspace()\nfor t in range(3):\n    ws.set('v', t, weight * (t + 1))\n"
        "ws.set_full('w', torch.stack([weight, weight]) * 3)\nws.zero_grad()\n"
        "print(ws.get_full('v'), ws.get_full('w'))"
    )
    expected = {
        "v": torch.tensor([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]),
        "w": torch.tensor([[3.0, 6.0], [3.0, 6.0]]),
        "plain": torch.tensor([[7, 8]]),
    }
    for name, want in expected.items():
        for how, got in (("get_full", ws.get_full(name)), ("get", ws.get(name, 0))):
            expect(
                not got.requires_grad and got.grad_fn is None,
                "WS-14",
                f"after zero_grad(), {how}({name!r}) has requires_grad={got.requires_grad}, "
                f"grad_fn={got.grad_fn}",
                repro,
            )
        expect_equal_tensors(
            ws.get_full(name), want, "WS-14", f"zero_grad() changed the values of {name!r}", repro
        )


#: how the copy tests write their variables before copying: as agents do (row by row), row by
#: row and then read (storage shared with a returned tensor), with autograd history, set_full
_COPY_WRITES = ("rows", "rows, then get_full", "rows with grad", "set_full")


@st.composite
def _copy_cases(draw: st.DrawFn) -> tuple[int, dict[str, torch.Tensor], dict[str, str], str]:
    time_size = draw(st.integers(1, 8), label="T")
    batch = draw(st.integers(1, 3), label="B")
    names = draw(
        st.lists(st.sampled_from(["a", "b", "env/c"]), min_size=1, max_size=3, unique=True)
    )
    values, sources = {}, {}
    for name in names:
        shape = (time_size, batch, *draw(trailing_shapes(max_dims=2, max_side=2), label=name))
        dtype = draw(dtypes(), label=f"{name} dtype")
        seed = draw(st.integers(0, 2**16), label=f"{name} seed")
        extremes = draw(st.booleans(), label=f"{name} extremes")
        values[name] = make_values(shape, dtype, seed, extremes)
        sources[name] = _values(shape, dtype, seed, extremes)
    write = draw(st.sampled_from(_COPY_WRITES), label="write")
    return time_size, values, sources, write


def _write_for_copy(ws: Any, name: str, value: torch.Tensor, source: str, write: str) -> str:
    """Write `value` into `ws` as `write` says; returns the reproducer's lines."""
    if write == "set_full":
        ws.set_full(name, value)
        return f"ws.set_full({name!r}, {source})"
    grad = write == "rows with grad" and value.dtype.is_floating_point
    rows = value.clone().requires_grad_() * 1 if grad else value
    for t in range(value.shape[0]):  # row by row, as agents write
        ws.set(name, t, rows[t])
    suffix = ".clone().requires_grad_() * 1" if grad else ""
    lines = f"for t, row in enumerate({source}{suffix}):\n    ws.set({name!r}, t, row)"
    if write == "rows, then get_full":
        ws.get_full(name)
        lines += f"\nws.get_full({name!r})"
    return lines


@clause("WS-15", "WS-16")
@given(case=_copy_cases(), data=st.data())
def test_copy_n_last_steps_every_n(
    impl: Any,
    case: tuple[int, dict[str, torch.Tensor], dict[str, str], str],
    data: st.DataObject,
) -> None:
    """Every n in 0..T, var_names None or a selection that may name a variable twice, over
    variables of every dtype and item rank 0..2 written in each of `_COPY_WRITES`."""
    time_size, values, sources, write = case
    subset = data.draw(
        st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=4), label="var_names"
    )
    for var_names in (None, subset):
        for n in range(time_size + 1):
            ws = impl.Workspace()
            model = WorkspaceModel()
            lines = [f"{IMPORTS}ws = impl.Workspace()"]
            for name, value in values.items():
                lines.append(_write_for_copy(ws, name, value, sources[name], write))
                model.set_full(name, value)
            ws.copy_n_last_steps(n, var_names=var_names)
            model.copy_n_last_steps(n, var_names)
            lines.append(f"ws.copy_n_last_steps({n}, var_names={var_names!r})")
            for name in values:
                clause_id = "WS-15" if var_names is None or name in var_names else "WS-16"
                expect_equal_tensors(
                    ws.get_full(name).detach(),
                    model.get_full(name),
                    clause_id,
                    f"copy_n_last_steps({n}, var_names={var_names!r}) with T={time_size} "
                    f"({write}): {name!r} differs from the model (rows T-n..T-1 as they were "
                    "before the call copied to 0..n-1, once per selected variable, nothing "
                    "else changed)",
                    "\n".join([*lines, f"print(ws.get_full({name!r}))"]),
                    nan_equal=True,
                )
            expect(
                ws.time_size() == time_size,
                "WS-15",
                f"copy_n_last_steps({n}, var_names={var_names!r}) changed the time size from "
                f"{time_size} to {ws.time_size()}",
                "\n".join([*lines, f"assert ws.time_size() == {time_size}, ws.time_size()"]),
            )


@clause("WS-15", "WS-16")
def test_copy_n_last_steps_repeated_names(impl: Any) -> None:
    """A name given twice selects its variable once: with n > T/2 a second copy would read rows
    the first one overwrote."""
    cases: list[tuple[int, list[str]]] = [
        (3, ["a", "a"]),
        (4, ["a", "b", "a"]),
        (5, ["b", "a", "a", "b"]),
        (2, ["a", "a", "a"]),
    ]
    for n, var_names in cases:
        ws = impl.Workspace()
        model = WorkspaceModel()
        for t in range(5):
            for offset, name in enumerate(("a", "b", "c")):
                row = torch.tensor([100 * offset + t, -t])
                ws.set(name, t, row)
                model.set(name, t, row)
        ws.copy_n_last_steps(n, var_names=var_names)
        model.copy_n_last_steps(n, var_names)
        repro = (
            "import torch\nws = impl.Workspace()\nfor t in range(5):\n"
            "    for offset, name in enumerate(('a', 'b', 'c')):\n"
            "        ws.set(name, t, torch.tensor([100 * offset + t, -t]))\n"
            f"ws.copy_n_last_steps({n}, var_names={var_names!r})\n"
        )
        for name in ("a", "b", "c"):
            want = model.get_full(name)
            expect_equal_tensors(
                ws.get_full(name),
                want,
                "WS-15" if name in var_names else "WS-16",
                f"copy_n_last_steps({n}, var_names={var_names!r}) on a, b, c of T=5, "
                f"{name}[t] = [{100 * ('abc'.index(name))} + t, -t]: expected rows "
                f"{want[:, 0].tolist()} in column 0",
                repro + f"assert ws.get_full({name!r})[:, 0].tolist() == "
                f"{want[:, 0].tolist()}, ws.get_full({name!r})[:, 0]",
            )


@clause("WS-17")
@given(time_size=st.integers(1, 6), excess=st.integers(1, 3), named=st.booleans())
def test_copy_n_last_steps_rejects_bad_n_and_names(
    impl: Any, time_size: int, excess: int, named: bool
) -> None:
    ws = impl.Workspace()
    for t in range(time_size):
        ws.set("a", t, torch.tensor([t, 10 + t]))
        ws.set("b", t, torch.tensor([100.0 + t, 200.0 + t]))
    before = observe_workspace(ws)
    repro = (
        "import torch\nws = impl.Workspace()\n"
        f"for t in range({time_size}):\n    ws.set('a', t, torch.tensor([t, 10 + t]))\n"
        "    ws.set('b', t, torch.tensor([100.0 + t, 200.0 + t]))\n"
    )
    var_names = ["a"] if named else None
    calls: list[tuple[type[BaseException], int, list[str] | None]] = [
        (ValueError, time_size + excess, var_names),
        (ValueError, -excess, var_names),
        (KeyError, 1, ["a", "zz"]),
        (KeyError, 0, ["zz"]),
    ]
    for exc_type, n, names in calls:
        call = f"ws.copy_n_last_steps({n}, var_names={names!r})"
        expect_raises(
            exc_type,
            "WS-17",
            f"{call} on variables of time size {time_size}",
            functools.partial(ws.copy_n_last_steps, n, var_names=names),
            repro + call,
        )
        after = observe_workspace(ws)
        expect(
            same_contents(before, after),
            "WS-17",
            f"{call} raised but changed the workspace: before {before}, after {after}",
            raising(repro + call, exc_type) + "\nprint(ws.get_full('a'), ws.get_full('b'))",
        )


@clause("WS-15")
def test_copy_n_last_steps_overlapping_ranges(impl: Any) -> None:
    """n > T/2 with several variables: the sources are read before anything is written."""
    ws = impl.Workspace()
    for t in range(5):
        for offset, name in enumerate(("a", "b", "c")):
            ws.set(name, t, torch.tensor([100 * offset + t]))
    ws.copy_n_last_steps(3)
    repro = (
        "import torch\nws = impl.Workspace()\nfor t in range(5):\n"
        "    for offset, name in enumerate(('a', 'b', 'c')):\n"
        "        ws.set(name, t, torch.tensor([100 * offset + t]))\n"
        "ws.copy_n_last_steps(3)\nprint(ws.get_full('a').flatten())"
    )
    for offset, name in enumerate(("a", "b", "c")):
        want = torch.tensor([[2], [3], [4], [3], [4]]) + 100 * offset
        expect_equal_tensors(
            ws.get_full(name),
            want,
            "WS-15",
            f"copy_n_last_steps(3) on three variables of T=5, {name!r} = "
            f"{[100 * offset + t for t in range(5)]}: rows 2..4 as they were before the call "
            "must land in rows 0..2",
            repro,
        )


def _long_and_short(impl: Any) -> tuple[Any, str]:
    ws = impl.Workspace()
    for t in range(5):
        ws.set("long", t, torch.tensor([t]))
    for t in range(2):
        ws.set("short", t, torch.tensor([10 + t]))
    repro = (
        "import torch\nws = impl.Workspace()\n"
        "for t in range(5):\n    ws.set('long', t, torch.tensor([t]))\n"
        "for t in range(2):\n    ws.set('short', t, torch.tensor([10 + t]))\n"
    )
    return ws, repro


@clause("WS-16")
def test_copy_n_last_steps_empty_selection(impl: Any) -> None:
    ws, repro = _long_and_short(impl)
    before = observe_workspace(ws)
    for n in (0, 1, 2):
        call = f"ws.copy_n_last_steps({n}, var_names=[])"
        ws.copy_n_last_steps(n, var_names=[])
        expect(
            same_contents(before, observe_workspace(ws)),
            "WS-16",
            f"{call} selects no variable and must change nothing",
            repro + call + "\nprint(ws.get_full('long'), ws.get_full('short'))",
        )


@clause("WS-15", "WS-17")
def test_copy_n_last_steps_per_variable_time_size(impl: Any) -> None:
    """The spec's note: copy_n_last_steps works per variable (time sizes may differ)."""
    ws, repro = _long_and_short(impl)
    call = "ws.copy_n_last_steps(2)"
    try:
        ws.copy_n_last_steps(2)
        problem = None
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    expect(
        problem is None,
        "WS-15",
        f"{call} on 'long' (T=5) and 'short' (T=2) must copy per variable, but raised {problem}",
        repro + call,
    )
    expect_equal_tensors(
        ws.get_full("long"),
        torch.tensor([[3], [4], [2], [3], [4]]),
        "WS-15",
        f"{call} on 'long' (T=5) and 'short' (T=2): 'long' rows 3, 4 copied to rows 0, 1",
        repro + call + "\nprint(ws.get_full('long'))",
    )
    expect_equal_tensors(
        ws.get_full("short"),
        torch.tensor([[10], [11]]),
        "WS-15",
        f"{call} on 'long' (T=5) and 'short' (T=2): 'short' (n = T) unchanged",
        repro + call + "\nprint(ws.get_full('short'))",
    )
    before = observe_workspace(ws)
    call = "ws.copy_n_last_steps(3)"
    expect_raises(
        ValueError,
        "WS-17",
        f"{call} with 'short' of time size 2 selected",
        functools.partial(ws.copy_n_last_steps, 3),
        repro + call,
    )
    expect(
        same_contents(before, observe_workspace(ws)),
        "WS-17",
        f"{call} raised but changed a variable (the valid 'long' must not be copied either)",
        raising(repro + call, ValueError) + "\nprint(ws.get_full('long'), ws.get_full('short'))",
    )


# -- stateful test: random sequences of calls against the dict-of-lists model ---------------

_NAMES = ("a", "b", "env/c", "d")


def make_workspace_machine(impl: Any) -> type[RuleBasedStateMachine]:
    """Random programs of workspace calls, valid and failing, on one reused workspace, checked
    against the model after every step.

    The batch size is drawn when the workspace is empty (first, and again after it was
    cleared), and each variable's dtype (any of `DTYPES`) and item shape (rank 0..2) when it
    is created (again after `clear(name)` or by `set_full`). Values span each dtype's extremes,
    rows may carry autograd history. A failing call must raise the type its clause names and
    change nothing (checked right after it, under ERR-5).
    """

    class WorkspaceMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.ws = impl.Workspace()
            self.model = WorkspaceModel()
            self.batch = 0  # the model's batch size; 0 while empty
            self.schema: dict[str, tuple[tuple[int, ...], torch.dtype]] = {}
            self.emptied_by: str | None = None  # the clear that emptied the workspace
            self.log = [f"{IMPORTS}ws = impl.Workspace()"]

        def repro(self, last: str) -> str:
            return "\n".join([*self.log, last])

        # ------------------------------------------------------------------ helpers
        def valid(self, clause_id: str, call: str, fn: Any) -> None:
            """Run a call the spec allows; an exception fails `clause_id`."""
            __tracebackhide__ = True
            try:
                fn()
            except Exception as exc:
                if not self.model.rows and self.emptied_by is not None:  # the clear's fault
                    clause_id = "WS-19" if self.emptied_by == "ws.clear()" else "WS-4"
                raise ConformanceFailure(
                    clause_id,
                    f"{call} raised {type(exc).__name__}: {exc} (a valid call; the workspace "
                    f"was {self.describe()})",
                    self.repro(call),
                ) from exc
            self.log.append(call)

        def rejected(
            self, exc_type: type[BaseException], clause_id: str, call: str, fn: Any
        ) -> None:
            """A failing call raises `exc_type` and leaves the workspace as the model says."""
            __tracebackhide__ = True
            expect_raises(exc_type, clause_id, f"{call} on {self.describe()}", fn, self.repro(call))
            rejected = raising(call, exc_type)  # checked to raise, then the state is shown
            self.check_contents("ERR-5", f"after the rejected {call}", rejected)
            self.check_sizes("ERR-5", f"after the rejected {call}", rejected)

        def describe(self) -> str:
            if not self.model.rows:
                return "empty"
            parts = [
                f"{n!r}: T={self.model.time_size(n)} {self.schema[n][1]} S={self.schema[n][0]}"
                for n in sorted(self.model.rows)
            ]
            return f"B={self.batch}, " + ", ".join(parts)

        def new_schema(self, data: st.DataObject, name: str) -> tuple[tuple[int, ...], torch.dtype]:
            item = data.draw(trailing_shapes(max_dims=2, max_side=2), label=f"{name} S")
            return item, data.draw(dtypes(), label=f"{name} dtype")

        def schema_for(self, data: st.DataObject, name: str) -> tuple[tuple[int, ...], torch.dtype]:
            return self.schema[name] if name in self.schema else self.new_schema(data, name)

        def batch_for(self, data: st.DataObject) -> int:
            return self.batch or data.draw(st.integers(1, 4), label="batch size")

        # ------------------------------------------------------------- valid calls
        @rule(
            name=st.sampled_from(_NAMES),
            t=st.integers(0, 6),
            seed=st.integers(0, 2**16),
            extremes=st.booleans(),
            grad=st.booleans(),
            data=st.data(),
        )
        def set_row(
            self, name: str, t: int, seed: int, extremes: bool, grad: bool, data: st.DataObject
        ) -> None:
            item, dtype = self.schema_for(data, name)
            shape = (self.batch_for(data), *item)
            value = make_values(shape, dtype, seed, extremes)
            code = _values(shape, dtype, seed, extremes)
            if grad and dtype.is_floating_point:  # a row with autograd history
                value = value.requires_grad_() * 1
                code += ".requires_grad_() * 1"
            self.valid(
                "WS-2", f"ws.set({name!r}, {t}, {code})", lambda: self.ws.set(name, t, value)
            )
            self.model.set(name, t, value)
            self.schema[name] = (item, dtype)
            self.batch = shape[0]

        @rule(
            name=st.sampled_from(_NAMES),
            time_size=st.integers(1, 6),
            seed=st.integers(0, 2**16),
            extremes=st.booleans(),
            fresh_schema=st.booleans(),
            data=st.data(),
        )
        def set_full(
            self,
            name: str,
            time_size: int,
            seed: int,
            extremes: bool,
            fresh_schema: bool,
            data: st.DataObject,
        ) -> None:
            # set_full may replace a variable by one of another dtype and item shape (WS-11)
            item, dtype = (
                self.new_schema(data, name) if fresh_schema else self.schema_for(data, name)
            )
            shape = (time_size, self.batch_for(data), *item)
            value = make_values(shape, dtype, seed, extremes)
            call = f"ws.set_full({name!r}, {_values(shape, dtype, seed, extremes)})"
            self.valid("WS-11", call, lambda: self.ws.set_full(name, value))
            self.model.set_full(name, value)
            self.schema[name] = (item, dtype)
            self.batch = shape[1]

        @precondition(lambda self: bool(self.model.rows))
        @rule(data=st.data())
        def copy_n_last_steps(self, data: st.DataObject) -> None:
            present = sorted(self.model.rows)
            var_names = data.draw(
                st.one_of(st.none(), st.lists(st.sampled_from(present), max_size=4)),
                label="var_names",
            )  # may be empty, may repeat a name
            selected = present if var_names is None else var_names
            top = min((self.model.time_size(n) for n in selected), default=3)
            n = data.draw(st.integers(0, top), label="n")
            call = f"ws.copy_n_last_steps({n}, var_names={var_names!r})"
            self.valid("WS-15", call, lambda: self.ws.copy_n_last_steps(n, var_names=var_names))
            self.model.copy_n_last_steps(n, var_names)

        @precondition(lambda self: bool(self.model.rows))
        @rule(data=st.data())
        def clear_one(self, data: st.DataObject) -> None:
            name = data.draw(st.sampled_from(sorted(self.model.rows)), label="clear name")
            self.valid("WS-19", f"ws.clear({name!r})", lambda: self.ws.clear(name))
            self.model.clear(name)
            del self.schema[name]
            if not self.model.rows:
                self.batch, self.emptied_by = 0, "ws.clear(name)"

        @rule()
        def clear_all(self) -> None:
            self.valid("WS-19", "ws.clear()", self.ws.clear)
            self.model.clear()
            self.schema.clear()
            self.batch, self.emptied_by = 0, "ws.clear()"

        @rule()
        def zero_grad(self) -> None:
            self.valid("WS-14", "ws.zero_grad()", self.ws.zero_grad)
            for name in self.model.rows:
                got = self.ws.get_full(name)
                expect(
                    not got.requires_grad and got.grad_fn is None,
                    "WS-14",
                    f"after zero_grad(), get_full({name!r}) has requires_grad="
                    f"{got.requires_grad}, grad_fn={got.grad_fn}",
                    self.repro(f"print(ws.get_full({name!r}).requires_grad)"),
                )

        @precondition(lambda self: bool(self.model.rows))
        @rule(data=st.data())
        def read_row(self, data: st.DataObject) -> None:
            name = data.draw(st.sampled_from(sorted(self.model.rows)), label="read name")
            t = data.draw(st.integers(0, self.model.time_size(name) - 1), label="t")
            expect_equal_tensors(
                self.ws.get(name, t),
                self.model.get(name, t),
                "WS-2",
                f"get({name!r}, {t}) after the calls of the reproducer differs from the model",
                self.repro(f"print(ws.get({name!r}, {t}))"),
                nan_equal=True,
            )
            self.log.append(f"ws.get({name!r}, {t})")

        # ---------------------------------------------------------- failing calls
        @precondition(lambda self: self.batch > 0)
        @rule(name=st.sampled_from(_NAMES), t=st.integers(0, 7), data=st.data())
        def set_wrong_batch(self, name: str, t: int, data: st.DataObject) -> None:
            other = data.draw(
                st.sampled_from(sorted({1, self.batch - 1, self.batch + 1} - {0, self.batch})),
                label="other batch size",
            )
            item, dtype = self.schema_for(data, name)
            value = torch.zeros((other, *item), dtype=dtype)
            call = f"ws.set({name!r}, {t}, torch.zeros({(other, *item)}, dtype={dtype}))"
            self.rejected(ValueError, "WS-4", call, functools.partial(self.ws.set, name, t, value))
            full = torch.zeros((2, other, *item), dtype=dtype)
            call = f"ws.set_full({name!r}, torch.zeros({(2, other, *item)}, dtype={dtype}))"
            self.rejected(ValueError, "WS-4", call, functools.partial(self.ws.set_full, name, full))

        @precondition(lambda self: bool(self.model.rows))
        @rule(t=st.integers(0, 7), data=st.data())
        def set_wrong_dtype_or_item_shape(self, t: int, data: st.DataObject) -> None:
            name = data.draw(st.sampled_from(sorted(self.model.rows)), label="name")
            item, dtype = self.schema[name]
            other = data.draw(st.sampled_from(other_dtypes(dtype)), label="other dtype")
            value = torch.zeros((self.batch, *item), dtype=other)
            call = f"ws.set({name!r}, {t}, torch.zeros({(self.batch, *item)}, dtype={other}))"
            self.rejected(TypeError, "WS-5", call, functools.partial(self.ws.set, name, t, value))
            shape = data.draw(st.sampled_from(other_item_shapes(item)), label="other item shape")
            value = torch.zeros((self.batch, *shape), dtype=dtype)
            call = f"ws.set({name!r}, {t}, torch.zeros({(self.batch, *shape)}, dtype={dtype}))"
            self.rejected(ValueError, "WS-5", call, functools.partial(self.ws.set, name, t, value))

        @rule(name=st.sampled_from(_NAMES), t=st.integers(-3, -1), data=st.data())
        def set_negative_t(self, name: str, t: int, data: st.DataObject) -> None:
            item, dtype = self.schema_for(data, name)
            row = (self.batch_for(data), *item)
            value = torch.zeros(row, dtype=dtype)
            call = f"ws.set({name!r}, {t}, torch.zeros({row}, dtype={dtype}))"
            self.rejected(IndexError, "ERR-2", call, functools.partial(self.ws.set, name, t, value))

        @rule(name=st.sampled_from(_NAMES), data=st.data())
        def set_not_a_tensor_or_no_batch(self, name: str, data: st.DataObject) -> None:
            row = [0.0] * self.batch_for(data)
            call = f"ws.set({name!r}, 0, {row!r})"
            self.rejected(TypeError, "ERR-4", call, functools.partial(self.ws.set, name, 0, row))
            call = f"ws.set({name!r}, 0, torch.tensor(1.0))"
            scalar = torch.tensor(1.0)
            self.rejected(
                ValueError, "ERR-4", call, functools.partial(self.ws.set, name, 0, scalar)
            )
            call = f"ws.set_full({name!r}, torch.zeros({len(row)}))"
            flat = torch.zeros(len(row))
            self.rejected(
                ValueError, "ERR-4", call, functools.partial(self.ws.set_full, name, flat)
            )

        @rule(name=st.sampled_from(_NAMES), data=st.data())
        def read_outside(self, name: str, data: st.DataObject) -> None:
            if name not in self.model.rows:
                for call, fn in (
                    (f"ws.get({name!r}, 0)", functools.partial(self.ws.get, name, 0)),
                    (f"ws.get_full({name!r})", functools.partial(self.ws.get_full, name)),
                    (f"ws[{name!r}]", functools.partial(self.ws.__getitem__, name)),
                    (f"ws.clear({name!r})", functools.partial(self.ws.clear, name)),
                ):
                    self.rejected(KeyError, "ERR-3", call, fn)
                return
            size = self.model.time_size(name)
            t = data.draw(st.sampled_from([-1, size, size + 1]), label="t outside 0..T-1")
            call = f"ws.get({name!r}, {t})"
            self.rejected(IndexError, "ERR-2", call, functools.partial(self.ws.get, name, t))

        @precondition(lambda self: bool(self.model.rows))
        @rule(data=st.data())
        def copy_rejected(self, data: st.DataObject) -> None:
            present = sorted(self.model.rows)
            var_names = data.draw(
                st.one_of(st.none(), st.lists(st.sampled_from(present), min_size=1, max_size=3)),
                label="var_names",
            )
            selected = present if var_names is None else var_names
            top = min(self.model.time_size(n) for n in selected)
            n = data.draw(st.sampled_from([-1, -2, top + 1, top + 3]), label="bad n")
            call = f"ws.copy_n_last_steps({n}, var_names={var_names!r})"
            fn = functools.partial(self.ws.copy_n_last_steps, n, var_names=var_names)
            self.rejected(ValueError, "WS-17", call, fn)
            unknown = data.draw(st.sampled_from([n for n in _NAMES if n not in present] + ["zz"]))
            names = [*selected[:2], unknown, *selected[:1]]
            call = f"ws.copy_n_last_steps(0, var_names={names!r})"
            fn = functools.partial(self.ws.copy_n_last_steps, 0, var_names=names)
            self.rejected(KeyError, "WS-17", call, fn)

        # --------------------------------------------------------------- invariants
        def check_contents(self, clause_id: str, when: str, last: str = "") -> None:
            __tracebackhide__ = True
            keys = sorted(self.ws.keys())
            expect(
                keys == sorted(self.model.rows),
                "WS-12" if clause_id == "WS-6" else clause_id,
                f"{when}: keys() = {keys}, expected {sorted(self.model.rows)}",
                self.repro(f"{last}\nprint(list(ws.keys()))"),
            )
            for name in self.model.rows:
                expect_equal_tensors(
                    self.ws.get_full(name).detach(),
                    self.model.get_full(name),
                    clause_id,
                    f"{when}: get_full({name!r}) differs from the model (rows as last written, "
                    "zero-filled gaps, copies per WS-15)",
                    self.repro(f"{last}\nprint(ws.get_full({name!r}))"),
                    nan_equal=True,
                )
            if self.model.rows:  # the reads count: an implementation may cache what it returns
                self.log.append(f"for name in {sorted(self.model.rows)!r}: ws.get_full(name)")

        def check_sizes(self, clause_id: str, when: str, last: str = "") -> None:
            __tracebackhide__ = True
            sizes = {self.model.time_size(n) for n in self.model.rows}
            if len(sizes) > 1:
                expect_raises(
                    ValueError,
                    "WS-13",
                    f"{when}: time_size() with per-variable time sizes "
                    f"{ {n: self.model.time_size(n) for n in self.model.rows} }",
                    self.ws.time_size,
                    self.repro(f"{last}\nws.time_size()"),
                )
                got_b = self.ws.batch_size()
                expect(
                    got_b == self.batch,
                    clause_id if clause_id == "ERR-5" else "WS-13",
                    f"{when}: batch_size() = {got_b}, expected {self.batch}",
                    self.repro(f"{last}\nprint(ws.batch_size())"),
                )
                return
            want = (sizes.pop() if sizes else 0, self.batch)
            got = (self.ws.time_size(), self.ws.batch_size())
            if clause_id != "ERR-5":
                clause_id = "WS-13" if self.model.rows else "WS-1"
            expect(
                got == want,
                clause_id,
                f"{when}: (time_size(), batch_size()) = {got}, expected {want}",
                self.repro(f"{last}\nprint(ws.time_size(), ws.batch_size())"),
            )

        @invariant()
        def contents_match_model(self) -> None:
            self.check_contents("WS-6", "after the calls of the reproducer")

        @invariant()
        def sizes_match_model(self) -> None:
            self.check_sizes("WS-13", "after the calls of the reproducer")

    return WorkspaceMachine


@clause(
    "WS-1",
    "WS-2",
    "WS-3",
    "WS-4",
    "WS-5",
    "WS-6",
    "WS-11",
    "WS-12",
    "WS-13",
    "WS-14",
    "WS-15",
    "WS-16",
    "WS-17",
    "WS-19",
    "ERR-2",
    "ERR-3",
    "ERR-4",
    "ERR-5",
)
def test_workspace_state_machine(impl: Any) -> None:
    run_state_machine_as_test(make_workspace_machine(impl))


@clause("WS-44")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_set_below_time_size_replaces_one_row(impl: Any, dtype: torch.dtype) -> None:
    """WS-44 over time sizes 1..4, every row t < T, batch sizes 1 and 3, item shapes () and
    (2,), for a variable written row by row or by set_full, and again after a second set."""
    for time_size, batch, item, whole in (
        (t_, b, s, w) for t_ in (1, 2, 3, 4) for b in (1, 3) for s in ((), (2,)) for w in (0, 1)
    ):
        before = full((time_size, batch, *item), dtype, 0)
        for t in range(time_size):
            ws = impl.Workspace()
            if whole:
                ws.set_full("x", before)
                write = "ws.set_full('x', before)"
            else:
                for row in range(time_size):
                    ws.set("x", row, before[row])
                write = "for row in range(T):\n    ws.set('x', row, before[row])"
            value = full((batch, *item), dtype, 100 + t) if dtype != torch.bool else ~before[t]
            ws.set("x", t, value)
            expected = before.clone()
            expected[t] = value
            repro = (
                f"import torch\nT, t = {time_size}, {t}\n"
                f"before = torch.arange({before.numel()}).reshape({tuple(before.shape)})"
                + (" % 2 == 1" if dtype == torch.bool else f".to({dtype})")
                + f"\nws = impl.Workspace()\n{write}\n"
                + f"value = torch.full({(batch, *item)}, 1).to({dtype})\n"
                + "ws.set('x', t, value)\nprint(ws.time_size(), ws.get_full('x'))  # want T rows"
            )
            expect(
                ws.time_size() == time_size,
                "WS-44",
                f"set('x', {t}, v) on a variable of time size {time_size} (written by "
                f"{'set_full' if whole else 'set'}) left time size {ws.time_size()}",
                repro,
            )
            expect_equal_tensors(
                ws.get_full("x"),
                expected,
                "WS-44",
                f"set('x', {t}, v) on a variable of time size {time_size} (written by "
                f"{'set_full' if whole else 'set'}) must replace row {t} only",
                repro,
            )
            # the same workspace again: a second row rewritten after the first
            again = (t + 1) % time_size
            second = full((batch, *item), dtype, 200 + t)
            ws.set("x", again, second)
            expected[again] = second
            expect_equal_tensors(
                ws.get_full("x"),
                expected,
                "WS-44",
                f"after set('x', {t}, v), set('x', {again}, w) on the same variable (time size "
                f"{time_size}, written by {'set_full' if whole else 'set'}) must replace row "
                f"{again} only",
                repro + f"\nws.set('x', {again}, value)\nprint(ws.time_size(), ws.get_full('x'))",
            )
