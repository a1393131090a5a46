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

Every write of rows (``set``, the env agent's ``_set_numpy_rows``, ``copy_time``) takes one path:
validate every argument, then ``_Var.stage`` (all allocation; no value changes, so a failure,
e.g. out of memory, leaves the workspace as it was), then ``_Var.commit`` (zero-fill the gap,
write the rows, update the size). Two fast paths skip it for the per-step case and say why they
are equivalent. Workspaces made from a workspace (``subtime``, ``to``, ``Workspace(other)``...)
adopt views of its buffers copy on write, so they cost O(variables) and never alias it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping, Sequence
from typing import ParamSpec, TypeVar, cast, overload

import numpy as np
import torch

from . import _validation as v
from ._errors import (
    AllocationError,
    BatchIndexError,
    DTypeError,
    InvalidArgumentError,
    ShapeError,
    TimeIndexError,
    UnknownVariableError,
)

_MIN_CAPACITY = 16
_P = ParamSpec("_P")
_R = TypeVar("_R")


def normal_tensors(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``method`` outside inference mode when it is called inside it (WS-46, RB-31).

    A tensor made under ``torch.inference_mode()`` is an inference tensor, which no in-place
    write outside the mode may change (torch raises, and may have written part of a copy
    first). Every method that makes storage is wrapped, so that a workspace or buffer filled
    in a rollout under the mode can be copied and written afterwards. The values it is given
    may be inference tensors: reading them is allowed, and grad stays off, as in the mode (an
    inference tensor cannot be saved for backward).
    """

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if torch.is_inference_mode_enabled():  # no grad either, as in the mode
            with torch.inference_mode(False), torch.no_grad():
                return method(*args, **kwargs)
        return method(*args, **kwargs)

    return wrapper


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


#: the signed dtype of the same width, for gathers torch does not implement for unsigned ones
_SIGNED_TWIN = {torch.uint16: torch.int16, torch.uint32: torch.int32, torch.uint64: torch.int64}

Row = torch.Tensor | np.ndarray
"""One row ``[B, ...]`` of a variable, as a tensor or (CPU fast paths) a numpy array."""

Staged = tuple[list[Row], list[torch.Tensor] | None]
"""What ``_Var.stage`` prepares: the rows to write, and a tracked variable's longer row list."""


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

    def writable_buf(self, rows_needed: int, batch: int, reserve: int = 0) -> torch.Tensor:
        """The plain buffer, unshared and with capacity for ``rows_needed`` rows.

        A buffer that must grow takes at least ``reserve`` rows (the rows a running
        ``TemporalAgent`` will reach), so a rollout grows each variable once, not once per
        doubling; a first buffer does not, as a variable written at one row stays small.
        """
        buf = self.buf
        if buf is None:
            buf = self._new_buf(max(rows_needed, _MIN_CAPACITY), batch, rows_needed)
            self.set_buf(buf, 0)
        elif rows_needed > buf.shape[0]:
            grown = self._new_buf(max(rows_needed, 2 * buf.shape[0], reserve), batch, rows_needed)
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

    def _new_buf(self, capacity: int, batch: int, rows_needed: int) -> torch.Tensor:
        """A zeroed buffer of ``capacity`` rows, or of ``rows_needed`` rows when the spare rows
        cannot be allocated (WS-23: ``t + 1`` rows that fit are enough)."""
        # capacity doubling stops at the time-size bound, so fast paths that check
        # ``t < capacity`` also enforce WS-23
        capacity = min(capacity, v.MAX_TIME_SIZE)
        try:
            return self._zeros(capacity, batch)
        except (RuntimeError, MemoryError):
            if capacity <= rows_needed:
                raise
        return self._zeros(rows_needed, batch)

    def _zeros(self, rows: int, batch: int) -> torch.Tensor:
        return torch.zeros((rows, batch, *self.trailing), dtype=self.dtype, device=self.device)

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

    # ------------------------------------------------------------ the row write
    # Every write of rows (set, set of several variables at one row, copy_time) is: validate
    # (in Workspace), then stage() on every variable written, then commit() on each. stage()
    # does all the allocating and changes no value, so a failure there leaves the workspace
    # as it was (ERR-5, WS-24); commit() only copies into storage that stage() prepared.
    def stage(
        self, op: str, name: str, t: int, values: list[torch.Tensor], grad: bool, reserve: int = 0
    ) -> Staged:
        """Phase 1 of writing ``values`` at rows ``t, t+1, ...``: allocate, change no value.

        A plain variable grows or unshares its buffer; a tracked one (or a plain one that a
        value with grad makes tracked) gets private copies of the values and, for a gap
        ``size..t-1``, a longer row list ending in zero rows. Raises AllocationError (a
        MemoryError) when the storage cannot be allocated; the variable then holds the values
        it held before.
        """
        try:
            if grad or self.rows is not None:
                rows = self.tracked_rows()
                copies: list[Row] = [value.clone() for value in values]  # keeps autograd
                gap = t - len(rows)
                if gap <= 0:
                    return copies, None
                zero = torch.zeros(self.row_shape, dtype=self.dtype, device=self.device)
                return copies, rows + [zero] * gap
            self.writable_buf(t + len(values), self.row_shape[0], reserve)
            if self.numpy_view() is None:
                return list(values), None
            return [_ndarray(value) for value in values], None
        except (RuntimeError, MemoryError) as exc:
            rows_needed = f"storage for {t + len(values)} rows of shape {list(self.row_shape)}"
            raise AllocationError(
                v.message(op, v.variable(name), rows_needed, f"an allocation failure ({exc})")
            ) from exc

    def commit(self, t: int, staged: Staged) -> None:
        """Phase 2 (after :meth:`stage`): zero-fill the gap ``size..t-1``, write the rows
        from ``t`` and update the size. Copies into prepared storage only (a tracked row list
        may grow by the written rows)."""
        values, padded = staged
        rows = self.rows
        if rows is not None:
            if padded is not None:  # the gap's zero rows, allocated by stage()
                rows = self.rows = padded
            rows[t : t + len(values)] = cast(list[torch.Tensor], values)
            self.full = None
            self.size = len(rows)
            return
        size = self.size
        end = t + len(values)
        array = self.array
        if array is not None:
            if t > size:
                array[size:t] = 0
            for i, row in enumerate(values):
                array[t + i] = row
        else:
            buf = self._plain()
            if t > size:
                buf[size:t].zero_()
            for i, row in enumerate(values):
                buf[t + i].copy_(cast(torch.Tensor, row))
        if end > size:
            self.size = end

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
        full = self.full
        if full is None:
            full = torch.stack(self.rows)
            # a stack made under no_grad (or inference mode) has no autograd history: kept, it
            # would be every later reader's, and backward() would not reach the rows (WS-46)
            if torch.is_grad_enabled():
                self.full = full
        return full

    def _plain(self) -> torch.Tensor:
        # a stored variable has rows (tracked) or a buffer (plain): its first write made one
        return cast(torch.Tensor, self.buf)


def _ndarray(value: torch.Tensor) -> np.ndarray:
    """A CPU row as a numpy array (numpy copy path); a lazily negated view is resolved first
    (``z.conj().imag``: ``Tensor.numpy()`` refuses the negative bit)."""
    return (value.resolve_neg() if value.is_neg() else value).numpy()


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
    """Named tensors ``[T, B, ...]`` written row by row by agents (spec WS, TR).

    All variables share the batch size ``B`` fixed by the first write; a variable's trailing
    shape, dtype and device are fixed by its first write. Every method validates its arguments
    before changing anything (ERR-1..ERR-5). ``Workspace(other)`` copies ``other`` (WS-27).

    Examples:
        >>> import torch
        >>> ws = Workspace()
        >>> ws.set("x", 0, torch.tensor([1.0, 2.0]))
        >>> ws.set("x", 2, torch.tensor([5.0, 6.0]))
        >>> ws["x"].tolist()
        [[1.0, 2.0], [0.0, 0.0], [5.0, 6.0]]
    """

    @normal_tensors
    def __init__(self, workspace: Workspace | None = None) -> None:
        self._vars: dict[str, _Var] = {}
        self._batch: int | None = None
        #: rows a growing buffer reserves: set by a running TemporalAgent to its last row + 1
        self._reserve = 0
        if workspace is not None:
            if not isinstance(workspace, Workspace):
                raise TypeError(
                    v.message(
                        "Workspace",
                        "argument 'workspace'",
                        "a Workspace or None",
                        type(workspace).__name__,
                    )
                )
            for name, var in workspace._vars.items():
                self._adopt(name, var.full_tensor(), var)

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

    def _adopt(self, var_name: str, value: torch.Tensor, source: _Var) -> None:
        """:meth:`_install` a tensor that may share storage with variable ``source`` (a view
        of it): both become copy on write, so that a write to either never reaches the other
        (WS-26). Tracked rows are never written in place and need no mark."""
        self._install(var_name, value)
        var = self._vars[var_name]
        var.shared = var.rows is None
        if source.rows is None:
            source.shared = True

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

    def _common_time_size(self, op: str) -> int:
        """The time size of every variable (0 when empty); ValueError when they differ."""
        sizes = {var.size for var in self._vars.values()}
        if len(sizes) > 1:
            detail = ", ".join(f"{k!r}: {var.size}" for k, var in self._vars.items())
            raise ShapeError(v.message(op, "variables", "one time size", f"{{{detail}}}"))
        return sizes.pop() if sizes else 0

    def _selected(self, op: str, var_names: Iterable[str] | None) -> dict[str, _Var]:
        """The variables named by ``var_names`` (all when None), each once (WS-16)."""
        if var_names is None:
            return dict(self._vars)
        expected = "a list of names"
        if isinstance(var_names, str):
            raise TypeError(v.message(op, "argument 'var_names'", expected, "a str"))
        try:
            names = list(var_names)
        except TypeError:  # not iterable (an int, a 0-d tensor...)
            raise TypeError(
                v.message(op, "argument 'var_names'", expected, type(var_names).__name__)
            ) from None
        return {name: self._var(op, name) for name in names}

    # ------------------------------------------------------------------- writes
    def set(self, var_name: str, t: int, value: torch.Tensor) -> None:
        """Write ``value`` (``[B, ...]``) at row ``t``, growing the time size to ``t + 1``.

        Rows between the old time size and ``t`` are zero-filled. The value is copied; its
        autograd history is kept (WS-2, WS-3, WS-8, WS-9).
        """
        var = self._vars.get(var_name) if type(var_name) is str else None
        if var is not None and type(t) is int and t >= 0 and type(value) is torch.Tensor:
            # Fast path, equivalent to the row write below for its one case: a CPU row without
            # grad, of the variable's shape and dtype (numpy compares both), into a plain
            # variable with a numpy view, unshared and with room for row t (t < capacity <=
            # 2**31). stage() would allocate nothing then, and this is commit() inlined.
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
        self._write_row("set", t, [(var_name, value)])

    @normal_tensors
    def _write_row(self, op: str, t: object, items: Sequence[tuple[object, object]]) -> None:
        """The row write: ``items`` (name, ``[B, ...]`` value) all at row ``t``, whole or not at
        all. Validates every item (WS-4, WS-5, WS-20..WS-23, ERR-2, ERR-4), then stages every
        variable (allocation: WS-24), then commits (see :meth:`_Var.stage`)."""
        batch = self._batch
        checked: list[tuple[str, _Var, torch.Tensor]] = []
        new: dict[str, _Var] = {}
        for var_name, raw in items:
            name = v.check_new_name(op, var_name)
            value = v.check_value(op, name, raw, 1)
            if not checked:
                t = v.check_write_time(op, name, t)
            if batch is not None:
                v.check_batch(op, name, batch, value.shape[0])
            batch = value.shape[0]
            var = self._vars.get(name)
            if var is None:
                var = new.get(name)
            if var is None:
                var = new[name] = _Var(tuple(value.shape[1:]), value.dtype, value.device, batch)
            else:
                v.check_like(op, name, value, var.trailing, var.dtype, var.device, 1)
            checked.append((name, var, value))
        row = cast(int, t)
        # validated: allocate (may raise, changes no value), then write
        reserve = self._reserve
        staged = [
            var.stage(op, name, row, [value], value.requires_grad, reserve)
            for name, var, value in checked
        ]
        self._vars.update(new)
        self._batch = batch
        for (_, var, _), rows in zip(checked, staged, strict=True):
            var.commit(row, rows)

    def _set_numpy_rows(self, t: int, rows: list[tuple[str, np.ndarray]]) -> None:
        """Write numpy rows ``[B, ...]`` of several variables at row ``t``, whole or not at all
        (the env agent's per-step write).

        A row array that passed the shape and dtype checks once is remembered by its variable
        (``_Var.trusted``, forgotten whenever the buffer changes), so the env agent's fixed
        staging rows are checked once per buffer, not once per step. Atomic (ENV-19): unless
        every row is trusted, all rows are checked before any is written.
        """
        variables = self._vars
        targets: list[tuple[_Var, np.ndarray]] = []
        for var_name, value in rows:
            var = variables.get(var_name)
            if (
                var is None
                or var.trusted is not value
                or var.shared
                or t > var.size
                or t >= var.capacity
            ):
                break
            targets.append((var, value))
        else:
            # Fast path, equivalent to the row write for its one case: every row is the array
            # its variable checked before (shape, dtype), into a plain unshared buffer with room
            # for row t and no gap to zero-fill. All rows are checked before any is written.
            for var, value in targets:
                var.array[t] = value  # type: ignore[index]  # a trusted row has an array
                if t == var.size:
                    var.size = t + 1
            return
        self._write_row("set", t, [(name, torch.from_numpy(value)) for name, value in rows])
        for var_name, value in rows:  # trust these arrays for the next steps
            var = variables[var_name]
            array = var.array
            if array is not None and value.shape == var.row_shape and value.dtype == array.dtype:
                var.trusted = value

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

    @normal_tensors
    def set_full(self, var_name: str, value: torch.Tensor) -> None:
        """Replace the whole variable by a copy of ``value`` (``[T, B, ...]``) (WS-11).

        Its time size, item shape and dtype may differ from the old ones; the batch size must
        be the workspace's (WS-4).
        """
        op = "set_full"
        name = v.check_new_name(op, var_name)
        value = v.check_value(op, name, value, 2)
        if value.shape[0] > v.MAX_TIME_SIZE:
            raise ShapeError(
                v.message(op, v.variable(name), "a time size <= 2**31", value.shape[0])
            )
        if self._batch is not None:
            v.check_batch(op, name, self._batch, value.shape[1])
        source = value if value.requires_grad else value.detach()
        try:
            copy = source.clone(memory_format=torch.contiguous_format)
            # with grad, one tensor per row, which may fail for millions of rows; _install
            # changes the workspace only once the variable is made
            self._install(name, copy)
        except (RuntimeError, MemoryError) as exc:
            raise AllocationError(
                v.message(
                    op, v.variable(name), "storage for a copy", f"an allocation failure ({exc})"
                )
            ) from exc

    def clear(self, var_name: str | None = None) -> None:
        """Remove one variable, or every variable when ``var_name`` is None."""
        if var_name is None:
            self._vars.clear()
        else:
            self._var("clear", var_name)
            del self._vars[var_name]
        if not self._vars:
            self._batch = None

    def remove_variable(self, var_name: str) -> None:
        """Remove variable ``var_name``, as ``clear(var_name)`` (WS-43)."""
        self._var("remove_variable", var_name)
        self.clear(var_name)

    @normal_tensors
    def zero_grad(self) -> None:
        """Detach every variable, dropping its autograd history (WS-14)."""
        for var in self._vars.values():
            if var.rows is not None:
                full = var.full_tensor().detach().clone()
                var.set_buf(full, full.shape[0])

    @normal_tensors
    def copy_n_last_steps(self, n: int, var_names: Iterable[str] | None = None) -> None:
        """Copy rows ``T-n .. T-1`` to rows ``0 .. n-1`` of exactly the named variables.

        All variables when ``var_names`` is None; ``T`` is each variable's own time size, which
        is unchanged (WS-15..WS-18). One copy per variable; overlapping ranges are handled.
        """
        op = "copy_n_last_steps"
        selected = self._selected(op, var_names)
        n = v.check_int(op, "n", n, 0)
        for name, var in selected.items():
            if n > var.size:
                raise InvalidArgumentError(
                    v.message(op, "argument 'n'", f"0 <= n <= time size {var.size} of {name!r}", n)
                )
        if n == 0:
            return
        # Rows move inside each variable: no growth and no gap, so not the row write; one
        # block copy per variable (WS-18).
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

    @normal_tensors
    def copy_time(
        self,
        from_time: int,
        to_time: int,
        n_steps: int,
        var_names: Iterable[str] | None = None,
    ) -> None:
        """Copy rows ``from_time .. from_time+n_steps-1`` to rows ``to_time ..`` of the named
        variables (all when None), reading them before writing; a target row past the end
        grows the variable as ``set`` does (WS-41, WS-42)."""
        op = "copy_time"
        selected = self._selected(op, var_names)
        n_steps = v.check_int(op, "n_steps", n_steps, 0)
        from_time = v.check_int(op, "from_time", from_time)
        to_time = v.check_int(op, "to_time", to_time)
        for arg, value in (("from_time", from_time), ("to_time", to_time)):
            if value < 0:
                raise TimeIndexError(v.message(op, f"argument {arg!r}", ">= 0", value))
        if to_time + n_steps > v.MAX_TIME_SIZE:
            raise TimeIndexError(
                v.message(op, "arguments", "to_time + n_steps <= 2**31", to_time + n_steps)
            )
        for name, var in selected.items():
            if from_time + n_steps > var.size:
                raise TimeIndexError(
                    v.message(
                        op,
                        v.variable(name),
                        f"from_time + n_steps <= time size {var.size}",
                        from_time + n_steps,
                    )
                )
        if n_steps == 0:
            return
        sources = [
            list(var.full_tensor()[from_time : from_time + n_steps].clone().unbind(0))
            for var in selected.values()
        ]
        staged = [
            var.stage(op, name, to_time, rows, False)
            for (name, var), rows in zip(selected.items(), sources, strict=True)
        ]
        for var, rows in zip(selected.values(), staged, strict=True):
            var.commit(to_time, rows)

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

    @overload
    def __getitem__(self, var_name: str) -> torch.Tensor: ...

    @overload
    def __getitem__(self, var_name: tuple[str, ...] | list[str]) -> tuple[torch.Tensor, ...]: ...

    def __getitem__(
        self, var_name: str | tuple[str, ...] | list[str]
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """:meth:`get_full` of one name, or a tuple of them for a tuple or list of names
        (``ws["a", "b"]``, WS-25)."""
        if isinstance(var_name, (tuple, list)):
            for name in var_name:  # every name is checked before any is read
                self._var("__getitem__", name)
            return tuple(self.get_full(name) for name in var_name)
        return self.get_full(var_name)

    def __contains__(self, var_name: object) -> bool:
        return isinstance(var_name, str) and var_name in self._vars

    def keys(self) -> KeysView[str]:
        """The variable names, in the order of their first write."""
        return self._vars.keys()

    @property
    def variables(self) -> Mapping[str, torch.Tensor]:
        """Read-only mapping from name to full tensor (as with :meth:`get_full`)."""
        return _VariablesView(self)

    def time_size(self) -> int:
        """The time size ``T`` shared by all variables; 0 when empty (WS-1, WS-13)."""
        return self._common_time_size("time_size")

    def batch_size(self) -> int:
        """The batch size ``B`` shared by all variables; 0 when empty (WS-1, WS-13)."""
        return self._batch if self._batch is not None else 0

    def get_time_truncated(self, var_name: str, from_time: int, to_time: int) -> torch.Tensor:
        """``get_full(var_name)[from_time:to_time]``, bounds checked, never clipped (WS-34)."""
        op = "get_time_truncated"
        var = self._var(op, var_name)
        from_time, to_time = _time_range(op, from_time, to_time, var.size, ("from_time", "to_time"))
        return self.get_full(var_name)[from_time:to_time]

    # ------------------------------------------------------ workspaces from this one
    # Each returns a new workspace that shares no storage with this one (WS-26): views are
    # adopted copy on write, everything else is a fresh tensor.
    def subtime(self, from_t: int, to_t: int) -> Workspace:
        """Rows ``from_t .. to_t-1`` of every variable (WS-32, WS-33)."""
        return self._time_slice("subtime", from_t, to_t, ("from_t", "to_t"))

    def get_time_truncated_workspace(self, from_time: int, to_time: int) -> Workspace:
        """The same as :meth:`subtime` (WS-32, WS-33)."""
        op = "get_time_truncated_workspace"
        return self._time_slice(op, from_time, to_time, ("from_time", "to_time"))

    @normal_tensors
    def _time_slice(
        self, op: str, start: object, stop: object, names: tuple[str, str]
    ) -> Workspace:
        start, stop = _time_range(op, start, stop, self._common_time_size(op), names)
        out = Workspace()
        for name, var in self._vars.items():
            out._adopt(name, var.full_tensor()[start:stop], var)
        out._batch = self._batch
        return out

    def contiguous(self) -> Workspace:
        """A copy of this workspace (WS-40)."""
        return Workspace(self)

    @normal_tensors
    def to(self, device: torch.device | str | int) -> Workspace:
        """A copy of this workspace with every variable on ``device`` (WS-39)."""
        op = "to"
        target = v.check_device(op, device)
        out = Workspace()
        for name, var in self._vars.items():
            out._install(name, var.full_tensor().to(target, copy=True))
        out._batch = self._batch
        return out

    @normal_tensors
    def select_batch(self, batch_indexes: torch.Tensor) -> Workspace:
        """Columns ``batch_indexes`` (positions, or a bool mask) of every variable (WS-28..30)."""
        index = _batch_index("select_batch", batch_indexes, self.batch_size())
        out = Workspace()
        on_device: dict[torch.device, torch.Tensor] = {}
        for name, var in self._vars.items():
            idx = on_device.get(var.device)
            if idx is None:
                idx = on_device[var.device] = index.to(var.device)
            out._install(name, var.full_tensor().index_select(1, idx))
        out._batch = index.shape[0] if self._vars else None
        return out

    def select_batch_n(self, n: int) -> Workspace:
        """``select_batch`` of ``n`` columns drawn with replacement with torch's global
        generator (WS-31)."""
        op = "select_batch_n"
        n = v.check_int(op, "n", n, 0)
        batch = self.batch_size()
        if n > 0 and batch == 0:
            raise InvalidArgumentError(
                v.message(op, "argument 'n'", "0 on a workspace of batch size 0", n)
            )
        try:
            return self.select_batch(torch.randint(0, max(batch, 1), (n,)))
        except (RuntimeError, MemoryError) as exc:  # n columns do not fit in memory
            raise AllocationError(
                v.message(op, "argument 'n'", "a batch that fits in memory", f"{n} ({exc})")
            ) from exc

    @normal_tensors
    def select_subtime(self, t: torch.Tensor, window_size: int) -> Workspace:
        """Per column ``b``, rows ``t[b] .. t[b]+window_size-1`` (WS-35, WS-36)."""
        op = "select_subtime"
        time_size = self._common_time_size(op)
        batch = self.batch_size()
        window_size = v.check_int(op, "window_size", window_size, 0)
        starts = _batch_positions(op, "t", t, batch)
        if batch > 0:
            first, last = int(starts.min()), int(starts.max())
            if first < 0 or last + window_size > time_size:
                bad = first if first < 0 else last
                raise TimeIndexError(
                    v.message(
                        op,
                        "argument 't'",
                        f"0 <= t[b] and t[b] + window_size <= {time_size} (time size)",
                        bad,
                    )
                )
        rows = starts[None, :] + torch.arange(window_size)[:, None]  # [window, B]
        columns = torch.arange(batch).expand(window_size, batch)
        out = Workspace()
        for name, var in self._vars.items():
            device = var.device
            out._install(name, var.full_tensor()[rows.to(device), columns.to(device)])
        out._batch = self._batch
        return out

    @staticmethod
    @normal_tensors
    def cat_batch(workspaces: Sequence[Workspace]) -> Workspace:
        """The workspaces concatenated along the batch dimension, in order (WS-37, WS-38).

        A static method: ``Workspace.cat_batch([a, b])`` and ``a.cat_batch([a, b])`` agree.
        """
        op = "cat_batch"
        if not isinstance(workspaces, (list, tuple)):
            raise TypeError(
                v.message(
                    op, "argument 'workspaces'", "a list of Workspace", type(workspaces).__name__
                )
            )
        if not workspaces:
            raise InvalidArgumentError(
                v.message(op, "argument 'workspaces'", "at least one workspace", "an empty list")
            )
        for i, ws in enumerate(workspaces):
            if not isinstance(ws, Workspace):
                raise TypeError(v.message(op, f"workspaces[{i}]", "a Workspace", type(ws).__name__))
        first = workspaces[0]._vars
        for i, ws in enumerate(workspaces[1:], start=1):
            if ws._vars.keys() != first.keys():
                missing = [k for k in first if k not in ws._vars]
                extra = [k for k in ws._vars if k not in first]
                raise UnknownVariableError(
                    v.message(
                        op,
                        f"workspaces[{i}]",
                        f"the variables of workspaces[0] {sorted(first)}",
                        f"missing {missing}, extra {extra}",
                    )
                )
            for name, var in ws._vars.items():
                ref = first[name]
                if var.size != ref.size or var.trailing != ref.trailing:
                    raise ShapeError(
                        v.message(
                            op,
                            v.variable(name),
                            f"time size {ref.size} and item shape {ref.trailing}",
                            f"{var.size} and {var.trailing} in workspaces[{i}]",
                        )
                    )
                for what, want, got in (
                    ("dtype", ref.dtype, var.dtype),
                    ("device", ref.device, var.device),
                ):
                    if got != want:
                        raise DTypeError(
                            v.message(
                                op, v.variable(name), f"{what} {want}", f"{got} in workspaces[{i}]"
                            )
                        )
        out = Workspace()
        for name in first:
            parts = [ws._vars[name].full_tensor() for ws in workspaces]
            out._install(name, torch.cat(parts, dim=1))
        return out

    @normal_tensors
    def get_transitions(
        self, filter_key: str | None = "env/done", *, no_final_state: bool = False
    ) -> Workspace:
        """Pairs ``(t, t+1)`` of every env as a new workspace of ``[2, N, ...]`` tensors.

        Columns are ordered time-major then env; a pair is dropped when ``filter_key`` is True
        at its first element (TR-1..TR-8). ``no_final_state=True`` (bbrl's spelling) is
        ``filter_key=None`` (TR-11). The result does not alias this workspace and keeps
        autograd history.
        """
        op = "get_transitions"
        if type(no_final_state) is not bool:
            raise TypeError(
                v.message(op, "argument 'no_final_state'", "a bool", type(no_final_state).__name__)
            )
        if filter_key is not None and not isinstance(filter_key, str):
            raise TypeError(
                v.message(op, "argument 'filter_key'", "a str or None", type(filter_key).__name__)
            )
        time_size = self._common_time_size(op)
        batch = self.batch_size()
        pairs = max(time_size - 1, 0) * batch
        if filter_key is None or no_final_state:
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
        indices: dict[torch.device, torch.Tensor] = {}
        out = Workspace()
        for name, var in self._vars.items():
            idx = indices.get(var.device)
            if idx is None:
                idx = indices[var.device] = index.to(var.device)
            flat = var.full_tensor().reshape(time_size * batch, *var.trailing)
            signed = _SIGNED_TWIN.get(var.dtype)
            if signed is None:
                gathered = flat.index_select(0, idx)
            else:  # torch lacks a 1-d uint16/32/64 index_select: gather the same bits as ints
                gathered = flat.view(signed).index_select(0, idx).view(var.dtype)
            out._install(name, gathered.view(2, count, *var.trailing))
        return out

    def __repr__(self) -> str:
        shapes = ", ".join(
            f"{k!r}: [{var.size}, {self._batch}{''.join(f', {d}' for d in var.trailing)}]"
            for k, var in self._vars.items()
        )
        return f"Workspace({{{shapes}}})"


def _time_range(
    op: str, start: object, stop: object, time_size: int, names: tuple[str, str]
) -> tuple[int, int]:
    """``(start, stop)`` with ``0 <= start <= stop <= time_size``: IndexError for a bound
    outside ``0..time_size``, ValueError for ``start > stop`` (never clipped). ``names`` are
    the arguments' names, for messages."""
    first = v.check_int(op, names[0], start)
    last = v.check_int(op, names[1], stop)
    for arg, value in zip(names, (first, last), strict=True):
        if not 0 <= value <= time_size:
            raise TimeIndexError(
                v.message(op, f"argument {arg!r}", f"0 <= {arg} <= {time_size} (time size)", value)
            )
    if first > last:
        raise InvalidArgumentError(
            v.message(op, "arguments", f"{names[0]} <= {names[1]}", f"{first} > {last}")
        )
    return first, last


def _batch_positions(op: str, arg: str, index: object, batch: int) -> torch.Tensor:
    """A one-dimensional integer tensor of ``batch`` values as int64 (values not checked)."""
    if not isinstance(index, torch.Tensor):
        raise TypeError(_arg_message(op, arg, "a torch.Tensor", type(index).__name__))
    if index.dtype not in v.INDEX_DTYPES:
        raise DTypeError(_arg_message(op, arg, "an int64 or int32 tensor", index.dtype))
    if index.dim() != 1 or index.shape[0] != batch:
        raise ShapeError(_arg_message(op, arg, f"shape [{batch}] (batch size)", list(index.shape)))
    return index.to(torch.int64)


def _batch_index(op: str, index: object, batch: int) -> torch.Tensor:
    """Column positions (int64) from an integer index or a bool mask (WS-28..WS-30)."""
    arg = "batch_indexes"
    if not isinstance(index, torch.Tensor):
        raise TypeError(_arg_message(op, arg, "a torch.Tensor", type(index).__name__))
    if index.dtype == torch.bool:
        if index.dim() != 1 or index.shape[0] != batch:
            raise ShapeError(
                _arg_message(op, arg, f"a mask of shape [{batch}] (batch size)", list(index.shape))
            )
        return index.nonzero().squeeze(1)
    if index.dtype not in v.INDEX_DTYPES:
        raise DTypeError(_arg_message(op, arg, "an int64, int32 or bool tensor", index.dtype))
    if index.dim() != 1:
        raise ShapeError(_arg_message(op, arg, "one dimension", list(index.shape)))
    positions = index.to(torch.int64)
    if positions.shape[0] > 0:
        first, last = int(positions.min()), int(positions.max())
        if first < 0 or last >= batch:
            bad = first if first < 0 else last
            raise BatchIndexError(
                _arg_message(op, arg, f"values in 0..{batch - 1} (batch size {batch})", bad)
            )
    return positions


def _arg_message(op: str, arg: str, expected: object, actual: object) -> str:
    return v.message(op, f"argument {arg!r}", expected, actual)
