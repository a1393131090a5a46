"""Conformance tests of spec/replay-buffer.md RB-23..RB-29: ``save`` and ``load``.

Files are read and written by ``_rb_file``, a model of the format written from the spec: what
an implementation saves is taken apart byte by byte, and the files it must load (or refuse) are
built here, corrupted at chosen bytes, or given headers that break one rule each. Expected
slots come from the ring model (item ``i`` of a put at position ``p`` goes to slot
``(p + i) mod max_size``).

Reproducers work in a temporary directory and build their files with the same helpers (their
source, by ``source_of``) and ``_rb_file``.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import os
import pathlib
import pickle
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bbrl_conformance import _rb_file as rbf
from bbrl_conformance._assertions import expect, expect_message, expect_raises
from bbrl_conformance._clauses import clause

ITEMS_SOURCE = """\
import torch
def items(impl, first, n, time_size=2):
    ids = torch.arange(first, first + n)
    rows = torch.arange(time_size).unsqueeze(1)
    ws = impl.Workspace()
    ws.set_full("id", ids * 10 + rows)
    ws.set_full("obs", (ids.float() + rows / 2).unsqueeze(2) + torch.arange(3) / 8)
    ws.set_full("done", ids.unsqueeze(0).repeat(time_size, 1) % 2 == 0)
    return ws
"""


def items(impl: Any, first: int, n: int, time_size: int = 2) -> Any:
    """``n`` items with ids ``first..``: id int64, obs float32 ``[3]``, done bool."""
    ids = torch.arange(first, first + n)
    rows = torch.arange(time_size).unsqueeze(1)
    ws = impl.Workspace()
    ws.set_full("id", ids * 10 + rows)
    ws.set_full("obs", (ids.float() + rows / 2).unsqueeze(2) + torch.arange(3) / 8)
    ws.set_full("done", ids.unsqueeze(0).repeat(time_size, 1) % 2 == 0)
    return ws


def item_tensors(ids: list[int], time_size: int = 2) -> dict[str, torch.Tensor]:
    """The ``[len(ids), T, ...]`` items of ``items`` for these ids, by slot (the model)."""
    idx = torch.tensor(ids, dtype=torch.int64)
    rows = torch.arange(time_size)
    obs = idx.float().unsqueeze(1) + rows / 2
    return {
        "id": idx.unsqueeze(1) * 10 + rows,
        "obs": obs.unsqueeze(2) + torch.arange(3) / 8,
        "done": (idx % 2 == 0).unsqueeze(1).repeat(1, time_size),
    }


class Ring:
    """Slots, position and size of a buffer (RB-16)."""

    def __init__(self, max_size: int) -> None:
        self.max_size, self.position, self.size = max_size, 0, 0
        self.slots: list[int] = [-1] * max_size

    def put(self, first: int, n: int) -> None:
        for j in range(n):
            self.slots[(self.position + j) % self.max_size] = first + j
        self.position = (self.position + n) % self.max_size
        self.size = min(self.size + n, self.max_size)


@pytest.fixture
def tmp() -> Iterator[pathlib.Path]:
    with tempfile.TemporaryDirectory() as name:
        yield pathlib.Path(name)


def slot_ids(rb: Any) -> list[int]:
    value = rb.variables.get("id") if len(rb.variables) else None
    return [] if value is None else [int(x) // 10 for x in value[:, 0].tolist()]


def snapshot(rb: Any) -> tuple[int, list[int], torch.Tensor | None]:
    """What a failed call must leave as it was: size, slots, generator state."""
    generator = getattr(rb, "generator", None)
    state = generator.get_state() if isinstance(generator, torch.Generator) else None
    return rb.size(), slot_ids(rb), state


def unchanged(rb: Any, before: tuple[int, list[int], torch.Tensor | None]) -> bool:
    size, slots, state = snapshot(rb)
    same_state = (state is None) == (before[2] is None) and (
        state is None or before[2] is None or torch.equal(state, before[2])
    )
    return size == before[0] and slots == before[1] and same_state


def saved(impl: Any, tmp: pathlib.Path, seed: int = 3) -> tuple[Any, bytes, pathlib.Path]:
    """A buffer of max_size 5 holding items 2..6 (position 2) and the file it saves."""
    rb = impl.ReplayBuffer(5, generator=torch.Generator().manual_seed(seed))
    rb.put(items(impl, 0, 4))
    rb.put(items(impl, 4, 3))
    path = tmp / "rb.bin"
    rb.save(path)
    return rb, path.read_bytes(), path


class _Unannotated(ast.NodeTransformer):
    """Drops the annotations of functions and assignments."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.returns = None
        arguments = node.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            arg.annotation = None
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if node.value is None:
            return None
        return ast.copy_location(ast.Assign([node.target], node.value), node)


def source_of(*objects: Callable[..., object]) -> str:
    """The source of these functions and classes without annotations (a reproducer has not
    this module's imports)."""
    trees = [_Unannotated().visit(ast.parse(inspect.getsource(obj))) for obj in objects]
    return "".join(ast.unparse(ast.fix_missing_locations(tree)) + "\n" for tree in trees)


def repro_source(*helpers: Callable[..., object]) -> str:
    """What a reproducer starts with: ``items``, the imports, ``_rb_file`` and ``helpers``."""
    return (
        ITEMS_SOURCE
        + "import os, pathlib, pickle, tempfile\nfrom bbrl_conformance import _rb_file as rbf\n"
        + source_of(*helpers)
    )


#: a reproducer's temporary directory: ``tmp``, removed at the end of the block
IN_TMP = "with tempfile.TemporaryDirectory() as name:\n    tmp = pathlib.Path(name)\n"


# ---------------------------------------------------------------------------------------------
# RB-23, RB-27..RB-29: what save writes


