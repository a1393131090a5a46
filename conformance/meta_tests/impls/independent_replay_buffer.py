"""An independent ReplayBuffer, written by a helper from spec/ alone (spec/replay-buffer.md),
without reading the reference: every other name comes from bbrl_reference.

It exists to check that the suite's RB tests demand no more than the spec
(test_independent_impls.py). It is deliberately naive and differs from the reference in what
the spec leaves open: items are kept in a Python list, one dict of tensors per slot (no
preallocated storage); its own ``state_dict`` layout (``max_size``, ``position``, ``schema``,
``slots``, no generator state); its own error messages; a put copies each item apart and a
sample stacks the chosen slots' tensors; memory checks are rough estimates. Its file format is
the spec's (RB-27 to RB-29), written and parsed here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import operator
import os
import struct
import tempfile
from typing import Any, Self

import bbrl_reference
import numpy as np
import torch
from bbrl_reference import Workspace

IMPLEMENTATION_NAME = "independent-replay-buffer"

#: variable name -> (T, item shape S, dtype)
Schema = dict[str, tuple[int, tuple[int, ...], torch.dtype]]


def __getattr__(name: str) -> Any:
    """Every public name but ReplayBuffer is the reference's (PEP 562)."""
    if name in bbrl_reference.__all__:
        return getattr(bbrl_reference, name)
    raise AttributeError(name)


_DTYPES = {
    "bool": torch.bool,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
_NAMES = {d: n for n, d in _DTYPES.items()}
_MAGIC = b"\x89BBRLRB\n"
_HEAD = 20  # magic (8), format version (4), header length (8)
_DIGEST = 32  # SHA-256 of everything before it


def _as_int(value: Any, what: str) -> int:
    """An integer argument (RB-1, RB-30); float handling is left to the caller."""
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{what}: expected an integer, got a bool")
    if isinstance(value, torch.Tensor):
        if (
            value.dim() != 0
            or value.dtype == torch.bool
            or value.is_floating_point()
            or value.is_complex()
        ):
            raise TypeError(f"{what}: expected an integer, got a tensor {value!r}")
        return int(value.item())
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what}: expected an integer, got {type(value).__name__}") from None


def _check_device(device: Any) -> torch.device:
    if device is None:
        return torch.device("cpu")
    if not isinstance(device, str | torch.device):
        kind = type(device).__name__
        raise TypeError(f"device: expected None, a str or a torch.device, got {kind}")
    try:
        dev = torch.device(device)
    except Exception as e:
        raise ValueError(f"device: {device!r} is not a device name ({e})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device: {device!r}: this machine has no CUDA")
        if (dev.index or 0) >= torch.cuda.device_count():
            raise ValueError(f"device: {device!r}: no such CUDA device")
    elif dev.type != "cpu":
        try:
            torch.empty(0, device=dev)
        except Exception as e:
            raise ValueError(f"device: {device!r} is not available ({e})") from None
    return dev


def _is_oom(e: Exception) -> bool:
    if isinstance(e, MemoryError | torch.OutOfMemoryError):
        return True
    msg = str(e).lower()
    return isinstance(e, RuntimeError) and ("alloc" in msg or "out of memory" in msg)


def _phys_mem() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 62


