"""Files: atomic writes (AG-14, RB-24) and the replay-buffer file format (RB-27..RB-29).

A replay-buffer file is, with all integers little-endian::

    magic    8 bytes   b"\\x89BBRLRB\\n"
    version  uint32    1
    H        uint64    length of the header
    header   H bytes   UTF-8 JSON object (RB-28)
    payload            per variable its [size, T, *S] items by slot, C order, little-endian;
                       then the generator state bytes, if any (RB-29)
    digest   32 bytes  SHA-256 of everything before it

Reading validates the frame and the header's structure; what the header must agree with (the
buffer's ``max_size``, schema, generator) is checked by the buffer itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import struct
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import torch

from . import _validation as v
from ._errors import FileFormatError

MAGIC = b"\x89BBRLRB\n"
VERSION = 1
_PREFIX = struct.Struct("<8sIQ")  # magic, version, header length
_DIGEST = 32

#: The dtypes a replay buffer stores (RB-18), by their names in a file, with the little-endian
#: numpy dtype of their bytes (bfloat16, which numpy lacks, travels as its 16 bits).
FILE_DTYPES: dict[str, tuple[torch.dtype, np.dtype]] = {
    name: (dtype, np.dtype(code))
    for name, dtype, code in (
        ("bool", torch.bool, "|u1"),
        ("uint8", torch.uint8, "|u1"),
        ("int8", torch.int8, "|i1"),
        ("int16", torch.int16, "<i2"),
        ("int32", torch.int32, "<i4"),
        ("int64", torch.int64, "<i8"),
        ("float16", torch.float16, "<f2"),
        ("bfloat16", torch.bfloat16, "<i2"),
        ("float32", torch.float32, "<f4"),
        ("float64", torch.float64, "<f8"),
        ("complex64", torch.complex64, "<c8"),
        ("complex128", torch.complex128, "<c16"),
    )
}
DTYPE_NAMES: dict[torch.dtype, str] = {dtype: name for name, (dtype, _) in FILE_DTYPES.items()}


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Replace ``path`` with what ``write`` writes, atomically (RB-24).

    The bytes go to a temporary file in the same directory, which is flushed, fsynced and then
    renamed over ``path``; on any error the temporary file is removed and ``path`` is untouched.
    """
    target = os.fsdecode(os.fspath(path))  # an os.PathLike may give bytes
    directory = os.path.dirname(os.path.abspath(target))
    fd, temporary = tempfile.mkstemp(prefix=".bbrl-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    # the rename itself is durable only once the directory is synced (not possible everywhere)
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def check_path(op: str, path: object) -> str | os.PathLike[str]:
    """Return ``path`` if it is a ``str`` or an ``os.PathLike``, else raise TypeError."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(v.message(op, "argument 'path'", "a str or os.PathLike", type(path)))
    return path


# ----------------------------------------------------------------------------------- writing
def item_bytes(tensor: torch.Tensor) -> np.ndarray:
    """The C-order little-endian bytes of a CPU or device tensor, as a numpy array."""
    value = tensor.detach().resolve_conj().resolve_neg().cpu().contiguous()
    if value.dtype == torch.bfloat16:
        value = value.view(torch.int16)
    elif value.dtype == torch.bool:
        value = value.view(torch.uint8)
    array = value.numpy()
    code = FILE_DTYPES[DTYPE_NAMES[tensor.dtype]][1]
    return np.ascontiguousarray(array.astype(code, copy=False))


def write_buffer_file(
    path: str | os.PathLike[str],
    header: dict[str, object],
    arrays: Sequence[np.ndarray],
) -> None:
    """Write a replay-buffer file: ``arrays`` are the payload's parts, in order (RB-27)."""
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    prefix = _PREFIX.pack(MAGIC, VERSION, len(head))

    def write(file: BinaryIO) -> None:
        digest = hashlib.sha256()
        chunks: list[bytes | memoryview] = [prefix, head]
        chunks += [a.reshape(-1).view(np.uint8).data for a in arrays]
        for chunk in chunks:
            digest.update(chunk)
            file.write(chunk)
        file.write(digest.digest())

    atomic_write(path, write)


# ----------------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class FileVariable:
    """One variable of a file's schema."""

    name: str
    dtype: torch.dtype
    shape: tuple[int, ...]


@dataclass(frozen=True)
class BufferFile:
    """A validated replay-buffer file: header fields and the payload, decoded."""

    max_size: int
    size: int
    position: int
    time_size: int | None
    variables: list[FileVariable]
    items: dict[str, torch.Tensor]
    """Per variable its ``[size, T, *S]`` items by slot (CPU tensors)."""
    generator_device: str | None
    generator_state: torch.Tensor | None


def _bad(path: str, expected: object, actual: object) -> FileFormatError:
    return FileFormatError(v.message("load", f"file {path!r}", expected, actual))


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a JSON object repeats a key: {sorted(keys)}")
    return dict(pairs)


def _reject_constant(name: str) -> object:
    raise ValueError(f"the JSON constant {name} is not allowed")


def _object(path: str, value: object, keys: set[str], what: str) -> dict[str, object]:
    if not isinstance(value, dict) or set(value) != keys:
        shown = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise _bad(path, f"{what}: an object with the keys {sorted(keys)}", shown)
    return value


def _integer(path: str, value: object, what: str, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise _bad(path, f"{what}: a JSON integer >= {minimum}", repr(value))
    return value


def read_buffer_file(path: str | os.PathLike[str]) -> BufferFile:
    """Read and validate a replay-buffer file (RB-26..RB-29); FileFormatError if it is not one.

    Nothing is unpickled: the header is JSON, the payload raw little-endian arrays.
    """
    name = os.fsdecode(os.fspath(path))
    with open(path, "rb") as file:
        data = file.read()
    if len(data) < _PREFIX.size + _DIGEST:
        raise _bad(name, f"at least {_PREFIX.size + _DIGEST} bytes", f"{len(data)} (truncated)")
    magic, version, header_size = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise _bad(name, f"the replay-buffer magic {MAGIC!r}", repr(magic))
    if version != VERSION:
        raise _bad(name, f"format version {VERSION}", version)
    body_end = len(data) - _DIGEST
    if _PREFIX.size + header_size > body_end:
        raise _bad(name, f"a header of {header_size} bytes", "a shorter file (truncated)")
    if hashlib.sha256(memoryview(data)[:body_end]).digest() != data[body_end:]:
        raise _bad(name, "a matching SHA-256 checksum", "another (corrupted or truncated file)")
    try:
        header = json.loads(
            data[_PREFIX.size : _PREFIX.size + header_size].decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
        )
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _bad(name, "a UTF-8 JSON header", exc) from None
    keys = {"max_size", "size", "position", "time_size", "variables", "generator"}
    fields = _object(name, header, keys, "header")
    max_size = _integer(name, fields["max_size"], "'max_size'", 1)
    size = _integer(name, fields["size"], "'size'")
    position = _integer(name, fields["position"], "'position'")
    if size > max_size or position >= max_size or (size < max_size and position != size):
        raise _bad(
            name,
            f"size <= max_size {max_size}, position < max_size, position == size unless full",
            f"size {size}, position {position}",
        )
    raw_time = fields["time_size"]
    time_size = None if raw_time is None else _integer(name, raw_time, "'time_size'")
    raw_vars = fields["variables"]
    if not isinstance(raw_vars, list) or (len(raw_vars) == 0) != (time_size is None):
        raise _bad(name, "'variables': a list, empty exactly when 'time_size' is null", raw_vars)
    if time_size is None and size > 0:
        raise _bad(name, "no items in a file without variables", f"size {size}")
    variables: list[FileVariable] = []
    for i, raw in enumerate(raw_vars):
        entry = _object(name, raw, {"name", "dtype", "shape"}, f"variables[{i}]")
        var_name, dtype_name, shape = entry["name"], entry["dtype"], entry["shape"]
        if not isinstance(var_name, str) or any(var_name == w.name for w in variables):
            raise _bad(name, f"variables[{i}]: a unique string name", repr(var_name))
        if not isinstance(dtype_name, str) or dtype_name not in FILE_DTYPES:
            raise _bad(name, f"variables[{i}]: a dtype of {sorted(FILE_DTYPES)}", dtype_name)
        if not isinstance(shape, list):
            raise _bad(name, f"variables[{i}]: a shape list", repr(shape))
        dims = tuple(_integer(name, d, f"variables[{i}] shape") for d in shape)
        variables.append(FileVariable(var_name, FILE_DTYPES[dtype_name][0], dims))
    raw_gen = fields["generator"]
    generator_device: str | None = None
    generator_bytes = 0
    if raw_gen is not None:
        gen = _object(name, raw_gen, {"device", "nbytes"}, "'generator'")
        if not isinstance(gen["device"], str):
            raise _bad(name, "'generator' device: a string", repr(gen["device"]))
        generator_device = gen["device"]
        generator_bytes = _integer(name, gen["nbytes"], "'generator' nbytes")
    # the payload: every part's size follows from the header
    payload = memoryview(data)[_PREFIX.size + header_size : body_end]
    parts = []
    for var in variables:
        code = FILE_DTYPES[DTYPE_NAMES[var.dtype]][1]
        count = size * (time_size or 0) * math.prod(var.shape)
        parts.append((var, code, count))
    expected = sum(code.itemsize * count for _, code, count in parts) + generator_bytes
    if len(payload) != expected:
        raise _bad(name, f"a payload of {expected} bytes", len(payload))
    items: dict[str, torch.Tensor] = {}
    offset = 0
    for var, code, count in parts:
        array = np.frombuffer(payload, dtype=code, count=count, offset=offset)
        offset += code.itemsize * count
        if var.dtype == torch.bool and bool((array > 1).any()):
            raise _bad(name, f"variable {var.name!r}: bool bytes 0 or 1", "another byte")
        value = torch.from_numpy(array.astype(code.newbyteorder("="), copy=True))
        if var.dtype in (torch.bool, torch.bfloat16):
            value = value.view(var.dtype)
        items[var.name] = value.reshape(size, time_size or 0, *var.shape)
    state = None
    if generator_device is not None:
        state = torch.from_numpy(np.frombuffer(payload, np.uint8, offset=offset).copy())
    return BufferFile(
        max_size, size, position, time_size, variables, items, generator_device, state
    )
