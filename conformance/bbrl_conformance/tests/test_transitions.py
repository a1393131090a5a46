"""Conformance tests of spec/transitions.md (TR): `Workspace.get_transitions`.

Expected values come from `_models.transitions_model`, a plain-loop model of TR-1..TR-5.
TR-10 (the epoch protocol) needs the env agent and is tested in test_epoch_loop.py.

The domains: workspaces of `T >= 1` (1 and 2 included) and `B >= 1` rows, variables of every
dtype of `_strategies.DTYPES` and item rank 0..3 with values at their dtype's extremes,
written with `set_full` or row by row with `set` (storage larger than `T`); every kind of
done mask, `filter_key` "env/done", another name, or None. The filter's wrong sides (TR-6):
every dtype but bool, shapes with extra item dimensions, a name that is not a variable. The
copies (TR-8): the result and the source are each rewritten in every way the API allows.

A failing comparison names the most specific clause: the structure of the result (names,
`[2, N, *S]`, dtype, one `N`) is TR-1; the pairs without filtering are TR-2 (values) and TR-4
(their number); with a filter, the pairs kept are TR-3. Every case holds `idx[t, b] = t*B + b`,
so a failure lists the `(t, b)` of the pairs kept against those expected.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import torch
from hypothesis import given
from hypothesis import strategies as st

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises, raising
from bbrl_conformance._clauses import clause
from bbrl_conformance._models import observe_workspace, same_contents, transitions_model
from bbrl_conformance._strategies import (
    DTYPES,
    INDEX,
    TransitionsCase,
    make_values,
    trailing_shapes,
    transitions_cases,
)


def _workspace(impl: Any, variables: dict[str, torch.Tensor]) -> Any:
    ws = impl.Workspace()
    for name, value in variables.items():
        ws.set_full(name, value)
    return ws


def _pairs(result: Any, batch: int) -> list[tuple[int, int]] | str:
    """The (t, b) of the pairs in `result`, read from its `INDEX` variable (first elements)."""
    try:
        return [divmod(int(i), batch) for i in result[INDEX][0].tolist()]
    except Exception as exc:  # the result is broken in some other way; say so, do not fail here
        return f"<unreadable: {type(exc).__name__}: {exc}>"


def _repro(case: TransitionsCase, filter_key: str | None, call: str) -> str:
    """A reproducer that builds the case, calls `call` and asserts the model's result, first
    the pairs kept as (t, b), then every variable (printing the one that differs)."""
    batch = case.batch_size
    return (
        f"{case.setup_code()}\n"
        "from bbrl_conformance._models import transitions_model\n"
        "from bbrl_conformance._strategies import values_equal\n"
        f"out = ws.{call}\n"
        f"want = transitions_model(values, {filter_key!r})\n"
        f"got_pairs = [divmod(int(i), {batch}) for i in out['idx'][0].tolist()]\n"
        f"want_pairs = [divmod(int(i), {batch}) for i in want['idx'][0].tolist()]\n"
        "assert got_pairs == want_pairs, f'pairs (t, b) kept: {got_pairs}, expected {want_pairs}'\n"
        "for name in want:\n"
        "    assert values_equal(out[name], want[name]), (name, out[name], want[name])"
    )


def _check_structure(result: Any, want: dict[str, torch.Tensor], what: str, repro: str) -> None:
    """TR-1: the same names, each `[2, N, *S]` of the source's dtype, one `N` for all."""
    __tracebackhide__ = True
    names = sorted(result.keys())
    expect(
        names == sorted(want),
        "TR-1",
        f"{what}: keys {names}, expected {sorted(want)}",
        repro,
    )
    widths: dict[str, int] = {}
    for name, expected in want.items():
        got = result[name]
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else None
        item = tuple(expected.shape[2:])
        expect(
            shape is not None and len(shape) == 2 + len(item) and shape[0] == 2,
            "TR-1",
            f"{what}: {name!r} has shape {shape if shape is not None else type(got)}, "
            f"expected [2, N, *{item}]",
            repro,
        )
        assert shape is not None  # for the type checker: expect() above failed otherwise
        expect(
            shape[2:] == item and got.dtype == expected.dtype,
            "TR-1",
            f"{what}: {name!r} is {shape} {got.dtype}, expected [2, N, *{item}] {expected.dtype}",
            repro,
        )
        widths[name] = shape[1]
    expect(
        len(set(widths.values())) <= 1,
        "TR-1",
        f"{what}: the variables do not share one N: {widths}",
        repro,
    )


