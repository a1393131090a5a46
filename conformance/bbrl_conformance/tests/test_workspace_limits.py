"""Conformance tests of the Workspace's names, values and bounds (WS-20..WS-24).

Which names and tensors a workspace accepts, the bound `t < 2**31` on time indices, and what
a write whose storage cannot be allocated does. A failed call must change nothing (ERR-5): in
particular a failed `set` of a new variable must leave no variable of that name.

The calls near `t = 2**31` run in a child process whose address space is limited (Linux
`RLIMIT_AS`, 256 MiB above what the process holds once torch is imported, and 10 s per call):
an implementation that fills a gap row by row, or by a list of 2**31 rows, then fails fast
instead of filling this machine's memory. On a system without `RLIMIT_AS` those two tests are
skipped, with the reason.

The other allocation failures use stride-0 views (`expand`) of 512 TiB: a value that any
conforming implementation must copy (WS-8) and that no machine can hold.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bbrl_conformance._assertions import (
    ConformanceFailure,
    expect,
    expect_equal_tensors,
    expect_raises,
    raising,
)
from bbrl_conformance._clauses import clause
from bbrl_conformance._strategies import WORKSPACE_DTYPE_NAMES

SETUP = (
    "import torch\nws = impl.Workspace()\n"
    "for t in range(3):\n"
    "    ws.set('x', t, torch.full((2, 3), float(t)))\n"
    "    ws.set('flag', t, torch.tensor([t == 1, False]))\n"
)


def _workspace(impl: Any) -> Any:
    """x: float32 [3, 2, 3]; flag: bool [3, 2] (the same as SETUP)."""
    ws = impl.Workspace()
    for t in range(3):
        ws.set("x", t, torch.full((2, 3), float(t)))
        ws.set("flag", t, torch.tensor([t == 1, False]))
    return ws


def _state(ws: Any) -> tuple[list[str], dict[str, torch.Tensor], int]:
    """Names (sorted), name -> detached copy of get_full, and the batch size."""
    names = sorted(ws.keys())
    return names, {n: ws.get_full(n).detach().clone() for n in names}, ws.batch_size()


def _same(a: tuple[list[str], dict[str, torch.Tensor], int], b: Any) -> bool:
    names_a, values_a, batch_a = a
    names_b, values_b, batch_b = b
    return (
        names_a == names_b
        and batch_a == batch_b
        and all(
            values_a[n].shape == values_b[n].shape
            and values_a[n].dtype == values_b[n].dtype
            and torch.equal(values_a[n], values_b[n])
            for n in names_a
        )
    )


def _expect_rejected(
    impl: Any,
    exc: type[BaseException],
    clause_id: str,
    code: str,
    call: Callable[[Any], object],
    new_name: str | None = None,
    setup: str = "",
) -> None:
    """On the SETUP workspace, `call(ws)` (`code`, after the reproducer lines `setup`) raises
    `exc`, and changes nothing (ERR-5): the names, values and batch size are those before, and
    `new_name` is not a variable."""
    __tracebackhide__ = True
    ws = _workspace(impl)
    before = _state(ws)
    repro = SETUP + setup + code
    expect_raises(exc, clause_id, code, functools.partial(call, ws), repro)
    after = raising(repro, exc)  # the rejected call checked to raise, then the state shown
    names = sorted(ws.keys())
    if new_name is not None:
        expect(
            new_name not in names,
            "ERR-5",
            f"{code} raised, but left a variable {new_name!r} behind: keys {names}",
            after + "\nprint(list(ws.keys()))",
        )
    expect(
        _same(before, _state(ws)),
        "ERR-5",
        f"{code} raised, but changed the workspace (names, values or batch size)",
        after + "\nprint({k: ws.get_full(k) for k in ws.keys()}, ws.batch_size())",
    )


# -- WS-20: names ---------------------------------------------------------------------------

BAD_NAMES: list[tuple[type[BaseException], str, object]] = [
    (ValueError, "''", ""),
    (TypeError, "3", 3),
    (TypeError, "None", None),
    (TypeError, "b'x'", b"x"),
    (TypeError, "('x',)", ("x",)),
]


@clause("WS-20", "ERR-5")
@pytest.mark.parametrize(("exc", "code", "name"), BAD_NAMES, ids=[c for _, c, _ in BAD_NAMES])
def test_bad_names_are_rejected(
    impl: Any, exc: type[BaseException], code: str, name: object
) -> None:
    _expect_rejected(
        impl,
        exc,
        "WS-20",
        f"ws.set({code}, 0, torch.zeros(2))",
        lambda ws: ws.set(name, 0, torch.zeros(2)),
    )
    _expect_rejected(
        impl,
        exc,
        "WS-20",
        f"ws.set_full({code}, torch.zeros(3, 2))",
        lambda ws: ws.set_full(name, torch.zeros(3, 2)),
    )
    empty = impl.Workspace()
    expect_raises(
        exc,
        "WS-20",
        f"impl.Workspace().set({code}, 0, torch.zeros(2))",
        lambda: empty.set(name, 0, torch.zeros(2)),
        f"import torch\nimpl.Workspace().set({code}, 0, torch.zeros(2))",
    )
    expect(
        list(empty.keys()) == [] and empty.batch_size() == 0,
        "ERR-5",
        f"a failed set({code}, ...) left the empty workspace with keys {list(empty.keys())}",
        raising(f"import torch\nws = impl.Workspace()\nws.set({code}, 0, torch.zeros(2))", exc)
        + "\nprint(list(ws.keys()), ws.batch_size())",
    )


@clause("WS-20")
@given(name=st.text(min_size=1, max_size=12))
def test_any_non_empty_string_names_a_variable(impl: Any, name: str) -> None:
    ws = impl.Workspace()
    ws.set(name, 0, torch.tensor([1.0, 2.0]))
    repro = f"import torch\nws = impl.Workspace()\nws.set({name!r}, 0, torch.tensor([1.0, 2.0]))"
    expect(
        list(ws.keys()) == [name],
        "WS-20",
        f"ws.set({name!r}, ...): keys() = {list(ws.keys())}",
        repro + "\nprint(list(ws.keys()))",
    )
    expect_equal_tensors(
        ws.get_full(name),
        torch.tensor([[1.0, 2.0]]),
        "WS-20",
        f"get_full({name!r})",
        repro + f"\nprint(ws.get_full({name!r}))",
    )


# -- WS-21: dtypes --------------------------------------------------------------------------

DTYPES = [getattr(torch, name) for name in WORKSPACE_DTYPE_NAMES]


def _values(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """Distinct small values (bool: alternating), exact in every dtype of WS-21."""
    values = torch.arange(math.prod(shape)).reshape(shape) % 100
    return values % 2 == 1 if dtype == torch.bool else values.to(dtype)


@clause("WS-21")
@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
def test_every_dtype_through_every_operation(impl: Any, dtype: torch.dtype) -> None:
    """Rows written with `set` (with a zero-filled gap) and a `set_full` variable, then read
    back, copied, selected, concatenated, moved and paired; expected values by indexing."""
    x = _values((4, 3, 2), dtype)
    y = _values((4, 3), dtype)
    x_model = x.clone()
    x_model[2] = 0  # the gap left by writing rows 0, 1 and 3
    flag = torch.tensor([[False, True, False]] + [[False, False, False]] * 3)
    ws = impl.Workspace()
    for t in (0, 1, 3):
        ws.set("x", t, x[t])
    ws.set_full("y", y)
    ws.set_full("flag", flag)
    d = str(dtype)
    repro = (
        f"import math\nimport torch\n\n\n{inspect.getsource(_values)}\n\n"
        f"x = _values((4, 3, 2), {d})\ny = _values((4, 3), {d})\n"
        "flag = torch.tensor([[False, True, False]] + [[False, False, False]] * 3)\n"
        "ws = impl.Workspace()\n"
        "for t in (0, 1, 3):\n    ws.set('x', t, x[t])\n"
        "ws.set_full('y', y)\nws.set_full('flag', flag)\n"
    )
    model = {"x": x_model, "y": y, "flag": flag}
    ran: list[str] = []  # the writes made so far, which the later reproducers repeat

    def check(expr: str, got: torch.Tensor, want: torch.Tensor) -> None:
        code = "; ".join([*ran, expr])
        expect_equal_tensors(
            got,
            want,
            "WS-21",
            f"{code} with {d} variables",
            repro + "".join(line + "\n" for line in ran) + f"print({expr})",
        )

    check("ws.get('x', 3)", ws.get("x", 3), x[3])
    check("ws.get_full('x')", ws.get_full("x"), x_model)
    pairs = ws.get_transitions(filter_key="flag")
    keep = [(t, b) for t in range(3) for b in range(3) if not bool(flag[t, b])]
    for name in ("x", "y"):
        value = model[name]
        want = torch.stack(
            [
                torch.stack([value[t, b] for t, b in keep]),
                torch.stack([value[t + 1, b] for t, b in keep]),
            ]
        )
        check(
            f"ws.get_transitions(filter_key='flag').get_full({name!r})",
            pairs.get_full(name),
            want,
        )
    index = torch.tensor([2, 0, 2])
    check(
        "ws.select_batch(torch.tensor([2, 0, 2])).get_full('x')",
        ws.select_batch(index).get_full("x"),
        x_model[:, [2, 0, 2]],
    )
    starts = torch.tensor([0, 2, 1])
    rows = starts[None, :] + torch.arange(2)[:, None]
    check(
        "ws.select_subtime(torch.tensor([0, 2, 1]), 2).get_full('y')",
        ws.select_subtime(starts, 2).get_full("y"),
        y[rows, torch.arange(3)],
    )
    check("ws.subtime(1, 3).get_full('x')", ws.subtime(1, 3).get_full("x"), x_model[1:3])
    check(
        "ws.cat_batch([ws, ws]).get_full('y')",
        ws.cat_batch([ws, ws]).get_full("y"),
        torch.cat([y, y], 1),
    )
    check("impl.Workspace(ws).get_full('y')", impl.Workspace(ws).get_full("y"), y)
    ws.copy_time(0, 4, 2)
    ran.append("ws.copy_time(0, 4, 2)")
    check("ws.get_full('x')", ws.get_full("x"), torch.cat([x_model, x_model[:2]]))
    ws.copy_n_last_steps(1)
    ran.append("ws.copy_n_last_steps(1)")
    y6 = torch.cat([y, y[:2]])  # after copy_time(0, 4, 2); row 0 <- row 5
    check("ws.get_full('y')", ws.get_full("y"), torch.cat([y6[5:], y6[1:]]))
    check("ws.to('cpu').get_full('y')", ws.to("cpu").get_full("y"), torch.cat([y6[5:], y6[1:]]))


# -- WS-22: layouts -------------------------------------------------------------------------


def _unsupported() -> dict[str, Callable[[], torch.Tensor]]:
    """Builders of [3, 2] tensors of each kind WS-22 rejects (code -> builder)."""
    kinds: dict[str, Callable[[], torch.Tensor]] = {
        "torch.zeros(3, 2).to_sparse()": lambda: torch.zeros(3, 2).to_sparse(),
        "torch.zeros(3, 2).to_sparse_csr()": lambda: torch.zeros(3, 2).to_sparse_csr(),
        "torch.quantize_per_tensor(torch.zeros(3, 2), 1.0, 0, torch.qint8)": (
            lambda: torch.quantize_per_tensor(torch.zeros(3, 2), 1.0, 0, torch.qint8)
        ),
        "torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)])": (
            lambda: torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)])
        ),
        "torch.zeros(3, 2, device='meta')": lambda: torch.zeros(3, 2, device="meta"),
    }
    if torch.backends.mkldnn.is_available():  # type: ignore[no-untyped-call]
        kinds["torch.zeros(3, 2).to_mkldnn()"] = lambda: torch.zeros(3, 2).to_mkldnn()
    return kinds


@clause("WS-22", "ERR-5")
@pytest.mark.parametrize("kind", sorted(_unsupported()))
def test_unsupported_layouts_are_rejected(impl: Any, kind: str) -> None:
    # the reproducers build the value as the test does, without the warnings of its creation
    setup = (
        "import warnings\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')\n"
        f"    value = {kind}\n"
    )
    with warnings.catch_warnings():  # beta (sparse CSR), prototype (nested), deprecated (quantized)
        warnings.simplefilter("ignore")
        value = _unsupported()[kind]()
        for code, call, new_name in (
            ("ws.set('new', 0, value)", lambda ws: ws.set("new", 0, value), "new"),
            ("ws.set('x', 3, value)", lambda ws: ws.set("x", 3, value), None),
            ("ws.set_full('new', value)", lambda ws: ws.set_full("new", value), "new"),
        ):
            _expect_rejected(
                impl, TypeError, "WS-22", f"{code}  # value = {kind}", call, new_name, setup
            )


# -- WS-23, WS-24: bounds and allocation ----------------------------------------------------


@clause("WS-23", "ERR-5")
def test_time_bound_both_sides(impl: Any) -> None:
    """On a variable whose rows hold no bytes (trailing shape (0,)), so that an implementation
    without the bound would accept any t at no memory cost: t >= 2**31 raises IndexError and
    changes nothing, t = 2**31 - 1 is accepted (time size 2**31); set_full of 2**31 + 1 rows
    raises ValueError, of 2**31 rows is accepted."""
    if not _has_address_space_limit():
        pytest.skip("needs RLIMIT_AS (Linux) to bound what an implementation may allocate")
    over = [2**31, 2**63]
    cases = [(f"t={t}", f"ws.set('e', {t}, torch.zeros(2, 0))") for t in over]
    cases += [
        ("last", "ws.set('e', 2**31 - 1, torch.ones(2, 0))"),
        ("full-over", "ws.set_full('f', torch.zeros(2**31 + 1, 2, 0))"),
        ("full-at", "ws.set_full('f', torch.zeros(2**31, 2, 0))"),
    ]
    result = _run_limited(impl, cases, "e0", "WS-23")
    for key, code in cases:
        outcome = result[key]
        raised = outcome["raised"]
        repro = _limited_repro("e0", [(key, code)])
        if key in ("last", "full-at"):
            name = "e" if key == "last" else "f"
            expect(
                raised is None and outcome["time_sizes"].get(name) == 2**31,
                "WS-23",
                f"{code}: the bound itself must be accepted; raised {raised}, time sizes "
                f"{outcome['time_sizes']} (expected {name!r} of time size 2**31)",
                repro,
            )
            continue
        want = "ValueError" if key == "full-over" else "IndexError"
        expect(
            raised is not None and want in raised,
            "WS-23",
            f"{code}: expected {want}, got {raised or 'no exception'}",
            repro,
        )
        expect(
            outcome["keys"] == ["e"] and outcome["unchanged"],
            "ERR-5",
            f"{code} raised, but the workspace is now {outcome['keys']} with time sizes "
            f"{outcome['time_sizes']}",
            repro,
        )


def _huge(grad: bool = False) -> torch.Tensor:
    """A [1, 2**23, 2**23] float64 value (512 TiB once copied) that is a stride-0 view."""
    base = torch.zeros((), dtype=torch.float64, requires_grad=grad)
    return (base * 1.0 if grad else base).expand(1, 2**23, 2**23)


HUGE = "torch.zeros((), dtype=torch.float64).expand(1, 2**23, 2**23)"
HUGE_GRAD = (
    "(torch.zeros((), dtype=torch.float64, requires_grad=True) * 1.0).expand(1, 2**23, 2**23)"
)


@clause("WS-24", "ERR-5")
def test_values_that_cannot_be_copied(impl: Any) -> None:
    """set and set_full must copy (WS-8); a 512 TiB copy cannot be allocated: MemoryError,
    and no variable is left behind."""
    cases: list[tuple[str, Callable[[Any], object]]] = [
        (f"ws.set('big', 0, {HUGE})", lambda ws: ws.set("big", 0, _huge())),
        (f"ws.set('big', 0, {HUGE_GRAD})", lambda ws: ws.set("big", 0, _huge(grad=True))),
        (f"ws.set_full('big', {HUGE}[None])", lambda ws: ws.set_full("big", _huge()[None])),
    ]
    for code, call in cases:
        ws = impl.Workspace()
        repro = f"import torch\nws = impl.Workspace()\n{code}"
        expect_raises(MemoryError, "WS-24", code, functools.partial(call, ws), repro)
        expect(
            list(ws.keys()) == [] and ws.batch_size() == 0,
            "WS-24",
            f"{code} raised, but left keys {list(ws.keys())}, batch size {ws.batch_size()}",
            raising(repro, MemoryError) + "\nprint(list(ws.keys()), ws.batch_size())",
        )


@clause("WS-24", "ERR-5")
def test_growth_that_cannot_be_allocated(impl: Any) -> None:
    """Writing row 2**31 - 1 of 8 MiB rows: storage for every row up to it (16 PiB) cannot be
    allocated, so an implementation that stores them raises MemoryError and keeps the variable's
    time size and values; the same for a variable with autograd history and for copy_time. An
    implementation that stores only the rows written (not-specified.md: the storage layout) may
    accept the write; then the row written reads back as written."""
    if not _has_address_space_limit():
        pytest.skip("needs RLIMIT_AS (Linux) to bound what an implementation may allocate")
    last = "2**31 - 1"
    cases = [
        (
            "plain",
            f"ws.set('x8', {last}, torch.ones(1, 1024, 1024, dtype=torch.float64))",
            f"torch.equal(ws.get('x8', {last}), torch.ones(1, 1024, 1024, dtype=torch.float64))",
        ),
        (
            "tracked",
            f"ws.set('lp', {last}, w * torch.ones(1))",
            f"torch.equal(ws.get('lp', {last}).detach(), (w * torch.ones(1)).detach())",
        ),
        (
            "copy_time",
            f"ws.copy_time(0, {last}, 1, ['x8'])",
            f"torch.equal(ws.get('x8', {last}), ws.get('x8', 0))",
        ),
    ]
    result = _run_limited(impl, cases, "grow", "WS-24")
    for key, code, check in cases:
        outcome = result[key]
        raised = outcome["raised"]
        repro = _limited_repro("grow", [(key, code, check)])
        if raised is None:
            expect(
                outcome["check"] is True,
                "WS-24",
                f"{code} succeeded, but the row written does not read back as written "
                f"({check}: {outcome['check']})",
                repro,
            )
            continue
        expect(
            "MemoryError" in raised,
            "WS-24",
            f"{code}: expected MemoryError (or the write stored), got {raised[0]}",
            repro,
        )
        expect(
            outcome["unchanged"],
            "WS-24",
            f"{code} raised, but the workspace changed: keys {outcome['keys']}, time sizes "
            f"{outcome['time_sizes']}",
            repro,
        )


@clause("WS-24", "ERR-5")
def test_a_long_value_with_grad_fits_or_raises_memory_error(impl: Any) -> None:
    """set_full of 2**22 rows with autograd history (16 MiB of values) with 256 MiB to spare:
    stored, or MemoryError with the workspace unchanged; never another error (an
    implementation that keeps one tensor per row runs out of memory in its bookkeeping)."""
    if not _has_address_space_limit():
        pytest.skip("needs RLIMIT_AS (Linux) to bound what an implementation may allocate")
    code = "ws.set_full('long', w * torch.ones(2**22, 1))"
    outcome = _run_limited(impl, [("long", code)], "grow", "WS-24")["long"]
    raised = outcome["raised"]
    stored = raised is None and outcome["time_sizes"].get("long") == 2**22
    expect(
        stored or (raised is not None and "MemoryError" in raised and outcome["unchanged"]),
        "WS-24",
        f"{code}: expected the variable stored (time size 2**22) or MemoryError with the "
        f"workspace unchanged; raised {raised}, time sizes {outcome['time_sizes']}, unchanged "
        f"{outcome['unchanged']}",
        _limited_repro("grow", [("long", code)]),
    )


@clause("RB-21")
def test_a_sample_beyond_the_address_space_raises_memory_error(impl: Any) -> None:
    """get_shuffled of 2**22 items of 1 KiB (4 GiB, less than this machine's memory but more
    than the 256 MiB the child may still map): MemoryError, whichever allocation fails."""
    if not _has_address_space_limit():
        pytest.skip("needs RLIMIT_AS (Linux) to bound what an implementation may allocate")
    code = "rb.get_shuffled(2**22)"
    outcome = _run_limited(impl, [("sample", code)], "buffer", "RB-21")["sample"]
    expect(
        outcome["raised"] is not None and "MemoryError" in outcome["raised"],
        "RB-21",
        f"{code} on a buffer of 4 items of 1 KiB with 256 MiB to spare: expected MemoryError, "
        f"got {outcome['raised'] or 'no exception'}",
        _limited_repro("buffer", [("sample", code)]),
    )


@clause("RB-22", "RB-7")
def test_a_put_whose_storage_cannot_be_allocated(impl: Any) -> None:
    """The first put into ReplayBuffer(2**22) of 1 KiB items: room for every slot is 4 GiB, less
    than this machine's memory (so no physical-memory check refuses it) but more than the 256
    MiB the child may still map. An implementation that allocates the slots at the first put
    raises MemoryError and keeps the buffer empty; one that allocates as items come stores the
    4 items. Any other outcome (another error, a buffer half changed) fails."""
    if not _has_address_space_limit():
        pytest.skip("needs RLIMIT_AS (Linux) to bound what an implementation may allocate")
    code = "rb = impl.ReplayBuffer(2**22)\nrb.put(ws)"
    stored = (
        "rb.size() == 4 and torch.equal(rb.get_shuffled(3).get_full('x'), torch.zeros(1, 3, 256))"
    )
    untouched = "rb.size() == 0"
    case = ("put", code, stored, untouched)
    outcome = _run_limited(impl, [case], "items", "RB-22")["put"]
    raised, check = outcome["raised"], outcome["check"]
    repro = _limited_repro("items", [case])
    if raised is None:
        expect(
            check is True,
            "RB-22",
            f"{code!r} succeeded, but the buffer does not hold the 4 items ({stored}: {check})",
            repro,
        )
        return
    expect(
        "MemoryError" in raised,
        "RB-22",
        f"{code!r} with 256 MiB to spare: expected MemoryError (or the items stored), got "
        f"{raised[0]}",
        repro,
    )
    expect(
        check is True,
        "RB-7",
        f"{code!r} raised MemoryError, but the buffer changed ({untouched}: {check})",
        repro,
    )


@clause("WS-23", "WS-24")
def test_big_rows_that_fit_are_accepted(impl: Any) -> None:
    """With 256 MiB of address space to spare, rows of 16 MiB written one by one at t = 0, 1, 2
    fit (48 MiB, or twice that while a buffer grows): each write is accepted, whatever room an
    implementation would like to reserve ahead (16 spare rows would need 256 MiB)."""
    if not _has_address_space_limit():
        pytest.skip("needs RLIMIT_AS (Linux) to bound what an implementation may allocate")
    code = "for t in range(3):\n    ws.set('big', t, torch.full((1, 2**22), float(t)))"
    result = _run_limited(impl, [("rows", code)], "empty", "WS-23")
    outcome = result["rows"]
    expect(
        outcome["raised"] is None and outcome["time_sizes"] == {"big": 3},
        "WS-23",
        f"{code}: three rows of 16 MiB with 256 MiB to spare must be accepted; raised "
        f"{outcome['raised']}, time sizes {outcome['time_sizes']}",
        _limited_repro("empty", [("rows", code)]),
    )


# -- the limited child process ------------------------------------------------------------

_SETUPS = {
    "empty": """
        ws = impl.Workspace()
    """,
    "buffer": """
        ws = impl.Workspace()
        ws.set_full('x', torch.zeros(1, 4, 256))
        rb = impl.ReplayBuffer(4)
        rb.put(ws)
    """,
    "items": """
        ws = impl.Workspace()
        ws.set_full('x', torch.zeros(1, 4, 256))
    """,
    "e0": """
        ws = impl.Workspace()
        ws.set('e', 0, torch.zeros(2, 0))
    """,
    "grow": """
        ws = impl.Workspace()
        w = torch.tensor(2.0, requires_grad=True)
        ws.set('x8', 0, torch.zeros(1, 1024, 1024, dtype=torch.float64))
        ws.set('lp', 0, w * torch.ones(1))
    """,
}

_CHILD = """
import importlib, json, re, resource, signal, sys
import torch
impl = importlib.import_module(sys.argv[1])
setup, cases = json.loads(sys.argv[2])
torch.zeros(4).add_(1)  # start torch's thread pool before the limit
with open("/proc/self/status") as status:
    vm_size = int(re.search(r"VmSize:\\s+(\\d+) kB", status.read()).group(1)) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm_size + 256 * 2**20, resource.RLIM_INFINITY))

