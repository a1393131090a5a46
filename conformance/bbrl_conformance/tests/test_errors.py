"""Conformance tests of spec/errors.md (ERR): bad input gets a typed error, and changes nothing.

Each case builds a small workspace, replay buffer or env agent, makes one bad call, and checks
three things: the exception is an instance of the builtin type the spec names (the clause of
the call, e.g. WS-5, and the ERR clause), its message names the variable or argument (ERR-6,
a SHOULD), and the object is unchanged afterwards (ERR-5).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

from bbrl_conformance._assertions import (
    expect,
    expect_equal_tensors,
    expect_message,
    expect_raises,
    raising,
)
from bbrl_conformance._clauses import clause
from bbrl_conformance._models import observe_workspace, same_contents

WS_SETUP = (
    "import numpy, torch\nws = impl.Workspace()\n"
    "for t in range(3):\n"
    "    ws.set('x', t, torch.full((4, 2), float(t)))\n"
    "    ws.set('env/done', t, torch.tensor([False, t == 1, False, False]))\n"
)


def _workspace(impl: Any) -> Any:
    """x: float32 [3, 4, 2]; env/done: bool [3, 4] (the same as WS_SETUP)."""
    ws = impl.Workspace()
    for t in range(3):
        ws.set("x", t, torch.full((4, 2), float(t)))
        ws.set("env/done", t, torch.tensor([False, t == 1, False, False]))
    return ws


@dataclass(frozen=True)
class Case:
    """One bad call: `call(target)` must raise `exc`, and its message name every item of
    `mention` (a token, or a tuple of alternative tokens; see `_assertions.missing_mentions`)."""

    clause_id: str
    exc: type[BaseException]
    code: str
    call: Callable[[Any], object]
    mention: tuple[str | tuple[str, ...], ...]


#: each bad call with the tokens its message must name (ERR-6): the variable or argument,
#: what was expected and what was given, where the spec fixes them (a tuple: one of them)
WORKSPACE_CASES: dict[str, Case] = {
    "get-negative-t": Case(
        "ERR-2",
        IndexError,
        "ws.get('x', -1)",
        lambda ws: ws.get("x", -1),
        ("x", "-1"),
    ),
    "get-t-too-large": Case(
        "ERR-2",
        IndexError,
        "ws.get('x', 3)",
        lambda ws: ws.get("x", 3),
        ("x", "3"),
    ),
    "set-negative-t": Case(
        "ERR-2",
        IndexError,
        "ws.set('x', -1, torch.zeros(4, 2))",
        lambda ws: ws.set("x", -1, torch.zeros(4, 2)),
        ("x", "-1"),
    ),
    "get-unknown": Case(
        "ERR-3",
        KeyError,
        "ws.get('zz', 0)",
        lambda ws: ws.get("zz", 0),
        ("zz",),
    ),
    "get-full-unknown": Case(
        "ERR-3",
        KeyError,
        "ws.get_full('zz')",
        lambda ws: ws.get_full("zz"),
        ("zz",),
    ),
    "getitem-unknown": Case(
        "ERR-3",
        KeyError,
        "ws['zz']",
        lambda ws: ws["zz"],
        ("zz",),
    ),
    "clear-unknown": Case(
        "ERR-3",
        KeyError,
        "ws.clear('zz')",
        lambda ws: ws.clear("zz"),
        ("zz",),
    ),
    "set-list": Case(
        "ERR-4",
        TypeError,
        "ws.set('y', 0, [1.0, 2.0, 3.0, 4.0])",
        lambda ws: ws.set("y", 0, [1.0, 2.0, 3.0, 4.0]),
        ("y", "list"),
    ),
    "set-numpy": Case(
        "ERR-4",
        TypeError,
        "ws.set('y', 0, numpy.zeros(4))",
        lambda ws: ws.set("y", 0, np.zeros(4)),
        ("y", ("ndarray", "numpy")),
    ),
    "set-0-dim": Case(
        "ERR-4",
        ValueError,
        "ws.set('y', 0, torch.tensor(1.0))",
        lambda ws: ws.set("y", 0, torch.tensor(1.0)),
        ("y", ("0", "scalar")),
    ),
    "set-full-list": Case(
        "ERR-4",
        TypeError,
        "ws.set_full('y', [[0.0] * 4])",
        lambda ws: ws.set_full("y", [[0.0] * 4]),
        ("y", "list"),
    ),
    "set-full-1-dim": Case(
        "ERR-4",
        ValueError,
        "ws.set_full('y', torch.zeros(4))",
        lambda ws: ws.set_full("y", torch.zeros(4)),
        ("y", ("1", "4")),
    ),
    "set-batch-size": Case(
        "WS-4",
        ValueError,
        "ws.set('y', 0, torch.zeros(6))",
        lambda ws: ws.set("y", 0, torch.zeros(6)),
        ("y", "4", "6"),
    ),
    "set-full-batch-size": Case(
        "WS-4",
        ValueError,
        "ws.set_full('x', torch.zeros(3, 6, 2))",
        lambda ws: ws.set_full("x", torch.zeros(3, 6, 2)),
        ("x", "4", "6"),
    ),
    "set-item-shape": Case(
        "WS-5",
        ValueError,
        "ws.set('x', 1, torch.zeros(4, 3))",
        lambda ws: ws.set("x", 1, torch.zeros(4, 3)),
        ("x", "2", "3"),
    ),
    "set-dtype": Case(
        "WS-5",
        TypeError,
        "ws.set('x', 1, torch.zeros((4, 2), dtype=torch.float64))",
        lambda ws: ws.set("x", 1, torch.zeros((4, 2), dtype=torch.float64)),
        ("x", "float32", ("float64", "double")),
    ),
    "set-grow-dtype": Case(
        "WS-5",
        TypeError,
        "ws.set('env/done', 5, torch.zeros(4, dtype=torch.int64))",
        lambda ws: ws.set("env/done", 5, torch.zeros(4, dtype=torch.int64)),
        ("env/done", "bool", ("int64", "long")),
    ),
    "copy-n-too-large": Case(
        "WS-17",
        ValueError,
        "ws.copy_n_last_steps(4)",
        lambda ws: ws.copy_n_last_steps(4),
        ("n", "4", "3"),
    ),
    "copy-n-negative": Case(
        "WS-17",
        ValueError,
        "ws.copy_n_last_steps(-1, var_names=['x'])",
        lambda ws: ws.copy_n_last_steps(-1, var_names=["x"]),
        ("n", "-1"),
    ),
    "copy-unknown-name": Case(
        "WS-17",
        KeyError,
        "ws.copy_n_last_steps(1, var_names=['x', 'zz'])",
        lambda ws: ws.copy_n_last_steps(1, var_names=["x", "zz"]),
        ("zz",),
    ),
    "transitions-unknown-filter": Case(
        "TR-6",
        KeyError,
        "ws.get_transitions(filter_key='my/flag')",
        lambda ws: ws.get_transitions(filter_key="my/flag"),
        ("my/flag",),
    ),
    "transitions-filter-dtype": Case(
        "TR-6",
        TypeError,
        "ws.get_transitions(filter_key='x')  # float32 [3, 4, 2]",
        lambda ws: ws.get_transitions(filter_key="x"),
        ("x", "bool", ("float32", "float")),
    ),
    # WS-30, WS-33, WS-36: the index and time-range errors name the argument, the bound and the
    # value given (the batch size is 4 and the time size 3)
    "select-batch-out-of-range": Case(
        "WS-30",
        IndexError,
        "ws.select_batch(torch.tensor([0, 5]))",
        lambda ws: ws.select_batch(torch.tensor([0, 5])),
        (("index", "batch_indexes"), ("4", "3"), "5"),  # B = 4, or the largest position 3
    ),
    "select-batch-mask-length": Case(
        "WS-30",
        ValueError,
        "ws.select_batch(torch.tensor([True, False, True]))",
        lambda ws: ws.select_batch(torch.tensor([True, False, True])),
        (("index", "batch_indexes", "mask"), "4", "3"),
    ),
    "select-batch-list": Case(
        "WS-30",
        TypeError,
        "ws.select_batch([0, 1])",
        lambda ws: ws.select_batch([0, 1]),
        (("index", "batch_indexes"), ("Tensor", "tensor"), "list"),
    ),
    "subtime-beyond-T": Case(
        "WS-33",
        IndexError,
        "ws.subtime(0, 9)",
        lambda ws: ws.subtime(0, 9),
        ("to_t", "3", "9"),
    ),
    "select-subtime-beyond-T": Case(
        "WS-36",
        IndexError,
        "ws.select_subtime(torch.tensor([0, 1, 0, 2]), 2)  # t[3] + 2 = 4 > 3",
        lambda ws: ws.select_subtime(torch.tensor([0, 1, 0, 2]), 2),
        ("t", "3", ("2", "4")),
    ),
    "select-subtime-list": Case(
        "WS-36",
        TypeError,
        "ws.select_subtime([0, 1, 0, 0], 2)",
        lambda ws: ws.select_subtime([0, 1, 0, 0], 2),
        ("t", ("Tensor", "tensor"), "list"),
    ),
}


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(key, marks=clause(case.clause_id, "ERR-5", "ERR-6"), id=key)
        for key, case in WORKSPACE_CASES.items()
    ],
)
def test_workspace_bad_input(impl: Any, key: str) -> None:
    case = WORKSPACE_CASES[key]
    ws = _workspace(impl)
    before = observe_workspace(ws)
    sizes = (ws.time_size(), ws.batch_size())
    repro = WS_SETUP + case.code
    exc = expect_raises(case.exc, case.clause_id, case.code, lambda: case.call(ws), repro)
    expect_message(exc, "ERR-6", case.code, case.mention, repro)
    after = observe_workspace(ws)
    expect(
        same_contents(before, after) and (ws.time_size(), ws.batch_size()) == sizes,
        "ERR-5",
        f"{case.code} raised but changed the workspace: before {before} (T, B) = {sizes}, "
        f"after {after} (T, B) = {(ws.time_size(), ws.batch_size())}",
        raising(repro, case.exc) + "\nprint({k: ws.get_full(k) for k in ws.keys()})",
    )


@clause("TR-7", "ERR-5", "ERR-6")
def test_transitions_mixed_time_sizes_message(impl: Any) -> None:
    ws = _workspace(impl)
    ws.set("short", 0, torch.zeros(4))
    before = observe_workspace(ws)
    code = "ws.set('short', 0, torch.zeros(4))\nws.get_transitions()"
    exc = expect_raises(ValueError, "TR-7", code, ws.get_transitions, WS_SETUP + code)
    expect_message(exc, "ERR-6", code, ("short", "1", "3"), WS_SETUP + code)
    expect(
        same_contents(before, observe_workspace(ws)),
        "ERR-5",
        "get_transitions() raised but changed the workspace",
        raising(WS_SETUP + code, ValueError) + "\nprint({k: ws.get_full(k) for k in ws.keys()})",
    )


#: bad calls that an empty workspace (new, or emptied by clear()) must reject without taking
#: anything from them: no batch size, no variable, no time size
EMPTY_CASES: list[tuple[str, type[BaseException], str, Callable[[Any], object]]] = [
    (
        "ERR-2",
        IndexError,
        "ws.set('x', -1, torch.zeros(5))",
        lambda ws: ws.set("x", -1, torch.zeros(5)),
    ),
    ("ERR-4", TypeError, "ws.set('x', 0, [0.0] * 5)", lambda ws: ws.set("x", 0, [0.0] * 5)),
    (
        "ERR-4",
        ValueError,
        "ws.set('x', 0, torch.tensor(5.0))",
        lambda ws: ws.set("x", 0, torch.tensor(5.0)),
    ),
    (
        "ERR-4",
        TypeError,
        "ws.set_full('x', numpy.zeros((2, 5)))",
        lambda ws: ws.set_full("x", np.zeros((2, 5))),
    ),
    (
        "ERR-4",
        ValueError,
        "ws.set_full('x', torch.zeros(5))",
        lambda ws: ws.set_full("x", torch.zeros(5)),
    ),
    ("ERR-3", KeyError, "ws.get('x', 0)", lambda ws: ws.get("x", 0)),
    ("ERR-3", KeyError, "ws.get_full('x')", lambda ws: ws.get_full("x")),
    ("ERR-3", KeyError, "ws.clear('x')", lambda ws: ws.clear("x")),
    ("WS-17", ValueError, "ws.copy_n_last_steps(-1)", lambda ws: ws.copy_n_last_steps(-1)),
    (
        "WS-17",
        KeyError,
        "ws.copy_n_last_steps(0, var_names=['x'])",
        lambda ws: ws.copy_n_last_steps(0, var_names=["x"]),
    ),
    ("TR-6", KeyError, "ws.get_transitions()", lambda ws: ws.get_transitions()),
]


def _empty_state(ws: Any) -> object:
    """(keys, time_size(), batch_size()), or the error that reading them raised."""
    try:
        return (sorted(ws.keys()), ws.time_size(), ws.batch_size())
    except Exception as exc:
        return f"an error: {type(exc).__name__}: {exc}"


@clause("ERR-5", "ERR-2", "ERR-3", "ERR-4", "WS-17", "TR-6", "WS-1", "WS-4")
@pytest.mark.parametrize("history", ["new", "cleared"])
def test_failed_calls_leave_an_empty_workspace_empty(impl: Any, history: str) -> None:
    """State after failure on an empty workspace: a rejected call fixes no batch size and
    creates no variable, so the workspace still takes the first write of any batch size."""
    setup = "import numpy, torch\nws = impl.Workspace()\n"
    if history == "cleared":
        setup += "ws.set('y', 0, torch.zeros(3, 2))\nws.clear()\n"
    for clause_id, exc_type, code, call in EMPTY_CASES:
        ws = impl.Workspace()
        if history == "cleared":
            ws.set("y", 0, torch.zeros(3, 2))
            ws.clear()
        expect_raises(
            exc_type,
            clause_id,
            f"{code} on an empty workspace",
            functools.partial(call, ws),
            setup + code,
        )
        state = _empty_state(ws)
        expect(
            state == ([], 0, 0),
            "ERR-5",
            f"{code} raised on an empty workspace but left (keys, time_size(), batch_size()) = "
            f"{state}, expected ([], 0, 0)",
            setup
            + raising(code, exc_type)
            + "\nassert (list(ws.keys()), ws.time_size(), ws.batch_size()) == ([], 0, 0), "
            "(list(ws.keys()), ws.time_size(), ws.batch_size())",
        )
        for batch in (2, 7):  # any first batch size, then the workspace is bound to it
            fresh = impl.Workspace() if batch == 7 else ws
            try:
                fresh.set("z", 0, torch.zeros(batch))
                problem = None
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            expect(
                problem is None,
                "ERR-5",
                f"after the rejected {code}, ws.set('z', 0, torch.zeros({batch})) raised "
                f"{problem}: the failed call fixed something",
                setup + f"try:\n    {code}\nexcept Exception:\n    pass\n"
                f"ws.set('z', 0, torch.zeros({batch}))",
            )


@clause("ERR-2", "WS-2")
def test_time_index_bounds_on_both_sides(impl: Any) -> None:
    """get(name, t) raises IndexError exactly outside 0..T-1 (t = -1 and t = T, and further),
    and returns row t inside (t = 0 and t = T-1); set(name, t, v) raises for t < 0 only."""
    for size in (1, 2, 4):
        ws = impl.Workspace()
        rows = torch.arange(size * 3).reshape(size, 3)
        ws.set_full("x", rows)
        setup = (
            "import torch\nws = impl.Workspace()\n"
            f"ws.set_full('x', torch.arange({size * 3}).reshape({size}, 3))\n"
        )
        for t in (-size - 1, -1, 0, size - 1, size, size + 1):
            code = f"ws.get('x', {t})"
            if 0 <= t < size:
                expect_equal_tensors(
                    ws.get("x", t),
                    rows[t],
                    "WS-2",
                    f"{code} with T={size}",
                    setup + f"print({code})",
                )
            else:
                exc = expect_raises(
                    IndexError,
                    "ERR-2",
                    f"{code} with T={size}",
                    functools.partial(ws.get, "x", t),
                    setup + code,
                )
                expect_message(exc, "ERR-6", code, ("x", str(t)), setup + code)
        code = "ws.set('x', -1, torch.zeros(3, dtype=torch.int64))"
        expect_raises(
            IndexError,
            "ERR-2",
            code,
            functools.partial(ws.set, "x", -1, torch.zeros(3, dtype=torch.int64)),
            setup + code,
        )


@clause("ERR-3")
def test_names_that_are_not_variables(impl: Any) -> None:
    """A cleared name, a prefix or an extension of a name, another case, the empty name:
    get, get_full, [] and clear raise KeyError for each."""
    ws = impl.Workspace()
    for name in ("env/done", "x", "gone"):
        ws.set(name, 0, torch.zeros(2))
    ws.clear("gone")
    setup = (
        "import torch\nws = impl.Workspace()\nfor name in ('env/done', 'x', 'gone'):\n"
        "    ws.set(name, 0, torch.zeros(2))\nws.clear('gone')\n"
    )
    for name in ("gone", "env", "env/done/", "env/don", "X", ""):
        for code, call in (
            (f"ws.get({name!r}, 0)", functools.partial(ws.get, name, 0)),
            (f"ws.get_full({name!r})", functools.partial(ws.get_full, name)),
            (f"ws[{name!r}]", functools.partial(ws.__getitem__, name)),
            (f"ws.clear({name!r})", functools.partial(ws.clear, name)),
        ):
            expect_raises(KeyError, "ERR-3", code, call, setup + code)


@clause("ERR-4")
def test_values_that_are_not_tensors_or_lack_dimensions(impl: Any) -> None:
    """Both sides of ERR-4: non-tensors (list, tuple, numpy array, number, None) raise
    TypeError from set and set_full; set takes 1 dimension and up, set_full 2 and up."""
    setup = "import numpy, torch\nws = impl.Workspace()\n"
    values: dict[str, object] = {
        "[0.0, 0.0]": [0.0, 0.0],
        "(0, 0)": (0, 0),
        "numpy.zeros(2)": np.zeros(2),
        "0.0": 0.0,
        "None": None,
    }
    for shown, value in values.items():
        for code, call in (
            (f"ws.set('x', 0, {shown})", functools.partial(impl.Workspace().set, "x", 0, value)),
            (
                f"ws.set_full('x', {shown})",
                functools.partial(impl.Workspace().set_full, "x", value),
            ),
        ):
            expect_raises(TypeError, "ERR-4", code, call, setup + code)
    cases = [
        ("set", torch.tensor(1.0), False),
        ("set", torch.zeros(2), True),
        ("set_full", torch.tensor(1.0), False),
        ("set_full", torch.zeros(2), False),
        ("set_full", torch.zeros(1, 2), True),
    ]
    for method, value, accepted in cases:
        ws = impl.Workspace()
        shown = f"torch.zeros({tuple(value.shape)})"
        code = f"ws.{method}('x', {'0, ' if method == 'set' else ''}{shown})"
        call = (
            functools.partial(ws.set, "x", 0, value)
            if method == "set"
            else functools.partial(ws.set_full, "x", value)
        )
        if accepted:
            try:
                call()
                problem = None
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            expect(
                problem is None,
                "ERR-4",
                f"{code} ({value.dim()} dimensions) raised {problem}",
                setup + code,
            )
        else:
            expect_raises(
                ValueError, "ERR-4", f"{code} ({value.dim()} dimensions)", call, setup + code
            )


# -- replay buffer --------------------------------------------------------------------------

RB_SETUP = (
    "import torch\n"
    "def items(first, n, T=2, obs_shape=(3,), obs_dtype=torch.float32, extra=False, flag=True):\n"
    "    ids = torch.arange(first, first + n)\n"
    "    ws = impl.Workspace()\n"
    "    ws.set_full('id', torch.stack([ids * 10 + k for k in range(T)]))\n"
    "    ws.set_full('obs', torch.zeros((T, n, *obs_shape), dtype=obs_dtype))\n"
    "    if flag:\n"
    "        ws.set_full('flag', torch.zeros((T, n), dtype=torch.bool))\n"
    "    if extra:\n"
    "        ws.set_full('more', torch.zeros(T, n))\n"
    "    return ws\n"
    "rb = impl.ReplayBuffer(5)\n"
    "rb.put(items(0, 4))\n"
)


def _items(
    impl: Any,
    first: int,
    n: int,
    time_size: int = 2,
    obs_shape: tuple[int, ...] = (3,),
    obs_dtype: torch.dtype = torch.float32,
    extra: bool = False,
    flag: bool = True,
) -> Any:
    """The same as `items` in RB_SETUP."""
    ids = torch.arange(first, first + n)
    ws = impl.Workspace()
    ws.set_full("id", torch.stack([ids * 10 + k for k in range(time_size)]))
    ws.set_full("obs", torch.zeros((time_size, n, *obs_shape), dtype=obs_dtype))
    if flag:
        ws.set_full("flag", torch.zeros((time_size, n), dtype=torch.bool))
    if extra:
        ws.set_full("more", torch.zeros(time_size, n))
    return ws


def _stored_ids(rb: Any) -> tuple[int, set[int]]:
    size = int(rb.size())
    if size == 0:
        return 0, set()
    return size, {int(i) // 10 for i in rb.get_shuffled(40 * size)["id"][0].tolist()}


Mention = tuple[str | tuple[str, ...], ...]
RB_CASES: dict[str, tuple[str, type[BaseException], str, Callable[[Any, Any], object], Mention]] = {
    "put-missing": (
        "RB-6",
        KeyError,
        "rb.put(items(4, 2, flag=False))",
        lambda impl, rb: rb.put(_items(impl, 4, 2, flag=False)),
        ("flag",),
    ),
    "put-extra": (
        "RB-6",
        KeyError,
        "rb.put(items(4, 2, extra=True))",
        lambda impl, rb: rb.put(_items(impl, 4, 2, extra=True)),
        ("more",),
    ),
    "put-item-shape": (
        "RB-6",
        ValueError,
        "rb.put(items(4, 2, obs_shape=(4,)))",
        lambda impl, rb: rb.put(_items(impl, 4, 2, obs_shape=(4,))),
        ("obs", "3", "4"),
    ),
    "put-time-size": (
        "RB-6",
        ValueError,
        "rb.put(items(4, 2, T=3))",
        lambda impl, rb: rb.put(_items(impl, 4, 2, time_size=3)),
        (("time", "T"), "2", "3"),
    ),
    "put-dtype": (
        "RB-6",
        TypeError,
        "rb.put(items(4, 2, obs_dtype=torch.float64))",
        lambda impl, rb: rb.put(_items(impl, 4, 2, obs_dtype=torch.float64)),
        ("obs", "float32", ("float64", "double")),
    ),
    "get-shuffled-zero": (
        "RB-10",
        ValueError,
        "rb.get_shuffled(0)",
        lambda impl, rb: rb.get_shuffled(0),
        ("batch_size", "0"),
    ),
    "get-shuffled-negative": (
        "RB-10",
        ValueError,
        "rb.get_shuffled(-3)",
        lambda impl, rb: rb.get_shuffled(-3),
        ("batch_size", "-3"),
    ),
    "get-shuffled-generator-int": (
        "RB-21",
        TypeError,
        "rb.get_shuffled(2, generator=3)",
        lambda impl, rb: rb.get_shuffled(2, generator=3),
        ("generator", "Generator", "int"),
    ),
    "to-float-device": (
        "RB-17",
        TypeError,
        "rb.to(1.5)",
        lambda impl, rb: rb.to(1.5),
        (("device", "d"), "float"),
    ),
}


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(key, marks=clause(case[0], "ERR-5", "ERR-6"), id=key)
        for key, case in RB_CASES.items()
    ],
)
def test_replay_buffer_bad_input(impl: Any, key: str) -> None:
    clause_id, exc_type, code, call, mention = RB_CASES[key]
    rb = impl.ReplayBuffer(5)
    rb.put(_items(impl, 0, 4))
    before = _stored_ids(rb)
    repro = RB_SETUP + code
    exc = expect_raises(exc_type, clause_id, code, functools.partial(call, impl, rb), repro)
    expect_message(exc, "ERR-6", code, mention, repro)
    after = _stored_ids(rb)
    expect(
        before == after,
        "ERR-5",
        f"{code} raised but changed the buffer: (size, stored ids) before {before}, after {after}",
        raising(repro, exc_type) + "\nprint(rb.size(), sorted({int(i) // 10 for i in "
        "rb.get_shuffled(200)['id'][0]}))",
    )


@clause("RB-1", "RB-10", "ERR-5", "ERR-6")
def test_replay_buffer_argument_messages(impl: Any) -> None:
    exc = expect_raises(
        ValueError,
        "RB-1",
        "ReplayBuffer(0)",
        functools.partial(impl.ReplayBuffer, 0),
        "impl.ReplayBuffer(0)",
    )
    expect_message(exc, "ERR-6", "ReplayBuffer(0)", ("max_size", "0"), "impl.ReplayBuffer(0)")
    rb = impl.ReplayBuffer(3)
    exc = expect_raises(
        ValueError,
        "RB-10",
        "get_shuffled(2) on an empty buffer",
        functools.partial(rb.get_shuffled, 2),
        "rb = impl.ReplayBuffer(3)\nrb.get_shuffled(2)",
    )
    expect(
        rb.size() == 0,
        "ERR-5",
        f"get_shuffled on an empty buffer raised but size() is now {rb.size()}",
        raising("rb = impl.ReplayBuffer(3)\nrb.get_shuffled(2)", ValueError) + "\nprint(rb.size())",
    )


# -- env agent ------------------------------------------------------------------------------


def _agent_setup(seeded: bool) -> str:
    return (
        "import functools, torch\n"
        "make = functools.partial(impl.make_env, 'CartPole-v1')\n"
        f"agent = impl.ParallelGymAgent(make, 2){'.seed(3)' if seeded else ''}\n"
        "agent(impl.Workspace(), t=0)\n"
    )


def _started_agent(impl: Any, seeded: bool = True) -> Any:
    """A 2-env CartPole agent after its call at t = 0; seeded or never seeded (the spec leaves
    the seeds of an unseeded agent open, not its errors)."""
    agent = impl.ParallelGymAgent(functools.partial(impl.make_env, "CartPole-v1"), 2)
    if seeded:
        agent.seed(3)
    agent(impl.Workspace(), t=0)
    return agent


SEEDED = pytest.mark.parametrize("seeded", [True, False], ids=["seeded", "unseeded"])


@clause("ERR-7")
def test_env_agent_bad_arguments(impl: Any) -> None:
    make = functools.partial(impl.make_env, "CartPole-v1")
    setup = "import functools\nmake = functools.partial(impl.make_env, 'CartPole-v1')\n"
    for num_envs in (0, -2):
        code = f"impl.ParallelGymAgent(make, {num_envs})"
        exc = expect_raises(
            ValueError,
            "ERR-7",
            code,
            functools.partial(impl.ParallelGymAgent, make, num_envs),
            setup + code,
        )
        expect_message(exc, "ERR-6", code, ("num_envs", str(num_envs)), setup + code)
    agent = impl.ParallelGymAgent(make, 2)
    code = "impl.ParallelGymAgent(make, 2).seed(-1)"
    exc = expect_raises(ValueError, "ERR-7", code, functools.partial(agent.seed, -1), setup + code)
    expect_message(exc, "ERR-6", code, ("seed", "-1"), setup + code)


@clause("ERR-7", "ERR-5")
@SEEDED
def test_env_agent_action_batch_size(impl: Any, seeded: bool) -> None:
    agent = _started_agent(impl, seeded)
    setup = _agent_setup(seeded)
    ws = impl.Workspace()
    ws.set("action", 0, torch.zeros(3, dtype=torch.int64))
    before = observe_workspace(ws)
    code = (
        "ws = impl.Workspace()\nws.set('action', 0, torch.zeros(3, dtype=torch.int64))\n"
        "agent(ws, t=1)"
    )
    exc = expect_raises(
        ValueError,
        "ERR-7",
        "ParallelGymAgent(make, 2) called at t=1 on a workspace whose action row 0 has batch "
        "size 3",
        lambda: agent(ws, t=1),
        setup + code,
    )
    expect_message(exc, "ERR-6", "the action batch-size error", ("action", "2", "3"), setup + code)
    expect(
        same_contents(before, observe_workspace(ws)),
        "ERR-5",
        "the rejected env-agent call changed the workspace: "
        f"keys before {sorted(before)}, after {sorted(ws.keys())}",
        raising(setup + code, ValueError) + "\nprint({k: ws.get_full(k) for k in ws.keys()})",
    )


@clause("ERR-8", "ERR-5")
@SEEDED
def test_env_agent_missing_action(impl: Any, seeded: bool) -> None:
    agent = _started_agent(impl, seeded)
    setup = _agent_setup(seeded)
    ws = impl.Workspace()
    code = "ws = impl.Workspace()\nagent(ws, t=1)"
    exc = expect_raises(
        KeyError,
        "ERR-8",
        "ParallelGymAgent(make, 2) called at t=1 on a workspace without 'action'",
        lambda: agent(ws, t=1),
        setup + code,
    )
    expect_message(exc, "ERR-6", "the missing-action error", ("action",), setup + code)
    expect(
        list(ws.keys()) == [],
        "ERR-5",
        f"the rejected env-agent call wrote {sorted(ws.keys())} into the workspace",
        raising(setup + code, KeyError) + "\nprint(list(ws.keys()))",
    )


# -- python -O ------------------------------------------------------------------------------

OPTIMIZED_SCRIPT = """
import importlib, json, sys
import torch
impl = importlib.import_module(sys.argv[1])
ws = impl.Workspace()
ws.set('x', 0, torch.zeros(4, 2))
calls = {
    'get unknown': lambda: ws.get('zz', 0),
    'get t >= T': lambda: ws.get('x', 1),
    'get t < 0': lambda: ws.get('x', -1),
    'set batch size': lambda: ws.set('y', 0, torch.zeros(3)),
    'set item shape': lambda: ws.set('x', 1, torch.zeros(4, 3)),
    'set dtype': lambda: ws.set('x', 1, torch.zeros((4, 2), dtype=torch.int64)),
    'copy n > T': lambda: ws.copy_n_last_steps(2),
}
if 'RB' in sys.argv[2].split(','):  # the replay buffer's area is claimed
    rb = impl.ReplayBuffer(3)
    calls['get_shuffled empty'] = lambda: rb.get_shuffled(1)