def _check_pairs(
    result: Any,
    want: dict[str, torch.Tensor],
    case: TransitionsCase,
    what: str,
    count_clause: str,
    values_clause: str,
    repro: str,
) -> None:
    """The pairs kept, as (t, b), then their number (`count_clause`), then every value."""
    __tracebackhide__ = True
    batch = case.batch_size
    got_pairs, want_pairs = _pairs(result, batch), _pairs(want, batch)
    detail = f"pairs (t, b) kept: {got_pairs}\nexpected:          {want_pairs}"
    width = result[INDEX].shape[1]
    expect(
        width == want[INDEX].shape[1],
        count_clause,
        f"{what}: N = {width}, expected {want[INDEX].shape[1]}\n{detail}",
        repro,
    )
    expect(got_pairs == want_pairs, values_clause, f"{what}:\n{detail}", repro)
    for name, expected in want.items():
        expect_equal_tensors(
            result[name],
            expected,
            values_clause,
            f"{what}: values of {name!r} differ from the model (element 0 of column j is "
            "x[t, b], element 1 is x[t+1, b], for the pairs kept above)",
            repro,
            nan_equal=True,
        )


def _check_against_model(
    impl: Any, case: TransitionsCase, filter_key: str | None, call: str
) -> None:
    """get_transitions(filter_key) on the case equals the model: the structure (TR-1), then the
    unfiltered pairs (TR-4 their number, TR-2 their values), then the pairs kept (TR-3)."""
    __tracebackhide__ = True
    unfiltered = transitions_model(case.variables, None)
    result = case.build(impl).get_transitions(filter_key=filter_key)
    repro = _repro(case, filter_key, call)
    _check_structure(result, unfiltered, f"ws.{call} on {case.describe()}", repro)
    if filter_key is not None:  # first what the filter does not decide: every pair, in order
        every = case.build(impl).get_transitions(filter_key=None)
        every_call = "get_transitions(filter_key=None)"
        every_repro = _repro(case, None, every_call)
        what = f"ws.{every_call} on {case.describe()}"
        _check_structure(every, unfiltered, what, every_repro)
        _check_pairs(every, unfiltered, case, what, "TR-4", "TR-2", every_repro)
        filtered = transitions_model(case.variables, filter_key)
        what = (
            f"ws.{call} on {case.describe()}: the pair (t, b) is dropped exactly when "
            f"{filter_key}[t, b]"
        )
        _check_pairs(result, filtered, case, what, "TR-3", "TR-3", repro)
    else:
        what = f"ws.{call} on {case.describe()}"
        _check_pairs(result, unfiltered, case, what, "TR-4", "TR-2", repro)


@clause("TR-1", "TR-2", "TR-3", "TR-4")
@given(case=transitions_cases())
def test_transitions_equal_model(impl: Any, case: TransitionsCase) -> None:
    _check_against_model(impl, case, "env/done", "get_transitions()")


@clause("TR-1", "TR-2", "TR-3", "TR-4")
@given(case=transitions_cases(filter_key="my/flag", max_time=16, max_batch=6))
def test_custom_filter_key_replaces_done(impl: Any, case: TransitionsCase) -> None:
    # an env/done that would drop every pair: a custom filter_key must ignore it entirely
    case.variables["env/done"] = torch.ones((case.time_size, case.batch_size), dtype=torch.bool)
    case.sources["env/done"] = (
        f"torch.ones(({case.time_size}, {case.batch_size}), dtype=torch.bool)"
    )
    _check_against_model(impl, case, "my/flag", "get_transitions(filter_key='my/flag')")


