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

import math
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import NoReturn, cast

import numpy as np
import torch

from . import _validation as v
from ._errors import (
    AllocationError,
    DTypeError,
    EmptyBufferError,
    FileFormatError,
    InvalidArgumentError,
    ShapeError,
    UnknownVariableError,
)
from ._files import DTYPE_NAMES, check_path, item_bytes, read_buffer_file, write_buffer_file
from ._types import Device, ReplayBufferState
from ._workspace import _NUMPY_DTYPES, Workspace, _Var, normal_tensors


class _Schema:
    """Names, time size, trailing shapes and dtypes fixed by the first put."""

    __slots__ = ("fields", "item_nbytes", "time_size")

    def __init__(self, time_size: int, fields: dict[str, tuple[tuple[int, ...], torch.dtype]]):
        self.time_size = time_size
        self.fields = fields
        #: the bytes of one item: T * prod(S) * itemsize, summed over the variables
        self.item_nbytes = time_size * sum(
            math.prod(trailing) * dtype.itemsize for trailing, dtype in fields.values()
        )


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
        # numpy's field names are the variables' positions ("v0", ...): any variable name,
        # even "" or "f0", is then a valid field
        fields = [(f"v{i}", shape_dtype) for i, shape_dtype in enumerate(schema.fields.values())]
        by_width = sorted(fields, key=lambda f: -_NUMPY_DTYPES[f[1][1]].itemsize)
        row = np.dtype(
            [
                (field, _NUMPY_DTYPES[dtype], (schema.time_size, *trailing))
                for field, (trailing, dtype) in by_width
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

    def views(self, size: int) -> dict[str, torch.Tensor]:
        """Slots ``0..size-1`` as ``[size, T, ...]`` views of the storage."""
        return {name: tensor[:, :size].transpose(0, 1) for name, tensor in self.tensors.items()}

    def load(self, items: Mapping[str, torch.Tensor]) -> None:
        for name, value in items.items():
            self.tensors[name][:, : value.shape[0]].copy_(value.detach().transpose(0, 1))


class _Packed:
    """Packed storage: a numpy structured array ``[max_size]``, one row per item (CPU)."""

    def __init__(self, row: np.dtype, names: list[str], max_size: int) -> None:
        self.rows = np.zeros(max_size, dtype=row)
        self.bytes = self.rows.view(np.uint8).reshape(max_size, row.itemsize)
        # [max_size, T, ...] views, in the schema's order (the row's may differ)
        self.keys = {name: f"v{i}" for i, name in enumerate(names)}  # variable -> field
        self.fields: dict[str, np.ndarray] = {
            name: self.rows[key] for name, key in self.keys.items()
        }

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
            name: torch.from_numpy(rows[key].swapaxes(0, 1).copy())  # C order, strides too
            for name, key in self.keys.items()
        }

    def items(self, size: int) -> dict[str, torch.Tensor]:
        return {name: torch.from_numpy(field[:size].copy()) for name, field in self.fields.items()}

    def views(self, size: int) -> dict[str, torch.Tensor]:
        return {name: torch.from_numpy(field[:size]) for name, field in self.fields.items()}

    def load(self, items: Mapping[str, torch.Tensor]) -> None:
        for name, value in items.items():
            self.fields[name][: value.shape[0]] = value.detach().cpu().resolve_neg().numpy()


_CPU = torch.device("cpu")
#: from this many bytes on, get_shuffled keeps the generator's state to restore it should the
#: sample fail to allocate (RB-21); smaller samples are not worth the 2 us of a snapshot
_SNAPSHOT_BYTES = 1 << 20


def _check_max_size(value: object) -> int:
    """``max_size`` as an int >= 1; a float is accepted when integral (``1e6``, RB-1)."""
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise TypeError(
                v.message(
                    "ReplayBuffer",
                    "argument 'max_size'",
                    "an int or a float with an integral value",
                    value,
                )
            )
        value = int(value)
    return v.check_int("ReplayBuffer", "max_size", value, 1)


def _check_device(op: str, device: object) -> tuple[torch.device, torch.device]:
    """``(torch.device(device), the device of tensors allocated on it)`` (RB-14).

    Raises ValueError for a name torch does not parse or a device this machine does not have,
    found by allocating an empty tensor there.
    """
    if device is None:
        return _CPU, _CPU
    if not isinstance(device, str | torch.device):
        raise TypeError(
            v.message(
                op, "argument 'device'", "None, a str or a torch.device", type(device).__name__
            )
        )
    try:
        named = torch.device(device)
    except RuntimeError:
        raise InvalidArgumentError(
            v.message(op, "argument 'device'", "a device name such as 'cpu' or 'cuda:0'", device)
        ) from None
    try:
        actual = torch.empty(0, device=named).device
    except Exception:  # RuntimeError, or AssertionError from a torch built without CUDA
        raise InvalidArgumentError(
            v.message(op, "argument 'device'", "a device this machine has", str(named))
        ) from None
    return named, actual


def _check_generator(op: str, generator: object) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            v.message(op, "argument 'generator'", "a torch.Generator", type(generator).__name__)
        )
    return generator