def too_slow(signum, frame):
    raise TimeoutError("the call ran for more than 10 s")

signal.signal(signal.SIGALRM, too_slow)

def state(ws):
    names = sorted(ws.keys())
    sizes = {}
    for n in names:
        sizes[n] = int(ws.get_full(n).shape[0])
    return names, sizes

out = {}
for case in cases:
    key, code = case[:2]
    ns = {"impl": impl, "torch": torch}
    exec(setup, ns)
    ws = ns["ws"]
    before_names, before_sizes = state(ws)
    before = {n: ws.get_full(n).detach().clone() for n in before_names}
    raised = None
    signal.alarm(10)  # a call that fills a gap row by row: stop it, it has failed
    try:
        exec(code, ns)
    except BaseException as exc:
        raised = [c.__name__ for c in type(exc).__mro__]
    signal.alarm(0)
    try:
        names, sizes = state(ws)
        unchanged = names == before_names and all(
            torch.equal(ws.get_full(n).detach(), before[n]) for n in names
        )
    except BaseException as exc:
        names, sizes, unchanged = ["<reading failed: %r>" % exc], {}, False
    check = None
    # what must hold: case[2] when the call succeeded, case[3] when it raised
    if_stored = case[2] if len(case) > 2 else None
    if_raised = case[3] if len(case) > 3 else None
    expression = if_stored if raised is None else if_raised
    if expression:
        signal.alarm(10)
        try:
            check = bool(eval(expression, ns))
        except BaseException as exc:
            check = "%s: %s" % (type(exc).__name__, exc)
        signal.alarm(0)
    del ns, ws
    out[key] = {
        "raised": raised, "keys": names, "time_sizes": sizes, "unchanged": unchanged,
        "check": check,
    }
