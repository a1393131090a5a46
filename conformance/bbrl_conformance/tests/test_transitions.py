"""Conformance tests of spec/transitions.md (TR): `Workspace.get_transitions`.

Expected values come from `_models.transitions_model`, a plain-loop model of TR-1..TR-5.
TR-10 (the epoch protocol) needs the env agent and is tested in test_epoch_loop.py.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from hypothesis import given
from hypothesis import strategies as st

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises
from bbrl_conformance._clauses import clause
from bbrl_conformance._models import transitions_model
from bbrl_conformance._strategies import TransitionsCase, make_values, transitions_cases


def _workspace(impl: Any, variables: dict[str, torch.Tensor]) -> Any:
    ws = impl.Workspace()
    for name, value in variables.items():
        ws.set_full(name, value)
    return ws


def _check_against_model(
    impl: Any, case: TransitionsCase, filter_key: str | None, call: str
) -> None:
    """get_transitions(filter_key) on the case equals the model, variable by variable."""
    __tracebackhide__ = True
    expected = transitions_model(case.variables, filter_key)
    ws = _workspace(impl, case.variables)
    result = ws.get_transitions(filter_key=filter_key)
    repro = f"{case.setup_code()}\nout = ws.{call}\nprint({{k: out[k] for k in out.keys()}})"
    names = sorted(result.keys())
    expect(
        names == sorted(expected),
        "TR-1",
        f"ws.{call} on {case.describe()}: keys {names}, expected {sorted(expected)}",
        repro,
    )
    widths = {n: v.shape[1] for n in names if isinstance(v := result[n], torch.Tensor)}
    for name, want in expected.items():
        got = result[name]
        # TR-1 fixes [2, N, *S] and one N for all variables; N itself counts the pairs kept by
        # TR-2..TR-4, so a wrong N is reported below, with the values, by the pair rule.
        expect(
            isinstance(got, torch.Tensor)
            and got.dim() == want.dim()
            and got.shape[0] == 2
            and tuple(got.shape[2:]) == tuple(want.shape[2:])
            and len(set(widths.values())) == 1,
            "TR-1",
            f"ws.{call} on {case.describe()}: {name!r} has shape "
            f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got)}, "
            f"expected {tuple(want.shape)} ([2, N, *S]); N of each variable: {widths}",
            repro,
        )
        expect(
            got.dtype == want.dtype,
            "TR-1",
            f"ws.{call}: {name!r} has dtype {got.dtype}, expected {want.dtype}",
            repro,
        )
        clause_id = "TR-2" if filter_key is None or case.mask_kind == "none" else "TR-3"
        expect_equal_tensors(
            got,
            want,
            clause_id,
            f"ws.{call} on {case.describe()}: values of {name!r} differ from the model "
            "(pairs (t, t+1) in time-major then env order, minus those with filter[t, b])",
            repro,
        )


@clause("TR-1", "TR-2", "TR-3")
@given(case=transitions_cases())
def test_transitions_equal_model(impl: Any, case: TransitionsCase) -> None:
    _check_against_model(impl, case, "env/done", "get_transitions()")


@clause("TR-3")
@given(case=transitions_cases(filter_key="my/flag", max_time=16, max_batch=6))
def test_custom_filter_key_replaces_done(impl: Any, case: TransitionsCase) -> None:
    # an env/done that would drop every pair: a custom filter_key must ignore it entirely
    case.variables["env/done"] = torch.ones((case.time_size, case.batch_size), dtype=torch.bool)
    case.sources["env/done"] = (
        f"torch.ones(({case.time_size}, {case.batch_size}), dtype=torch.bool)"
    )
    _check_against_model(impl, case, "my/flag", "get_transitions(filter_key='my/flag')")


@clause("TR-4")
@given(case=transitions_cases(max_time=16, max_batch=6))
def test_filter_key_none_keeps_every_pair(impl: Any, case: TransitionsCase) -> None:
    _check_against_model(impl, case, None, "get_transitions(filter_key=None)")
    result = _workspace(impl, case.variables).get_transitions(filter_key=None)
    width = result[case.filter_key].shape[1]
    want = (case.time_size - 1) * case.batch_size
    expect(
        width == want,
        "TR-4",
        f"get_transitions(filter_key=None) with T={case.time_size}, B={case.batch_size}: "
        f"N={width}, expected (T-1)*B={want}",
        case.setup_code() + "\nprint(ws.get_transitions(filter_key=None)['env/done'].shape)",
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
        "ws.set_full('env/done', done)\nprint(ws.get_transitions()['x'])",
    )


@clause("TR-5")
@given(
    batch=st.integers(1, 5),
    trailing=st.sampled_from([(), (3,), (2, 2)]),
    dtype=st.sampled_from([torch.float32, torch.int64, torch.uint8]),
    filter_key=st.sampled_from(["env/done", None]),
)
def test_time_size_one_gives_empty_pairs(
    impl: Any, batch: int, trailing: tuple[int, ...], dtype: torch.dtype, filter_key: str | None
) -> None:
    obs = make_values((1, batch, *trailing), dtype, seed=0)
    ws = _workspace(impl, {"obs": obs, "env/done": torch.zeros((1, batch), dtype=torch.bool)})
    repro = (
        "import torch\nws = impl.Workspace()\n"
        f"ws.set_full('obs', torch.zeros((1, {batch}, *{trailing}), dtype={dtype}))\n"
        f"ws.set_full('env/done', torch.zeros((1, {batch}), dtype=torch.bool))\n"
        f"out = ws.get_transitions(filter_key={filter_key!r})\nprint(out['obs'].shape)"
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
    ws = _workspace(impl, case.variables)
    ws.get_transitions()
    for name, value in case.variables.items():
        expect_equal_tensors(
            ws.get_full(name),
            value,
            "TR-8",
            f"get_transitions() on {case.describe()} changed the source variable {name!r}",
            case.setup_code() + f"\nws.get_transitions()\nprint(ws.get_full({name!r}))",
        )