@clause("TR-1", "TR-2", "TR-4")
@given(case=transitions_cases(max_time=16, max_batch=6))
def test_filter_key_none_keeps_every_pair(impl: Any, case: TransitionsCase) -> None:
    _check_against_model(impl, case, None, "get_transitions(filter_key=None)")
    for ws in (_workspace(impl, case.variables), case.build(impl)):
        result = ws.get_transitions(filter_key=None)
        width = result[case.filter_key].shape[1]
        want = (case.time_size - 1) * case.batch_size
        expect(
            width == want,
            "TR-4",
            f"get_transitions(filter_key=None) with T={case.time_size}, B={case.batch_size}: "
            f"N={width}, expected (T-1)*B={want}",
            case.setup_code() + "\nN = ws.get_transitions(filter_key=None)['env/done'].shape[1]"
            f"\nassert N == {want}, N",
        )


@clause("TR-2", "TR-3")
def test_hand_worked_example(impl: Any) -> None:
    # x[t, b] = 10 t + b, T=4, B=3, done at (0, 1), (1, 0) and (3, 2) (last row: drops nothing)
    x = torch.tensor([[10 * t + b for b in range(3)] for t in range(4)])
    done = torch.zeros((4, 3), dtype=torch.bool)
    done[0, 1] = done[1, 0] = done[3, 2] = True
    ws = _workspace(impl, {"x": x, "env/done": done})
    out = ws.get_transitions()["x"]
    want = torch.tensor([[0, 2, 11, 12, 20, 21, 22], [10, 12, 21, 22, 30, 31, 32]])
    expect_equal_tensors(
        out,
        want,
        "TR-3",
        "x[t, b] = 10t+b (T=4, B=3), env/done True at (0,1), (1,0), (3,2): "
        "get_transitions()['x'] should drop the pairs starting at (0,1) and (1,0) only",
        "import torch\nws = impl.Workspace()\n"
        "ws.set_full('x', torch.tensor([[10 * t + b for b in range(3)] for t in range(4)]))\n"
        "done = torch.zeros((4, 3), dtype=torch.bool)\n"
        "done[0, 1] = done[1, 0] = done[3, 2] = True\n"
        "ws.set_full('env/done', done)\nout = ws.get_transitions()['x']\n"
        "# first elements: x[t, b] = 10t+b of the pairs kept\n"
        "assert out.tolist() == [[0, 2, 11, 12, 20, 21, 22], [10, 12, 21, 22, 30, 31, 32]], out",
    )


@clause("TR-5")
@given(
    batch=st.integers(1, 5),
    trailing=trailing_shapes(),
    dtype=st.sampled_from(DTYPES),
    filter_key=st.sampled_from(["env/done", None]),
    row_wise=st.booleans(),
)
def test_time_size_one_gives_empty_pairs(
    impl: Any,
    batch: int,
    trailing: tuple[int, ...],
    dtype: torch.dtype,
    filter_key: str | None,
    row_wise: bool,
) -> None:
    obs = make_values((1, batch, *trailing), dtype, seed=0)
    ws = impl.Workspace()
    done = torch.zeros((1, batch), dtype=torch.bool)
    if row_wise:
        ws.set("obs", 0, obs[0])
        ws.set("env/done", 0, done[0])
    else:
        ws.set_full("obs", obs)
        ws.set_full("env/done", done)
    write = (
        f"ws.set('obs', 0, torch.zeros(({batch}, *{trailing}), dtype={dtype}))\n"
        f"ws.set('env/done', 0, torch.zeros({batch}, dtype=torch.bool))"
        if row_wise
        else f"ws.set_full('obs', torch.zeros((1, {batch}, *{trailing}), dtype={dtype}))\n"
        f"ws.set_full('env/done', torch.zeros((1, {batch}), dtype=torch.bool))"
    )
    repro = (
        f"import torch\nws = impl.Workspace()\n{write}\n"
        f"out = ws.get_transitions(filter_key={filter_key!r})\n"
        f"assert out['obs'].shape == {(2, 0, *trailing)} and out['obs'].dtype == {dtype}, "
        "(out['obs'].shape, out['obs'].dtype)"
    )
    out = ws.get_transitions(filter_key=filter_key)
    got = out["obs"]
    expect(
        tuple(got.shape) == (2, 0, *trailing) and got.dtype == dtype,
        "TR-5",
        f"get_transitions(filter_key={filter_key!r}) with T=1, B={batch}, S={trailing}, {dtype}: "
        f"got shape {tuple(got.shape)} {got.dtype}, expected {(2, 0, *trailing)} {dtype}",
        repro,
    )
    done = out["env/done"]
    expect(
        tuple(done.shape) == (2, 0),
        "TR-5",
        f"T=1: get_transitions()['env/done'] shape {tuple(done.shape)}, expected (2, 0)",
        repro,
    )


