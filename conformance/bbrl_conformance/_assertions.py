"""Assertion helpers: every failure states the clause, what was called, and a reproducer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import torch

from bbrl_conformance._failure import ConformanceFailure, _wrap_last_call, format_failure

__all__ = [
    "ConformanceFailure",
    "expect",
    "expect_equal_tensors",
    "expect_message",
    "expect_raises",
    "format_failure",
    "missing_mentions",
    "raising",
]


def expect(condition: bool, clause_id: str, what: str, repro: str | None = None) -> None:
    """Fail ``clause_id`` with ``what`` (and ``repro``) unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        raise ConformanceFailure(clause_id, what, repro)


def _builtin_name(exc_type: type[BaseException]) -> str:
    """The first builtin class of ``exc_type``'s MRO (``IndexError`` for an implementation's
    ``TimeIndexError(IndexError)``): a name a reproducer can catch without imports."""
    return next(c.__name__ for c in exc_type.__mro__ if c.__module__ == "builtins")


def raising(code: str, exc_type: type[BaseException] | tuple[type[BaseException], ...]) -> str:
    """Reproducer source: ``code`` with its last statement (before any trailing ``print``)
    checked to raise ``exc_type``, printing the exception, so that the lines after it (prints or
    asserts of the state after the rejected call) run. Types that are not builtins are caught
    by their first builtin base class."""
    types = exc_type if isinstance(exc_type, tuple) else (exc_type,)
    return _wrap_last_call(code, tuple(dict.fromkeys(_builtin_name(t) for t in types)))


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
    nan_equal: bool = False,
) -> None:
    """Fail ``clause_id`` unless ``actual`` is a tensor equal to ``expected``.

    Equality is exact: same shape, same dtype, and ``torch.equal`` values (NaNs never equal).
    With ``nan_equal`` a NaN equals a NaN at the same place (for values that were stored and
    must come back as written, NaN included); every other value must still be equal.
    """
    __tracebackhide__ = True
    problem: str | None = None
    if not isinstance(actual, torch.Tensor):
        problem = "not a tensor"
    elif tuple(actual.shape) != tuple(expected.shape):
        problem = f"shape {tuple(actual.shape)} != expected {tuple(expected.shape)}"
    elif actual.dtype != expected.dtype:
        problem = f"dtype {actual.dtype} != expected {expected.dtype}"
    elif not _equal_values(actual.detach().cpu(), expected.detach().cpu(), nan_equal):
        problem = "values differ" + _first_difference(actual.detach().cpu(), expected.cpu())
    if problem is not None:
        raise ConformanceFailure(
            clause_id,
            f"{what}\n{problem}\nactual:   {_describe(actual)}\nexpected: {_describe(expected)}",
            repro,
        )


def _equal_values(a: torch.Tensor, b: torch.Tensor, nan_equal: bool) -> bool:
    if not (nan_equal and a.dtype.is_floating_point):
        return torch.equal(a, b)
    return bool(((a == b) | (a.isnan() & b.isnan())).all())


def _first_difference(a: torch.Tensor, b: torch.Tensor) -> str:
    """`` at index (i, j): actual v, expected w`` for the first differing element."""
    if a.numel() == 0:
        return ""
    same = (a == b) | (a.isnan() & b.isnan()) if a.dtype.is_floating_point else a == b
    wrong = (~same).nonzero()
    if wrong.shape[0] == 0:
        return ""
    where = tuple(wrong[0].tolist())
    return f" at index {where}: actual {a[where].item()!r}, expected {b[where].item()!r}"


# A token counts when it is not part of a longer word: 'x' is named by "variable 'x'" but not by
# "expected"; '3' by "got 3" or "(4, 3)" but not by "32".
_WORD = "A-Za-z0-9_"


def _names(message: str, token: str) -> bool:
    return re.search(f"(?<![{_WORD}]){re.escape(token)}(?![{_WORD}])", message) is not None


def missing_mentions(message: str, required: Sequence[str | tuple[str, ...]]) -> list[str]:
    """The items of ``required`` that ``message`` does not name.

    Each item is a token, or a tuple of alternative tokens (one of them suffices). A token is
    named when it appears in ``message`` as a whole word.
    """
    missing = []
    for item in required:
        choices = (item,) if isinstance(item, str) else item
        if not any(_names(message, token) for token in choices):
            missing.append(" or ".join(repr(c) for c in choices))
    return missing


def expect_message(
    exc: BaseException,
    clause_id: str,
    what: str,
    required: Sequence[str | tuple[str, ...]],
    repro: str | None = None,
) -> None:
    """Fail ``clause_id`` (ERR-6) unless the message of ``exc`` names every item of
    ``required``: the variable or argument concerned, what was expected and what was given.

    A message such as "invalid" or "error" names none of them and fails. ``repro`` ends with
    the call that raised ``exc`` (before any trailing ``print``): its reproducer checks that the
    call raises and prints the message.
    """
    __tracebackhide__ = True
    message = str(exc)
    missing = missing_mentions(message, required)
    if missing:
        # the reproducer's last call raises by design: it is caught and its message printed
        raise ConformanceFailure(
            clause_id,
            f"{what} raised {type(exc).__name__}({message!r}), which does not name "
            f"{', '.join(missing)} (a message names the variable or argument, what was "
            "expected and what was given)",
            repro,
            (_builtin_name(type(exc)),),
        )