@clause("RB-23", "RB-27", "RB-28", "RB-29")
def test_save_writes_the_documented_layout(impl: Any, tmp: pathlib.Path) -> None:
    rb, data, _ = saved(impl, tmp)
    repro = (
        repro_source(item_tensors, slot_ids, saved)
        + IN_TMP
        + "    rb, data, _ = saved(impl, tmp)\n"
    )
    expect(
        data[:8] == rbf.MAGIC,
        "RB-27",
        f"the file starts with {data[:8]!r}",
        repro + f"print(data[:8])  # want {rbf.MAGIC!r}",
    )
    parsed = rbf.parse(data)
    repro += "parsed = rbf.parse(data)\n"
    expect(
        parsed.version == 1,
        "RB-27",
        f"format version {parsed.version}, want 1",
        repro + "print(parsed.version)  # want 1",
    )
    expect(
        parsed.digest_ok,
        "RB-27",
        "the last 32 bytes are not the SHA-256 of the rest",
        repro + "print(parsed.digest_ok)  # want True",
    )
    pairs: list[list[tuple[str, object]]] = []

    def keep(pair_list: list[tuple[str, object]]) -> dict[str, object]:
        pairs.append(pair_list)
        return dict(pair_list)

    json.loads(parsed.header_bytes, object_pairs_hook=keep)
    expect(
        all(len({k for k, _ in p}) == len(p) for p in pairs),
        "RB-28",
        "a header object repeats a key",
        repro + "print(parsed.header_bytes)  # want no object with a key twice",
    )
    header = parsed.header
    keys = {"max_size", "size", "position", "time_size", "variables", "generator"}
    expect(
        set(header) == keys,
        "RB-28",
        f"header keys {sorted(header)}, want {sorted(keys)}",
        repro + f"print(sorted(parsed.header))  # want {sorted(keys)}",
    )
    fields = (header["max_size"], header["size"], header["position"], header["time_size"])
    expect(
        fields == (5, 5, 2, 2),
        "RB-28",
        f"(max_size, size, position, time_size) = {fields}",
        repro + "print([parsed.header[k] for k in ('max_size', 'size', 'position', 'time_size')])"
        "  # want [5, 5, 2, 2]",
    )
    variables = header["variables"]
    assert isinstance(variables, list)
    described = sorted((v["name"], v["dtype"], v["shape"]) for v in variables)
    want = [("done", "bool", []), ("id", "int64", []), ("obs", "float32", [3])]
    expect(
        described == want,
        "RB-28",
        f"variables {described}, want {want}",
        repro + "print(sorted((v['name'], v['dtype'], v['shape']) "
        f"for v in parsed.header['variables']))  # want {want}",
    )
    got_items, generator_bytes = rbf.decode(parsed)
    expected = item_tensors([5, 6, 2, 3, 4])  # slots: items 5, 6 wrapped around to 0, 1
    for name, value in expected.items():
        expect(
            torch.equal(got_items[name], value),
            "RB-29",
            f"the payload of {name!r} by slot is {got_items[name].tolist()}; want "
            f"{value.tolist()} (slots hold items 5, 6, 2, 3, 4)",
            repro + f"print(rbf.decode(parsed)[0][{name!r}].tolist())\n"
            f"print(item_tensors([5, 6, 2, 3, 4])[{name!r}].tolist())  # want the same",
        )
    generator = header["generator"]
    if generator is not None:
        state = rb.generator.get_state()
        expect(
            generator == {"device": "cpu", "nbytes": state.numel()}
            and generator_bytes == state.numpy().tobytes(),
            "RB-29",
            f"generator entry {generator}: its bytes are not rb.generator.get_state()",
            repro + "state = rb.generator.get_state()\n"
            "print(parsed.header['generator'], rbf.decode(parsed)[1] == state.numpy().tobytes())"
            f"  # want {{'device': 'cpu', 'nbytes': {state.numel()}}} True",
        )
    expect(
        rb.size() == 5 and slot_ids(rb) == [5, 6, 2, 3, 4],
        "RB-23",
        "save changed the buffer",
        repro + "print(rb.size(), slot_ids(rb))  # want 5 [5, 6, 2, 3, 4]",
    )


class StrPath(os.PathLike):  # type: ignore[type-arg]
    """An ``os.PathLike`` that is not a ``pathlib.Path``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return self.path


class BytesPath(os.PathLike):  # type: ignore[type-arg]
    """An ``os.PathLike`` whose ``__fspath__`` gives bytes (``os.fspath`` allows it)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __fspath__(self) -> bytes:
        return os.fsencode(self.path)


#: spellings of a path RB-23 takes (a str, or an os.PathLike): id -> (source, builder)
PATHS: dict[str, tuple[str, Callable[[pathlib.Path], object]]] = {
    "str": ("str(tmp / 'rb.bin')", lambda tmp: str(tmp / "rb.bin")),
    "pathlib": ("tmp / 'rb.bin'", lambda tmp: tmp / "rb.bin"),
    "pathlike-str": ("StrPath(str(tmp / 'rb.bin'))", lambda tmp: StrPath(str(tmp / "rb.bin"))),
    "pathlike-bytes": (
        "BytesPath(str(tmp / 'rb.bin'))",
        lambda tmp: BytesPath(str(tmp / "rb.bin")),
    ),
}


@clause("RB-23", "RB-25")
@pytest.mark.parametrize("spelling", list(PATHS))
def test_every_path_spelling_saves_and_loads(impl: Any, tmp: pathlib.Path, spelling: str) -> None:
    """save and load take the path as a str or as any os.PathLike, one whose __fspath__ gives
    bytes included: the file is the one a pathlib.Path gives, and it loads back."""
    rb, want, _ = saved(impl, tmp)
    source, build = PATHS[spelling]
    repro = (
        repro_source(saved, slot_ids, StrPath, BytesPath)
        + IN_TMP
        + f"    rb, want, _ = saved(impl, tmp)\n    rb.save({source})\n"
        + f"    back = impl.ReplayBuffer(5)\n    back.load({source})\n"
        + "    print((tmp / 'rb.bin').read_bytes() == want, back.size(), slot_ids(back))"
    )
    (tmp / "rb.bin").unlink()
    try:
        rb.save(build(tmp))
        back = impl.ReplayBuffer(5)
        back.load(build(tmp))
    except Exception as exc:
        expect(False, "RB-23", f"save/load of {source} raised {type(exc).__name__}: {exc}", repro)
        return
    expect(
        (tmp / "rb.bin").read_bytes() == want,
        "RB-23",
        f"rb.save({source}) wrote other bytes than rb.save(tmp / 'rb.bin')",
        repro,
    )
    expect(
        back.size() == 5 and slot_ids(back) == [5, 6, 2, 3, 4],
        "RB-25",
        f"back = ReplayBuffer(5); back.load({source}) holds {back.size()} items "
        f"{slot_ids(back)}; want 5 [5, 6, 2, 3, 4]",
        repro,
    )