@clause("TR-6")
def test_filter_must_be_bool(impl: Any) -> None:
    for dtype in (torch.float32, torch.int64, torch.uint8):
        done = torch.zeros((3, 2), dtype=dtype)
        ws = _workspace(impl, {"x": torch.zeros(3, 2), "env/done": done})
        repro = (
            "import torch\nws = impl.Workspace()\nws.set_full('x', torch.zeros(3, 2))\n"
            f"ws.set_full('env/done', torch.zeros((3, 2), dtype={dtype}))\nws.get_transitions()"
        )
        expect_raises(
            TypeError,
            "TR-6",
            f"get_transitions() with env/done of dtype {dtype} (must be torch.bool)",
            ws.get_transitions,
            repro,
        )


@clause("TR-6")
def test_filter_must_be_time_by_batch(impl: Any) -> None:
    ws = _workspace(
        impl,
        {"x": torch.zeros(3, 2), "env/done": torch.zeros((3, 2, 1), dtype=torch.bool)},
    )
    expect_raises(
        ValueError,
        "TR-6",
        "get_transitions() with env/done of shape (3, 2, 1) (must be [T, B] = (3, 2))",
        ws.get_transitions,
        "import torch\nws = impl.Workspace()\nws.set_full('x', torch.zeros(3, 2))\n"
        "ws.set_full('env/done', torch.zeros((3, 2, 1), dtype=torch.bool))\nws.get_transitions()",
    )


@clause("TR-6", "ERR-5")
def test_every_wrong_filter_is_rejected(impl: Any) -> None:
    """Both sides of TR-6 for the filter: every dtype but bool raises TypeError, shapes with
    item dimensions raise ValueError (a bool [T, B] is accepted by every other test), and the
    workspace is unchanged afterwards."""
    setup = "import torch\nws = impl.Workspace()\nws.set_full('x', torch.arange(6).reshape(3, 2))\n"
    cases: list[tuple[type[BaseException], torch.Tensor, str]] = [
        (TypeError, torch.zeros((3, 2), dtype=dtype), f"torch.zeros((3, 2), dtype={dtype})")
        for dtype in DTYPES
        if dtype != torch.bool
    ]
    cases += [
        (
            ValueError,
            torch.zeros(shape, dtype=torch.bool),
            f"torch.zeros({shape}, dtype=torch.bool)",
        )
        for shape in ((3, 2, 1), (3, 2, 2), (3, 2, 1, 1))
    ]
    for exc_type, flag, code in cases:
        for row_wise in (False, True):
            ws = impl.Workspace()
            ws.set_full("x", torch.arange(6).reshape(3, 2))
            if row_wise:
                for t in range(3):
                    ws.set("my/flag", t, flag[t])
                write = f"for t, row in enumerate({code}):\n    ws.set('my/flag', t, row)\n"
            else:
                ws.set_full("my/flag", flag)
                write = f"ws.set_full('my/flag', {code})\n"
            before = observe_workspace(ws)
            call = "ws.get_transitions(filter_key='my/flag')"
            expect_raises(
                exc_type,
                "TR-6",
                f"{call} with 'my/flag' = {code} (must be a bool [T, B] = [3, 2])",
                functools.partial(ws.get_transitions, filter_key="my/flag"),
                setup + write + call,
            )
            expect(
                same_contents(before, observe_workspace(ws)),
                "ERR-5",
                f"{call} with 'my/flag' = {code} raised but changed the workspace",
                raising(setup + write + call, exc_type)
                + "\nprint(ws.get_full('x'), ws.get_full('my/flag'))",
            )


