"""A FIFO ring replay buffer of workspace columns (spec RB).

Storage (not specified; documented here), allocated at the first put:

* packed (CPU buffer, every dtype one numpy has, items of at least one byte): one numpy
  structured array ``[max_size]`` whose row ``i`` holds every variable of item ``i`` side by
  side (``T * prod(S)`` values per variable; fields aligned and widest first, so the only
  padding is at the end of the row: 64 bytes for a 60-byte CartPole transition). A put is at
  most two slice copies per variable into consecutive rows; a sample is one gather of whole rows
  (``np.take``), so one cache miss or so per item instead of one per variable and time step,
  then one copy per variable into the contiguous ``[T, batch_size, ...]`` result. numpy calls
  also cost a fraction of torch's per-call overhead at these sizes.
* columns (any other device or dtype): one tensor per variable of shape
  ``[T, max_size, ...]``; a put is at most two slice copies per variable and a sample one
  ``index_select`` along dimension 1 per variable.

Both give the same items for the same indices: which one is used changes no result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import numpy as np
import torch

from . import _validation as v
from ._errors import (
    DTypeError,
    EmptyBufferError,
    InvalidArgumentError,
    ShapeError,
    UnknownVariableError,
)
from ._types import Device, ReplayBufferState
from ._workspace import _NUMPY_DTYPES, Workspace, _Var


class _Schema:
    """Names, time size, trailing shapes and dtypes fixed by the first put."""

    __slots__ = ("fields", "time_size")

    def __init__(self, time_size: int, fields: dict[str, tuple[tuple[int, ...], torch.dtype]]):
        self.time_size = time_size
        self.fields = fields


def _tensor(var: _Var) -> torch.Tensor:
    """A workspace variable's ``[T, N, ...]`` tensor, detached (only tracked ones have grad)."""
    value = var.full_tensor()
    return value if var.rows is None else value.detach()


def _numpy(var: _Var) -> np.ndarray:
    """:func:`_tensor` as a numpy array, copied to the CPU first when it lives elsewhere."""
    value = _tensor(var)
    return (value if var.device.type == "cpu" else value.cpu()).numpy()


def _new_storage(schema: _Schema, max_size: int, device: torch.device) -> _Columns | _Packed:
    """Packed storage when it can hold ``schema`` (see the module docstring), else columns."""
    dtypes = [dtype for _, dtype in schema.fields.values()]
    if device.type == "cpu" and all(dtype in _NUMPY_DTYPES for dtype in dtypes):
        # aligned fields (numpy copies them about twice as fast as unaligned ones), widest
        # first so that the only padding is at the end of the row (under 8 bytes)
        by_width = sorted(schema.fields.items(), key=lambda f: -_NUMPY_DTYPES[f[1][1]].itemsize)
        row = np.dtype(
            [
                (name, _NUMPY_DTYPES[dtype], (schema.time_size, *trailing))
                for name, (trailing, dtype) in by_width
            ],
            align=True,
        )
        if row.itemsize > 0:
            return _Packed(row, list(schema.fields), max_size)
    return _Columns(schema, max_size, device)


class _Columns:
    """Columns storage: one ``[T, max_size, ...]`` tensor per variable (any device, dtype)."""

    def __init__(self, schema: _Schema, max_size: int, device: torch.device) -> None:
        self.tensors = {
            name: torch.zeros((schema.time_size, max_size, *trailing), dtype=dtype, device=device)
            for name, (trailing, dtype) in schema.fields.items()
        }

    def write(self, variables: Mapping[str, _Var], skip: int, start: int, head: int) -> None:
        """Store columns ``skip..`` of the variables at slots ``start..`` (``head`` of them),
        then ``0..``. Every source is read before the first write."""
        sources = {name: _tensor(var) for name, var in variables.items()}
        for name, source in sources.items():
            if skip:  # slices are not free: only when columns are dropped
                source = source[:, skip:]
            target = self.tensors[name]
            kept = source.shape[1]
            if head == kept:  # no wrap-around: one slice copy
                target[:, start : start + kept].copy_(source)
            else:
                target[:, start:].copy_(source[:, :head])
                target[:, : kept - head].copy_(source[:, head:])

    def gather(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: tensor.index_select(1, index) for name, tensor in self.tensors.items()}

    def items(self, size: int) -> dict[str, torch.Tensor]:
        """Slots ``0..size-1`` as ``[size, T, ...]`` copies."""
        return {
            name: tensor[:, :size].transpose(0, 1).clone() for name, tensor in self.tensors.items()
        }

    def load(self, items: dict[str, torch.Tensor]) -> None:
        for name, value in items.items():
            self.tensors[name][:, : value.shape[0]].copy_(value.detach().transpose(0, 1))


