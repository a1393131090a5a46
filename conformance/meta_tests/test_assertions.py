"""The assertion helpers: message format (clause headline, details, reproducer) and checks."""

from __future__ import annotations

import pytest
import torch
from bbrl_conformance._assertions import (
    ConformanceFailure,
    expect,
    expect_equal_tensors,
    expect_message,
    expect_raises,
    missing_mentions,
    raising,
)
from bbrl_conformance._clauses import registry

WS1 = registry()["WS-1"]


def test_expect_passes_silently_when_true() -> None:
    expect(True, "WS-1", "never shown")


def test_expect_message_starts_with_clause_and_ends_with_repro() -> None:
    with pytest.raises(ConformanceFailure) as info:
        expect(False, "WS-1", "ws.keys() = ['x']", repro="ws = impl.Workspace()\nws.keys()")
    text = str(info.value)
    assert text.startswith(f"WS-1 ({WS1.level}): {WS1.sentence}\n  ws.keys() = ['x']")
    assert text.endswith("Reproducer:\nws = impl.Workspace()\nws.keys()")
    assert info.value.clause_id == "WS-1"
    assert isinstance(info.value, AssertionError)


def test_unknown_clause_is_visible_in_message() -> None:
    with pytest.raises(ConformanceFailure, match=r"^ZZ-1 \(\?\): <clause not in the registry>"):
        expect(False, "ZZ-1", "x")


def test_expect_raises_returns_the_exception() -> None:
    empty: dict[str, int] = {}
    exc = expect_raises(KeyError, "ERR-3", "get('nope')", lambda: empty["nope"])
    assert isinstance(exc, KeyError)


def test_expect_raises_fails_when_nothing_is_raised() -> None:
    with pytest.raises(ConformanceFailure, match="nothing was raised") as info:
        expect_raises(KeyError, "ERR-3", "get('nope')", lambda: 42)
    assert str(info.value).startswith("ERR-3 (")


def test_expect_raises_fails_on_another_exception_type() -> None:
    def boom() -> None:
        raise RuntimeError("internal")

    with pytest.raises(ConformanceFailure, match=r"expected KeyError, got builtins\.RuntimeError"):
        expect_raises(KeyError, "ERR-3", "get('nope')", boom)


def test_expect_raises_accepts_a_tuple_of_types() -> None:
    exc = expect_raises((KeyError, ValueError), "ERR-3", "x", lambda: int("a"))
    assert isinstance(exc, ValueError)


@pytest.mark.parametrize(
    ("actual", "problem"),
    [
        (torch.zeros(2, 3), "shape (2, 3) != expected (3, 2)"),
        (torch.zeros(3, 2, dtype=torch.float64), "dtype torch.float64 != expected torch.float32"),
        (torch.ones(3, 2), "values differ"),
        ([[0.0, 0.0]] * 3, "not a tensor"),
    ],
)
def test_expect_equal_tensors_reports_the_difference(actual: object, problem: str) -> None:
    with pytest.raises(ConformanceFailure) as info:
        expect_equal_tensors(actual, torch.zeros(3, 2), "WS-2", "get('x', 0)", repro="r")
    assert problem in str(info.value)
    assert "expected: tensor(shape=(3, 2), dtype=torch.float32" in str(info.value)


def test_expect_equal_tensors_accepts_equal() -> None:
    expect_equal_tensors(torch.arange(6).view(3, 2), torch.arange(6).view(3, 2), "WS-2", "x")


def test_nan_is_never_equal() -> None:
    nan = torch.tensor([float("nan")])
    with pytest.raises(ConformanceFailure, match="values differ"):
        expect_equal_tensors(nan, nan.clone(), "WS-2", "x")


def test_nan_equal_accepts_nan_in_place_only() -> None:
    a = torch.tensor([float("nan"), 1.0, float("inf")])
    expect_equal_tensors(a, a.clone(), "WS-2", "x", nan_equal=True)
    with pytest.raises(ConformanceFailure, match=r"values differ at index \(0,\)"):
        expect_equal_tensors(a, torch.tensor([0.0, 1.0, float("inf")]), "WS-2", "x", nan_equal=True)
    with pytest.raises(ConformanceFailure, match=r"at index \(1,\): actual 2, expected 3"):
        expect_equal_tensors(torch.tensor([1, 2]), torch.tensor([1, 3]), "WS-2", "x")


# -- the ERR-6 message checker ---------------------------------------------------------------

VAGUE = ["invalid", "error", "", "bad value", "invalid argument", "expected", "KeyError", "oops!"]


@pytest.mark.parametrize("message", VAGUE)
def test_vague_messages_name_nothing(message: str) -> None:
    required: list[str | tuple[str, ...]] = ["x", ("4",), ("6",)]
    assert missing_mentions(message, required) == ["'x'", "'4'", "'6'"]
    with pytest.raises(ConformanceFailure, match="does not name"):
        expect_message(ValueError(message), "ERR-6", "ws.set('x', 0, v)", required)


def test_tokens_must_be_whole_words() -> None:
    # 'x' is not named by "expected", '3' not by "32", 'n' not by "an int"
    assert missing_mentions("expected an int, got 32", ["x", "3", "n"]) == ["'x'", "'3'", "'n'"]
    assert missing_mentions("set: variable 'x': expected (4, 2), got (4, 3)", ["x", "2", "3"]) == []
    assert missing_mentions("torch.float64 given for env/done", ["env/done", "float64"]) == []
    assert missing_mentions("n=-1 < 0", ["n", "-1"]) == []


def test_alternatives_need_one_of_them() -> None:
    assert missing_mentions("got a double tensor", [("float64", "double")]) == []
    assert missing_mentions("got a tensor", [("float64", "double")]) == ["'float64' or 'double'"]


def test_a_good_message_passes() -> None:
    exc = ValueError("put: variable 'env/reward': expected batch size 8, got 6")
    expect_message(exc, "ERR-6", "rb.put(ws)", ["env/reward", "8", "6"])


class _TimeIndexError(IndexError):
    """An implementation's own exception type, not a builtin."""


def _run(script: str) -> str:
    """What ``script`` prints (``d`` a dict; ``boom`` raises _TimeIndexError)."""
    import contextlib
    import io

    def boom() -> None:
        raise _TimeIndexError("t=-2 of 'x'")

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(script, {"d": {}, "boom": boom})
    return out.getvalue()


def test_raising_checks_the_last_call_and_runs_what_follows() -> None:
    source = raising("y = 1\nd['x']", KeyError) + "\nprint(y, d)"
    assert _run(source) == "raised as required: KeyError 'x'\n1 {}\n"
    with pytest.raises(AssertionError, match="expected KeyError, but nothing was raised"):
        _run(raising("d.get('x')", KeyError))
    # an implementation's type is caught by its first builtin base class
    assert _run(raising("boom()", _TimeIndexError)).startswith("raised as required: _TimeIndex")
    assert "except IndexError" in raising("boom()", _TimeIndexError)


def test_expect_message_reproducer_checks_the_call_and_prints_the_message() -> None:
    with pytest.raises(ConformanceFailure) as info:
        expect_message(_TimeIndexError("t=-2 of 'x'"), "ERR-6", "boom()", ["-1"], "boom()")
    script = info.value.reproducer
    assert script is not None and "except IndexError" in script
    assert _run(script) == "raised as required: _TimeIndexError t=-2 of 'x'\n"