@clause("TR-6")
def test_missing_filter_key(impl: Any) -> None:
    ws = _workspace(impl, {"x": torch.zeros(3, 2)})
    repro = "import torch\nws = impl.Workspace()\nws.set_full('x', torch.zeros(3, 2))\n"
    expect_raises(
        KeyError,
        "TR-6",
        "get_transitions() on a workspace without env/done",
        ws.get_transitions,
        repro + "ws.get_transitions()",
    )
    expect_raises(
        KeyError,
        "TR-6",
        "get_transitions(filter_key='my/flag') on a workspace without 'my/flag'",
        lambda: ws.get_transitions(filter_key="my/flag"),
        repro + "ws.get_transitions(filter_key='my/flag')",
    )


@clause("TR-7")
def test_mixed_time_sizes(impl: Any) -> None:
    for short_t in (2, 4):  # one variable shorter, one longer than the filter
        for filter_key in ("env/done", None):
            ws = impl.Workspace()
            ws.set_full("env/done", torch.zeros((3, 2), dtype=torch.bool))
            ws.set_full("x", torch.zeros(3, 2))
            ws.set_full("short", torch.zeros(short_t, 2))
            expect_raises(
                ValueError,
                "TR-7",
                f"get_transitions(filter_key={filter_key!r}) with env/done and x of T=3 and "
                f"'short' of T={short_t}",
                functools.partial(ws.get_transitions, filter_key=filter_key),
                "import torch\nws = impl.Workspace()\n"
                "ws.set_full('env/done', torch.zeros((3, 2), dtype=torch.bool))\n"
                "ws.set_full('x', torch.zeros(3, 2))\n"
                f"ws.set_full('short', torch.zeros({short_t}, 2))\n"
                f"ws.get_transitions(filter_key={filter_key!r})",
            )


@clause("TR-7", "ERR-5")
def test_mixed_time_sizes_from_row_writes(impl: Any) -> None:
    """Time sizes that differ because rows were written one variable ahead of another (the
    spec's note), the filter being the shorter or the longer one: ValueError, nothing changed."""
    for ahead in ("x", "env/done"):
        for filter_key in ("env/done", None):
            ws = impl.Workspace()
            for t in range(3):
                ws.set("x", t, torch.tensor([t, -t]))
                ws.set("env/done", t, torch.tensor([False, t == 1]))
            if ahead == "x":
                ws.set("x", 3, torch.tensor([3, -3]))
            else:
                ws.set("env/done", 3, torch.tensor([True, True]))
            before = observe_workspace(ws)
            repro = (
                "import torch\nws = impl.Workspace()\nfor t in range(3):\n"
                "    ws.set('x', t, torch.tensor([t, -t]))\n"
                "    ws.set('env/done', t, torch.tensor([False, t == 1]))\n"
                + (
                    "ws.set('x', 3, torch.tensor([3, -3]))\n"
                    if ahead == "x"
                    else "ws.set('env/done', 3, torch.tensor([True, True]))\n"
                )
                + f"ws.get_transitions(filter_key={filter_key!r})"
            )
            expect_raises(
                ValueError,
                "TR-7",
                f"get_transitions(filter_key={filter_key!r}) with {ahead!r} one row ahead (T=4 "
                "beside T=3)",
                functools.partial(ws.get_transitions, filter_key=filter_key),
                repro,
            )
            expect(
                same_contents(before, observe_workspace(ws)),
                "ERR-5",
                f"get_transitions(filter_key={filter_key!r}) raised but changed the workspace",
                raising(repro, ValueError) + "\nprint({k: ws.get_full(k) for k in ws.keys()})",
            )