class _Packed:
    """Packed storage: a numpy structured array ``[max_size]``, one row per item (CPU)."""

    def __init__(self, row: np.dtype, names: list[str], max_size: int) -> None:
        self.rows = np.zeros(max_size, dtype=row)
        self.bytes = self.rows.view(np.uint8).reshape(max_size, row.itemsize)
        # [max_size, T, ...] views, in the schema's order (the row's may differ)
        self.fields: dict[str, np.ndarray] = {name: self.rows[name] for name in names}

    def write(self, variables: Mapping[str, _Var], skip: int, start: int, head: int) -> None:
        """:meth:`_Columns.write`, with every source converted to numpy before the first write."""
        sources = {name: _numpy(var) for name, var in variables.items()}
        for name, source in sources.items():
            target = self.fields[name]
            if skip:
                source = source[:, skip:]
            values = source.swapaxes(0, 1)  # [kept, T, ...]: one item per row
            kept = values.shape[0]
            if head == kept:
                target[start : start + kept] = values
            else:
                target[start:] = values[:head]
                target[: kept - head] = values[head:]

    def gather(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        rows = self.bytes.take(index.numpy(), axis=0).view(self.rows.dtype).reshape(-1)
        return {
            name: torch.from_numpy(rows[name].swapaxes(0, 1).copy())  # C order, strides too
            for name in self.fields
        }

    def items(self, size: int) -> dict[str, torch.Tensor]:
        return {name: torch.from_numpy(field[:size].copy()) for name, field in self.fields.items()}

    def load(self, items: dict[str, torch.Tensor]) -> None:
        for name, value in items.items():
            self.fields[name][: value.shape[0]] = value.detach().cpu().resolve_neg().numpy()


class ReplayBuffer:
    """FIFO ring of at most ``max_size`` items; an item is one column ``[T, ...]`` (RB-1..RB-13).

    Examples:
        >>> import torch
        >>> ws = Workspace()
        >>> ws.set_full("x", torch.arange(6).reshape(2, 3))
        >>> rb = ReplayBuffer(max_size=2)
        >>> rb.put(ws)
        >>> rb.size()
        2
    """

    def __init__(self, max_size: int, device: Device | None = None) -> None:
        self.max_size = v.check_int("ReplayBuffer", "max_size", max_size, 1)
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self._schema: _Schema | None = None
        self._storage: _Columns | _Packed | None = None
        self._position = 0  # next slot to write
        self._size = 0

    def size(self) -> int:
        """The number of stored items, ``min(items put, max_size)`` (RB-3)."""
        return self._size

    # -------------------------------------------------------------------- put
    def _check_put(self, workspace: Workspace) -> tuple[dict[str, _Var], _Schema]:
        """The workspace's variables and the schema they must match (RB-6); raises first.

        Item shapes and dtypes are read from the workspace's own records of its variables.
        """
        op = "put"
        if not isinstance(workspace, Workspace):
            raise TypeError(
                v.message(op, "argument 'workspace'", "a Workspace", type(workspace).__name__)
            )
        time_size = workspace.time_size()
        variables = dict(workspace._vars)
        schema = self._schema
        if schema is None:
            if not variables:
                raise InvalidArgumentError(
                    v.message(op, "argument 'workspace'", "at least one variable", "none")
                )
            fields = {name: (var.trailing, var.dtype) for name, var in variables.items()}
            return variables, _Schema(time_size, fields)
        if variables.keys() != schema.fields.keys():
            missing = [name for name in schema.fields if name not in variables]
            extra = [name for name in variables if name not in schema.fields]
            raise UnknownVariableError(
                v.message(
                    op,
                    "variables",
                    f"exactly {sorted(schema.fields)}",
                    f"missing {missing}, extra {extra}",
                )
            )
        if time_size != schema.time_size:
            raise ShapeError(v.message(op, "variables", f"time size {schema.time_size}", time_size))
        for name, (want_shape, want_dtype) in schema.fields.items():
            var = variables[name]
            if var.trailing != want_shape:
                raise ShapeError(
                    v.message(op, v.variable(name), f"trailing shape {want_shape}", var.trailing)
                )
            if var.dtype != want_dtype:
                raise DTypeError(v.message(op, v.variable(name), f"dtype {want_dtype}", var.dtype))
        return variables, schema

    def put(self, workspace: Workspace) -> None:
        """Append the ``N`` columns of ``workspace`` in order, evicting the oldest (RB-2..RB-7).

        The put is validated fully before any write, so a failed put changes nothing; with
        ``N > max_size`` only the last ``max_size`` columns are kept.
        """
        variables, schema = self._check_put(workspace)
        storage = self._storage
        if storage is None:
            storage = _new_storage(schema, self.max_size, self.device)
        count = workspace.batch_size()
        capacity = self.max_size
        if count > 0:
            skip = max(count - capacity, 0)  # leading columns that the later ones would evict
            start = (self._position + skip) % capacity
            head = min(count - skip, capacity - start)  # columns written at start.., rest at 0..
            storage.write(variables, skip, start, head)
        self._storage, self._schema = storage, schema
        self._position = (self._position + count) % capacity
        self._size = min(self._size + count, capacity)

    # ----------------------------------------------------------------- sample
    def get_shuffled(self, batch_size: int, generator: torch.Generator | None = None) -> Workspace:
        """``batch_size`` items drawn uniformly with replacement, as ``[T, batch_size, ...]``.

        The indices come from ``torch.randint(size, (batch_size,), generator=generator)``
        (RB-8, RB-9, RB-10, DET-7); the returned tensors are contiguous copies.
        """
        op = "get_shuffled"
        batch_size = v.check_int(op, "batch_size", batch_size, 1)
        if self._size == 0:
            raise EmptyBufferError(v.message(op, "replay buffer", "at least one item", "0 items"))
        if generator is None:  # torch's global CPU generator, as bbrl
            index = torch.randint(self._size, (batch_size,))
            if self.device.type != "cpu":
                index = index.to(self.device)
        else:
            index = torch.randint(
                self._size, (batch_size,), generator=generator, device=generator.device
            ).to(self.device)
        schema = cast(_Schema, self._schema)  # set by the put that made the buffer non-empty
        gathered = cast("_Columns | _Packed", self._storage).gather(index)
        out = Workspace()
        out._install_samples(gathered, (schema.time_size, batch_size), schema.fields, self.device)
        return out

    # ------------------------------------------------------------ state dicts
    def state_dict(self) -> ReplayBufferState:
        """A copy of the buffer's state, for :meth:`load_state_dict` (RB-12).

        ``variables`` holds, per variable, the filled slots in slot order as
        ``[size, T, ...]`` tensors.
        """
        return {
            "max_size": self.max_size,
            "position": self._position,
            "size": self._size,
            "variables": {} if self._storage is None else self._storage.items(self._size),
        }

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore a state made by :meth:`state_dict`; validated fully before any change."""
        op = "load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(v.message(op, "argument 'state'", "a mapping", type(state).__name__))
        keys = {"max_size", "position", "size", "variables"}
        if set(state) != keys:
            raise InvalidArgumentError(
                v.message(op, "argument 'state'", f"keys {sorted(keys)}", sorted(map(str, state)))
            )
        max_size = v.check_int(op, "max_size", state["max_size"], 1)
        if max_size != self.max_size:
            raise InvalidArgumentError(
                v.message(op, "state 'max_size'", f"this buffer's {self.max_size}", max_size)
            )
        size = v.check_int(op, "size", state["size"], 0)
        position = v.check_int(op, "position", state["position"], 0)
        if size > max_size or position >= max_size or (size < max_size and position != size):
            raise InvalidArgumentError(
                v.message(
                    op,
                    "state 'position'/'size'",
                    f"size <= {max_size}, position == size unless full",
                    f"position {position}, size {size}",
                )
            )
        variables = state["variables"]
        if not isinstance(variables, Mapping):
            raise TypeError(v.message(op, "state 'variables'", "a mapping", type(variables)))
        items: dict[str, torch.Tensor] = {}
        fields: dict[str, tuple[tuple[int, ...], torch.dtype]] = {}
        time_sizes: set[int] = set()
        for name, value in variables.items():
            name = v.check_name(op, name)
            tensor = v.check_tensor(op, name, value, 2)
            if tensor.shape[0] != size:
                raise ShapeError(v.message(op, v.variable(name), f"{size} items", tensor.shape[0]))
            time_sizes.add(tensor.shape[1])
            fields[name] = (tuple(tensor.shape[2:]), tensor.dtype)
            items[name] = tensor
        if len(time_sizes) > 1:
            raise ShapeError(
                v.message(op, "state 'variables'", "one time size", sorted(time_sizes))
            )
        if not items and size > 0:
            raise InvalidArgumentError(v.message(op, "state 'variables'", "variables", "none"))
        schema = _Schema(time_sizes.pop(), fields) if items else None
        storage = None
        if schema is not None:  # validated: build the new storage, then switch to it
            storage = _new_storage(schema, max_size, self.device)
            storage.load(items)
        self._schema = schema
        self._storage = storage
        self._position = position
        self._size = size