print(json.dumps(out))
"""


def _limited_repro(setup: str, cases: Sequence[tuple[str, ...]]) -> str:
    """A reproducer that runs `cases` on the `_SETUPS[setup]` workspace in the child process
    the test runs (the same code, address-space limit and alarm), and prints its outcome: per
    case what it raised (the exception's MRO names, or None), the workspace after and, for a
    case with a third element, that expression's value when the call succeeded."""
    payload = json.dumps([textwrap.dedent(_SETUPS[setup]), cases])
    return (
        "import os, subprocess, sys\n\n"
        f"CHILD = r'''{_CHILD}'''\n"
        f"PAYLOAD = {payload!r}\n"
        "env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))\n"
        "run = subprocess.run(\n"
        "    [sys.executable, '-c', CHILD, impl.__name__, PAYLOAD],\n"
        "    capture_output=True, text=True, timeout=300, env=env,\n"
        ")\n"
        "print('returncode', run.returncode)\n"
        "print(run.stdout.strip() or run.stderr[-3000:])"
    )


def _has_address_space_limit() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import resource
    except ImportError:  # pragma: no cover - Linux has it
        return False
    return hasattr(resource, "RLIMIT_AS")


def _run_limited(
    impl: Any, cases: Sequence[tuple[str, ...]], setup: str, clause_id: str
) -> dict[str, Any]:
    """Run each case (key, code[, check]) on a fresh `_SETUPS[setup]` workspace in a child
    process with a limited address space; return per case what it raised (its MRO names, or
    None), the state after and the value of `check` (an expression) when the code succeeded.
    A child that dies (e.g. killed by the operating system) fails `clause_id`."""
    module = str(getattr(impl, "module_name", None) or impl.__name__)
    payload = json.dumps([textwrap.dedent(_SETUPS[setup]), cases])
    env = dict(os.environ)  # the child imports the module from where this process does
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, module, payload],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise ConformanceFailure(
            clause_id,
            f"the child process running {[code for _, code in cases]} under a limited address "
            f"space failed (rc={proc.returncode}): {proc.stderr[-3000:]}",
            _limited_repro(setup, cases),
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result