def _memory_bytes(device: torch.device) -> int | None:
    """The physical memory of the CPU (None where unknown, and for other devices)."""
    if device.type != "cpu":
        return None  # their allocators fail cleanly instead (no overcommit)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows), or no such name
        return None


def _check_memory(op: str, what: str, nbytes: int, device: torch.device) -> None:
    """Refuse, before allocating, more bytes than the device's physical memory (RB-21, RB-22)."""
    limit = _memory_bytes(device)
    if limit is not None and nbytes > limit:
        raise AllocationError(
            v.message(op, what, f"at most the {limit} bytes of memory of {device}", nbytes)
        )


def _is_allocation_failure(exc: BaseException) -> bool:
    """MemoryError, or torch's "can't allocate memory" / "out of memory" RuntimeError."""
    text = str(exc).lower()
    return isinstance(exc, MemoryError) or "memory" in text or "alloc" in text


#: the most slots a buffer's storage can have: a tensor dimension is a signed 64-bit int
_MAX_SLOTS = 2**63 - 1


@contextmanager
def _allocating(op: str, what: str, nbytes: int, device: torch.device) -> Iterator[None]:
    """Turn an allocation of ``nbytes`` that cannot succeed into AllocationError (RB-22).

    More bytes than the device's physical memory are refused before anything is allocated;
    an allocator's own failure is converted. Other errors pass through.
    """
    _check_memory(op, what, nbytes, device)
    try:
        yield
    except (MemoryError, RuntimeError) as exc:
        if not _is_allocation_failure(exc):
            raise
        raise AllocationError(v.message(op, what, f"{nbytes} bytes on {device}", exc)) from exc


