"""ReplayBuffer.save / load and the file format: spec/replay-buffer.md RB-23..RB-29."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import pytest
import torch
from bbrl_reference import (
    DTypeError,
    FileFormatError,
    InvalidArgumentError,
    ReplayBuffer,
    ShapeError,
    UnknownVariableError,
    Workspace,
)

MAGIC = b"\x89BBRLRB\n"


def items(ids: list[int], T: int = 2, extra: bool = False) -> Workspace:
    """x int64 [T, N], obs float32 [T, N, 2], h bfloat16 [T, N] (columns storage), done bool."""
    ws = Workspace()
    idx = torch.tensor(ids, dtype=torch.int64)
    ws.set_full("x", torch.stack([1000 * t + idx for t in range(T)]))
    ws.set_full("obs", torch.stack([torch.stack((idx, -idx), 1).float()] * T))
    ws.set_full("done", torch.stack([idx % 2 == 0] * T))
    if extra:
        ws.set_full("h", torch.stack([idx.to(torch.bfloat16)] * T))
    return ws


def frame(header: object, payload: bytes, version: int = 1, raw: bytes | None = None) -> bytes:
    """A file around ``header`` (JSON, or ``raw`` header bytes) and ``payload``, checksummed."""
    head = raw if raw is not None else json.dumps(header).encode()
    body = MAGIC + struct.pack("<IQ", version, len(head)) + head + payload
    return body + hashlib.sha256(body).digest()


def split(data: bytes) -> tuple[dict[str, object], bytes]:
    """The header and payload of a file written by save."""
    (size,) = struct.unpack_from("<Q", data, 12)
    return json.loads(data[20 : 20 + size]), data[20 + size : -32]


def stored(rb: ReplayBuffer) -> list[int]:
    state = rb.state_dict()
    ids = state["variables"]["x"][:, 0].tolist() if state["variables"] else []
    if state["size"] == rb.max_size:
        ids = ids[state["position"] :] + ids[: state["position"]]
    return ids


@pytest.mark.parametrize("extra", [False, True], ids=["packed", "columns"])
def test_round_trip_resumes_exactly(tmp_path: Path, extra: bool) -> None:
    """RB-23, RB-25: a loaded buffer samples and evicts exactly as the saved one goes on to."""
    rb = ReplayBuffer(5, generator=torch.Generator().manual_seed(11))
    rb.put(items([1, 2, 3], extra=extra))
    rb.put(items([4, 5, 6, 7], extra=extra))
    rb.get_shuffled(3)
    path = tmp_path / "rb.bin"
    rb.save(path)
    assert os.listdir(tmp_path) == ["rb.bin"]
    copy = ReplayBuffer(5).load(str(path))
    assert stored(copy) == stored(rb) == [3, 4, 5, 6, 7] and copy.is_full
    for step in range(4):
        a, b = rb.get_shuffled(6), copy.get_shuffled(6)
        assert all(torch.equal(a[k], b[k]) for k in list(a.keys())), step
        rb.put(items([10 + step], extra=extra))
        copy.put(items([10 + step], extra=extra))
    assert stored(copy) == stored(rb)


def test_file_layout(tmp_path: Path) -> None:
    """RB-27..RB-29: the documented header and payload, byte for byte."""
    rb = ReplayBuffer(4, generator=torch.Generator().manual_seed(2))
    rb.put(items([7, 8]))
    rb.save(tmp_path / "f")
    data = (tmp_path / "f").read_bytes()
    assert data[:8] == MAGIC and struct.unpack_from("<I", data, 8) == (1,)
    assert hashlib.sha256(data[:-32]).digest() == data[-32:]
    header, payload = split(data)
    assert header == {
        "max_size": 4,
        "size": 2,
        "position": 2,
        "time_size": 2,
        "variables": [
            {"name": "x", "dtype": "int64", "shape": []},
            {"name": "obs", "dtype": "float32", "shape": [2]},
            {"name": "done", "dtype": "bool", "shape": []},
        ],
        "generator": {"device": "cpu", "nbytes": 5056},
    }
    x = torch.tensor([[7, 1007], [8, 1008]], dtype=torch.int64)
    obs = torch.tensor([[[7, -7], [7, -7]], [[8, -8], [8, -8]]], dtype=torch.float32)
    expected = x.numpy().tobytes() + obs.numpy().tobytes() + bytes([0, 0, 1, 1])
    assert payload == expected + rb.generator.get_state().numpy().tobytes()


def test_empty_buffers(tmp_path: Path) -> None:
    """RB-25: a file saved before any put empties a buffer and keeps its schema."""
    ReplayBuffer(3).save(tmp_path / "empty")
    header, payload = split((tmp_path / "empty").read_bytes())
    assert header["time_size"] is None and header["variables"] == [] and len(payload) == 5056
    rb = ReplayBuffer(3)
    rb.put(items([1, 2]))
    rb.load(tmp_path / "empty")
    assert rb.size() == 0 and rb.variables["x"].shape == (0, 2)
    with pytest.raises(ShapeError):
        rb.put(items([1], T=3))  # the schema stayed
    fresh = ReplayBuffer(3).load(tmp_path / "empty")
    assert fresh.size() == 0 and fresh.variables == {}
    zero = ReplayBuffer(3)
    zero.put(items([]))  # a schema but no item
    zero.save(tmp_path / "zero")
    assert ReplayBuffer(3).load(tmp_path / "zero").variables["obs"].shape == (0, 2, 2)


def test_load_checks_the_buffer(tmp_path: Path) -> None:
    """RB-26: max_size, schema (KeyError, ValueError, TypeError), generator; no change."""
    source = ReplayBuffer(4)
    source.put(items([5, 6]))
    source.save(tmp_path / "f")
    rb = ReplayBuffer(4, generator=torch.Generator().manual_seed(0))
    rb.put(items([1, 2, 3]))
    state = rb.generator.get_state()
    with pytest.raises(InvalidArgumentError, match="max_size"):
        ReplayBuffer(5).load(tmp_path / "f")
    others = {
        "missing": (UnknownVariableError, lambda ws: ws.clear("done")),
        "time": (ShapeError, None),
        "shape": (ShapeError, lambda ws: ws.set_full("obs", torch.zeros(2, 2, 3))),
        "dtype": (DTypeError, lambda ws: ws.set_full("x", torch.zeros(2, 2))),
    }
    for name, (error, change) in others.items():
        ws = items([9, 9], T=3 if name == "time" else 2)
        if change is not None:
            change(ws)
        other = ReplayBuffer(4)
        other.put(ws)
        other.save(tmp_path / name)
        with pytest.raises(error):
            rb.load(tmp_path / name)
        assert stored(rb) == [1, 2, 3] and torch.equal(rb.generator.get_state(), state)
    header, payload = split((tmp_path / "f").read_bytes())
    gen = header["generator"]
    assert isinstance(gen, dict)
    for changed in ({"device": "cuda", "nbytes": 5056}, {"device": "cpu", "nbytes": 16}):
        head = {**header, "generator": changed}
        extra = len(payload) - 5056 + changed["nbytes"]  # type: ignore[operator]
        (tmp_path / "g").write_bytes(frame(head, payload[:extra].ljust(extra, b"\0")))
        with pytest.raises(InvalidArgumentError, match="generator"):
            rb.load(tmp_path / "g")
    bad_state = payload[:-5056] + bytes(5056)  # the right size, but a state torch rejects
    (tmp_path / "s").write_bytes(frame(header, bad_state))
    with pytest.raises(FileFormatError, match="generator"):
        rb.load(tmp_path / "s")
    no_gen = {**header, "generator": None}
    (tmp_path / "n").write_bytes(frame(no_gen, payload[:-5056]))
    assert stored(rb.load(tmp_path / "n")) == [5, 6]
    assert torch.equal(rb.generator.get_state(), state)  # a file without one leaves it be
    assert stored(rb) == [5, 6]


def test_corrupt_files_raise_and_change_nothing(tmp_path: Path) -> None:
    """RB-26: truncations, flipped bytes, wrong magic or version, appended bytes."""
    source = ReplayBuffer(4)
    source.put(items([5, 6]))
    source.save(tmp_path / "f")
    data = (tmp_path / "f").read_bytes()
    rb = ReplayBuffer(4)
    rb.put(items([1]))
    variants = [data[:n] for n in (0, 7, 19, 40, 60, len(data) - 33, len(data) - 1)]
    variants += [
        bytes([b ^ (1 << (i % 8)) if i == j else b for i, b in enumerate(data)])
        for j in (0, 9, 25, 100, len(data) - 2000, len(data) - 5)
    ]
    variants += [data + b"\0", MAGIC[:7] + b"X" + data[8:]]
    variants.append(frame(*split(data), version=2))
    variants.append(data[:8] + struct.pack("<I", 2) + data[12:])
    for i, variant in enumerate(variants):
        (tmp_path / "bad").write_bytes(variant)
        with pytest.raises(FileFormatError):
            rb.load(tmp_path / "bad")
        assert stored(rb) == [1], i
    with pytest.raises(FileNotFoundError):
        rb.load(tmp_path / "missing")
    with pytest.raises(TypeError, match="path"):
        rb.load(b"bytes")  # type: ignore[arg-type]


def test_malformed_headers_raise(tmp_path: Path) -> None:
    """RB-26, RB-28: checksummed files whose header or payload breaks the format."""
    source = ReplayBuffer(4)
    source.put(items([5, 6]))
    source.save(tmp_path / "f")
    header, payload = split((tmp_path / "f").read_bytes())
    variables = header["variables"]
    assert isinstance(variables, list)
    x, obs, done = variables
    bad_headers: list[object] = [
        [1],
        {**header, "extra": 1},
        {**header, "max_size": 4.0},
        {**header, "max_size": 0},
        {**header, "size": -1},
        {**header, "size": True},
        {**header, "size": 5},
        {**header, "position": 4},
        {**header, "position": 1},
        {**header, "time_size": None},
        {**header, "time_size": -1},
        {**header, "variables": {}},
        {**header, "variables": [x, obs]},
        {**header, "variables": [x, {**obs, "name": "x"}, done]},
        {**header, "variables": [x, {**obs, "name": 3}, done]},
        {**header, "variables": [x, {**obs, "dtype": "uint16"}, done]},
        {**header, "variables": [x, {**obs, "dtype": None}, done]},
        {**header, "variables": [x, {**obs, "shape": 2}, done]},
        {**header, "variables": [x, {**obs, "shape": [-2]}, done]},
        {**header, "variables": [x, {"name": "obs"}, done]},
        {**header, "variables": [x, [1], done]},
        {**header, "generator": {"device": "cpu"}},
        {**header, "generator": {"device": 1, "nbytes": 5056}},
        {**header, "generator": {"device": "cpu", "nbytes": -1}},
        {**header, "generator": None},  # payload then too long
        {**header, "time_size": None, "variables": [], "size": 2},
        {**header, "time_size": None, "variables": [], "size": 0, "position": 0},
    ]
    rb = ReplayBuffer(4)
    for i, bad in enumerate(bad_headers):
        (tmp_path / "bad").write_bytes(frame(bad, payload))
        with pytest.raises(FileFormatError):
            rb.load(tmp_path / "bad")
        assert rb.size() == 0 and rb.variables == {}, i
    raws = [
        b"\xff\xfe",
        b"{",
        b'{"a": 1, "a": 2}',
        json.dumps(header).replace("4", "NaN", 1).encode(),
    ]
    for raw in raws:
        (tmp_path / "bad").write_bytes(frame(None, payload, raw=raw))
        with pytest.raises(FileFormatError, match="JSON"):
            rb.load(tmp_path / "bad")
    bool_start = len(payload) - 5056 - 4  # the done bytes: one of them set to 2
    two = payload[:bool_start] + b"\x02" + payload[bool_start + 1 :]
    (tmp_path / "bad").write_bytes(frame(header, two))
    with pytest.raises(FileFormatError, match="bool"):
        rb.load(tmp_path / "bad")
    assert rb.size() == 0


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RB-24: a failed save leaves the old file and no temporary file; OSError for bad paths."""
    rb = ReplayBuffer(4)
    rb.put(items([1, 2]))
    target = tmp_path / "rb.bin"
    rb.save(target)
    old = target.read_bytes()
    rb.put(items([3]))

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        rb.save(target)
    monkeypatch.undo()
    assert target.read_bytes() == old and os.listdir(tmp_path) == ["rb.bin"]
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "inside").write_text("x")
    with pytest.raises(OSError):
        rb.save(tmp_path / "dir")
    assert sorted(os.listdir(tmp_path)) == ["dir", "rb.bin"]
    with pytest.raises(OSError):
        rb.save(tmp_path / "no" / "such" / "dir")
    with pytest.raises(TypeError, match="path"):
        rb.save(None)  # type: ignore[arg-type]
    rb.save(target)
    assert ReplayBuffer(4).load(target).size() == 3


def test_directory_sync_failure_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where a directory cannot be opened for fsync (Windows), the save still succeeds."""
    real_open = os.open

    def no_directories(path: str, flags: int, *args: int) -> int:
        if os.path.isdir(path):
            raise PermissionError(path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", no_directories)
    rb = ReplayBuffer(2)
    rb.save(tmp_path / "x")
    assert ReplayBuffer(2).load(tmp_path / "x").size() == 0
