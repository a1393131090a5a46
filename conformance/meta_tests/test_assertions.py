"""The assertion helpers: message format (clause headline, details, reproducer) and checks."""

from __future__ import annotations

import pytest
import torch
from bbrl_conformance._assertions import (
    ConformanceFailure,
    expect,
    expect_equal_tensors,
    expect_raises,
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
