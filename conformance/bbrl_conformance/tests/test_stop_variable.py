"""Conformance tests of spec/agents.md TA-6..TA-8: the stop variable's dtypes and truth rule,
what is checked before the first step, and what only after a step.

A ``Writer`` agent writes the stop rows the test chooses, so the step at which a run must stop
is known from the clauses: the first ``t`` whose row is nonzero everywhere. It is exec'd from
``WRITER_SOURCE``, the code the reproducers print.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bbrl_conformance._assertions import expect, expect_raises
from bbrl_conformance._clauses import clause

STOP_DTYPES = [
    torch.bool,
    torch.uint8,
    torch.int8,
    torch.int16,
    torch.int32,
    torch.int64,
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
]
NAN = float("nan")


#: writes ``stop[t] = rows[t]`` (as ``dtype``) and ``x[t] = t``; logs ``t`` in ``calls``
WRITER_SOURCE = """\
class Writer(impl.Agent):
    def forward(self, t, **kwargs):
        if t >= 50:
            raise RuntimeError(f"runaway TemporalAgent: called at t={t}")
        calls.append(t)
        self.set(("x", t), torch.full((len(rows[0]),), float(t)))
        self.set(("stop", t), torch.tensor(rows[min(t, len(rows) - 1)]).to(dtype))
"""


def writer(impl: Any, rows: list[list[float]], dtype: torch.dtype, calls: list[int]) -> Any:
    """A ``Writer`` of WRITER_SOURCE: ``stop[t] = rows[t]`` as ``dtype``, ``t`` logged in
    ``calls``."""
    scope: dict[str, Any] = {"impl": impl, "torch": torch, "rows": rows, "dtype": dtype}
    scope["calls"] = calls
    exec(WRITER_SOURCE, scope)
    return scope["Writer"]()


def writer_source(rows: list[list[float]], dtype: torch.dtype) -> str:
    """The reproducer's lines that define what ``writer(impl, rows, dtype, calls)`` builds."""
    rows_code = repr(rows).replace("nan", "float('nan')")
    return f"import torch\nrows = {rows_code}\ndtype = {dtype}\ncalls = []\n" + WRITER_SOURCE


def _rows(dtype: torch.dtype) -> tuple[list[list[float]], int]:
    """Stop rows with zeros (and -0.0) before a row of nonzero values; the stopping t."""
    if dtype == torch.bool:
        return [[0, 0], [1, 0], [0, 1], [1, 1]], 3
    if not dtype.is_floating_point:
        low = -1 if dtype != torch.uint8 else 1
        return [[0, 0], [3, 0], [0, low], [low, 7]], 3
    return [[-0.0, 0.0], [0.5, -0.0], [NAN, 0.0], [NAN, -2.5], [1, 1]], 3


@clause("TA-2", "TA-6")
@pytest.mark.parametrize("dtype", STOP_DTYPES, ids=lambda d: str(d).removeprefix("torch."))
def test_stop_when_every_entry_is_nonzero(impl: Any, dtype: torch.dtype) -> None:
    rows, stop_at = _rows(dtype)
    calls: list[int] = []
    ws = impl.Workspace()
    repro = writer_source(rows, dtype) + (
        "impl.TemporalAgent(Writer())(impl.Workspace(), stop_variable='stop')\n"
        f"print(calls)  # want {list(range(stop_at + 1))}"
    )
    try:
        impl.TemporalAgent(writer(impl, rows, dtype, calls))(ws, stop_variable="stop")
    except Exception as exc:
        expect(
            False,
            "TA-6",
            f"a run with a {dtype} stop variable raised {type(exc).__name__}: {exc}",
            repro,
        )
    expect(
        calls == list(range(stop_at + 1)),
        "TA-6",
        f"stop rows {rows} as {dtype}: the run called t = {calls}; it should stop after "
        f"t = {stop_at}, the first row with every entry nonzero (NaN is nonzero, -0.0 is zero)",
        repro,
    )


#: item shapes of a stop variable, ranks 0 to 2: TA-2's "every element of the item"
ITEM_SHAPES = [(), (1,), (3,), (2, 2)]


def _entry(dtype: torch.dtype, nonzero: bool, pick: int) -> float:
    """A zero or a nonzero entry that ``dtype`` holds exactly (NaN only in a floating dtype)."""
    if not nonzero:
        return -0.0 if dtype.is_floating_point and pick % 2 else 0.0
    if dtype.is_floating_point:
        return (1.0, -2.5, NAN)[pick % 3]
    if dtype in (torch.bool, torch.uint8):
        return (1.0, 7.0)[pick % 2]
    return (1.0, -1.0, 7.0)[pick % 3]