@clause("RB-23", "RB-28")
def test_save_of_an_empty_buffer(impl: Any, tmp: pathlib.Path) -> None:
    rb = impl.ReplayBuffer(3)
    rb.save(str(tmp / "empty.bin"))
    header = rbf.parse((tmp / "empty.bin").read_bytes()).header
    got = (header["size"], header["position"], header["time_size"], header["variables"])
    expect(
        got == (0, 0, None, []),
        "RB-28",
        f"(size, position, time_size, variables) = {got}",
        repro_source() + IN_TMP + "    impl.ReplayBuffer(3).save(str(tmp / 'empty.bin'))\n"
        "    header = rbf.parse((tmp / 'empty.bin').read_bytes()).header\n"
        "print([header[k] for k in ('size', 'position', 'time_size', 'variables')])"
        "  # want [0, 0, None, []]",
    )


def dtype_values(dtype: torch.dtype) -> torch.Tensor:
    """Four values of ``dtype`` with awkward bit patterns."""
    if dtype.is_floating_point or dtype.is_complex:
        real_dtype = dtype.to_real() if dtype.is_complex else dtype
        width = {2: torch.int16, 4: torch.int32, 8: torch.int64}[real_dtype.itemsize]
        # +0.0, a NaN with every payload bit set, the smallest subnormal, -0.0
        patterns = torch.tensor([0, -1, 1, torch.iinfo(width).min], dtype=width)
        real = patterns.view(real_dtype)
        return torch.complex(real, real.flip(0)) if dtype.is_complex else real
    if dtype == torch.bool:
        return torch.tensor([True, False, False, True])
    if dtype == torch.uint8:
        return torch.tensor([0, 255, 1, 128], dtype=dtype)
    info = torch.iinfo(dtype)
    return torch.tensor([info.min, info.max, 0, -1], dtype=dtype)


@clause("RB-18", "RB-23", "RB-25", "RB-29")
@pytest.mark.parametrize("dtype", list(rbf.NAMES), ids=lambda d: str(d).removeprefix("torch."))
def test_every_dtype_survives_a_file_exactly(
    impl: Any, tmp: pathlib.Path, dtype: torch.dtype
) -> None:
    value = dtype_values(dtype)
    ws = items(impl, 0, 4)
    ws.set_full("v", value.to(dtype).unsqueeze(0).repeat(2, 1))
    rb = impl.ReplayBuffer(4)
    rb.put(ws)
    rb.save(tmp / "v.bin")
    got, _ = rbf.decode(rbf.parse((tmp / "v.bin").read_bytes()))
    want = value.to(dtype).unsqueeze(1).repeat(1, 2)
    repro = repro_source(dtype_values) + (
        f"value = dtype_values({dtype})\nws = items(impl, 0, 4)\n"
        f"ws.set_full('v', value.to({dtype}).unsqueeze(0).repeat(2, 1))\n"
        "rb = impl.ReplayBuffer(4)\nrb.put(ws)\n"
        f"want = value.to({dtype}).unsqueeze(1).repeat(1, 2)\n"
        + IN_TMP
        + "    rb.save(tmp / 'v.bin')\n"
        "    got, _ = rbf.decode(rbf.parse((tmp / 'v.bin').read_bytes()))\n"
    )
    expect(
        rbf.to_bytes(got["v"]) == rbf.to_bytes(want),
        "RB-29",
        f"the {dtype} payload is not the bytes of the items put",
        repro + "print(rbf.to_bytes(got['v']))\nprint(rbf.to_bytes(want))  # want the same",
    )
    loaded = impl.ReplayBuffer(4).load(tmp / "v.bin")
    back = loaded.variables["v"]
    expect(
        back.dtype == dtype and rbf.to_bytes(back) == rbf.to_bytes(want),
        "RB-18",
        f"a {dtype} variable saved and loaded differs in its bits",
        repro + "    back = impl.ReplayBuffer(4).load(tmp / 'v.bin').variables['v']\n"
        f"print(back.dtype, rbf.to_bytes(back) == rbf.to_bytes(want))  # want {dtype} True",
    )


# ---------------------------------------------------------------------------------------------
# RB-25: load


@clause("RB-25")
@given(
    max_size=st.integers(1, 6),
    before=st.lists(st.integers(1, 8), min_size=0, max_size=4),
    after=st.lists(st.integers(1, 8), min_size=1, max_size=4),
    seed=st.integers(0, 2**31),
)
def test_a_loaded_buffer_resumes_exactly(
    impl: Any, max_size: int, before: list[int], after: list[int], seed: int
) -> None:
    original = impl.ReplayBuffer(max_size, generator=torch.Generator().manual_seed(seed))
    first = 0
    log = [
        repro_source(slot_ids).rstrip(),
        f"rb = impl.ReplayBuffer({max_size}, generator=torch.Generator().manual_seed({seed}))",
    ]
    for n in before:
        original.put(items(impl, first, n))
        log.append(f"rb.put(items(impl, {first}, {n}))")
        first += n
        original.get_shuffled(3)
        log.append("rb.get_shuffled(3)")
    with tempfile.TemporaryDirectory() as name:
        path = os.path.join(name, "rb.bin")
        original.save(path)
        resumed = impl.ReplayBuffer(max_size, generator=torch.Generator().manual_seed(seed + 1))
        returned = resumed.load(path)
    log += [
        "with tempfile.TemporaryDirectory() as name:",
        "    path = os.path.join(name, 'rb.bin')",
        "    rb.save(path)",
        f"    other = impl.ReplayBuffer({max_size}, "
        f"generator=torch.Generator().manual_seed({seed + 1}))",
        "    returned = other.load(path)",
    ]
    expect(
        returned is resumed,
        "RB-25",
        f"load returned {returned!r}, not the buffer",
        "\n".join([*log, "print(returned is other)  # want True"]),
    )
    expect(
        slot_ids(resumed) == slot_ids(original) and resumed.size() == original.size(),
        "RB-25",
        f"loaded slots {slot_ids(resumed)}, saved {slot_ids(original)}",
        "\n".join([*log, "print(slot_ids(other), other.size())", "print(slot_ids(rb), rb.size())"])
        + "  # want the same",
    )
    for n in after:
        for rb in (original, resumed):
            rb.put(items(impl, first, n))
        log.append(f"for buffer in (rb, other):\n    buffer.put(items(impl, {first}, {n}))")
        first += n
        if original.size() > 0:
            a, b = original.get_shuffled(5)["id"], resumed.get_shuffled(5)["id"]
            expect(
                torch.equal(a, b),
                "RB-25",
                f"after resuming, samples differ: the saved buffer went on with {a[0].tolist()}, "
                f"the loaded one with {b[0].tolist()}",
                "\n".join(
                    [
                        *log,
                        "print(rb.get_shuffled(5)['id'][0].tolist())",
                        "print(other.get_shuffled(5)['id'][0].tolist())  # want the same",
                    ]
                ),
            )
            log.append("rb.get_shuffled(5)\nother.get_shuffled(5)")
        expect(
            slot_ids(resumed) == slot_ids(original),
            "RB-25",
            f"after a put of {n}, slots {slot_ids(resumed)} vs {slot_ids(original)}",
            "\n".join([*log, "print(slot_ids(other))", "print(slot_ids(rb))  # want the same"]),
        )


