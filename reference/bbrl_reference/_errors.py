"""Exception classes of the reference implementation (spec/errors.md).

Every class derives from :class:`BBRLError` and from the builtin exception that callers of bbrl
would catch, so ``except KeyError`` keeps working::

    BBRLError(Exception)
    ├── UnknownVariableError(KeyError)   unknown workspace variable
    ├── TimeIndexError(IndexError)       time index outside 0 <= t < T
    ├── BatchIndexError(IndexError)      batch index outside 0 <= b < B
    ├── ShapeError(ValueError)           batch size, trailing shape or time size mismatch
    ├── DTypeError(TypeError)            dtype or device mismatch
    ├── InvalidArgumentError(ValueError) an argument value outside its domain
    ├── EmptyBufferError(ValueError)     sampling an empty replay buffer
    ├── InvalidStateError(RuntimeError)  a call the object's state does not allow
    │   └── AgentNotBoundError           Agent.get/set outside a call
    └── AllocationError(MemoryError)     storage for a write could not be allocated

A value that is not a tensor where a tensor is expected raises the builtin :class:`TypeError`.
"""

from __future__ import annotations


class BBRLError(Exception):
    """Base class of every error raised by bbrl_reference."""


class UnknownVariableError(BBRLError, KeyError):
    """A variable name that the workspace (or the replay buffer schema) does not hold."""

    def __str__(self) -> str:
        # KeyError.__str__ shows repr(message), with quotes; show the message itself.
        return str(self.args[0]) if self.args else ""


class TimeIndexError(BBRLError, IndexError):
    """A time index that is negative or not below the time size."""


class ShapeError(BBRLError, ValueError):
    """A batch size, trailing shape or time size that does not match."""


class DTypeError(BBRLError, TypeError):
    """A dtype or device that does not match the one fixed by the first write."""


class InvalidArgumentError(BBRLError, ValueError):
    """An argument value outside its documented domain (e.g. ``n_steps <= 0``)."""


class EmptyBufferError(BBRLError, ValueError):
    """Sampling from a replay buffer that holds no item."""


class InvalidStateError(BBRLError, RuntimeError):
    """A call that the object's current state does not allow (e.g. an env step before a reset)."""


class AgentNotBoundError(InvalidStateError):
    """``Agent.get``/``Agent.set`` called while the agent is not running on a workspace."""


class AllocationError(BBRLError, MemoryError):
    """Storage for a write could not be allocated; the object is unchanged (WS-24)."""


class BatchIndexError(BBRLError, IndexError):
    """A batch (column) index outside ``0 <= b < B`` (select_batch)."""
