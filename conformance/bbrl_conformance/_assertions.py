"""Assertion helpers: every failure states the clause, what was called, and a reproducer."""

from __future__ import annotations

from collections.abc import Callable

import torch

from bbrl_conformance._failure import ConformanceFailure, format_failure

__all__ = [
    "ConformanceFailure",
    "expect",
    "expect_equal_tensors",
    "expect_raises",
    "format_failure",
]


def expect(condition: bool, clause_id: str, what: str, repro: str | None = None) -> None:
    """Fail ``clause_id`` with ``what`` (and ``repro``) unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        raise ConformanceFailure(clause_id, what, repro)


def expect_raises(
    exc_type: type[BaseException] | tuple[type[BaseException], ...],
    clause_id: str,
    what: str,
    fn: Callable[[], object],
    repro: str | None = None,
) -> BaseException:
    """Call ``fn``; fail ``clause_id`` unless it raises an instance of ``exc_type``.

    Returns the exception so that the test can check, e.g., that its message names the variable.
    An exception of another type is a failure of the clause too (it is reported, not re-raised).
    """
    __tracebackhide__ = True
    types = exc_type if isinstance(exc_type, tuple) else (exc_type,)
    names = " or ".join(t.__name__ for t in types)
    # The reproducer checks that its last statement raises one of these (builtins only: other
    # types would need imports the reproducer does not have).
    builtin = all(t.__module__ == "builtins" for t in types)
    raises = tuple(t.__name__ for t in types) if builtin else None
    try:
        result = fn()
    except exc_type as exc:
        return exc
    except Exception as exc:
        raise ConformanceFailure(
            clause_id,
            f"{what}\nexpected {names}, got {type(exc).__module__}.{type(exc).__qualname__}: {exc}",
            repro,
            raises,
        ) from exc
    raise ConformanceFailure(
        clause_id,
        f"{what}\nexpected {names}, but nothing was raised (returned {result!r:.200})",
        repro,
        raises,
    )


def _describe(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return (
            f"tensor(shape={tuple(value.shape)}, dtype={value.dtype}, device={value.device})\n"
            f"{value!r:.1500}"
        )
    return f"{type(value).__name__} {value!r:.1500}"


def expect_equal_tensors(
    actual: object,
    expected: torch.Tensor,
    clause_id: str,
    what: str,
    repro: str | None = None,
) -> None:
    """Fail ``clause_id`` unless ``actual`` is a tensor equal to ``expected``.

    Equality is exact: same shape, same dtype, and ``torch.equal`` values (NaNs never equal).
    """
    __tracebackhide__ = True
    problem: str | None = None
    if not isinstance(actual, torch.Tensor):
        problem = "not a tensor"
    elif tuple(actual.shape) != tuple(expected.shape):
        problem = f"shape {tuple(actual.shape)} != expected {tuple(expected.shape)}"
    elif actual.dtype != expected.dtype:
        problem = f"dtype {actual.dtype} != expected {expected.dtype}"
    elif not torch.equal(actual.detach().cpu(), expected.detach().cpu()):
        problem = "values differ"
    if problem is not None:
        raise ConformanceFailure(
            clause_id,
            f"{what}\n{problem}\nactual:   {_describe(actual)}\nexpected: {_describe(expected)}",
            repro,
        )