class ReplayBuffer:
    """FIFO ring of at most ``max_size`` items; an item is one column ``[T, ...]`` (RB-1..RB-29).

    Examples:
        >>> import torch
        >>> ws = Workspace()
        >>> ws.set_full("x", torch.arange(6).reshape(2, 3))
        >>> rb = ReplayBuffer(max_size=2)
        >>> rb.put(ws)
        >>> rb.size(), rb.is_full
        (2, True)
    """

    def __init__(
        self,
        max_size: int | float,
        device: Device | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        self._max_size = _check_max_size(max_size)
        # the device as given (RB-14), and the one tensors get there ("cuda" -> "cuda:0")
        self._device, self._storage_device = _check_device("ReplayBuffer", device)
        if generator is None:  # seeded from torch's global generator, as DataLoader does
            generator = torch.Generator()
            generator.manual_seed(int(torch.empty((), dtype=torch.int64).random_()))
        self._generator = _check_generator("ReplayBuffer", generator)
        self._schema: _Schema | None = None
        self._storage: _Columns | _Packed | None = None
        self._position = 0  # next slot to write
        self._size = 0

    # -------------------------------------------------------------- read-only views
    @property
    def max_size(self) -> int:
        """The capacity (RB-15)."""
        return self._max_size

    @property
    def device(self) -> torch.device:
        """The device the items are stored and sampled on (RB-14, RB-17)."""
        return self._device

    @property
    def generator(self) -> torch.Generator:
        """The generator :meth:`get_shuffled` draws from when given none (RB-19)."""
        return self._generator

    @property
    def is_full(self) -> bool:
        """``size() == max_size`` (RB-15)."""
        return self._size == self._max_size

    @property
    def variables(self) -> dict[str, torch.Tensor]:
        """Per variable the stored items by slot, ``[size, T, ...]`` views (RB-16)."""
        return {} if self._storage is None else self._storage.views(self._size)

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
            for name, var in variables.items():
                if var.dtype not in DTYPE_NAMES:
                    raise DTypeError(
                        v.message(op, v.variable(name), f"a dtype of {_DOMAIN}", var.dtype)
                    )
            fields = {name: (var.trailing, var.dtype) for name, var in variables.items()}
            return variables, _Schema(time_size, fields)
        if variables.keys() != schema.fields.keys():
            _raise_names(op, schema, variables.keys())
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

    def _allocate(self, op: str, schema: _Schema, device: torch.device) -> _Columns | _Packed:
        """New storage for ``max_size`` items of ``schema`` on ``device`` (RB-22)."""
        nbytes = self._max_size * schema.item_nbytes
        what = f"storage for {self._max_size} items"
        if self._max_size > _MAX_SLOTS:  # items of zero bytes need no memory, but the slots do
            raise AllocationError(
                v.message(
                    op,
                    "max_size",
                    f"at most {_MAX_SLOTS} slots (a tensor dimension)",
                    self._max_size,
                )
            )
        with _allocating(op, what, nbytes, device):
            return _new_storage(schema, self._max_size, device)

    @normal_tensors
    def put(self, workspace: Workspace) -> None:
        """Append the ``N`` columns of ``workspace`` in order, evicting the oldest (RB-2..RB-7).

        The put is validated fully before any write, so a failed put changes nothing; with
        ``N > max_size`` only the last ``max_size`` columns are kept.
        """
        variables, schema = self._check_put(workspace)
        storage = self._storage
        if storage is None:
            storage = self._allocate("put", schema, self._storage_device)
        count = workspace.batch_size()
        capacity = self._max_size
        if count > 0:
            skip = max(count - capacity, 0)  # leading columns that the later ones would evict
            start = (self._position + skip) % capacity
            head = min(count - skip, capacity - start)  # columns written at start.., rest at 0..
            storage.write(variables, skip, start, head)
        self._storage, self._schema = storage, schema
        self._position = (self._position + count) % capacity
        self._size = min(self._size + count, capacity)

    # ----------------------------------------------------------------- sample
    @normal_tensors
    def get_shuffled(self, batch_size: int, generator: torch.Generator | None = None) -> Workspace:
        """``batch_size`` items drawn uniformly with replacement, as ``[T, batch_size, ...]``.

        The indices are ``torch.randint(size(), (batch_size,), generator=g)`` with ``g`` the
        given generator, else the buffer's own (RB-8..RB-10, RB-19, RB-21, DET-7); the returned
        tensors are contiguous copies.
        """
        op = "get_shuffled"
        batch_size = v.check_int(op, "batch_size", batch_size, 1)
        gen = self._generator if generator is None else _check_generator(op, generator)
        if self._size == 0:
            raise EmptyBufferError(v.message(op, "replay buffer", "at least one item", "0 items"))
        schema = cast(_Schema, self._schema)  # set by the put that made the buffer non-empty
        storage = cast("_Columns | _Packed", self._storage)
        device = self._storage_device
        snapshot = None
        nbytes = batch_size * (schema.item_nbytes + 8)  # the sample and its indices
        if nbytes >= _SNAPSHOT_BYTES:  # a large sample: checked first, the generator kept
            _check_memory(op, f"a sample of {batch_size} items", nbytes, device)
            snapshot = gen.get_state()
        try:
            index = torch.randint(self._size, (batch_size,), generator=gen, device=gen.device)
            if index.device != device:
                index = index.to(device)
            gathered = storage.gather(index)
        except (MemoryError, RuntimeError) as exc:
            if not _is_allocation_failure(exc):
                raise
            if snapshot is not None:
                gen.set_state(snapshot)
            raise AllocationError(
                v.message(op, f"a sample of {batch_size} items", f"{nbytes} bytes", exc)
            ) from exc
        out = Workspace()
        out._install_samples(gathered, (schema.time_size, batch_size), schema.fields, device)
        return out

    # ------------------------------------------------------------------ device
    @normal_tensors
    def to(self, device: Device) -> ReplayBuffer:
        """Move the stored items to ``device`` and return the buffer (RB-17)."""
        named, actual = _check_device("to", device)
        storage = self._storage
        if storage is not None and actual != self._storage_device:
            moved = self._allocate("to", cast(_Schema, self._schema), actual)
            moved.load(storage.views(self._size))
            self._storage = moved
        self._device, self._storage_device = named, actual
        return self

    # ------------------------------------------------------------ state dicts
    def state_dict(self) -> ReplayBufferState:
        """A copy of the buffer's state, for :meth:`load_state_dict` (RB-12).

        ``variables`` holds, per variable, the filled slots in slot order as
        ``[size, T, ...]`` tensors.
        """
        return {
            "max_size": self._max_size,
            "position": self._position,
            "size": self._size,
            "variables": {} if self._storage is None else self._storage.items(self._size),
        }

    @normal_tensors
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
        if max_size != self._max_size:
            raise InvalidArgumentError(
                v.message(op, "state 'max_size'", f"this buffer's {self._max_size}", max_size)
            )
        size = v.check_int(op, "size", state["size"], 0)
        position = v.check_int(op, "position", state["position"], 0)
        _check_ring(op, "state 'position'/'size'", max_size, size, position)
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
            if tensor.dtype not in DTYPE_NAMES:
                raise DTypeError(
                    v.message(op, v.variable(name), f"a dtype of {_DOMAIN}", tensor.dtype)
                )
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
            storage = self._allocate(op, schema, self._storage_device)
            storage.load(items)
        self._schema = schema
        self._storage = storage
        self._position = position
        self._size = size

    # ------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole state to ``path`` atomically, in the format of RB-27 (RB-23, RB-24).

        The file holds the items by slot, the ring position and the state of
        :attr:`generator`, so that :meth:`load` resumes sampling exactly.
        """
        path = check_path("save", path)
        schema = self._schema
        state = self._generator.get_state()
        fields = {} if schema is None else schema.fields
        views = {} if self._storage is None else self._storage.views(self._size)
        header: dict[str, object] = {
            "max_size": self._max_size,
            "size": self._size,
            "position": self._position,
            "time_size": None if schema is None else schema.time_size,
            "variables": [
                {"name": name, "dtype": DTYPE_NAMES[dtype], "shape": list(trailing)}
                for name, (trailing, dtype) in fields.items()
            ],
            "generator": {"device": self._generator.device.type, "nbytes": state.numel()},
        }
        arrays = [item_bytes(views[name]) for name in fields] + [state.numpy()]
        write_buffer_file(path, header, arrays)

    @normal_tensors
    def load(self, path: str | os.PathLike[str]) -> ReplayBuffer:
        """Replace the state by the file's (RB-25), checking all of it first (RB-26)."""
        op = "load"
        path = check_path(op, path)
        file = read_buffer_file(path)
        if file.max_size != self._max_size:
            raise InvalidArgumentError(
                v.message(op, "file 'max_size'", f"this buffer's {self._max_size}", file.max_size)
            )
        state = file.generator_state
        if state is not None:
            own = self._generator
            want = (own.device.type, own.get_state().numel())
            if (file.generator_device, state.numel()) != want:
                raise InvalidArgumentError(
                    v.message(
                        op,
                        "file 'generator'",
                        f"the state of a {want[0]} generator ({want[1]} bytes)",
                        f"a {file.generator_device} state of {state.numel()} bytes",
                    )
                )
            try:  # torch checks the state's consistency; try it on a scratch generator
                torch.Generator(device=own.device).set_state(state)
            except RuntimeError as exc:
                raise FileFormatError(
                    v.message(op, "file 'generator'", "a state torch accepts", exc)
                ) from None
        schema, storage = self._schema, self._storage
        if file.time_size is not None:
            fields = {var.name: (var.shape, var.dtype) for var in file.variables}
            if schema is None:
                schema = _Schema(file.time_size, fields)
                storage = self._allocate(op, schema, self._storage_device)
            else:
                _check_same_schema(op, schema, file.time_size, fields)
            cast("_Columns | _Packed", storage).load(file.items)  # validated: cannot fail
        self._schema, self._storage = schema, storage
        self._position, self._size = file.position, file.size
        if state is not None:
            self._generator.set_state(state)
        return self


_DOMAIN = ", ".join(DTYPE_NAMES.values())


def _check_ring(op: str, what: str, max_size: int, size: int, position: int) -> None:
    if size > max_size or position >= max_size or (size < max_size and position != size):
        raise InvalidArgumentError(
            v.message(
                op,
                what,
                f"size <= {max_size}, position == size unless full",
                f"position {position}, size {size}",
            )
        )


def _raise_names(op: str, schema: _Schema, names: Iterable[str]) -> NoReturn:
    """The KeyError of a missing or extra variable (RB-6, RB-26)."""
    given = list(names)
    missing = [name for name in schema.fields if name not in given]
    extra = [name for name in given if name not in schema.fields]
    raise UnknownVariableError(
        v.message(
            op, "variables", f"exactly {sorted(schema.fields)}", f"missing {missing}, extra {extra}"
        )
    )


def _check_same_schema(
    op: str,
    schema: _Schema,
    time_size: int,
    fields: Mapping[str, tuple[tuple[int, ...], torch.dtype]],
) -> None:
    """Raise as a put would (RB-6) unless ``fields`` and ``time_size`` are ``schema``'s."""
    if fields.keys() != schema.fields.keys():
        _raise_names(op, schema, fields)
    if time_size != schema.time_size:
        raise ShapeError(v.message(op, "variables", f"time size {schema.time_size}", time_size))
    for name, (want_shape, want_dtype) in schema.fields.items():
        shape, dtype = fields[name]
        if shape != want_shape:
            raise ShapeError(v.message(op, v.variable(name), f"item shape {want_shape}", shape))
        if dtype != want_dtype:
            raise DTypeError(v.message(op, v.variable(name), f"dtype {want_dtype}", dtype))