@clause("TA-2", "TA-6")
@given(
    shape=st.sampled_from(ITEM_SHAPES),
    batch=st.integers(1, 3),
    dtype=st.sampled_from(STOP_DTYPES),
    data=st.data(),
)
def test_stop_needs_every_element_of_every_item(
    impl: Any, shape: tuple[int, ...], batch: int, dtype: torch.dtype, data: Any
) -> None:
    """Stop rows of shape ``[B, *item]``: the run goes on while any element of any item is
    zero, and stops after the first row whose elements are all nonzero (TA-2)."""
    size = batch * int(torch.Size(shape).numel())
    flags = st.lists(st.booleans(), min_size=size, max_size=size)
    draws = data.draw(st.lists(flags, max_size=4), label="rows (True: nonzero)")
    draws.append([True] * size)  # every run ends
    stop_at = next(t for t, row in enumerate(draws) if all(row))
    picks = data.draw(st.integers(0, 5), label="pick")
    rows = [
        torch.tensor([_entry(dtype, f, picks + k) for k, f in enumerate(row)], dtype=torch.float64)
        .reshape(batch, *shape)
        .tolist()
        for row in draws
    ]
    calls: list[int] = []
    ws = impl.Workspace()
    repro = writer_source(rows, dtype) + (
        "ws = impl.Workspace()\nimpl.TemporalAgent(Writer())(ws, stop_variable='stop')\n"
        f"print(calls)  # want {list(range(stop_at + 1))}"
    )
    try:
        impl.TemporalAgent(writer(impl, rows, dtype, calls))(ws, stop_variable="stop")
    except Exception as exc:
        expect(False, "TA-2", f"the run raised {type(exc).__name__}: {exc}", repro)
    expect(
        calls == list(range(stop_at + 1)),
        "TA-2",
        f"stop rows of shape {[batch, *shape]} ({dtype}) = {rows}: the run called t = {calls}; "
        f"it should stop after t = {stop_at}, the first row with every element of every item "
        "nonzero",
        repro,
    )
    expect(
        ws.time_size() == stop_at + 1,
        "TA-2",
        f"after the run the workspace has time size {ws.time_size()}, expected {stop_at + 1} "
        f"(the row t={stop_at} that stopped the run is kept)",
        repro + "\nprint(ws.time_size())",
    )


FIBONACCI_SOURCE = """\
import torch
class Fibonacci(impl.Agent):
    def forward(self, t, **kwargs):
        value = self.get(("number", t)) + self.get(("number", t - 1))
        self.set(("number", t + 1), value)
        self.set(("stop", t + 1), torch.Tensor([float(value.item() >= 200)]))
"""


@clause("TA-2", "TA-6")
def test_notebook_01_float_stop_variable(impl: Any) -> None:
    """The Fibonacci pattern of bbrl's notebook 01: a float stop flag written at t + 1."""
    scope: dict[str, Any] = {"impl": impl, "torch": torch}
    exec(FIBONACCI_SOURCE, scope)
    ws = impl.Workspace()
    ws.set("number", 0, torch.Tensor([0]))
    ws.set("number", 1, torch.Tensor([1]))
    repro = FIBONACCI_SOURCE + (
        "ws = impl.Workspace()\nws.set('number', 0, torch.Tensor([0]))\n"
        "ws.set('number', 1, torch.Tensor([1]))\n"
        "impl.TemporalAgent(Fibonacci())(ws, t=1, stop_variable='stop')\n"
        "print(ws.get_full('number')[:, 0].tolist())  # want 15 numbers, the last 377"
    )
    try:
        impl.TemporalAgent(scope["Fibonacci"]())(ws, t=1, stop_variable="stop")
    except Exception as exc:
        expect(False, "TA-6", f"the run raised {type(exc).__name__}: {exc}", repro)
    # 0 1 1 2 3 5 8 13 21 34 55 89 144 233: 233 >= 200 is written at t = 13 by the step t = 12,
    # and read by the step t = 13, which writes row 14
    numbers = [int(x) for x in ws.get_full("number")[:, 0].tolist()]
    expect(
        numbers[-1] == 377 and len(numbers) == 15,
        "TA-6",
        f"notebook 01's Fibonacci run with a float stop variable ended with numbers {numbers}; "
        "want the run to stop after the step at t = 13 (15 numbers, the last 377)",
        repro,
    )


@clause("TA-6")
@pytest.mark.parametrize(
    "dtype", [torch.complex64, torch.complex128], ids=["complex64", "complex128"]
)
def test_other_stop_dtypes_raise(impl: Any, dtype: torch.dtype) -> None:
    calls: list[int] = []
    agent = writer(impl, [[1, 1]], dtype, calls)
    expect_raises(
        TypeError,
        "TA-6",
        f"a stop variable of dtype {dtype}",
        lambda: impl.TemporalAgent(agent)(impl.Workspace(), stop_variable="stop"),
        writer_source([[1, 1]], dtype)
        + "impl.TemporalAgent(Writer())(impl.Workspace(), stop_variable='stop')",
    )


