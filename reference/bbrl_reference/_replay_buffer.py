"""A FIFO ring replay buffer of workspace columns (spec RB).

Storage (not specified; documented here): one tensor per variable of shape
``[T, max_size, ...]``, allocated at the first put, so that a put is at most two slice copies per
variable and a sample is one ``index_select`` along dimension 1 that directly yields the
contiguous ``[T, batch_size, ...]`` tensor (measured faster than ``[max_size, T, ...]``, which
needs a transpose copy after the gather).
"""

from __future__ import annotations

from collections.abc import Mapping

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
from ._workspace import Workspace


class _Schema:
    """Names, time size, trailing shapes and dtypes fixed by the first put."""

    __slots__ = ("fields", "time_size")

    def __init__(self, time_size: int, fields: dict[str, tuple[tuple[int, ...], torch.dtype]]):
        self.time_size = time_size
        self.fields = fields


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
        self._storage: dict[str, torch.Tensor] = {}
        self._position = 0  # next slot to write
        self._size = 0

    def size(self) -> int:
        """The number of stored items, ``min(items put, max_size)`` (RB-3)."""
        return self._size

    # -------------------------------------------------------------------- put
    def _check_put(self, workspace: Workspace) -> tuple[dict[str, torch.Tensor], _Schema]:
        op = "put"
        if not isinstance(workspace, Workspace):
            raise TypeError(
                v.message(op, "argument 'workspace'", "a Workspace", type(workspace).__name__)
            )
        time_size = workspace.time_size()
        values = {name: var.full_tensor() for name, var in workspace._vars.items()}
        schema = self._schema
        if schema is None:
            if not values:
                raise InvalidArgumentError(
                    v.message(op, "argument 'workspace'", "at least one variable", "none")
                )
            fields = {name: (tuple(x.shape[2:]), x.dtype) for name, x in values.items()}
            return values, _Schema(time_size, fields)
        if values.keys() != schema.fields.keys():
            missing = [name for name in schema.fields if name not in values]
            extra = [name for name in values if name not in schema.fields]
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
            value = values[name]
            if value.shape[2:] != want_shape:
                raise ShapeError(
                    v.message(
                        op, v.variable(name), f"trailing shape {want_shape}", tuple(value.shape[2:])
                    )
                )
            if value.dtype != want_dtype:
                raise DTypeError(
                    v.message(op, v.variable(name), f"dtype {want_dtype}", value.dtype)
                )
        return values, schema

    def put(self, workspace: Workspace) -> None:
        """Append the ``N`` columns of ``workspace`` in order, evicting the oldest (RB-2..RB-7).

        The put is validated fully before any write, so a failed put changes nothing; with
        ``N > max_size`` only the last ``max_size`` columns are kept.
        """
        values, schema = self._check_put(workspace)
        if self._schema is None:
            self._storage = {
                name: torch.zeros(
                    (schema.time_size, self.max_size, *trailing), dtype=dtype, device=self.device
                )
                for name, (trailing, dtype) in schema.fields.items()
            }
            self._schema = schema
        count = workspace.batch_size()
        if count == 0:
            return
        capacity = self.max_size
        start = (self._position + max(count - capacity, 0)) % capacity
        kept = min(count, capacity)
        head = min(kept, capacity - start)  # columns written at start.., the rest at 0..
        for name, value in values.items():
            source = value.detach() if value.requires_grad else value
            if kept < count:
                source = source[:, count - kept :]
            target = self._storage[name]
            if head == kept:  # no wrap-around: one slice copy
                target[:, start : start + kept].copy_(source)
            else:
                target[:, start:].copy_(source[:, :head])
                target[:, : kept - head].copy_(source[:, head:])
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
        out = Workspace()
        fields = self._schema.fields if self._schema is not None else {}
        for name, storage in self._storage.items():
            trailing, dtype = fields[name]
            out._install_plain(name, storage.index_select(1, index), trailing, dtype, self.device)
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
            "variables": {
                name: storage[:, : self._size].transpose(0, 1).clone()
                for name, storage in self._storage.items()
            },
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
        storage: dict[str, torch.Tensor] = {}
        fields: dict[str, tuple[tuple[int, ...], torch.dtype]] = {}
        time_sizes: set[int] = set()
        for name, value in variables.items():
            name = v.check_name(op, name)
            tensor = v.check_tensor(op, name, value, 2)
            if tensor.shape[0] != size:
                raise ShapeError(v.message(op, v.variable(name), f"{size} items", tensor.shape[0]))
            time_sizes.add(tensor.shape[1])
            fields[name] = (tuple(tensor.shape[2:]), tensor.dtype)
            full = torch.zeros(
                (tensor.shape[1], max_size, *tensor.shape[2:]),
                dtype=tensor.dtype,
                device=self.device,
            )
            full[:, :size].copy_(tensor.detach().transpose(0, 1))
            storage[name] = full
        if len(time_sizes) > 1:
            raise ShapeError(
                v.message(op, "state 'variables'", "one time size", sorted(time_sizes))
            )
        if not storage and size > 0:
            raise InvalidArgumentError(v.message(op, "state 'variables'", "variables", "none"))
        self._schema = _Schema(time_sizes.pop(), fields) if storage else None
        self._storage = storage
        self._position = position
        self._size = size
