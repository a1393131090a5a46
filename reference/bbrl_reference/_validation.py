"""Argument checks shared by every module, with one message form (spec ERR).

Messages read ``<operation>: <what> '<name>': expected <expected>, got <actual>``, e.g.
``put: variable 'env/reward': expected batch size 8, got 6``. Every check runs before the calling
operation mutates anything, so a failed call leaves all state unchanged.
"""

from __future__ import annotations

import operator
from typing import SupportsIndex, cast

import torch

from ._errors import DTypeError, InvalidArgumentError, ShapeError, TimeIndexError


def message(op: str, name: str, expected: object, actual: object) -> str:
    """Format the uniform error message."""
    return f"{op}: {name}: expected {expected}, got {actual}"


def variable(var_name: str) -> str:
    """The subject of a message about a workspace variable."""
    return f"variable {var_name!r}"


def check_name(op: str, var_name: object) -> str:
    """Return ``var_name`` if it is a string, else raise TypeError."""
    if not isinstance(var_name, str):
        raise TypeError(message(op, "variable name", "a str", type(var_name).__name__))
    return var_name


def check_tensor(op: str, var_name: str, value: object, min_ndim: int) -> torch.Tensor:
    """Return ``value`` if it is a tensor with at least ``min_ndim`` dimensions."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(message(op, variable(var_name), "a torch.Tensor", type(value).__name__))
    if value.dim() < min_ndim:
        raise ShapeError(
            message(op, variable(var_name), f"at least {min_ndim} dimension(s)", value.dim())
        )
    return value


def check_int(op: str, arg: str, value: object, minimum: int | None = None) -> int:
    """Return ``value`` as an int (bool rejected), with ``value >= minimum`` when given."""
    if type(value) is int:
        as_int = value
    else:
        if isinstance(value, bool) or not hasattr(type(value), "__index__"):
            raise TypeError(message(op, f"argument {arg!r}", "an int", type(value).__name__))
        try:
            as_int = operator.index(cast(SupportsIndex, value))
        except TypeError:  # e.g. a float tensor, whose __index__ raises
            raise TypeError(
                message(op, f"argument {arg!r}", "an int", type(value).__name__)
            ) from None
    if minimum is not None and as_int < minimum:
        raise InvalidArgumentError(message(op, f"argument {arg!r}", f">= {minimum}", as_int))
    return as_int


def check_time(op: str, var_name: str, t: object, time_size: int | None = None) -> int:
    """Return ``t`` as an int with ``0 <= t`` (and ``t < time_size`` when given)."""
    t_int = t if type(t) is int else check_int(op, "t", t)
    if t_int < 0:
        raise TimeIndexError(message(op, variable(var_name), "a time index t >= 0", t_int))
    if time_size is not None and t_int >= time_size:
        raise TimeIndexError(
            message(op, variable(var_name), f"a time index t < {time_size} (time size)", t_int)
        )
    return t_int


def check_batch(op: str, var_name: str, expected: int, actual: int) -> None:
    """Raise ShapeError unless the batch sizes agree."""
    if expected != actual:
        raise ShapeError(message(op, variable(var_name), f"batch size {expected}", actual))


def check_like(
    op: str,
    var_name: str,
    value: torch.Tensor,
    trailing: tuple[int, ...],
    dtype: torch.dtype,
    device: torch.device,
    first_dims: int,
) -> None:
    """Check that ``value`` has the trailing shape, dtype and device fixed by the first write.

    ``first_dims`` is the number of leading dimensions that are not part of the trailing shape
    (1 for a row ``[B, ...]``, 2 for a full tensor ``[T, B, ...]``).
    """
    got = tuple(value.shape[first_dims:])
    if got != trailing:
        raise ShapeError(message(op, variable(var_name), f"trailing shape {trailing}", got))
    if value.dtype != dtype:
        raise DTypeError(message(op, variable(var_name), f"dtype {dtype}", value.dtype))
    if value.device != device:
        raise DTypeError(message(op, variable(var_name), f"device {device}", value.device))