@clause("TA-7")
def test_held_stop_variable_of_a_bad_dtype_raises_before_any_step(impl: Any) -> None:
    ws = impl.Workspace()
    ws.set("stop", 0, torch.zeros(2, dtype=torch.complex64))
    calls: list[int] = []
    agent = writer(impl, [[1, 1]], torch.bool, calls)
    repro = writer_source([[1, 1]], torch.bool) + (
        "ws = impl.Workspace()\nws.set('stop', 0, torch.zeros(2, dtype=torch.complex64))\n"
    )
    expect_raises(
        TypeError,
        "TA-7",
        "TemporalAgent(agent)(ws, stop_variable='stop') with 'stop' already complex64",
        lambda: impl.TemporalAgent(agent)(ws, stop_variable="stop"),
        repro + "impl.TemporalAgent(Writer())(ws, stop_variable='stop')",
    )
    expect(
        calls == [] and "x" not in ws,
        "TA-7",
        f"steps ran before the error: t = {calls}",
        repro + "try:\n    impl.TemporalAgent(Writer())(ws, stop_variable='stop')\n"
        "except TypeError as exc:\n    print('TypeError:', exc)\n"
        "print(calls, 'x' in ws)  # want [] False",
    )


@clause("TA-7")
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"t": -1, "n_steps": 2}, ValueError),
        ({"t": "0", "n_steps": 2}, TypeError),
        ({"t": 1.0, "n_steps": 2}, TypeError),
        ({"n_steps": 2.0}, TypeError),
        ({"stop_variable": 3}, TypeError),
        ({"n_steps": 2, "stop_variable": ["stop"]}, TypeError),
    ],
    ids=["negative-t", "str-t", "float-t", "float-n_steps", "int-stop", "list-stop"],
)
def test_bad_arguments_raise_before_any_step(
    impl: Any, kwargs: dict[str, object], error: type[Exception]
) -> None:
    calls: list[int] = []
    agent = writer(impl, [[0, 0]], torch.bool, calls)
    ws = impl.Workspace()
    repro = writer_source([[0, 0]], torch.bool) + "ws = impl.Workspace()\n"
    call = f"impl.TemporalAgent(Writer())(ws, **{kwargs!r})"
    expect_raises(
        error,
        "TA-7",
        f"TemporalAgent(agent)(ws, **{kwargs})",
        lambda: impl.TemporalAgent(agent)(ws, **kwargs),
        repro + call,
    )
    expect(
        calls == [] and list(ws.keys()) == [],
        "TA-7",
        f"steps ran: t = {calls}",
        repro + f"try:\n    {call}\nexcept {error.__name__} as exc:\n"
        f"    print('{error.__name__}:', exc)\nprint(calls, list(ws.keys()))  # want [] []",
    )


def _names_it(exc: BaseException, *parts: str) -> bool:
    text = str(exc)
    return all(part in text for part in parts)


@clause("TA-8")
def test_missing_stop_variable_raises_after_the_step(impl: Any) -> None:
    calls: list[int] = []
    agent = writer(impl, [[0, 0]], torch.bool, calls)
    ws = impl.Workspace()
    repro = writer_source([[0, 0]], torch.bool) + "ws = impl.Workspace()\n"
    call = "impl.TemporalAgent(Writer())(ws, t=2, stop_variable='halt')"
    caught = repro + f"try:\n    {call}\nexcept KeyError as exc:\n    error = exc\n"
    exc = expect_raises(
        KeyError,
        "TA-8",
        "a run whose steps never write the stop variable 'halt'",
        lambda: impl.TemporalAgent(agent)(ws, t=2, stop_variable="halt"),
        repro + call,
    )
    expect(
        calls == [2],
        "TA-8",
        f"the run called t = {calls}; want exactly the step t = 2",
        caught + "print(calls)  # want [2]",
    )
    expect(
        ws.time_size() == 3 and float(ws.get("x", 2)[0]) == 2.0,
        "TA-8",
        "the row written by the step before the error is gone",
        caught + "print(ws.time_size(), ws.get('x', 2))  # want 3 tensor([2., 2.])",
    )
    expect(
        _names_it(exc, "halt", "2"),
        "TA-8",
        f"the message {exc} names neither 'halt' nor t",
        caught + "print(str(error))  # want a message naming 'halt' and t = 2",
    )