@clause("RB-25", "RB-27", "RB-28", "RB-29")
def test_load_reads_a_file_written_from_the_spec(impl: Any, tmp: pathlib.Path) -> None:
    ring = Ring(4)
    ring.put(0, 6)  # slots hold items 4, 5, 2, 3; position 2
    state = torch.Generator().manual_seed(77).get_state()
    (tmp / "spec.bin").write_bytes(rbf.encode(4, ring.position, item_tensors(ring.slots), state))
    rb = impl.ReplayBuffer(4)
    rb.put(items(impl, 100, 2))  # replaced by the load
    rb.load(tmp / "spec.bin")
    repro = repro_source(item_tensors, slot_ids) + (
        "state = torch.Generator().manual_seed(77).get_state()\n"
        "rb = impl.ReplayBuffer(4)\nrb.put(items(impl, 100, 2))\n"
        + IN_TMP
        + f"    data = rbf.encode(4, {ring.position}, item_tensors({ring.slots}), state)\n"
        "    (tmp / 'spec.bin').write_bytes(data)\n    rb.load(tmp / 'spec.bin')\n"
    )
    expect(
        rb.size() == 4 and slot_ids(rb) == [4, 5, 2, 3],
        "RB-25",
        f"a file with slots [4, 5, 2, 3] loaded as size {rb.size()}, slots {slot_ids(rb)}",
        repro + "print(rb.size(), slot_ids(rb))  # want 4 [4, 5, 2, 3]",
    )
    generator = getattr(rb, "generator", None)
    expect(
        isinstance(generator, torch.Generator) and torch.equal(generator.get_state(), state),
        "RB-25",
        "rb.generator's state after the load is not the file's",
        repro + "print(torch.equal(rb.generator.get_state(), state))  # want True",
    )
    rb.put(items(impl, 6, 1))  # goes to the file's position, slot 2
    expect(
        slot_ids(rb) == [4, 5, 6, 3],
        "RB-25",
        f"slots after a put: {slot_ids(rb)}",
        repro + "rb.put(items(impl, 6, 1))\nprint(slot_ids(rb))  # want [4, 5, 6, 3]",
    )


@clause("RB-25")
def test_loading_a_file_saved_before_any_put(impl: Any, tmp: pathlib.Path) -> None:
    impl.ReplayBuffer(3).save(tmp / "empty.bin")
    rb = impl.ReplayBuffer(3)
    rb.put(items(impl, 0, 2))
    rb.load(tmp / "empty.bin")
    repro = repro_source() + (
        "rb = impl.ReplayBuffer(3)\nrb.put(items(impl, 0, 2))\n"
        + IN_TMP
        + "    impl.ReplayBuffer(3).save(tmp / 'empty.bin')\n    rb.load(tmp / 'empty.bin')\n"
    )
    expect(
        rb.size() == 0,
        "RB-25",
        f"size after loading an empty file: {rb.size()}",
        repro + "print(rb.size())  # want 0",
    )
    expect_raises(
        ValueError,
        "RB-25",
        "a put with another time size after loading an empty file (the schema stays)",
        lambda: rb.put(items(impl, 0, 1, time_size=3)),
        repro + "rb.put(items(impl, 0, 1, time_size=3))",
    )


# ---------------------------------------------------------------------------------------------
# RB-26: files load refuses


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1 :]


