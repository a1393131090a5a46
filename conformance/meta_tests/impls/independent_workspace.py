"""Independent Workspace (and get_transitions), written from spec/ alone without reading the
reference.

Written from ``spec/workspace.md``, ``spec/transitions.md``, ``spec/errors.md``,
``spec/conventions.md``, ``spec/surface.md``, ``spec/not-specified.md`` and ``spec/README.md``
only, to check that the conformance suite demands no more than the spec.  Its internal design
deliberately differs from a "preallocated buffer per variable":

* a variable is a sorted list of immutable *segments* ``(start, tensor[L, B, *S])``; rows not
  covered by any segment are zeros that are never allocated (a write at ``t = 2**31 - 1``
  allocates one row);
* stored tensors are never modified in place: every write replaces or trims segments, so
  workspaces made from workspaces share tensors freely (copy-on-write, not-specified.md);
* ``get_full`` concatenates the segments and folds them into a single segment, which is then
  returned by later calls until the next write;
* its own exception hierarchy, each class subclassing the builtin the spec names (ERR-9).
"""

# ruff: noqa: E501  (its error messages stay on one line each, as their author wrote them)

from __future__ import annotations

import bisect
import functools
import operator
import os
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar, cast

import torch

IMPLEMENTATION_NAME = "independent-workspace"
__all__ = ["Workspace"]
CONFORMANCE_AREAS = ("WS", "TR")

_TIME_LIMIT = 2**31

_P = ParamSpec("_P")
_R = TypeVar("_R")


# --------------------------------------------------------------------------- errors (ERR-9)


class WorkspaceProblem(Exception):
    """Base of every error this module raises on purpose."""

    def __str__(self) -> str:  # KeyError would quote the message; keep it readable
        return str(self.args[0]) if self.args else ""


class NoSuchVariable(WorkspaceProblem, KeyError):
    pass


class OutOfRange(WorkspaceProblem, IndexError):
    pass


class BadValue(WorkspaceProblem, ValueError):
    pass


class BadType(WorkspaceProblem, TypeError):
    pass


class CannotAllocate(WorkspaceProblem, MemoryError):
    pass


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 1 << 62


_PHYSICAL = _physical_memory()


def _prod(xs: Iterable[int]) -> int:
    p = 1
    for x in xs:
        p *= int(x)
    return p


def _itemsize(dtype: torch.dtype) -> int:
    try:
        return dtype.itemsize
    except AttributeError:  # pragma: no cover - old torch
        return torch.empty((), dtype=dtype).element_size()


def _need(where: str, shape: Iterable[int], dtype: torch.dtype) -> None:
    """Refuse, before allocating, a tensor larger than this machine's memory."""
    nbytes = _prod(shape) * _itemsize(dtype)
    if nbytes > _PHYSICAL:
        raise CannotAllocate(
            f"{where}: cannot allocate {nbytes} bytes for shape {tuple(shape)} of {dtype} "
            f"(expected at most {_PHYSICAL} bytes of memory)"
        )