def _element_size(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


class ReplayBuffer:
    def __init__(self, max_size: Any, device: Any = None, generator: Any = None) -> None:
        if isinstance(max_size, float):
            if not math.isfinite(max_size) or max_size != int(max_size):
                raise TypeError(f"max_size: expected an integer, got {max_size!r}")
            max_size = int(max_size)
        else:
            max_size = _as_int(max_size, "max_size")
        if max_size < 1:
            raise ValueError(f"max_size: expected >= 1, got {max_size}")
        dev = _check_device(device)
        if generator is None:
            generator = torch.Generator()
            generator.manual_seed(int(torch.randint(0, 2**62, ()).item()))
        elif not isinstance(generator, torch.Generator):
            kind = type(generator).__name__
            raise TypeError(f"generator: expected a torch.Generator, got {kind}")
        self._max_size: int = max_size
        self._device = dev
        self._generator: torch.Generator = generator
        self._slots: list[dict[str, torch.Tensor]] = []  # by slot: {name: tensor [T, *S]}
        self._position = 0
        self._schema: Schema | None = None

    # -- properties ------------------------------------------------------------------------
    @property
    def max_size(self) -> int:
        return self._max_size

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def generator(self) -> torch.Generator:
        return self._generator

    @property
    def is_full(self) -> bool:
        return len(self._slots) == self._max_size

    def size(self) -> int:
        return len(self._slots)

    @property
    def variables(self) -> dict[str, torch.Tensor]:
        if self._schema is None:
            return {}
        with torch.inference_mode(False):
            out = {}
            for name, (t, s, dtype) in self._schema.items():
                if self._slots:
                    out[name] = torch.stack([slot[name] for slot in self._slots])
                else:
                    out[name] = torch.empty((0, t, *s), dtype=dtype, device=self._device)
            return out

    # -- put -------------------------------------------------------------------------------
    def put(self, workspace: Any) -> None:
        if not isinstance(workspace, Workspace):
            raise TypeError(f"put: expected a Workspace, got {type(workspace).__name__}")
        with torch.inference_mode(False):
            values = {name: workspace.get_full(name) for name in list(workspace.keys())}
            if self._schema is not None:
                missing = [n for n in self._schema if n not in values]
                extra = [n for n in values if n not in self._schema]
                if missing or extra:
                    raise KeyError(f"put: missing variables {missing}, extra variables {extra}")
            if not values:
                return
            schema: Schema = {}
            first = next(iter(values.values()))
            for name, v in values.items():
                if v.dim() < 2:
                    shape = tuple(v.shape)
                    raise ValueError(f"put: variable {name!r}: expected [T, N, *S], got {shape}")
                if v.dtype not in _NAMES:
                    raise TypeError(f"put: variable {name!r}: dtype {v.dtype} cannot be stored")
                for axis, what in ((0, "time"), (1, "batch")):
                    if v.shape[axis] != first.shape[axis]:
                        raise ValueError(
                            f"put: variable {name!r}: {what} size {v.shape[axis]}, "
                            f"expected {first.shape[axis]}"
                        )
                schema[name] = (v.shape[0], tuple(v.shape[2:]), v.dtype)
            if self._schema is not None:
                for name, (t, s, _) in schema.items():
                    t0, s0, _ = self._schema[name]
                    if t != t0 or s != s0:
                        raise ValueError(
                            f"put: variable {name!r}: expected time size {t0} and item shape "
                            f"{list(s0)}, got {t} and {list(s)}"
                        )
                for name, (_, _, dtype) in schema.items():
                    d0 = self._schema[name][2]
                    if dtype != d0:
                        raise TypeError(f"put: variable {name!r}: expected dtype {d0}, got {dtype}")
            # copy every item first: nothing changes until this succeeds (RB-7, RB-22)
            n_items = first.shape[1]
            try:
                new_items = [
                    {name: v[:, j].detach().to(self._device).clone() for name, v in values.items()}
                    for j in range(n_items)
                ]
            except Exception as e:
                if _is_oom(e):
                    raise MemoryError(f"put: cannot allocate {n_items} items") from None
                raise
            for item in new_items:
                if len(self._slots) < self._max_size:
                    self._slots.append(item)
                else:
                    self._slots[self._position] = item
                self._position = (self._position + 1) % self._max_size
            if self._schema is None:
                self._schema = schema

    # -- sample ----------------------------------------------------------------------------
    def get_shuffled(self, batch_size: Any, generator: Any = None) -> Workspace:
        n = _as_int(batch_size, "batch_size")
        if generator is not None and not isinstance(generator, torch.Generator):
            kind = type(generator).__name__
            raise TypeError(f"generator: expected a torch.Generator, got {kind}")
        if self._schema is None or not self._slots:
            raise ValueError("get_shuffled: the buffer is empty")
        if n <= 0:
            raise ValueError(f"get_shuffled: batch_size: expected > 0, got {n}")
        g = self._generator if generator is None else generator
        item_bytes = 8 + sum(
            math.prod(s) * t * _element_size(d) for t, s, d in self._schema.values()
        )
        if self._device.type == "cpu" and n * item_bytes > _phys_mem():
            raise MemoryError(f"get_shuffled: batch_size {n}: the sample would not fit in memory")
        state = g.get_state()
        with torch.inference_mode(False):
            try:
                drawn = torch.randint(len(self._slots), (n,), generator=g, device=g.device)
                idx = drawn.tolist()
                ws = Workspace()
                for name in self._schema:
                    value = torch.stack([self._slots[i][name] for i in idx]).transpose(0, 1)
                    ws.set_full(name, value.contiguous())
            except Exception as e:
                g.set_state(state)
                if _is_oom(e):
                    raise MemoryError(f"get_shuffled: cannot allocate {n} items") from None
                raise
        return ws

    # -- device ----------------------------------------------------------------------------
    def to(self, device: Any) -> Self:
        dev = _check_device(device)
        with torch.inference_mode(False):
            self._slots = [{k: v.to(dev) for k, v in slot.items()} for slot in self._slots]
        self._device = dev
        return self

    # -- state dict ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        with torch.inference_mode(False):
            return {
                "max_size": self._max_size,
                "position": self._position,
                "schema": None if self._schema is None else dict(self._schema),
                "slots": [{k: v.clone() for k, v in slot.items()} for slot in self._slots],
            }

    def load_state_dict(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise TypeError("load_state_dict: expected a dict")
        if state.get("max_size") != self._max_size:
            raise ValueError(
                f"load_state_dict: max_size {state.get('max_size')}, expected {self._max_size}"
            )
        slots, position = state["slots"], state["position"]
        if len(slots) > self._max_size or not 0 <= position < self._max_size:
            raise ValueError("load_state_dict: bad state")
        with torch.inference_mode(False):
            self._slots = [
                {k: v.detach().to(self._device).clone() for k, v in slot.items()} for slot in slots
            ]
        self._position = position
        self._schema = None if state["schema"] is None else dict(state["schema"])

    # -- files (RB-23 to RB-29) ------------------------------------------------------------
    def save(self, path: Any) -> None:
        if not isinstance(path, str | os.PathLike):
            kind = type(path).__name__
            raise TypeError(f"save: path: expected a str or os.PathLike, got {kind}")
        path = os.fsdecode(os.fspath(path))
        state = self._generator.get_state()
        schema = self._schema or {}
        header = {
            "max_size": self._max_size,
            "size": len(self._slots),
            "position": self._position,
            "time_size": next(iter(schema.values()))[0] if schema else None,
            "variables": [
                {"name": n, "dtype": _NAMES[d], "shape": list(s)} for n, (_, s, d) in schema.items()
            ],
            "generator": {"device": self._generator.device.type, "nbytes": state.numel()},
        }
        head = json.dumps(header).encode("utf-8")
        parts = [_MAGIC, struct.pack("<I", 1), struct.pack("<Q", len(head)), head]
        with torch.inference_mode(False):
            parts += [_tensor_bytes(slot[name]) for name in schema for slot in self._slots]
        parts.append(state.numpy().tobytes())
        body = b"".join(parts)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".independent-rb-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body + hashlib.sha256(body).digest())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def load(self, path: Any) -> Self:
        if not isinstance(path, str | os.PathLike):
            kind = type(path).__name__
            raise TypeError(f"load: path: expected a str or os.PathLike, got {kind}")
        where = f"load: path {os.fspath(path)!r}"
        try:
            return self._load(path)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{where}: {e}") from None
        except KeyError as e:
            raise KeyError(f"{where}: {e.args[0] if e.args else ''}") from None

    def _load(self, path: str | os.PathLike[str]) -> Self:
        with open(path, "rb") as f:
            data = f.read()
        if len(data) < _HEAD + _DIGEST:
            raise ValueError("load: file too short")
        if data[:8] != _MAGIC:
            raise ValueError("load: not a replay-buffer file (magic)")
        (version,) = struct.unpack_from("<I", data, 8)
        if version != 1:
            raise ValueError(f"load: format version {version}, expected 1")
        body, digest = data[:-_DIGEST], data[-_DIGEST:]
        if hashlib.sha256(body).digest() != digest:
            raise ValueError("load: checksum mismatch")
        (hlen,) = struct.unpack_from("<Q", data, 12)
        if _HEAD + hlen > len(body):
            raise ValueError("load: header length beyond the file")
        header = _parse_header(data[_HEAD : _HEAD + hlen])
        payload = body[_HEAD + hlen :]
        if header["max_size"] != self._max_size:
            raise ValueError(
                f"header max_size: expected the buffer's {self._max_size}, got {header['max_size']}"
            )
        size, t = header["size"], header["time_size"]
        if t is None and size > 0:
            raise ValueError("load: items without a schema")
        offset = 0
        arrays: dict[str, tuple[bytes, torch.dtype, tuple[int, ...]]] = {}
        for var in header["variables"]:
            dtype = _DTYPES[var["dtype"]]
            shape = (size, t, *var["shape"])
            nbytes = math.prod(shape) * _element_size(dtype)
            if offset + nbytes > len(payload):
                raise ValueError("load: truncated payload")
            arrays[var["name"]] = (payload[offset : offset + nbytes], dtype, shape)
            offset += nbytes
        gstate: bytes | None = None
        if header["generator"] is not None:
            gen = header["generator"]
            mine = self._generator.get_state()
            if gen["device"] != self._generator.device.type or gen["nbytes"] != mine.numel():
                raise ValueError("load: the file's generator state does not fit rb.generator")
            gstate = payload[offset : offset + gen["nbytes"]]
            offset += gen["nbytes"]
            if len(gstate) != gen["nbytes"]:
                raise ValueError("load: truncated payload")
        if offset != len(payload):
            raise ValueError("load: payload length does not match the header")
        file_schema: Schema | None = None
        if t is not None:
            file_schema = {
                v["name"]: (t, tuple(v["shape"]), _DTYPES[v["dtype"]]) for v in header["variables"]
            }
        if self._schema is not None and file_schema is not None:
            _check_file_schema(self._schema, file_schema)
        with torch.inference_mode(False):
            tensors = {}
            for name, (raw, dtype, shape) in arrays.items():
                if dtype == torch.bool and any(b > 1 for b in raw):
                    raise ValueError(f"load: variable {name!r}: bool byte other than 0 or 1")
                tensors[name] = _from_bytes(raw, dtype, shape)
            gs: torch.Tensor | None = None
            if gstate is not None:
                gs = _from_bytes(gstate, torch.uint8, (len(gstate),))
                try:
                    torch.Generator(device=self._generator.device).set_state(gs)
                except Exception as e:
                    raise ValueError(f"load: invalid generator state ({e})") from None
            slots = [
                {name: tensors[name][i].to(self._device).clone() for name in tensors}
                for i in range(size)
            ]
        # commit
        if gs is not None:
            self._generator.set_state(gs)
        self._slots = slots
        self._position = header["position"]
        if file_schema is not None:
            self._schema = file_schema
        return self


def _check_file_schema(schema: Schema, file_schema: Schema) -> None:
    missing = [n for n in schema if n not in file_schema]
    extra = [n for n in file_schema if n not in schema]
    if missing or extra:
        raise KeyError(f"load: missing variables {missing}, extra variables {extra}")
    for n, (ft, fs, _) in file_schema.items():
        st, ss, _ = schema[n]
        if ft != st:
            raise ValueError(f"variable {n!r}: expected time size {st}, got {ft}")
        if fs != ss:
            raise ValueError(f"variable {n!r}: expected item shape {list(ss)}, got {list(fs)}")
    for n, (_, _, fd) in file_schema.items():
        if fd != schema[n][2]:
            raise TypeError(f"variable {n!r}: expected dtype {schema[n][2]}, got {fd}")


def _tensor_bytes(v: torch.Tensor) -> bytes:
    """The C-order little-endian bytes of ``v`` (bool as one byte 0 or 1)."""
    v = torch.empty(v.shape, dtype=v.dtype).copy_(v.detach())  # on the CPU, fresh strides
    if v.dtype == torch.bool:
        v = v.to(torch.uint8)
    if v.numel() == 0:
        return b""
    return bytes(v.reshape(-1).view(torch.uint8).numpy().tobytes())


def _from_bytes(raw: bytes, dtype: torch.dtype, shape: tuple[int, ...]) -> torch.Tensor:
    if len(raw) == 0:
        return torch.empty(shape, dtype=dtype)
    u = torch.frombuffer(bytearray(raw), dtype=torch.uint8)
    if dtype == torch.bool:
        return u.to(torch.bool).reshape(shape)
    return u.view(dtype).reshape(shape).clone()


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"load: header repeats key {k!r}")
        d[k] = v
    return d


def _bad_constant(c: str) -> Any:
    raise ValueError(f"load: header holds {c}")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _bad(key: str, expected: str, given: Any) -> ValueError:
    return ValueError(f"header {key}: expected {expected}, got {given!r} ({type(given).__name__})")


def _parse_header(raw: bytes) -> dict[str, Any]:
    """The header of RB-28, checked: a ValueError names the first key that breaks it."""
    try:
        h = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_no_dupes, parse_constant=_bad_constant
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"header: not UTF-8 JSON ({e})") from None
    if not isinstance(h, dict):
        raise _bad("", "a JSON object", h)
    keys = {"max_size", "size", "position", "time_size", "variables", "generator"}
    if set(h) != keys:
        raise ValueError(f"header: keys {sorted(h)}, expected {sorted(keys)}")
    m, s, p, t = h["max_size"], h["size"], h["position"], h["time_size"]
    if not (_is_int(m) and m >= 1):
        raise _bad("max_size", "an integer >= 1", m)
    if not (_is_int(s) and 0 <= s <= m):
        raise _bad("size", f"an integer in 0..max_size={m}", s)
    if not (_is_int(p) and 0 <= p < m):
        raise _bad("position", f"an integer in 0..{m - 1}", p)
    if s < m and p != s:
        raise _bad("position", f"position == size ({s}) when size < max_size", p)
    if not (t is None or (_is_int(t) and t >= 0)):
        raise _bad("time_size", "null or an integer >= 0", t)
    vs = h["variables"]
    if not isinstance(vs, list):
        raise _bad("variables", "a list", vs)
    if (len(vs) == 0) != (t is None):
        raise _bad("variables", "an empty list exactly when time_size is null", vs)
    names = set()
    for i, v in enumerate(vs):
        where = f"variables[{i}]"
        if not isinstance(v, dict) or set(v) != {"name", "dtype", "shape"}:
            raise _bad(where, "an object with the keys name, dtype, shape", v)
        if not isinstance(v["name"], str) or v["name"] in names:
            raise _bad(where + ".name", "a unique string", v["name"])
        names.add(v["name"])
        if not isinstance(v["dtype"], str) or v["dtype"] not in _DTYPES:
            raise _bad(where + ".dtype", f"one of {list(_DTYPES)}", v["dtype"])
        if not isinstance(v["shape"], list) or not all(_is_int(x) and x >= 0 for x in v["shape"]):
            raise _bad(where + ".shape", "a list of integers >= 0", v["shape"])
    g = h["generator"]
    if g is not None:
        if not isinstance(g, dict) or set(g) != {"device", "nbytes"}:
            raise _bad("generator", "null or an object with the keys device, nbytes", g)
        if not isinstance(g["device"], str):
            raise _bad("generator.device", "a device type", g["device"])
        if not (_is_int(g["nbytes"]) and g["nbytes"] >= 0):
            raise _bad("generator.nbytes", "an integer >= 0", g["nbytes"])
    return h