def _corruptions(data: bytes) -> dict[str, tuple[bytes, str]]:
    """Each corruption of a saved file ``data``: the bytes, and the reproducer's expression
    of them (over ``data``, ``parsed = rbf.parse(data)``, ``flip`` and ``pickle``)."""
    parsed = rbf.parse(data)
    head, pay = parsed.header_offset, parsed.payload_offset
    end = len(data) - rbf.DIGEST
    cases = {
        f"truncated to {n} bytes": (data[:n], f"data[:{n}]")
        for n in sorted(
            {
                0,
                1,
                7,
                8,
                12,
                19,
                20,
                head + len(parsed.header_bytes) // 2,
                pay,
                pay + (end - pay) // 2,
                end,
                len(data) - 1,
            }
        )
    }
    for what, at in (
        ("magic", 3),
        ("version", 8),
        ("header length", 12),
        ("header start", head),
        ("header middle", head + len(parsed.header_bytes) // 2),
        ("header end", pay - 1),
        ("payload start", pay),
        ("payload middle", pay + (end - pay) // 2),
        ("payload end", end - 1),
        ("digest", end + 5),
    ):
        cases[f"a flipped bit in the {what} (byte {at})"] = (flip(data, at), f"flip(data, {at})")
    cases["one byte appended"] = (data + b"\0", "data + b'\\0'")
    body = data[:end]
    magic = b"\x89BBRLWS\n"
    cases["another magic, checksum recomputed"] = (
        rbf.build(None, parsed.payload, raw_header=parsed.header_bytes, magic=magic),
        f"rbf.build(None, parsed.payload, raw_header=parsed.header_bytes, magic={magic!r})",
    )
    for version in (0, 2):
        cases[f"version {version}, checksum recomputed"] = (
            rbf.build(None, parsed.payload, raw_header=parsed.header_bytes, version=version),
            f"rbf.build(None, parsed.payload, raw_header=parsed.header_bytes, version={version})",
        )
    cases["a pickle"] = (pickle.dumps({"max_size": 5}), "pickle.dumps({'max_size': 5})")
    cases["body without digest"] = (body, f"data[:{end}]")
    return cases


@clause("RB-26")
def test_corrupted_files_raise_and_change_nothing(impl: Any, tmp: pathlib.Path) -> None:
    _, data, _ = saved(impl, tmp)
    rb = impl.ReplayBuffer(5, generator=torch.Generator().manual_seed(1))
    rb.put(items(impl, 50, 3))
    before = snapshot(rb)
    path = tmp / "bad.bin"
    repro = repro_source(slot_ids, snapshot, unchanged, saved, flip) + (
        "rb = impl.ReplayBuffer(5, generator=torch.Generator().manual_seed(1))\n"
        "rb.put(items(impl, 50, 3))\nbefore = snapshot(rb)\n"
        + IN_TMP
        + "    _, data, _ = saved(impl, tmp)\n    parsed = rbf.parse(data)\n"
    )
    for what, (content, content_code) in _corruptions(data).items():
        path.write_bytes(content)
        write = repro + f"    (tmp / 'bad.bin').write_bytes({content_code})  # {what}\n"
        expect_raises(
            ValueError,
            "RB-26",
            f"load of a file with {what}",
            lambda: rb.load(path),
            write + "    rb.load(tmp / 'bad.bin')",
        )
        expect(
            unchanged(rb, before),
            "RB-26",
            f"a refused load ({what}) changed the buffer",
            write + REFUSED_LOAD.format(error="ValueError", path="tmp / 'bad.bin'"),
        )


#: the end of a reproducer of a refused load that must leave the buffer ``rb`` as it was
REFUSED_LOAD = """\
    try:
        rb.load({path})
    except {error} as exc:
        print("{error}:", exc)
print(unchanged(rb, before), rb.size(), slot_ids(rb))  # want True and the items before
"""


def _header_cases(header: dict[str, Any]) -> dict[str, tuple[object, int]]:
    """Headers that each break one rule of RB-28, with the payload change they need (bytes)."""
    var = header["variables"]
    gen = header["generator"]
    return {
        "not an object": ([1, 2], 0),
        "an extra key": ({**header, "extra": 1}, 0),
        "a missing key": ({k: v for k, v in header.items() if k != "position"}, 0),
        "max_size 5.0": ({**header, "max_size": 5.0}, 0),
        "max_size 0": ({**header, "max_size": 0}, 0),
        "size above max_size": ({**header, "size": 6}, 0),
        "size true": ({**header, "size": True}, 0),
        "position at max_size": ({**header, "position": 5}, 0),
        "time_size null with variables": ({**header, "time_size": None}, 0),
        "time_size -1": ({**header, "time_size": -1}, 0),
        "variables not a list": ({**header, "variables": {}}, 0),
        "a repeated name": (
            {**header, "variables": [var[0], {**var[1], "name": var[0]["name"]}, var[2]]},
            0,
        ),
        "an unknown dtype": ({**header, "variables": [{**var[0], "dtype": "uint16"}, *var[1:]]}, 0),
        "a negative dimension": ({**header, "variables": [{**var[0], "shape": [-1]}, *var[1:]]}, 0),
        "a variable with a missing key": ({**header, "variables": [{"name": "x"}, *var[1:]]}, 0),
        "a generator without nbytes": ({**header, "generator": {"device": "cpu"}}, 0),
        "a generator device that is not a string": (
            {**header, "generator": {**gen, "device": 1}} if gen else [1],
            0,
        ),
        "a payload one byte longer than described": (header, 1),
        "a payload one byte shorter than described": (header, -1),
    }


@clause("RB-26", "RB-28", "ERR-6")
def test_malformed_headers_raise_and_change_nothing(impl: Any, tmp: pathlib.Path) -> None:
    _, data, _ = saved(impl, tmp)
    parsed = rbf.parse(data)
    rb = impl.ReplayBuffer(5)
    rb.put(items(impl, 50, 3))
    before = snapshot(rb)
    repro = repro_source(slot_ids, snapshot, unchanged, saved) + (
        "rb = impl.ReplayBuffer(5)\nrb.put(items(impl, 50, 3))\nbefore = snapshot(rb)\n"
        + IN_TMP
        + "    _, data, _ = saved(impl, tmp)\n    parsed = rbf.parse(data)\n"
    )
    for what, (header, extra) in _header_cases(dict(parsed.header)).items():
        payload = parsed.payload + b"\0" * max(extra, 0)
        if extra < 0:
            payload = payload[:extra]
        (tmp / "bad.bin").write_bytes(rbf.build(header, payload))
        payload_code = {0: "parsed.payload", 1: "parsed.payload + b'\\0'"}.get(
            extra, f"parsed.payload[:{extra}]"
        )
        write = repro + (
            f"    header = {header!r}  # {what}\n"
            f"    (tmp / 'bad.bin').write_bytes(rbf.build(header, {payload_code}))\n"
        )
        exc = expect_raises(
            ValueError,
            "RB-26",
            f"load of a checksummed file whose header has {what}",
            lambda: rb.load(tmp / "bad.bin"),
            write + "    rb.load(tmp / 'bad.bin')",
        )
        # ERR-6: the message names the file (its name, or the argument path) it refuses
        expect_message(
            exc,
            "ERR-6",
            f"load of a file whose header has {what}",
            [("bad.bin", "path")],
            write + "    rb.load(tmp / 'bad.bin')",
        )
        expect(
            unchanged(rb, before),
            "RB-26",
            f"a refused load ({what}) changed the buffer",
            write + REFUSED_LOAD.format(error="ValueError", path="tmp / 'bad.bin'"),
        )
    for what, raw in (
        ("a header that is not UTF-8", b"\xff\xfe{}"),
        ("a header that is not JSON", b"{max_size: 5}"),
        ("a key given twice", parsed.header_bytes[:-1] + b',"size":5}'),
        (
            "NaN in the header",
            json.dumps({**parsed.header, "max_size": float("nan")}).encode(),
        ),
    ):
        (tmp / "bad.bin").write_bytes(rbf.build(None, parsed.payload, raw_header=raw))
        write = repro + (
            f"    raw = {raw!r}  # {what}\n"
            "    (tmp / 'bad.bin').write_bytes(rbf.build(None, parsed.payload, raw_header=raw))\n"
        )
        expect_raises(
            ValueError,
            "RB-26",
            f"load of {what}",
            lambda: rb.load(tmp / "bad.bin"),
            write + "    rb.load(tmp / 'bad.bin')",
        )
        expect(
            unchanged(rb, before),
            "RB-26",
            f"a refused load ({what}) changed the buffer",
            write + REFUSED_LOAD.format(error="ValueError", path="tmp / 'bad.bin'"),
        )


@clause("RB-26", "RB-29")
def test_a_bool_byte_other_than_0_or_1_raises(impl: Any, tmp: pathlib.Path) -> None:
    ring = Ring(4)
    ring.put(0, 2)
    values = item_tensors(ring.slots[:2])
    good = rbf.encode(4, 2, values, None)
    parsed = rbf.parse(good)
    at = len(parsed.payload) - 1  # 'done' is last: its last byte
    payload = parsed.payload[:at] + b"\x02"
    (tmp / "bool.bin").write_bytes(rbf.build(parsed.header, payload))
    rb = impl.ReplayBuffer(4)
    repro = repro_source(item_tensors) + (
        f"good = rbf.encode(4, 2, item_tensors({ring.slots[:2]}), None)\n"
        "parsed = rbf.parse(good)\nrb = impl.ReplayBuffer(4)\n"
        + IN_TMP
        + "    payload = parsed.payload[:-1] + b'\\x02'  # the last byte of 'done'\n"
        "    (tmp / 'bool.bin').write_bytes(rbf.build(parsed.header, payload))\n"
    )
    refused = repro + (
        "    try:\n        rb.load(tmp / 'bool.bin')\n"
        "    except ValueError as exc:\n        print('ValueError:', exc)\n"
    )
    expect_raises(
        ValueError,
        "RB-26",
        "a bool byte 2",
        lambda: rb.load(tmp / "bool.bin"),
        repro + "    rb.load(tmp / 'bool.bin')",
    )
    expect(
        rb.size() == 0,
        "RB-26",
        "the refused load changed the buffer",
        refused + "print(rb.size())  # want 0",
    )
    (tmp / "good.bin").write_bytes(good)
    expect(
        rb.load(tmp / "good.bin").size() == 2,
        "RB-26",
        "the same file with byte 1 failed",
        refused + "    (tmp / 'good.bin').write_bytes(good)\n"
        "    print(rb.load(tmp / 'good.bin').size())  # want 2",
    )


@clause("RB-26")
def test_a_generator_state_torch_rejects_raises(impl: Any, tmp: pathlib.Path) -> None:
    """A file whose generator state has the right device and size but bytes torch refuses
    (all zero: no valid mt19937 state) is a file that does not follow RB-29: ValueError, and
    the buffer and its generator are unchanged."""
    _, data, _ = saved(impl, tmp)
    parsed = rbf.parse(data)
    header = dict(parsed.header)
    generator: Any = header["generator"]
    if generator is None:
        pytest.skip("the implementation saves no generator state")
    nbytes = int(generator["nbytes"])
    (tmp / "z.bin").write_bytes(rbf.build(header, parsed.payload[:-nbytes] + bytes(nbytes)))
    rb = impl.ReplayBuffer(5, generator=torch.Generator().manual_seed(11))
    rb.put(items(impl, 50, 2))
    before = snapshot(rb)
    repro = repro_source(slot_ids, snapshot, unchanged, saved) + (
        "rb = impl.ReplayBuffer(5, generator=torch.Generator().manual_seed(11))\n"
        "rb.put(items(impl, 50, 2))\nbefore = snapshot(rb)\n"
        + IN_TMP
        + "    _, data, _ = saved(impl, tmp)\n    parsed = rbf.parse(data)\n"
        "    n = parsed.header['generator']['nbytes']\n"
        "    zeroed = rbf.build(parsed.header, parsed.payload[:-n] + bytes(n))\n"
        "    (tmp / 'z.bin').write_bytes(zeroed)\n"
    )
    expect_raises(
        ValueError,
        "RB-26",
        "load of a file whose generator state is all zero bytes",
        lambda: rb.load(tmp / "z.bin"),
        repro + "    rb.load(tmp / 'z.bin')",
    )
    expect(
        unchanged(rb, before),
        "RB-26",
        "the refused load changed the buffer or its generator",
        repro + REFUSED_LOAD.format(error="ValueError", path="tmp / 'z.bin'"),
    )


@clause("RB-26")
@pytest.mark.parametrize("buffer_size", [1, 4, 6, 64])
@pytest.mark.parametrize("full", [True, False], ids=["full-file", "partial-file"])
def test_a_file_of_another_max_size_raises(
    impl: Any, tmp: pathlib.Path, buffer_size: int, full: bool
) -> None:
    """Both sides of "a max_size other than the buffer's": a file of max_size 5 (full, or holding
    2 items) refused by buffers of max_size 1, 4 (smaller) and 6, 64 (larger, where the items
    would fit), with the buffer unchanged."""
    source = impl.ReplayBuffer(5)
    source.put(items(impl, 0, 5 if full else 2))
    source.save(tmp / "f.bin")
    rb = impl.ReplayBuffer(buffer_size)
    rb.put(items(impl, 50, 1))
    before = snapshot(rb)
    repro = repro_source(slot_ids, snapshot, unchanged) + (
        f"rb = impl.ReplayBuffer({buffer_size})\nrb.put(items(impl, 50, 1))\n"
        "before = snapshot(rb)\n"
        + IN_TMP
        + "    source = impl.ReplayBuffer(5)\n"
        + f"    source.put(items(impl, 0, {5 if full else 2}))\n"
        + "    source.save(tmp / 'f.bin')\n"
    )
    expect_raises(
        ValueError,
        "RB-26",
        f"load of a max_size 5 file holding {5 if full else 2} items into max_size {buffer_size}",
        lambda: rb.load(tmp / "f.bin"),
        repro + "    rb.load(tmp / 'f.bin')",
    )
    expect(
        unchanged(rb, before),
        "RB-26",
        "the refused load changed the buffer",
        repro + REFUSED_LOAD.format(error="ValueError", path="tmp / 'f.bin'"),
    )


#: paths save and load refuse (RB-23): an fd number that no file has, None, a float
BAD_PATHS: tuple[tuple[str, object], ...] = (("999_999", 999_999), ("None", None), ("2.5", 2.5))


@clause("RB-23")
@pytest.mark.parametrize(("source", "path"), BAD_PATHS, ids=[s for s, _ in BAD_PATHS])
def test_a_path_of_another_type_raises(
    impl: Any, tmp: pathlib.Path, source: str, path: object
) -> None:
    """save and load of a path that is neither a str nor an os.PathLike raise TypeError (an
    int is not a file descriptor to them) and change nothing; the other side, str and
    os.PathLike, is the rest of this module."""
    rb, _, _ = saved(impl, tmp)
    before = snapshot(rb)
    files = sorted(os.listdir(tmp))
    repro = (
        repro_source(slot_ids, snapshot, unchanged, saved)
        + IN_TMP
        + ("    rb, _, _ = saved(impl, tmp)\n    before = snapshot(rb)\n")
    )
    for op in ("save", "load"):
        expect_raises(
            TypeError,
            "RB-23",
            f"rb.{op}({source})",
            functools.partial(getattr(rb, op), path),
            repro + f"    rb.{op}({source})",
        )
        expect(
            unchanged(rb, before) and sorted(os.listdir(tmp)) == files,
            "RB-23",
            f"the refused rb.{op}({source}) changed the buffer or the directory",
            repro + f"    try:\n        rb.{op}({source})\n    except TypeError:\n        pass\n"
            "    print(unchanged(rb, before), sorted(os.listdir(tmp)))",
        )


@clause("RB-26")
def test_a_file_of_another_size_or_generator_raises(impl: Any, tmp: pathlib.Path) -> None:
    _, data, _ = saved(impl, tmp)
    parsed = rbf.parse(data)
    rb = impl.ReplayBuffer(4)
    rb.put(items(impl, 50, 1))
    before = snapshot(rb)
    (tmp / "f.bin").write_bytes(data)
    repro = repro_source(slot_ids, snapshot, unchanged, saved) + (
        "rb = impl.ReplayBuffer(4)\nrb.put(items(impl, 50, 1))\nbefore = snapshot(rb)\n"
        + IN_TMP
        + "    _, data, path = saved(impl, tmp)  # a file of max_size 5\n"
    )
    expect_raises(
        ValueError,
        "RB-26",
        "load of a max_size 5 file into max_size 4",
        lambda: rb.load(tmp / "f.bin"),
        repro + "    rb.load(path)",
    )
    expect(
        unchanged(rb, before),
        "RB-26",
        "the refused load changed the buffer",
        repro + REFUSED_LOAD.format(error="ValueError", path="path"),
    )
    header = dict(parsed.header)
    if header["generator"] is not None:
        state_bytes = parsed.payload[-5056:] if len(parsed.payload) > 5056 else b""
        assert state_bytes, "a CPU generator state is 5056 bytes"
        cuda_header = {**header, "generator": {"device": "cuda", "nbytes": 16}}
        payload = parsed.payload[:-5056] + bytes(16)
        (tmp / "g.bin").write_bytes(rbf.build(cuda_header, payload))
        rb5 = impl.ReplayBuffer(5, generator=torch.Generator())
        before5 = snapshot(rb5)
        repro = repro_source(slot_ids, snapshot, unchanged, saved) + (
            "rb = impl.ReplayBuffer(5, generator=torch.Generator())\nbefore = snapshot(rb)\n"
            + IN_TMP
            + "    _, data, _ = saved(impl, tmp)\n    parsed = rbf.parse(data)\n"
            "    header = {**parsed.header, 'generator': {'device': 'cuda', 'nbytes': 16}}\n"
            "    payload = parsed.payload[:-5056] + bytes(16)  # a cuda state for the cpu one\n"
            "    (tmp / 'g.bin').write_bytes(rbf.build(header, payload))\n"
        )
        expect_raises(
            ValueError,
            "RB-26",
            "load of a cuda generator state into a cpu one",
            lambda: rb5.load(tmp / "g.bin"),
            repro + "    rb.load(tmp / 'g.bin')",
        )
        expect(
            unchanged(rb5, before5),
            "RB-26",
            "the refused load changed the buffer",
            repro + REFUSED_LOAD.format(error="ValueError", path="tmp / 'g.bin'"),
        )


@clause("RB-26")
@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("missing", KeyError),
        ("extra", KeyError),
        ("time", ValueError),
        ("shape", ValueError),
        ("dtype", TypeError),
    ],
)
def test_a_file_of_another_schema_raises(
    impl: Any, tmp: pathlib.Path, case: str, error: type[Exception]
) -> None:
    ids = [0, 1]
    values = item_tensors(ids, time_size=3 if case == "time" else 2)
    if case == "missing":
        del values["done"]
    elif case == "extra":
        values["more"] = torch.zeros(2, 2)
    elif case == "shape":
        values["obs"] = torch.zeros(2, 2, 4)
    elif case == "dtype":
        values["obs"] = values["obs"].double()
    (tmp / "other.bin").write_bytes(rbf.encode(4, 2, values, None))
    rb = impl.ReplayBuffer(4)
    rb.put(items(impl, 50, 3))
    before = snapshot(rb)
    change = {
        "missing": "del values['done']",
        "extra": "values['more'] = torch.zeros(2, 2)",
        "shape": "values['obs'] = torch.zeros(2, 2, 4)",
        "dtype": "values['obs'] = values['obs'].double()",
        "time": "",
    }[case]
    repro = repro_source(item_tensors, slot_ids, snapshot, unchanged) + (
        f"values = item_tensors({ids}, time_size={3 if case == 'time' else 2})\n{change}\n"
        "rb = impl.ReplayBuffer(4)\nrb.put(items(impl, 50, 3))\nbefore = snapshot(rb)\n"
        + IN_TMP
        + "    (tmp / 'other.bin').write_bytes(rbf.encode(4, 2, values, None))\n"
    )
    expect_raises(
        error,
        "RB-26",
        f"load into a buffer with a schema of a file whose schema has a {case} difference",
        lambda: rb.load(tmp / "other.bin"),
        repro + "    rb.load(tmp / 'other.bin')",
    )
    expect(
        unchanged(rb, before),
        "RB-26",
        f"the refused load ({case}) changed the buffer",
        repro + REFUSED_LOAD.format(error=error.__name__, path="tmp / 'other.bin'"),
    )
    expect(
        impl.ReplayBuffer(4).load(tmp / "other.bin").size() == 2,
        "RB-26",
        "the same file refused by a new buffer (no schema to check against)",
        repro + "    print(impl.ReplayBuffer(4).load(tmp / 'other.bin').size())  # want 2",
    )


