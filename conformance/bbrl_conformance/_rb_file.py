"""A model of the replay-buffer file format of spec/replay-buffer.md (RB-27..RB-29), written
from the spec for the suite: it builds files byte by byte and takes them apart, so that the
tests can read what an implementation saved and hand it files it must load (or refuse)."""

from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import dataclass

import numpy as np
import torch

MAGIC = b"\x89BBRLRB\n"
PREFIX = struct.Struct("<8sIQ")  # magic, version, header length: 20 bytes
DIGEST = 32

#: name in the file -> (torch dtype, little-endian numpy dtype of the bytes)
DTYPES: dict[str, tuple[torch.dtype, str]] = {
    "bool": (torch.bool, "|u1"),
    "uint8": (torch.uint8, "|u1"),
    "int8": (torch.int8, "|i1"),
    "int16": (torch.int16, "<i2"),
    "int32": (torch.int32, "<i4"),
    "int64": (torch.int64, "<i8"),
    "float16": (torch.float16, "<f2"),
    "bfloat16": (torch.bfloat16, "<i2"),
    "float32": (torch.float32, "<f4"),
    "float64": (torch.float64, "<f8"),
    "complex64": (torch.complex64, "<c8"),
    "complex128": (torch.complex128, "<c16"),
}
NAMES = {dtype: name for name, (dtype, _) in DTYPES.items()}


def to_bytes(value: torch.Tensor) -> bytes:
    """The C-order little-endian bytes of a tensor, as RB-29 lays them out."""
    value = value.detach().cpu().contiguous()
    code = DTYPES[NAMES[value.dtype]][1]
    if value.dtype in (torch.bool, torch.bfloat16):
        value = value.view(torch.uint8 if value.dtype == torch.bool else torch.int16)
    return np.ascontiguousarray(value.numpy().astype(code)).tobytes()


def from_bytes(data: bytes, dtype: torch.dtype, shape: tuple[int, ...]) -> torch.Tensor:
    code = DTYPES[NAMES[dtype]][1]
    array = np.frombuffer(data, dtype=code).astype(np.dtype(code).newbyteorder("="))
    value = torch.from_numpy(array.copy())
    if dtype in (torch.bool, torch.bfloat16):
        value = value.view(dtype)
    return value.reshape(shape)


def build(
    header: object,
    payload: bytes,
    *,
    version: int = 1,
    magic: bytes = MAGIC,
    raw_header: bytes | None = None,
) -> bytes:
    """A file: magic, version, header length, header, payload, SHA-256 (RB-27)."""
    head = raw_header if raw_header is not None else json.dumps(header).encode("utf-8")
    body = PREFIX.pack(magic, version, len(head)) + head + payload
    return body + hashlib.sha256(body).digest()


@dataclass
class Parsed:
    """A file taken apart (without judging it)."""

    magic: bytes
    version: int
    header_bytes: bytes
    header: dict[str, object]
    payload: bytes
    digest_ok: bool
    header_offset: int = PREFIX.size

    @property
    def payload_offset(self) -> int:
        return PREFIX.size + len(self.header_bytes)


def parse(data: bytes) -> Parsed:
    """Split a file written by an implementation; fails (AssertionError) if it is no file."""
    magic, version, size = PREFIX.unpack_from(data)
    head = data[PREFIX.size : PREFIX.size + size]
    body_end = len(data) - DIGEST
    return Parsed(
        magic,
        version,
        head,
        json.loads(head.decode("utf-8")),
        data[PREFIX.size + size : body_end],
        hashlib.sha256(data[:body_end]).digest() == data[body_end:],
    )


def decode(parsed: Parsed) -> tuple[dict[str, torch.Tensor], bytes | None]:
    """Per variable its ``[size, T, *S]`` items by slot, and the generator state bytes."""
    header = parsed.header
    size = int(str(header["size"]))
    time_size = header["time_size"]
    variables = header["variables"]
    assert isinstance(variables, list)
    items: dict[str, torch.Tensor] = {}
    offset = 0
    for var in variables:
        dtype = DTYPES[var["dtype"]][0]
        shape = (size, int(str(time_size)), *var["shape"])
        nbytes = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
        items[var["name"]] = from_bytes(parsed.payload[offset : offset + nbytes], dtype, shape)
        offset += nbytes
    generator = None if header["generator"] is None else parsed.payload[offset:]
    return items, generator


def encode(
    max_size: int,
    position: int,
    items: dict[str, torch.Tensor],
    generator_state: torch.Tensor | None,
) -> bytes:
    """A whole valid file for ``items`` (``[size, T, *S]`` by slot) and a CPU generator state."""
    first = next(iter(items.values()), None)
    size = 0 if first is None else first.shape[0]
    header = {
        "max_size": max_size,
        "size": size,
        "position": position,
        "time_size": None if first is None else first.shape[1],
        "variables": [
            {"name": name, "dtype": NAMES[value.dtype], "shape": list(value.shape[2:])}
            for name, value in items.items()
        ],
        "generator": None
        if generator_state is None
        else {"device": "cpu", "nbytes": generator_state.numel()},
    }
    payload = b"".join(to_bytes(value) for value in items.values())
    if generator_state is not None:
        payload += generator_state.numpy().tobytes()
    return build(header, payload)