@clause("TA-8")
def test_stop_variable_without_row_t_raises(impl: Any) -> None:
    calls: list[int] = []
    early = (
        "import torch\ncalls = []\nclass Early(impl.Agent):\n"
        "    def forward(self, t, **kwargs):\n"
        "        if t >= 50:\n"
        "            raise RuntimeError(f'runaway TemporalAgent: called at t={t}')\n"
        "        calls.append(t)\n"
        "        self.set(('stop', 0), torch.zeros(2, dtype=torch.bool))\n"
    )
    call = "impl.TemporalAgent(Early())(impl.Workspace(), t=3, stop_variable='stop')"
    caught = early + f"try:\n    {call}\nexcept IndexError as exc:\n    error = exc\n"

    class Early(impl.Agent):  # type: ignore[misc]
        def forward(self, t: int, **kwargs: Any) -> None:
            if t >= 50:  # an implementation that never reads row t would loop for ever
                raise RuntimeError(f"runaway TemporalAgent: called at t={t}")
            calls.append(t)
            self.set(("stop", 0), torch.zeros(2, dtype=torch.bool))

    exc = expect_raises(
        IndexError,
        "TA-8",
        "a run from t=3 whose steps write the stop variable at row 0 only",
        lambda: impl.TemporalAgent(Early())(impl.Workspace(), t=3, stop_variable="stop"),
        early + call,
    )
    expect(
        calls == [3],
        "TA-8",
        f"the run called t = {calls}; want exactly t = 3",
        caught + "print(calls)  # want [3]",
    )
    expect(
        _names_it(exc, "stop", "3"),
        "TA-8",
        f"the message {exc} names neither 'stop' nor t",
        caught + "print(str(error))  # want a message naming 'stop' and t = 3",
    )


@clause("TA-8")
def test_stop_variable_of_a_bad_dtype_written_by_a_step_raises(impl: Any) -> None:
    calls: list[int] = []
    agent = writer(impl, [[1, 1]], torch.complex64, calls)
    ws = impl.Workspace()
    repro = writer_source([[1, 1]], torch.complex64) + "ws = impl.Workspace()\n"
    call = "impl.TemporalAgent(Writer())(ws, stop_variable='stop')"
    caught = repro + f"try:\n    {call}\nexcept TypeError as exc:\n    error = exc\n"
    exc = expect_raises(
        TypeError,
        "TA-8",
        "a step writing a complex64 stop variable",
        lambda: impl.TemporalAgent(agent)(ws, stop_variable="stop"),
        repro + call,
    )
    expect(
        calls == [0],
        "TA-8",
        f"the run called t = {calls}; want exactly t = 0",
        caught + "print(calls)  # want [0]",
    )
    expect(
        _names_it(exc, "stop"),
        "TA-8",
        f"the message {exc} does not name 'stop'",
        caught + "print(str(error))  # want a message naming 'stop'",
    )


#: writes ``stop[t]`` (False) at t = 0 and 1 only; logs ``t`` in ``calls``
SHORT_SOURCE = """\
import torch
calls = []
class Short(impl.Agent):
    def forward(self, t, **kwargs):
        calls.append(t)
        if t < 2:
            self.set(("stop", t), torch.zeros(2, dtype=torch.bool))
"""


@clause("TA-8", "TA-1")
def test_stop_variable_is_checked_after_the_last_of_n_steps(impl: Any) -> None:
    """With n_steps=3 and a stop variable, the step at t=2 is the run's last whatever the stop
    row says, and its stop row is still checked (TA-8: after the step at t): without row 2,
    IndexError, after exactly the steps 0, 1, 2."""
    scope: dict[str, Any] = {"impl": impl}
    exec(SHORT_SOURCE, scope)
    call = "impl.TemporalAgent(Short())(impl.Workspace(), t=0, n_steps=3, stop_variable='stop')"
    run = scope["Short"]()
    exc = expect_raises(
        IndexError,
        "TA-8",
        "a 3-step run whose last step writes no row 2 of the stop variable",
        lambda: impl.TemporalAgent(run)(impl.Workspace(), t=0, n_steps=3, stop_variable="stop"),
        SHORT_SOURCE + call,
    )
    caught = SHORT_SOURCE + f"try:\n    {call}\nexcept IndexError as exc:\n    error = exc\n"
    expect(
        scope["calls"] == [0, 1, 2],
        "TA-1",
        f"the run called t = {scope['calls']}; want 0, 1, 2",
        caught + "print(calls)  # want [0, 1, 2]",
    )
    expect(
        _names_it(exc, "stop", "2"),
        "TA-8",
        f"the message {exc} names neither 'stop' nor t",
        caught + "print(str(error))  # want a message naming 'stop' and t = 2",
    )