UNPICKLED: list[str] = []


def mark_unpickled(what: str) -> str:
    UNPICKLED.append(what)
    return what


class Marker:
    def __reduce__(self) -> tuple[Callable[[str], str], tuple[str]]:
        return (mark_unpickled, ("unpickled",))


#: the reproducers' marker prints when it is unpickled
MARKER_SOURCE = """\
class Marker:
    def __reduce__(self):
        return (print, ("unpickled: load ran code from the file",))
"""


@clause("RB-26")
def test_load_never_unpickles(impl: Any, tmp: pathlib.Path) -> None:
    rb = impl.ReplayBuffer(5)
    path = tmp / "pickled.bin"
    repro = repro_source() + MARKER_SOURCE + "rb = impl.ReplayBuffer(5)\n" + IN_TMP
    writes = {
        "a pickle that runs code": "(tmp / 'pickled.bin').write_bytes(pickle.dumps(Marker()))",
        "a torch.save file": "torch.save({'variables': Marker()}, tmp / 'pickled.bin')",
    }
    for what, write in (
        ("a pickle that runs code", lambda p: p.write_bytes(pickle.dumps(Marker()))),
        ("a torch.save file", lambda p: torch.save({"variables": Marker()}, p)),
    ):
        write(path)
        expect_raises(
            ValueError,
            "RB-26",
            f"load of {what}",
            lambda: rb.load(path),
            repro + f"    {writes[what]}\n    rb.load(tmp / 'pickled.bin')",
        )
    expect(
        UNPICKLED == [],
        "RB-26",
        "load unpickled an object from the file",
        repro
        + "".join(
            f"    {write}\n    try:\n        rb.load(tmp / 'pickled.bin')\n"
            "    except Exception as exc:\n        print(type(exc).__name__)\n"
            for write in writes.values()
        )
        + "# want no line 'unpickled: ...' above",
    )


