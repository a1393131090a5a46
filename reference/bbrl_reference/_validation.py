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
        if (
            isinstance(value, bool)
            or not hasattr(type(value), "__index__")
            or (isinstance(value, torch.Tensor) and (value.dtype == torch.bool or value.ndim))
        ):  # torch gives bool and one-element tensors __index__: not ints here (TA-9, RB-30)
            raise TypeError(message(op, f"argument {arg!r}", "an int", _int_kind(value)))
        try:
            as_int = operator.index(cast(SupportsIndex, value))
        except TypeError:  # e.g. a float tensor, whose __index__ raises
            raise TypeError(message(op, f"argument {arg!r}", "an int", _int_kind(value))) from None
    if minimum is not None and as_int < minimum:
        raise InvalidArgumentError(message(op, f"argument {arg!r}", f">= {minimum}", as_int))
    return as_int


def _int_kind(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor"
    return type(value).__name__


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


#: the time size bound of every variable (WS-23): rows 0 .. MAX_TIME_SIZE - 1
MAX_TIME_SIZE = 2**31

#: the dtypes every workspace operation accepts (WS-21)
VALUE_DTYPES = frozenset(
    {
        torch.bool,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.uint16,
        torch.uint32,
        torch.uint64,
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
        torch.complex64,
        torch.complex128,
    }
)

#: the dtypes of a position tensor (select_batch, select_subtime): torch's own index dtypes
#: but uint8, which torch reads as a mask
INDEX_DTYPES = frozenset({torch.int32, torch.int64})


def check_new_name(op: str, var_name: object) -> str:
    """Return ``var_name`` if it can name a new variable: a non-empty str (WS-20)."""
    name = check_name(op, var_name)
    if not name:
        raise InvalidArgumentError(message(op, "variable name", "a non-empty str", "''"))
    return name


def check_value(op: str, var_name: str, value: object, min_ndim: int) -> torch.Tensor:
    """:func:`check_tensor`, and a strided tensor with data of a dtype of WS-21 (WS-22)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(message(op, variable(var_name), "a torch.Tensor", type(value).__name__))
    kind = _unsupported_kind(value)
    if kind is not None:
        raise TypeError(message(op, variable(var_name), "a strided tensor with data", kind))
    if value.dtype not in VALUE_DTYPES:
        raise DTypeError(message(op, variable(var_name), "a dtype of WS-21", value.dtype))
    return check_tensor(op, var_name, value, min_ndim)


def _unsupported_kind(value: torch.Tensor) -> str | None:
    """What makes ``value`` unstorable (WS-22), or None for a strided tensor with data."""
    if value.is_nested:  # before the layout: a nested tensor may report torch.strided
        return "a nested tensor"
    if value.layout != torch.strided:
        return f"layout {value.layout}"
    if value.is_quantized:
        return f"a quantized tensor ({value.dtype})"
    if value.is_meta:
        return "a tensor on the meta device (no data)"
    return None


def check_write_time(op: str, var_name: str, t: object) -> int:
    """Return ``t`` as the row of a write: ``0 <= t < MAX_TIME_SIZE`` (ERR-2, WS-23)."""
    t_int = t if type(t) is int and 0 <= t < MAX_TIME_SIZE else check_time(op, var_name, t)
    if t_int >= MAX_TIME_SIZE:
        raise TimeIndexError(message(op, variable(var_name), "a time index t < 2**31", t_int))
    return t_int


def check_device(op: str, device: object) -> torch.device:
    """Return ``device`` as a ``torch.device`` with data that this machine can use (WS-39)."""
    subject = "argument 'device'"
    if isinstance(device, bool) or not isinstance(device, (str, int, torch.device)):
        raise TypeError(message(op, subject, "a str, int or torch.device", type(device).__name__))
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise InvalidArgumentError(
            message(op, subject, "a device torch knows", repr(device))
        ) from exc
    if parsed.type == "meta":
        raise InvalidArgumentError(message(op, subject, "a device with data", "meta"))
    try:  # torch raises RuntimeError, or AssertionError when built without that backend
        torch.empty(0, device=parsed)
    except (RuntimeError, AssertionError) as exc:
        raise InvalidArgumentError(
            message(op, subject, "a device this machine can use", f"{parsed} ({exc})")
        ) from exc
    return parsed