out = {}
for name, call in calls.items():
    try:
        call()
        out[name] = None
    except Exception as exc:
        out[name] = [c.__name__ for c in type(exc).__mro__]
print(json.dumps(out))
"""

OPTIMIZED_EXPECTED = {
    "get unknown": "KeyError",
    "get t >= T": "IndexError",
    "get t < 0": "IndexError",
    "set batch size": "ValueError",
    "set item shape": "ValueError",
    "set dtype": "TypeError",
    "copy n > T": "ValueError",
    "get_shuffled empty": "ValueError",
}


@clause("ERR-1")
def test_errors_survive_python_optimize(impl: Any) -> None:
    module = str(getattr(impl, "module_name", None) or impl.__name__)
    areas = ",".join(getattr(impl, "areas", ("WS", "RB")))
    proc = subprocess.run(
        [sys.executable, "-O", "-c", OPTIMIZED_SCRIPT, module, areas],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    repro = (
        "import os, subprocess, sys\n"
        f"SCRIPT = {textwrap.dedent(OPTIMIZED_SCRIPT)!r}\n"
        "env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))  # finds impl as we do\n"
        f"run = subprocess.run([sys.executable, '-O', '-c', SCRIPT, impl.__name__, {areas!r}], "
        "capture_output=True, text=True, env=env)\n"
        "print(run.returncode, run.stdout, run.stderr[-2000:])"
    )
    expect(
        proc.returncode == 0,
        "ERR-1",
        f"the python -O script failed (rc={proc.returncode}): {proc.stderr[-2000:]}",
        repro,
    )
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = {
        name: want
        for name, want in OPTIMIZED_EXPECTED.items()
        if "RB" in areas.split(",") or not name.startswith("get_shuffled")
    }
    wrong = {
        name: results.get(name)
        for name, want in expected.items()
        if results.get(name) is None or want not in results[name]
    }
    expect(
        not wrong,
        "ERR-1",
        "under python -O these bad calls did not raise the builtin type the spec names "
        f"(expected {expected}): got {wrong} (None: nothing raised; else the MRO)",
        repro,
    )