@clause("RB-26")
def test_load_of_a_missing_path_raises_os_error(impl: Any, tmp: pathlib.Path) -> None:
    rb = impl.ReplayBuffer(2)
    expect_raises(
        OSError,
        "RB-26",
        "load of a missing file",
        lambda: rb.load(tmp / "none"),
        repro_source() + "rb = impl.ReplayBuffer(2)\n" + IN_TMP + "    rb.load(tmp / 'none')",
    )


# ---------------------------------------------------------------------------------------------
# RB-24: atomic save


@clause("RB-24")
def test_save_leaves_only_the_file(impl: Any, tmp: pathlib.Path) -> None:
    rb, first, path = saved(impl, tmp)
    rb.put(items(impl, 7, 1))
    rb.save(str(path))  # over the previous file
    repro = repro_source(slot_ids, saved) + (
        IN_TMP + "    rb, first, path = saved(impl, tmp)\n    rb.put(items(impl, 7, 1))\n"
        "    rb.save(str(path))\n"
    )
    expect(
        os.listdir(tmp) == ["rb.bin"],
        "RB-24",
        f"the directory holds {os.listdir(tmp)}",
        repro + "    print(os.listdir(tmp))  # want ['rb.bin']",
    )
    second = path.read_bytes()
    expect(
        second != first,
        "RB-24",
        "a second save did not replace the file",
        repro + "    print(path.read_bytes() != first)  # want True",
    )
    expect(
        slot_ids(impl.ReplayBuffer(5).load(path)) == slot_ids(rb),
        "RB-24",
        "the replaced file does not hold the buffer's new items",
        repro + "    print(slot_ids(impl.ReplayBuffer(5).load(path)))\n"
        "    print(slot_ids(rb))  # want the same",
    )