@clause("TR-8")
def test_keeps_autograd_and_does_not_alias(impl: Any) -> None:
    torch.manual_seed(0)
    weight = torch.randn(4, requires_grad=True)
    ws = impl.Workspace()
    done = torch.tensor([[False, True], [False, False], [True, False]])
    for t in range(3):
        ws.set("env/done", t, done[t])
        ws.set("q", t, weight[t : t + 2] * (t + 1))
    source_q = ws.get_full("q").detach().clone()
    out = ws.get_transitions()
    q = out["q"]
    repro = (
        "import torch\nweight = torch.randn(4, requires_grad=True)\nws = impl.Workspace()\n"
        "done = torch.tensor([[False, True], [False, False], [True, False]])\n"
        "for t in range(3):\n    ws.set('env/done', t, done[t])\n"
        "    ws.set('q', t, weight[t : t + 2] * (t + 1))\n"
        "q = ws.get_transitions()['q']\nq.sum().backward()\nprint(weight.grad)"
    )
    # the pairs kept first (TR-3): the gradients below are only meaningful for the right pairs
    kept = transitions_model({"q": source_q, "env/done": done})["q"]
    expect_equal_tensors(
        q.detach(),
        kept,
        "TR-3",
        "get_transitions()['q'] with env/done True at (0, 1) and (2, 0), T=3, B=2: the pairs "
        "starting at (0, 0), (1, 0), (1, 1) should be kept",
        repro.replace("q.sum().backward()\nprint(weight.grad)", "print(q)"),
    )
    expect(
        q.requires_grad,
        "TR-8",
        "get_transitions()['q'] of values computed from a parameter does not require grad",
        repro,
    )
    q.sum().backward()
    # kept pairs (t, b): (0, 0), (1, 0), (1, 1); q[t, b] = weight[t + b] * (t + 1)
    expected_grad = torch.zeros(4)
    for t, b in [(0, 0), (1, 0), (1, 1)]:
        expected_grad[t + b] += t + 1
        expected_grad[t + 1 + b] += t + 2
    expect(
        weight.grad is not None and torch.allclose(weight.grad, expected_grad),
        "TR-8",
        f"get_transitions()['q'].sum().backward(): weight.grad = {weight.grad}, "
        f"expected {expected_grad}",
        repro,
    )
    with torch.no_grad():
        q.fill_(-1.0)
        out["env/done"].fill_(True)
    expect_equal_tensors(
        ws.get_full("q").detach(),
        source_q,
        "TR-8",
        "after writing -1 into get_transitions()['q'] the source 'q' changed",
        repro,
    )
    expect_equal_tensors(
        ws.get_full("env/done"),
        done,
        "TR-8",
        "after writing True into get_transitions()['env/done'] the source env/done changed",
        repro,
    )


@clause("TR-8")
@given(case=transitions_cases(max_time=8, max_batch=4))
def test_source_unchanged_by_call(impl: Any, case: TransitionsCase) -> None:
    for ws in (_workspace(impl, case.variables), case.build(impl)):
        ws.get_transitions()
        for name, value in case.variables.items():
            expect_equal_tensors(
                ws.get_full(name),
                value,
                "TR-8",
                f"get_transitions() on {case.describe()} changed the source variable {name!r}",
                case.setup_code() + "\nfrom bbrl_conformance._strategies import values_equal\n"
                f"ws.get_transitions()\nassert values_equal(ws.get_full({name!r}), "
                f"values[{name!r}]), ws.get_full({name!r})",
                nan_equal=True,
            )


#: ways to rewrite a workspace after get_transitions (`ws` is the one rewritten; its 'x' is an
#: int64 [T, B] or [2, N] variable, its 'env/done' a bool one)
_REWRITES: dict[str, str] = {
    "set a row": "ws.set('x', 0, torch.full_like(ws.get('x', 0), -1))",
    "set_full": "ws.set_full('x', torch.full_like(ws.get_full('x'), -2))",
    "copy_n_last_steps(1)": "ws.copy_n_last_steps(1)",
    "zero_grad": "ws.zero_grad()",
    "clear('x')": "ws.clear('x')",
    "clear()": "ws.clear()",
}


