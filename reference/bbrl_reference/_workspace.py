"""The Workspace: named time-major tensors ``[T, B, ...]`` shared by agents (spec WS, TR).

Storage (not specified; documented here): each variable is a ``_Var`` in one of two modes.

* plain: one preallocated buffer ``[capacity, B, ...]`` whose first ``T`` rows are the variable;
  ``set`` copies the value into row ``t`` and doubles the capacity when ``t`` reaches it, so a
  rollout of ``T`` steps costs amortised O(1) per write. ``get_full`` returns the view
  ``buffer[:T]`` and marks the buffer shared; the next write to a shared buffer first clones it
  (copy on write), so a tensor returned by ``get_full`` never changes afterwards and autograd
  graphs built from it stay valid.
* tracked: entered when a value with ``requires_grad=True`` is written. Rows are kept as a list
  of separate tensors (never written in place) and ``get_full`` caches their ``torch.stack``
  until the next write, so the A2C pattern (write a log-probability at each step, read ``[T, B]``
  back, call ``backward()``) works over any number of steps. ``zero_grad`` detaches the variable
  and returns it to plain mode.

``get`` returns a copy of the row in plain mode and the stored row in tracked mode; callers must
not modify returned tensors in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, KeysView, Mapping
from typing import cast

import numpy as np
import torch

from . import _validation as v
from ._errors import DTypeError, InvalidArgumentError, ShapeError, UnknownVariableError

_MIN_CAPACITY = 16
#: torch dtypes that numpy has, and numpy's dtype for each (numpy views, packed storage)
_NUMPY_DTYPES: dict[torch.dtype, np.dtype] = {
    dtype: np.dtype(name)
    for dtype, name in (
        (torch.bool, "bool"),
        (torch.uint8, "uint8"),
        (torch.int8, "int8"),
        (torch.int16, "int16"),
        (torch.int32, "int32"),
        (torch.int64, "int64"),
        (torch.float16, "float16"),
        (torch.float32, "float32"),
        (torch.float64, "float64"),
    )
}


class _Var:
    """Storage of one variable: see the module docstring for the two modes."""

    __slots__ = (
        "array",
        "buf",
        "capacity",
        "device",
        "dtype",
        "full",
        "row_shape",
        "rows",
        "shared",
        "size",
        "trailing",
        "trusted",
    )

    def __init__(
        self, trailing: tuple[int, ...], dtype: torch.dtype, device: torch.device, batch: int
    ) -> None:
        self.trailing = tuple(trailing)
        self.row_shape = (batch, *trailing)
        self.dtype = dtype
        self.device = device
        self.size = 0
        # plain mode: buf is not None
        self.buf: torch.Tensor | None = None
        self.capacity = 0  # rows allocated in buf
        self.array: np.ndarray | None = None  # numpy view of a CPU buf (env agent fast path)
        # a numpy row already checked to match ``array`` (shape, dtype); cleared with ``array``
        self.trusted: np.ndarray | None = None
        self.shared = False
        # tracked mode (buf is None): rows and/or full hold the T rows
        self.rows: list[torch.Tensor] | None = None
        self.full: torch.Tensor | None = None

    # ----------------------------------------------------------------- plain mode
    def set_buf(self, buf: torch.Tensor, size: int) -> None:
        self.buf = buf
        self.capacity = buf.shape[0]
        self.size = size
        self.shared = False
        self.array = None
        self.trusted = None
        self.rows = None
        self.full = None

    def writable_buf(self, rows_needed: int, batch: int) -> torch.Tensor:
        """The plain buffer, unshared and with capacity for ``rows_needed`` rows."""
        buf = self.buf
        if buf is None:
            buf = self._new_buf(max(rows_needed, _MIN_CAPACITY), batch)
            self.set_buf(buf, 0)
        elif rows_needed > buf.shape[0]:
            grown = self._new_buf(max(rows_needed, 2 * buf.shape[0]), batch)
            grown[: self.size].copy_(buf[: self.size])
            buf = grown
            self.set_buf(buf, self.size)
        elif self.shared:
            buf = buf.clone()
            self.set_buf(buf, self.size)
        return buf

    def numpy_view(self) -> np.ndarray | None:
        """A numpy view of the plain CPU buffer (cached until the buffer changes), or None."""
        array = self.array
        if array is None:
            buf = self.buf
            if buf is not None and buf.device.type == "cpu" and self.dtype in _NUMPY_DTYPES:
                array = self.array = buf.numpy()
        return array

    def _new_buf(self, capacity: int, batch: int) -> torch.Tensor:
        return torch.zeros((capacity, batch, *self.trailing), dtype=self.dtype, device=self.device)

    # --------------------------------------------------------------- tracked mode
    def set_tracked(self, full: torch.Tensor) -> None:
        self.rows = list(full.unbind(0))
        self.full = full
        self.size = full.shape[0]
        self.buf = None
        self.array = None
        self.trusted = None
        self.shared = False

    def tracked_rows(self) -> list[torch.Tensor]:
        """Switch to tracked mode (if needed) and return the row list."""
        rows = self.rows
        if rows is None:
            buf = self.buf
            rows = [] if buf is None else list(buf[: self.size].clone().unbind(0))
            self.rows, self.full, self.buf, self.shared = rows, None, None, False
            self.array = self.trusted = None
        return rows

    # ------------------------------------------------------------------ reading
    def row(self, t: int) -> torch.Tensor:
        """Row ``t`` without a copy (internal use)."""
        if self.rows is not None:
            return self.rows[t]
        return self._plain()[t]

    def full_tensor(self) -> torch.Tensor:
        """The ``[T, B, ...]`` tensor without marking it shared (internal use)."""
        if self.rows is None:
            buf = self._plain()
            return buf if self.capacity == self.size else buf[: self.size]
        if self.full is None:
            self.full = torch.stack(self.rows)
        return self.full

    def _plain(self) -> torch.Tensor:
        # a stored variable has rows (tracked) or a buffer (plain): its first write made one
        return cast(torch.Tensor, self.buf)


class _VariablesView(Mapping[str, torch.Tensor]):
    """Read-only mapping name -> full tensor; values are fetched lazily with ``get_full``."""

    __slots__ = ("_ws",)

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    def __getitem__(self, key: str) -> torch.Tensor:
        return self._ws.get_full(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ws.keys())

    def __len__(self) -> int:
        return len(self._ws.keys())


class Workspace:
    """Named tensors ``[T, B, ...]`` written row by row by agents (spec WS-1..WS-19, TR-1..TR-9).

    All variables share the batch size ``B`` fixed by the first write; a variable's trailing
    shape, dtype and device are fixed by its first write. Every method validates its arguments
    before changing anything (ERR-1..ERR-5).

    Examples:
        >>> import torch
        >>> ws = Workspace()
        >>> ws.set("x", 0, torch.tensor([1.0, 2.0]))
        >>> ws.set("x", 2, torch.tensor([5.0, 6.0]))
        >>> ws["x"].tolist()
        [[1.0, 2.0], [0.0, 0.0], [5.0, 6.0]]
    """

    def __init__(self) -> None:
        self._vars: dict[str, _Var] = {}
        self._batch: int | None = None

    # ------------------------------------------------------------------ helpers
    def _var(self, op: str, var_name: object) -> _Var:
        name = v.check_name(op, var_name)
        var = self._vars.get(name)
        if var is None:
            known = ", ".join(repr(k) for k in self._vars) or "none"
            raise UnknownVariableError(
                f"{op}: {v.variable(name)}: no such variable (variables: {known})"
            )
        return var

    def _check_new_batch(self, op: str, var_name: str, batch: int) -> None:
        if self._batch is not None:
            v.check_batch(op, var_name, self._batch, batch)

    def _install(self, var_name: str, value: torch.Tensor) -> None:
        """Store a fresh, unaliased ``[T, B, ...]`` tensor as a variable (no checks, no copy)."""
        shape = value.shape
        var = _Var(shape[2:], value.dtype, value.device, shape[1])
        if value.requires_grad:
            var.set_tracked(value)
        else:
            var.set_buf(value, shape[0])
        self._vars[var_name] = var
        self._batch = shape[1]

    def _install_samples(
        self,
        values: Mapping[str, torch.Tensor],
        shape: tuple[int, int],
        fields: Mapping[str, tuple[tuple[int, ...], torch.dtype]],
        device: torch.device,
    ) -> None:
        """:meth:`_install` for fresh ``[T, B, ...]`` tensors without grad whose shape ``(T, B)``
        and per-variable item shape and dtype the caller knows (replay buffer samples): no
        tensor attribute is read. ``fields`` gives the names, in order."""
        time_size, batch = shape
        variables = self._vars
        for var_name, (trailing, dtype) in fields.items():
            var = _Var(trailing, dtype, device, batch)
            var.buf, var.capacity, var.size = values[var_name], time_size, time_size
            variables[var_name] = var
        self._batch = batch

    # ------------------------------------------------------------------- writes
    def set(self, var_name: str, t: int, value: torch.Tensor) -> None:
        """Write ``value`` (``[B, ...]``) at row ``t``, growing the time size to ``t + 1``.

        Rows between the old time size and ``t`` are zero-filled. The value is copied; its
        autograd history is kept (WS-2, WS-3, WS-8, WS-9).
        """
        var = self._vars.get(var_name) if type(var_name) is str else None
        if var is not None and type(t) is int and t >= 0 and type(value) is torch.Tensor:
            # The common case (a CPU row without grad into a plain variable with room for it)
            # is inlined: it touches torch only to read the tensor as numpy.
            array = var.array
            if array is not None and not var.shared and t < array.shape[0]:
                try:  # raises for a tensor that requires grad or is not on the CPU
                    row = value.numpy()
                except (RuntimeError, TypeError, NotImplementedError):
                    row = None
                if row is not None and row.shape == var.row_shape and row.dtype == array.dtype:
                    size = var.size
                    if t > size:
                        array[size:t] = 0
                    array[t] = row
                    if t >= size:
                        var.size = t + 1
                    return
        op = "set"
        name = v.check_name(op, var_name)
        value = v.check_tensor(op, name, value, 1)
        t = v.check_time(op, name, t)
        batch = value.shape[0]
        self._check_new_batch(op, name, batch)
        if var is None:
            var = _Var(tuple(value.shape[1:]), value.dtype, value.device, batch)
        else:
            v.check_like(op, name, value, var.trailing, var.dtype, var.device, 1)
        # validated: mutate
        self._vars[name] = var
        self._batch = batch
        if value.requires_grad or var.rows is not None:
            rows = var.tracked_rows()
            if t >= len(rows):
                zeros = torch.zeros(var.row_shape, dtype=var.dtype, device=var.device)
                rows.extend(zeros for _ in range(t + 1 - len(rows)))
            rows[t] = value.clone()
            var.full = None
            var.size = len(rows)
        else:
            self._write_plain(var, t, value)

    def _write_plain(self, var: _Var, t: int, value: torch.Tensor | np.ndarray) -> None:
        """Copy a validated row into a plain variable (copy on write, capacity doubling)."""
        buf = var.buf
        if buf is None or var.shared or t >= buf.shape[0]:
            buf = var.writable_buf(t + 1, var.row_shape[0])
        size = var.size
        array = var.numpy_view()
        if isinstance(value, torch.Tensor) and value.is_neg():
            value = value.resolve_neg()  # e.g. z.conj().imag: numpy() refuses the negative bit
        if array is not None:
            if t > size:
                array[size:t] = 0
            array[t] = value.numpy() if isinstance(value, torch.Tensor) else value
        else:
            if t > size:
                buf[size:t].zero_()
            buf[t].copy_(value if isinstance(value, torch.Tensor) else torch.from_numpy(value))
        if t >= size:
            var.size = t + 1

    def _set_numpy(self, var_name: str, t: int, value: np.ndarray) -> None:
        """Fast path of :meth:`set` for the env agent: copy a numpy row ``[B, ...]``.

        Falls back to :meth:`set` (full validation) unless the variable is a plain variable
        with a numpy view and ``value`` has its exact shape and dtype.
        """
        var = self._vars.get(var_name)
        if var is not None and var.rows is None and value.shape == var.row_shape:
            array = var.numpy_view()
            if array is not None and value.dtype == array.dtype:
                self._write_plain(var, t, value)
                return
        self.set(var_name, t, torch.from_numpy(value))

    def _set_numpy_rows(self, t: int, rows: list[tuple[str, np.ndarray]]) -> None:
        """Several :meth:`_set_numpy` calls at one row, with the checks inlined (env agent).

        A row array that passed the shape and dtype checks once is remembered by its variable
        (``_Var.trusted``, forgotten whenever the buffer changes), so the env agent's fixed
        staging rows are checked once per buffer, not once per step. Atomic (ENV-19): unless
        every row is trusted, all rows are checked before any is written.
        """
        variables = self._vars
        for var_name, value in rows:
            var = variables.get(var_name)
            if var is None or var.trusted is not value:
                self._check_numpy_rows(rows)
                break
        for var_name, value in rows:
            var = variables.get(var_name)
            if var is None:
                self._set_numpy(var_name, t, value)
                continue
            size = var.size
            if var.trusted is value and not var.shared and t <= size and t < var.capacity:
                cast(np.ndarray, var.array)[t] = value
                if t == size:
                    var.size = t + 1
                continue
            array = var.array
            if (
                array is not None
                and not var.shared
                and t < array.shape[0]
                and value.shape == var.row_shape
                and value.dtype == array.dtype
            ):
                if t > size:
                    array[size:t] = 0
                array[t] = value
                if t >= size:
                    var.size = t + 1
                var.trusted = value
            else:
                self._set_numpy(var_name, t, value)

    def _check_numpy_rows(self, rows: list[tuple[str, np.ndarray]]) -> None:
        """The checks :meth:`set` makes of each row, without writing anything."""
        for var_name, value in rows:
            self._check_new_batch("set", var_name, value.shape[0])
            var = self._vars.get(var_name)
            if var is not None:
                tensor = torch.from_numpy(value)
                v.check_like("set", var_name, tensor, var.trailing, var.dtype, var.device, 1)

    def _numpy_row(self, var_name: str, t: int) -> np.ndarray | None:
        """Row ``t`` of a plain CPU variable as a numpy view (not kept by callers), else None."""
        var = self._vars.get(var_name)
        if var is None or var.rows is not None or not 0 <= t < var.size:
            return None
        array = var.numpy_view()
        if array is None:
            return None
        row: np.ndarray = array[t]
        return row

    def set_full(self, var_name: str, value: torch.Tensor) -> None:
        """Replace the whole variable by a copy of ``value`` (``[T, B, ...]``) (WS-11).

        Its time size, item shape and dtype may differ from the old ones; the batch size must
        be the workspace's (WS-4).
        """
        op = "set_full"
        name = v.check_name(op, var_name)
        value = v.check_tensor(op, name, value, 2)
        if self._batch is not None:
            v.check_batch(op, name, self._batch, value.shape[1])
        source = value if value.requires_grad else value.detach()
        self._install(name, source.clone(memory_format=torch.contiguous_format))

    def clear(self, var_name: str | None = None) -> None:
        """Remove one variable, or every variable when ``var_name`` is None."""
        if var_name is None:
            self._vars.clear()
        else:
            self._var("clear", var_name)
            del self._vars[var_name]
        if not self._vars:
            self._batch = None

    def zero_grad(self) -> None:
        """Detach every variable, dropping its autograd history (WS-14)."""
        for var in self._vars.values():
            if var.rows is not None:
                full = var.full_tensor().detach().clone()
                var.set_buf(full, full.shape[0])

    def copy_n_last_steps(self, n: int, var_names: Iterable[str] | None = None) -> None:
        """Copy rows ``T-n .. T-1`` to rows ``0 .. n-1`` of exactly the named variables.

        All variables when ``var_names`` is None; ``T`` is each variable's own time size, which
        is unchanged (WS-15..WS-18). One copy per variable; overlapping ranges are handled.
        """
        op = "copy_n_last_steps"
        if isinstance(var_names, str):
            raise TypeError(v.message(op, "argument 'var_names'", "a list of names", "a str"))
        names = list(self._vars) if var_names is None else list(var_names)
        selected = {name: self._var(op, name) for name in names}  # a name given twice: once
        n = v.check_int(op, "n", n, 0)
        for name, var in selected.items():
            if n > var.size:
                raise InvalidArgumentError(
                    v.message(op, "argument 'n'", f"0 <= n <= time size {var.size} of {name!r}", n)
                )
        if n == 0:
            return
        for var in selected.values():
            time_size = var.size
            start = time_size - n
            if start == 0:
                continue
            if var.rows is not None:
                rows = var.rows
                rows[:n] = rows[start:time_size]
                var.full = None
            else:
                buf = var.writable_buf(time_size, self.batch_size())
                source = buf[start:time_size]
                buf[:n].copy_(source.clone() if start < n else source)

    # -------------------------------------------------------------------- reads
    def get(self, var_name: str, t: int) -> torch.Tensor:
        """Row ``t`` (``[B, ...]``) of a variable, ``0 <= t < T`` (WS-2, ERR-2)."""
        var = self._vars.get(var_name) if type(var_name) is str else None
        if var is not None and type(t) is int and 0 <= t < var.size:
            # common case inlined: a row of a plain CPU variable, copied through numpy
            array = var.array
            if array is not None and var.rows is None:
                return torch.from_numpy(array[t].copy())
        var = self._var("get", var_name)
        t = v.check_time("get", var_name, t, var.size)
        if var.rows is not None:
            return var.rows[t]
        array = var.numpy_view()
        if array is not None:  # a numpy row copy: several times cheaper than torch indexing
            return torch.from_numpy(array[t].copy())
        return var.row(t).clone()

    def _row(self, var_name: str, t: int) -> torch.Tensor:
        """Row ``t`` without a copy, for internal readers that do not keep it."""
        var = self._var("get", var_name)
        t = v.check_time("get", var_name, t, var.size)
        return var.row(t)

    def get_full(self, var_name: str) -> torch.Tensor:
        """The whole variable ``[T, B, ...]``, in amortised O(1) (WS-6, WS-7).

        A later write does not change the returned tensor (copy on write).
        """
        var = self._var("get_full", var_name)
        full = var.full_tensor()
        var.shared = var.rows is None
        return full

    def __getitem__(self, var_name: str) -> torch.Tensor:
        """Same as :meth:`get_full`."""
        return self.get_full(var_name)

    def __contains__(self, var_name: object) -> bool:
        return var_name in self._vars

    def keys(self) -> KeysView[str]:
        """The variable names, in the order of their first write."""
        return self._vars.keys()

    @property
    def variables(self) -> Mapping[str, torch.Tensor]:
        """Read-only mapping from name to full tensor (as with :meth:`get_full`)."""
        return _VariablesView(self)

    def time_size(self) -> int:
        """The time size ``T`` shared by all variables; 0 when empty (WS-1, WS-13)."""
        sizes = {var.size for var in self._vars.values()}
        if len(sizes) > 1:
            detail = ", ".join(f"{k!r}: {var.size}" for k, var in self._vars.items())
            raise ShapeError(
                v.message("time_size", "variables", "one time size", f"time sizes {{{detail}}}")
            )
        return sizes.pop() if sizes else 0

    def batch_size(self) -> int:
        """The batch size ``B`` shared by all variables; 0 when empty (WS-1, WS-13)."""
        return self._batch if self._batch is not None else 0

    def get_transitions(self, filter_key: str | None = "env/done") -> Workspace:
        """Pairs ``(t, t+1)`` of every env as a new workspace of ``[2, N, ...]`` tensors.

        Columns are ordered time-major then env; a pair is dropped when ``filter_key`` is True
        at its first element (TR-1..TR-8). The result does not alias this workspace and keeps
        autograd history.
        """
        op = "get_transitions"
        time_size = self.time_size()
        batch = self.batch_size()
        pairs = max(time_size - 1, 0) * batch
        if filter_key is None:
            keep = torch.arange(pairs)
        else:
            flag = self._var(op, filter_key).full_tensor()
            if flag.dtype != torch.bool:
                raise DTypeError(
                    v.message(op, v.variable(filter_key), "dtype torch.bool", flag.dtype)
                )
            if flag.dim() != 2:
                raise ShapeError(
                    v.message(op, v.variable(filter_key), "shape [T, B]", list(flag.shape))
                )
            keep = torch.logical_not(flag[:-1]).reshape(-1).nonzero().squeeze(1)
        index = torch.cat((keep, keep + batch))
        count = keep.shape[0]
        indices: dict[torch.device, torch.Tensor] = {index.device: index}
        out = Workspace()
        for name, var in self._vars.items():
            idx = indices.get(var.device)
            if idx is None:
                idx = indices[var.device] = index.to(var.device)
            flat = var.full_tensor().reshape(time_size * batch, *var.trailing)
            out._install(name, flat.index_select(0, idx).view(2, count, *var.trailing))
        return out

    def __repr__(self) -> str:
        shapes = ", ".join(
            f"{k!r}: [{var.size}, {self._batch}{''.join(f', {d}' for d in var.trailing)}]"
            for k, var in self._vars.items()
        )
        return f"Workspace({{{shapes}}})"