@clause("RB-24")
def test_save_does_not_use_the_default_temporary_directory(impl: Any, tmp: pathlib.Path) -> None:
    """The temporary file goes in the directory of path: with the process's default temporary
    directory (tempfile.tempdir, $TMPDIR) pointing nowhere, save still succeeds, leaves only
    the file, and the file loads."""
    rb = impl.ReplayBuffer(5)
    rb.put(items(impl, 0, 3))
    path = tmp / "rb.bin"
    nowhere = str(tmp / "no-such-directory")
    repro = repro_source(slot_ids) + (
        IN_TMP + "    rb = impl.ReplayBuffer(5)\n    rb.put(items(impl, 0, 3))\n"
        "    tempfile.tempdir = str(tmp / 'no-such-directory')\n    try:\n"
        "        rb.save(tmp / 'rb.bin')\n    finally:\n        tempfile.tempdir = None\n"
        "    print(os.listdir(tmp))  # want ['rb.bin']"
    )
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = nowhere
    try:
        try:
            rb.save(path)
            problem = None
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
    finally:
        tempfile.tempdir = saved_tempdir
    expect(
        problem is None and os.listdir(tmp) == ["rb.bin"],
        "RB-24",
        f"with tempfile.tempdir = {nowhere!r}, save raised {problem} and left {os.listdir(tmp)}",
        repro,
    )
    expect(
        slot_ids(impl.ReplayBuffer(5).load(path)) == slot_ids(rb),
        "RB-24",
        "the file saved with another default temporary directory does not load the items",
        repro,
    )


@clause("RB-24")
def test_save_replaces_the_file_instead_of_writing_into_it(impl: Any, tmp: pathlib.Path) -> None:
    rb, first, path = saved(impl, tmp)
    link = tmp / "link.bin"
    try:
        os.link(path, link)  # a second name for the old file
    except (OSError, NotImplementedError):
        pytest.skip("this file system has no hard links")
    rb.put(items(impl, 9, 2))
    rb.save(path)
    expect(
        link.read_bytes() == first and path.read_bytes() != first,
        "RB-24",
        "save wrote into the existing file (a hard link to it changed) instead of renaming a "
        "new file over it",
        repro_source(saved)
        + IN_TMP
        + "    rb, first, path = saved(impl, tmp)\n    link = tmp / 'link.bin'\n"
        "    os.link(path, link)  # a second name for the old file\n"
        "    rb.put(items(impl, 9, 2))\n    rb.save(path)\n"
        "    print(link.read_bytes() == first, path.read_bytes() != first)  # want True True",
    )


@clause("RB-24")
def test_a_failed_save_leaves_no_file(impl: Any, tmp: pathlib.Path) -> None:
    rb = impl.ReplayBuffer(3)
    rb.put(items(impl, 0, 2))
    folder = tmp / "folder"
    folder.mkdir()
    (folder / "inside.txt").write_text("keep")
    repro = repro_source() + (
        "rb = impl.ReplayBuffer(3)\nrb.put(items(impl, 0, 2))\n"
        + IN_TMP
        + "    folder = tmp / 'folder'\n    folder.mkdir()\n"
        "    (folder / 'inside.txt').write_text('keep')\n"
    )
    failed = repro + (
        "    for target in (folder, tmp / 'no' / 'f.bin'):\n        try:\n"
        "            rb.save(target)\n        except OSError as exc:\n"
        "            print(type(exc).__name__)\n"
    )
    expect_raises(
        OSError,
        "RB-24",
        "save onto an existing directory",
        lambda: rb.save(folder),
        repro + "    rb.save(folder)",
    )
    expect_raises(
        OSError,
        "RB-24",
        "save into a missing directory",
        lambda: rb.save(tmp / "no" / "f.bin"),
        repro + "    rb.save(tmp / 'no' / 'f.bin')",
    )
    names = sorted(os.listdir(tmp))
    expect(
        names == ["folder"],
        "RB-24",
        f"failed saves left {names}",
        failed + "    print(sorted(os.listdir(tmp)))  # want ['folder']",
    )
    expect(
        os.listdir(folder) == ["inside.txt"],
        "RB-24",
        "a failed save changed the directory",
        failed + "    print(os.listdir(folder))  # want ['inside.txt']",
    )
