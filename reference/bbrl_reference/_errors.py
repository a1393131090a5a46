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
    ├── MissingKeyError(KeyError)        a mapping (state dict, configuration) lacks a key
    ├── FileFormatError(ValueError)      a file that is not in the expected format
    ├── AllocationError(MemoryError)     storage or a result too large to allocate (WS-24)
    ├── ClassNotFoundError(ImportError)  a configured class that cannot be imported
    └── EnvError(RuntimeError)           an env failed during an env agent's call (ENV-20)
        ├── EnvTimeoutError(TimeoutError)      a worker did not answer in time (ENV-25)
        ├── EnvOutputTypeError(TypeError)      an env returned a value of the wrong type (ENV-21)
        └── EnvOutputShapeError(ValueError)    an env returned a value of the wrong shape (ENV-21)

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


class MissingKeyError(BBRLError, KeyError):
    """A key that a mapping (a state dict, a configuration) lacks or should not hold."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FileFormatError(BBRLError, ValueError):
    """A file that is not in the expected format: truncated, corrupted or of another version."""


class AllocationError(BBRLError, MemoryError):
    """Storage or a result that cannot be allocated (more memory than the device has); the
    object is unchanged (WS-24, RB-21, RB-22)."""


class BatchIndexError(BBRLError, IndexError):
    """A batch (column) index outside ``0 <= b < B`` (select_batch)."""


class ClassNotFoundError(BBRLError, ImportError):
    """A ``classname`` whose module cannot be imported or does not define the name."""


class EnvError(BBRLError, RuntimeError):
    """An env of an env agent failed: it raised, returned a bad value, or its worker died.

    ``env_index`` is the env's index in the batch (``None`` for a vector env, which fails as a
    whole) and ``t`` the time index of the call; ``__cause__`` is what the env raised.
    """

    def __init__(self, message: str, env_index: int | None, t: int) -> None:
        super().__init__(message)
        self.env_index = env_index
        self.t = t


class EnvTimeoutError(EnvError, TimeoutError):
    """A worker process did not answer within the env agent's ``timeout``."""


class EnvOutputTypeError(EnvError, TypeError):
    """An env returned a value of the wrong type or dtype for its space."""


class EnvOutputShapeError(EnvError, ValueError):
    """An env returned a value of the wrong shape (or a dict with the wrong keys)."""