def _looks_like_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    oom = getattr(torch, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    text = str(exc).lower()
    return (
        "can't allocate" in text
        or "cannot allocate" in text
        or "out of memory" in text
        or ("storage size calculation overflowed" in text)
    )


def _api(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run a public method outside inference mode (so nothing stored is an inference tensor),
    with the caller's grad mode, and turn allocator failures into MemoryError (WS-24, WS-46)."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        grad = torch.is_grad_enabled()
        try:
            with torch.inference_mode(False), torch.set_grad_enabled(grad):
                return method(*args, **kwargs)
        except WorkspaceProblem:
            raise
        except (RuntimeError, MemoryError) as exc:
            if _looks_like_oom(exc):
                raise CannotAllocate(
                    f"{method.__name__}: storage cannot be allocated: {exc}"
                ) from exc
            raise

    return wrapper


# --------------------------------------------------------------------------- argument checks


def _int_arg(where: str, argname: str, value: Any) -> int:
    if isinstance(value, bool):
        raise BadType(f"{where}: argument {argname!r}: expected an int, got a bool ({value!r})")
    try:
        return operator.index(value)
    except TypeError:
        raise BadType(
            f"{where}: argument {argname!r}: expected an int, got {type(value).__name__} ({value!r})"
        ) from None


def _name_arg(where: str, name: object, argname: str = "name") -> str:
    if not isinstance(name, str):
        raise BadType(
            f"{where}: argument {argname!r}: expected a variable name (str), got {type(name).__name__} ({name!r})"
        )
    if name == "":
        raise BadValue(f"{where}: argument {argname!r}: expected a non-empty variable name, got ''")
    return str.__str__(name)


def _tensor_arg(where: str, name: str, value: object, argname: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise BadType(
            f"{where}: variable {name!r}: argument {argname!r}: expected a torch.Tensor, got {type(value).__name__}"
        )
    if getattr(value, "is_nested", False):
        raise BadType(f"{where}: variable {name!r}: expected a strided tensor, got a nested tensor")
    if value.layout != torch.strided:
        raise BadType(
            f"{where}: variable {name!r}: expected layout torch.strided, got {value.layout}"
        )
    if value.is_quantized:
        raise BadType(
            f"{where}: variable {name!r}: expected a non-quantized tensor, got dtype {value.dtype}"
        )
    if value.device.type == "meta":
        raise BadType(
            f"{where}: variable {name!r}: expected a tensor with data, got one on the meta device"
        )
    return value


def _selection(where: str, names: Any, variables: Mapping[str, _Series]) -> list[str]:
    """Resolve var_names for copy_n_last_steps / copy_time (WS-16, WS-17, WS-42)."""
    if names is None:
        return sorted(variables)
    if isinstance(names, (str, bytes)):
        raise BadType(
            f"{where}: argument 'var_names': expected an iterable of variable names, got a single {type(names).__name__} {names!r}"
        )
    try:
        items = list(names)
    except TypeError:
        raise BadType(
            f"{where}: argument 'var_names': expected an iterable of variable names, got {type(names).__name__}"
        ) from None
    chosen: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise BadType(
                f"{where}: argument 'var_names': expected variable names (str), got {type(item).__name__} ({item!r})"
            )
        if item not in variables:
            raise NoSuchVariable(
                f"{where}: argument 'var_names': variable {item!r} is not in the workspace (expected one of {sorted(variables)})"
            )
        if item not in chosen:
            chosen.append(item)
    return chosen


# --------------------------------------------------------------------------- one variable


class _Series:
    """One variable: time size, row layout and a sorted list of immutable segments."""

    __slots__ = ("batch", "blocks", "device", "dtype", "item", "length", "starts")

    def __init__(
        self, dtype: torch.dtype, device: torch.device, batch: int, item: Iterable[int]
    ) -> None:
        self.dtype: torch.dtype = dtype
        self.device: torch.device = device
        self.batch: int = int(batch)
        self.item: tuple[int, ...] = tuple(int(s) for s in item)
        self.length: int = 0
        self.starts: list[int] = []
        self.blocks: list[torch.Tensor] = []

    # -- shape helpers
    @property
    def row_shape(self) -> tuple[int, ...]:
        return (self.batch, *self.item)

    def shaped_like(self, batch: int | None = None, device: torch.device | None = None) -> _Series:
        return _Series(
            self.dtype,
            self.device if device is None else device,
            self.batch if batch is None else batch,
            self.item,
        )

    def twin(self) -> _Series:
        other = self.shaped_like()
        other.length = self.length
        other.starts = list(self.starts)
        other.blocks = list(self.blocks)
        return other

    def zeros(self, n: int) -> torch.Tensor:
        shape = (n, *self.row_shape)
        _need("zeros", shape, self.dtype)
        return torch.zeros(shape, dtype=self.dtype, device=self.device)

    # -- reads
    def rows(self, a: int, b: int) -> torch.Tensor:
        """Rows a..b-1 (0 <= a <= b <= length) as one tensor [b-a, B, *S]."""
        if a == b:
            if self.blocks:
                return self.blocks[0][:0]
            return self.zeros(0)
        i = max(bisect.bisect_right(self.starts, a) - 1, 0)
        count = len(self.starts)
        pieces: list[torch.Tensor] = []
        cursor = a
        while cursor < b:
            while i < count and self.starts[i] + self.blocks[i].shape[0] <= cursor:
                i += 1
            if i < count and self.starts[i] <= cursor:
                s = self.starts[i]
                e = min(s + self.blocks[i].shape[0], b)
                pieces.append(self.blocks[i][cursor - s : e - s])
                cursor = e
                i += 1
            else:
                e = min(self.starts[i] if i < count else b, b)
                pieces.append(self.zeros(e - cursor))
                cursor = e
        if len(pieces) == 1:
            return pieces[0]
        _need("concatenate", (b - a, *self.row_shape), self.dtype)
        return torch.cat(pieces, 0)

    def whole(self) -> torch.Tensor:
        if len(self.blocks) == 1 and self.starts[0] == 0 and self.blocks[0].shape[0] == self.length:
            return self.blocks[0]
        full = self.rows(0, self.length)
        if self.length > 0 and (
            torch.is_grad_enabled() or not any(x.requires_grad for x in self.blocks)
        ):
            # fold into one segment: later reads cost O(1) until the next write (WS-7)
            self.starts = [0]
            self.blocks = [full]
        return full

    # -- writes (never in place)
    def write(self, start: int, block: torch.Tensor) -> None:
        n = block.shape[0]
        if n == 0:
            return
        end = start + n
        if (
            start >= self.length
            or not self.blocks
            or start >= self.starts[-1] + self.blocks[-1].shape[0]
        ):
            self.starts.append(start)
            self.blocks.append(block)
            self.length = max(self.length, end)
            return
        new_starts: list[int] = []
        new_blocks: list[torch.Tensor] = []
        first = max(bisect.bisect_right(self.starts, start) - 1, 0)
        new_starts.extend(self.starts[:first])
        new_blocks.extend(self.blocks[:first])
        i = first
        inserted = False
        while i < len(self.starts):
            s, x = self.starts[i], self.blocks[i]
            e = s + x.shape[0]
            if e <= start:
                new_starts.append(s)
                new_blocks.append(x)
            elif s >= end:
                if not inserted:
                    new_starts.append(start)
                    new_blocks.append(block)
                    inserted = True
                new_starts.append(s)
                new_blocks.append(x)
            else:
                if s < start:
                    new_starts.append(s)
                    new_blocks.append(x[: start - s])
                if not inserted:
                    new_starts.append(start)
                    new_blocks.append(block)
                    inserted = True
                if e > end:
                    new_starts.append(end)
                    new_blocks.append(x[end - s :])
            i += 1
        if not inserted:
            new_starts.append(start)
            new_blocks.append(block)
        self.starts = new_starts
        self.blocks = new_blocks
        self.length = max(self.length, end)

    def replace(self, block: torch.Tensor) -> None:
        self.length = block.shape[0]
        self.starts = [0] if self.length else []
        self.blocks = [block] if self.length else []

    # -- derived copies
    def window(self, a: int, b: int) -> _Series:
        """A new series holding rows a..b-1 of this one, renumbered from 0 (no copy)."""
        out = self.shaped_like()
        out.length = b - a
        for s, x in zip(self.starts, self.blocks, strict=False):
            e = s + x.shape[0]
            lo, hi = max(s, a), min(e, b)
            if lo < hi:
                out.starts.append(lo - a)
                out.blocks.append(x[lo - s : hi - s])
        return out

    def mapped(
        self,
        fn: Callable[[torch.Tensor], torch.Tensor],
        batch: int | None = None,
        device: torch.device | None = None,
    ) -> _Series:
        out = self.shaped_like(batch=batch, device=device)
        out.length = self.length
        out.starts = list(self.starts)
        out.blocks = [fn(x) for x in self.blocks]
        return out


# --------------------------------------------------------------------------- the workspace


class Workspace:
    """Named ``[T, B, *S]`` tensors, written one time step at a time."""

    @_api
    def __init__(self, workspace: object = None) -> None:
        self._store: dict[str, _Series] = {}
        if workspace is None:
            return
        if not isinstance(workspace, Workspace):
            raise BadType(
                f"Workspace: argument 'workspace': expected None or a Workspace, got {type(workspace).__name__}"
            )
        for name, series in workspace._store.items():
            self._store[name] = series.twin()

    # ------------------------------------------------------------------ helpers

    def _known(self, where: str, name: object, argname: str = "name") -> _Series:
        if not isinstance(name, str):
            raise BadType(
                f"{where}: argument {argname!r}: expected a variable name (str), got {type(name).__name__} ({name!r})"
            )
        series = self._store.get(name)
        if series is None:
            raise NoSuchVariable(
                f"{where}: variable {name!r} is not in the workspace (expected one of {sorted(self._store)})"
            )
        return series

    def _shared_batch(self) -> int | None:
        for series in self._store.values():
            return series.batch
        return None

    def _common_time(self, where: str) -> int:
        sizes = {name: s.length for name, s in self._store.items()}
        distinct = set(sizes.values())
        if len(distinct) > 1:
            raise BadValue(
                f"{where}: expected all variables to have the same time size, got {dict(sorted(sizes.items()))}"
            )
        return distinct.pop() if distinct else 0

    @staticmethod
    def _out(t: torch.Tensor) -> torch.Tensor:
        return t if torch.is_grad_enabled() else t.detach()

    @classmethod
    def _from_store(cls, store: dict[str, _Series]) -> Workspace:
        ws = cls.__new__(cls)
        ws._store = store
        return ws

    # ------------------------------------------------------------------ writes

    @_api
    def set(self, name: str, t: int, v: torch.Tensor) -> None:
        where = "set"
        name = _name_arg(where, name)
        v = _tensor_arg(where, name, v, "v")
        t = _int_arg(where, "t", t)
        if t < 0:
            raise OutOfRange(
                f"set: variable {name!r}: argument 't': expected 0 <= t < {_TIME_LIMIT}, got {t}"
            )
        if t >= _TIME_LIMIT:
            raise OutOfRange(
                f"set: variable {name!r}: argument 't': expected t < 2**31 (the largest time size), got {t}"
            )
        if v.dim() == 0:
            raise BadValue(
                f"set: variable {name!r}: expected a value of shape [B, *S], got a 0-dimensional tensor"
            )
        batch = self._shared_batch()
        if batch is not None and v.shape[0] != batch:
            raise BadValue(f"set: variable {name!r}: expected batch size {batch}, got {v.shape[0]}")
        series = self._store.get(name)
        if series is not None:
            if tuple(v.shape[1:]) != series.item:
                raise BadValue(
                    f"set: variable {name!r}: expected item shape {list(series.item)}, got {list(v.shape[1:])}"
                )
            if v.dtype != series.dtype:
                raise BadType(
                    f"set: variable {name!r}: expected dtype {series.dtype}, got {v.dtype}"
                )
            if v.device != series.device:
                raise BadValue(
                    f"set: variable {name!r}: expected device {series.device}, got {v.device}"
                )
        _need("set", v.shape, v.dtype)
        row = v.clone(memory_format=torch.contiguous_format).unsqueeze(0)
        if series is None:
            series = _Series(v.dtype, v.device, v.shape[0], v.shape[1:])
            series.write(t, row)
            self._store[name] = series
        else:
            series.write(t, row)

    @_api
    def set_full(self, name: str, value: torch.Tensor) -> None:
        where = "set_full"
        name = _name_arg(where, name)
        value = _tensor_arg(where, name, value, "value")
        if value.dim() < 2:
            raise BadValue(
                f"set_full: variable {name!r}: expected a value of shape [T, B, *S] (at least 2 dimensions), got shape {list(value.shape)}"
            )
        if value.shape[0] > _TIME_LIMIT:
            raise BadValue(
                f"set_full: variable {name!r}: expected at most 2**31 time steps, got {value.shape[0]}"
            )
        batch = self._shared_batch()
        if batch is not None and value.shape[1] != batch:
            raise BadValue(
                f"set_full: variable {name!r}: expected batch size {batch}, got {value.shape[1]}"
            )
        _need("set_full", value.shape, value.dtype)
        block = value.clone(memory_format=torch.contiguous_format)
        series = _Series(value.dtype, value.device, value.shape[1], value.shape[2:])
        series.replace(block)
        self._store[name] = series

    # ------------------------------------------------------------------ reads

    @_api
    def get(self, name: str, t: int) -> torch.Tensor:
        series = self._known("get", name)
        t = _int_arg("get", "t", t)
        if not 0 <= t < series.length:
            raise OutOfRange(
                f"get: variable {name!r}: argument 't': expected 0 <= t < {series.length}, got {t}"
            )
        return self._out(series.rows(t, t + 1)[0])

    @_api
    def get_full(self, name: str) -> torch.Tensor:
        return self._out(self._known("get_full", name).whole())

    @_api
    def __getitem__(self, key: object) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if isinstance(key, str):
            return self._out(self._known("workspace[...]", key, "key").whole())
        if isinstance(key, (tuple, list)):
            found = [self._known("workspace[...]", k, "key") for k in key]
            return tuple(self._out(s.whole()) for s in found)
        raise BadType(
            f"workspace[...]: expected a variable name or a tuple/list of names, got {type(key).__name__} ({key!r})"
        )

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._store

    def keys(self) -> list[str]:
        return sorted(self._store)

    @property
    def variables(self) -> types.MappingProxyType[str, _Series]:
        return types.MappingProxyType(self._store)

    def time_size(self) -> int:
        return self._common_time("time_size")

    def batch_size(self) -> int:
        batch = self._shared_batch()
        return 0 if batch is None else batch

    @_api
    def get_time_truncated(self, name: str, from_time: int, to_time: int) -> torch.Tensor:
        where = "get_time_truncated"
        series = self._known(where, name)
        a = _int_arg(where, "from_time", from_time)
        b = _int_arg(where, "to_time", to_time)
        if a > b:
            raise BadValue(
                f"{where}: variable {name!r}: expected from_time <= to_time, got {a} > {b}"
            )
        if a < 0 or b > series.length:
            raise OutOfRange(
                f"{where}: variable {name!r}: expected 0 <= from_time <= to_time <= {series.length}, got from_time={a}, to_time={b}"
            )
        return self._out(series.rows(a, b))

    # ------------------------------------------------------------------ edits

    @_api
    def zero_grad(self) -> None:
        for series in self._store.values():
            series.blocks = [x.detach() for x in series.blocks]

    @_api
    def clear(self, name: str | None = None) -> None:
        if name is None:
            self._store = {}
            return
        self._known("clear", name)
        del self._store[name]

    @_api
    def remove_variable(self, name: str) -> None:
        self._known("remove_variable", name)
        del self._store[name]

    @_api
    def copy_n_last_steps(self, n: int, var_names: Iterable[str] | None = None) -> None:
        where = "copy_n_last_steps"
        n = _int_arg(where, "n", n)
        chosen = _selection(where, var_names, self._store)
        if n < 0:
            raise BadValue(f"{where}: argument 'n': expected n >= 0, got {n}")
        for name in chosen:
            size = self._store[name].length
            if n > size:
                raise BadValue(
                    f"{where}: argument 'n': expected n <= the time size {size} of variable {name!r}, got {n}"
                )
        if n == 0:
            return
        blocks = {
            name: self._store[name].rows(self._store[name].length - n, self._store[name].length)
            for name in chosen
        }
        for name, block in blocks.items():
            self._store[name].write(0, block)

    @_api
    def copy_time(
        self, from_time: int, to_time: int, n_steps: int, var_names: Iterable[str] | None = None
    ) -> None:
        where = "copy_time"
        a = _int_arg(where, "from_time", from_time)
        b = _int_arg(where, "to_time", to_time)
        n = _int_arg(where, "n_steps", n_steps)
        chosen = _selection(where, var_names, self._store)
        if n < 0:
            raise BadValue(f"{where}: argument 'n_steps': expected n_steps >= 0, got {n}")
        if a < 0:
            raise OutOfRange(f"{where}: argument 'from_time': expected from_time >= 0, got {a}")
        if b < 0:
            raise OutOfRange(f"{where}: argument 'to_time': expected to_time >= 0, got {b}")
        if b + n > _TIME_LIMIT:
            raise OutOfRange(
                f"{where}: arguments 'to_time' + 'n_steps': expected at most 2**31, got {b} + {n} = {b + n}"
            )
        for name in chosen:
            size = self._store[name].length
            if a + n > size:
                raise OutOfRange(
                    f"{where}: variable {name!r}: expected from_time + n_steps <= time size {size}, got {a} + {n} = {a + n}"
                )
        if n == 0:
            return
        blocks = {name: self._store[name].rows(a, a + n) for name in chosen}
        for name, block in blocks.items():
            self._store[name].write(b, block)

    # ------------------------------------------------------------------ workspaces from workspaces

    @_api
    def select_batch(self, batch_indexes: object) -> Workspace:
        where = "select_batch"
        index = batch_indexes
        if not isinstance(index, torch.Tensor):
            raise BadType(
                f"{where}: argument 'batch_indexes': expected a torch.Tensor of dtype int64, int32 or bool, got {type(index).__name__}"
            )
        if index.dtype not in (torch.int64, torch.int32, torch.bool):
            raise BadType(
                f"{where}: argument 'batch_indexes': expected dtype torch.int64, torch.int32 or torch.bool, got {index.dtype}"
            )
        if index.dim() != 1:
            raise BadValue(
                f"{where}: argument 'batch_indexes': expected a one-dimensional tensor, got shape {list(index.shape)}"
            )
        batch = self.batch_size()
        index = index.detach().to("cpu")
        if index.dtype == torch.bool:
            if index.shape[0] != batch:
                raise BadValue(
                    f"{where}: argument 'batch_indexes': expected a mask of length {batch} (the batch size), got length {index.shape[0]}"
                )
            positions = torch.arange(batch, dtype=torch.int64)[index]
        else:
            positions = index.to(torch.int64)
            if positions.numel():
                lo, hi = int(positions.min()), int(positions.max())
                if lo < 0 or hi >= batch:
                    bad = lo if lo < 0 else hi
                    raise OutOfRange(
                        f"{where}: argument 'batch_indexes': expected positions in 0..{batch - 1}, got {bad}"
                    )
        count = int(positions.shape[0])
        store: dict[str, _Series] = {}
        for name, series in self._store.items():
            idx = positions.to(series.device)
            # mypy cannot infer a lambda with a default argument against a one-argument Callable
            select = cast(
                Callable[[torch.Tensor], torch.Tensor], lambda x, idx=idx: x.index_select(1, idx)
            )
            store[name] = series.mapped(select, batch=count)
        return self._from_store(store)

    @_api
    def select_batch_n(self, n: int) -> Workspace:
        where = "select_batch_n"
        n = _int_arg(where, "n", n)
        if n < 0:
            raise BadValue(f"{where}: argument 'n': expected n >= 0, got {n}")
        batch = self.batch_size()
        if n > 0 and batch == 0:
            raise BadValue(
                f"{where}: argument 'n': expected n == 0 on a workspace of batch size 0, got {n}"
            )
        draws = torch.rand(n, dtype=torch.float64)
        positions = torch.clamp((draws * batch).floor().to(torch.int64), max=max(batch - 1, 0))
        return self.select_batch(positions)

    def _time_window(self, where: str, a_name: str, b_name: str, a: object, b: object) -> Workspace:
        a = _int_arg(where, a_name, a)
        b = _int_arg(where, b_name, b)
        size = self._common_time(where)
        if a > b:
            raise BadValue(f"{where}: expected {a_name} <= {b_name}, got {a} > {b}")
        if a < 0 or b > size:
            raise OutOfRange(
                f"{where}: expected 0 <= {a_name} <= {b_name} <= {size} (the time size), got {a_name}={a}, {b_name}={b}"
            )
        return self._from_store({name: s.window(a, b) for name, s in self._store.items()})

    @_api
    def subtime(self, from_t: int, to_t: int) -> Workspace:
        return self._time_window("subtime", "from_t", "to_t", from_t, to_t)

    @_api
    def get_time_truncated_workspace(self, from_time: int, to_time: int) -> Workspace:
        return self._time_window(
            "get_time_truncated_workspace", "from_time", "to_time", from_time, to_time
        )

    @_api
    def select_subtime(self, t: object, window_size: int) -> Workspace:
        where = "select_subtime"
        w = _int_arg(where, "window_size", window_size)
        size = self._common_time(where)
        if w < 0:
            raise BadValue(f"{where}: argument 'window_size': expected window_size >= 0, got {w}")
        if not isinstance(t, torch.Tensor):
            raise BadType(
                f"{where}: argument 't': expected a torch.Tensor of dtype int64 or int32, got {type(t).__name__}"
            )
        batch = self.batch_size()
        if t.dim() != 1 or t.shape[0] != batch:
            raise BadValue(
                f"{where}: argument 't': expected a one-dimensional tensor of length {batch} (the batch size), got shape {list(t.shape)}"
            )
        if t.dtype not in (torch.int64, torch.int32):
            raise BadType(
                f"{where}: argument 't': expected dtype torch.int64 or torch.int32, got {t.dtype}"
            )
        starts = t.detach().to("cpu", torch.int64)
        if starts.numel():
            lo = int(starts.min())
            hi = int(starts.max())
            if lo < 0 or hi + w > size:
                raise OutOfRange(
                    f"{where}: argument 't': expected 0 <= t[b] and t[b] + window_size <= {size}, got t in {lo}..{hi} with window_size {w}"
                )
        times = starts.unsqueeze(0) + torch.arange(w, dtype=torch.int64).unsqueeze(1)  # [w, B]
        cols = torch.arange(batch, dtype=torch.int64).unsqueeze(0).expand(w, batch)
        store: dict[str, _Series] = {}
        for name, series in self._store.items():
            x = series.whole()
            y = x[times.to(x.device), cols.to(x.device)]
            out = series.shaped_like()
            out.replace(y)
            store[name] = out
        return self._from_store(store)

    @staticmethod
    def cat_batch(workspaces: object) -> Workspace:
        return _cat_batch(workspaces)

    @_api
    def to(self, device: object) -> Workspace:
        where = "to"
        if isinstance(device, bool) or not isinstance(device, (str, int, torch.device)):
            raise BadType(
                f"{where}: argument 'device': expected a str, int or torch.device, got {type(device).__name__} ({device!r})"
            )
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise BadValue(
                f"{where}: argument 'device': expected a device torch can parse, got {device!r} ({exc})"
            ) from None
        if dev.type == "meta":
            raise BadValue(f"{where}: argument 'device': expected a device holding data, got {dev}")
        try:
            torch.empty(0, device=dev)
        except Exception as exc:
            raise BadValue(
                f"{where}: argument 'device': expected a device this machine can use, got {dev} ({exc})"
            ) from None
        target = torch.empty(0, device=dev).device
        store: dict[str, _Series] = {}
        for name, series in self._store.items():
            store[name] = series.mapped(lambda x: x.to(dev), device=target)
        return self._from_store(store)

    @_api
    def contiguous(self) -> Workspace:
        return self._from_store(
            {n: s.mapped(lambda x: x.contiguous()) for n, s in self._store.items()}
        )

    # ------------------------------------------------------------------ transitions (TR)

    @_api
    def get_transitions(
        self, filter_key: object = "env/done", *, no_final_state: object = False
    ) -> Workspace:
        where = "get_transitions"
        if not isinstance(no_final_state, bool):
            raise BadType(
                f"{where}: argument 'no_final_state': expected a bool, got {type(no_final_state).__name__} ({no_final_state!r})"
            )
        if filter_key is not None and not isinstance(filter_key, str):
            raise BadType(
                f"{where}: argument 'filter_key': expected None or a variable name (str), got {type(filter_key).__name__} ({filter_key!r})"
            )
        if no_final_state:
            filter_key = None
        size = self._common_time(where)
        batch = self.batch_size()
        pairs = max(size - 1, 0)
        if filter_key is None:
            keep = torch.ones((pairs, batch), dtype=torch.bool)
        else:
            series = self._known(where, filter_key, "filter_key")
            if series.dtype != torch.bool:
                raise BadType(
                    f"{where}: filter variable {filter_key!r}: expected dtype torch.bool, got {series.dtype}"
                )
            if series.item != ():
                raise BadValue(
                    f"{where}: filter variable {filter_key!r}: expected shape [T, B] = [{size}, {batch}], got [{series.length}, {series.batch}, {', '.join(map(str, series.item))}]"
                )
            keep = ~series.whole().detach().to("cpu")[:pairs]
        tt, bb = keep.nonzero(as_tuple=True)  # row-major: time first, then env (TR-2)
        count = int(tt.shape[0])
        store: dict[str, _Series] = {}
        for name, series in self._store.items():
            x = series.whole()
            t0, b0 = tt.to(x.device), bb.to(x.device)
            y = torch.stack([x[t0, b0], x[t0 + 1, b0]], 0)
            out = series.shaped_like(batch=count)
            out.replace(y)
            store[name] = out
        return self._from_store(store)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{n}: [{s.length}, {s.batch}{''.join(', ' + str(d) for d in s.item)}] {s.dtype}"
            for n, s in sorted(self._store.items())
        )
        return f"Workspace({parts})"


@_api
def _cat_batch(workspaces: object) -> Workspace:
    where = "cat_batch"
    if not isinstance(workspaces, (list, tuple)):
        raise BadType(
            f"{where}: argument 'workspaces': expected a list of Workspace, got {type(workspaces).__name__}"
        )
    if len(workspaces) == 0:
        raise BadValue(
            f"{where}: argument 'workspaces': expected a non-empty list, got an empty one"
        )
    for k, w in enumerate(workspaces):
        if not isinstance(w, Workspace):
            raise BadType(
                f"{where}: argument 'workspaces'[{k}]: expected a Workspace, got {type(w).__name__}"
            )
    names = set(workspaces[0]._store)
    for k, w in enumerate(workspaces[1:], start=1):
        other = set(w._store)
        if other != names:
            diff = sorted((names - other) | (other - names))
            raise NoSuchVariable(
                f"{where}: variable {diff[0]!r}: expected the same variables in every workspace, workspace 0 has {sorted(names)}, workspace {k} has {sorted(other)}"
            )
    for name in sorted(names):
        first = workspaces[0]._store[name]
        for k, w in enumerate(workspaces[1:], start=1):
            s = w._store[name]
            if s.length != first.length:
                raise BadValue(
                    f"{where}: variable {name!r}: expected time size {first.length}, got {s.length} in workspace {k}"
                )
            if s.item != first.item:
                raise BadValue(
                    f"{where}: variable {name!r}: expected item shape {list(first.item)}, got {list(s.item)} in workspace {k}"
                )
            if s.dtype != first.dtype:
                raise BadType(
                    f"{where}: variable {name!r}: expected dtype {first.dtype}, got {s.dtype} in workspace {k}"
                )
            if s.device != first.device:
                raise BadType(
                    f"{where}: variable {name!r}: expected device {first.device}, got {s.device} in workspace {k}"
                )
    store: dict[str, _Series] = {}
    for name in names:
        parts = [w._store[name] for w in workspaces]
        total = sum(p.batch for p in parts)
        first = parts[0]
        _need(where, (first.length, total, *first.item), first.dtype)
        y = torch.cat([p.whole() for p in parts], 1)
        out = first.shaped_like(batch=total)
        out.replace(y)
        store[name] = out
    return Workspace._from_store(store)