def _rewrite(ws: Any, how: str) -> None:
    """`_REWRITES[how]`, run on `ws`."""
    if how == "set a row":
        ws.set("x", 0, torch.full_like(ws.get("x", 0), -1))
    elif how == "set_full":
        ws.set_full("x", torch.full_like(ws.get_full("x"), -2))
    elif how == "copy_n_last_steps(1)":
        ws.copy_n_last_steps(1)
    elif how == "zero_grad":
        ws.zero_grad()
    elif how == "clear('x')":
        ws.clear("x")
    else:
        ws.clear()


#: (T, B, done cells): every pair kept (the result could be the source itself), and some
#: dropped
_SHARING_CASES = [(2, 3, []), (2, 1, []), (2, 2, [(0, 1)]), (3, 2, []), (4, 2, [(1, 0)])]


@clause("TR-8")
def test_result_and_source_share_nothing(impl: Any) -> None:
    """TR-8 through every write path: after `out = ws.get_transitions()`, rewriting the source
    (a row, `set_full`, `copy_n_last_steps`, `zero_grad`, `clear`) leaves `out` as it was, and
    rewriting `out` the same ways leaves the source as it was; for sources written with
    `set_full` or row by row, with `T = 2` (where every pair may be kept) and more, with the
    filter and without (``filter_key=None``: nothing is dropped)."""
    for (time_size, batch, done_at), filter_key in itertools.product(
        _SHARING_CASES, ("env/done", None)
    ):
        x = (torch.arange(time_size * batch) * 10).reshape(time_size, batch)
        done = torch.zeros((time_size, batch), dtype=torch.bool)
        for t, b in done_at:
            done[t, b] = True
        for row_wise in (False, True):
            write = (
                "for t in range(T):\n    ws.set('x', t, x[t])\n    ws.set('env/done', t, done[t])"
                if row_wise
                else "ws.set_full('x', x)\nws.set_full('env/done', done)"
            )
            setup = (
                f"import torch\nT, B = {time_size}, {batch}\n"
                "x = (torch.arange(T * B) * 10).reshape(T, B)\n"
                f"done = torch.zeros((T, B), dtype=torch.bool)\nfor t, b in {done_at}:\n"
                f"    done[t, b] = True\nws = impl.Workspace()\n{write}\n"
                f"out = ws.get_transitions(filter_key={filter_key!r})\n"
                "keep = {k: out.get_full(k).clone() for k in out.keys()}\n"
            )
            for how, code in _REWRITES.items():
                for target in ("source", "result"):
                    ws = impl.Workspace()
                    if row_wise:
                        for t in range(time_size):
                            ws.set("x", t, x[t])
                            ws.set("env/done", t, done[t])
                    else:
                        ws.set_full("x", x)
                        ws.set_full("env/done", done)
                    out = ws.get_transitions(filter_key=filter_key)
                    keep = {name: out.get_full(name).clone() for name in list(out.keys())}
                    _rewrite(ws if target == "source" else out, how)
                    # the other side must hold what it held before (whatever its values: they
                    # are TR-2's and TR-3's business)
                    if target == "source":
                        other, shown, rewritten = out, "out", code
                        expected, sources = keep, {"x": "keep['x']", "env/done": "keep['env/done']"}
                    else:
                        other, shown, rewritten = ws, "ws", code.replace("ws", "out")
                        expected = {"x": x, "env/done": done}
                        sources = {"x": "x", "env/done": "done"}
                    for name, value in expected.items():
                        check = (
                            f"assert torch.equal({shown}[{name!r}], {sources[name]}), "
                            f"{shown}[{name!r}]"
                        )
                        expect_equal_tensors(
                            other.get_full(name),
                            value,
                            "TR-8",
                            f"T={time_size}, B={batch}, done at {done_at}, source written with "
                            f"{'set row by row' if row_wise else 'set_full'}: out = "
                            f"ws.get_transitions(filter_key={filter_key!r}), then {rewritten}: "
                            f"{shown}[{name!r}] "
                            "changed (the result and the source share no storage)",
                            f"{setup}{rewritten}\n{check}",
                        )
