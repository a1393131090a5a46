"""The public surface of bbrl_reference (AG-1, STYLE L3)."""

from __future__ import annotations

import bbrl_reference


def _isort_key(name: str) -> tuple[int, str]:
    # the order ruff's RUF022 enforces: CONSTANTS, then Classes, then functions
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted() -> None:
    """`__all__` is sorted (constants, classes, functions), so additions are easy to review."""
    assert bbrl_reference.__all__ == sorted(bbrl_reference.__all__, key=_isort_key)


def test_all_is_complete() -> None:
    """AG-1: every public name is exported in `__all__`, and every name there exists."""
    public = {name for name in vars(bbrl_reference) if not name.startswith("_")}
    assert public == set(bbrl_reference.__all__)
    required = {"Workspace", "Agent", "Agents", "TemporalAgent", "ParallelGymAgent", "make_env"}
    assert required | {"ReplayBuffer"} <= public


def test_errors_subclass_builtins() -> None:
    """ERR-9: each error class subclasses BBRLError and the builtin the spec names."""
    m = bbrl_reference
    pairs = [
        (m.UnknownVariableError, KeyError),
        (m.TimeIndexError, IndexError),
        (m.ShapeError, ValueError),
        (m.DTypeError, TypeError),
        (m.InvalidArgumentError, ValueError),
        (m.EmptyBufferError, ValueError),
        (m.InvalidStateError, RuntimeError),
        (m.AgentNotBoundError, RuntimeError),
        (m.MissingKeyError, KeyError),
        (m.FileFormatError, ValueError),
        (m.AllocationError, MemoryError),
        (m.ClassNotFoundError, ImportError),
    ]
    for cls, builtin in pairs:
        assert issubclass(cls, m.BBRLError)
        assert issubclass(cls, builtin)
    assert str(m.UnknownVariableError("get: variable 'x': no such variable")) == (
        "get: variable 'x': no such variable"
    )
    assert str(m.UnknownVariableError()) == ""
    assert str(m.MissingKeyError("load_model: state dict keys")) == "load_model: state dict keys"
    assert str(m.MissingKeyError()) == ""
