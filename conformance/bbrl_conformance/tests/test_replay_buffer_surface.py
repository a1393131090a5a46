"""Conformance tests of spec/replay-buffer.md RB-1 (float sizes) and RB-14..RB-22: devices,
``max_size`` / ``is_full`` / ``variables`` by slot, ``to``, the exact dtypes, the buffer's own
generator and typed errors for impossible allocations.

Items carry their id (``id[t, j] = 10 * item + t``), so a sample or a slot says which item it
holds; expected slots come from a ring model written here (item ``i`` of a put at position
``p`` goes to slot ``(p + i) mod max_size``).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises
from bbrl_conformance._clauses import clause
from bbrl_conformance._strategies import ITEM_DTYPES

HUGE = 2**46  # items: with 16 bytes each, 2**50 bytes (1 PiB), more than any machine has


def items(impl: Any, first: int, n: int, time_size: int = 2) -> Any:
    """``n`` items with ids ``first..``: id int64 ``[T, n]``, obs float32 ``[T, n, 3]``."""
    ids = torch.arange(first, first + n)
    rows = torch.arange(time_size).unsqueeze(1)
    ws = impl.Workspace()
    ws.set_full("id", ids * 10 + rows)
    ws.set_full("obs", (ids.float() + rows / 2).unsqueeze(2) + torch.arange(3) / 8)
    return ws


ITEMS_SOURCE = """\
import torch
def items(impl, first, n, time_size=2):
    ids = torch.arange(first, first + n)
    rows = torch.arange(time_size).unsqueeze(1)
    ws = impl.Workspace()
    ws.set_full("id", ids * 10 + rows)
    ws.set_full("obs", (ids.float() + rows / 2).unsqueeze(2) + torch.arange(3) / 8)
    return ws
"""


class Ring:
    """The model of RB-16: slots, position and size of a buffer of ``max_size`` items."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.slots: list[int | None] = [None] * max_size
        self.position = 0
        self.size = 0

    def put(self, first: int, n: int) -> None:
        for j in range(n):
            self.slots[(self.position + j) % self.max_size] = first + j
        self.position = (self.position + n) % self.max_size
        self.size = min(self.size + n, self.max_size)

    def filled(self) -> list[int]:
        return [cast_int(i) for i in self.slots[: self.size]]


def cast_int(value: int | None) -> int:
    assert value is not None  # slots below size are filled (test-side invariant)
    return value


#: what the reproducers print for ``slot_ids(rb)`` and ``sampled_ids(rb)``
SLOTS = "[int(x) // 10 for x in rb.variables['id'][:, 0].tolist()]"
SAMPLED = "sorted({int(x) // 10 for x in rb.get_shuffled(64)['id'][0].tolist()})"


def code(value: object) -> str:
    """``value`` as Python source (reprs of NaN, infinities and devices are not)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, torch.device):
        return f"torch.device({str(value)!r})"
    if type(value) is object:
        return "object()"
    return repr(value)


def slot_ids(rb: Any) -> list[int] | None:
    """The item ids by slot from ``rb.variables['id']`` (None if it is not readable)."""
    variables = rb.variables
    value = variables.get("id") if hasattr(variables, "get") else None
    if not isinstance(value, torch.Tensor) or value.dim() != 2:
        return None
    return [int(x) // 10 for x in value[:, 0].tolist()]


def sampled_ids(rb: Any, n: int = 64) -> set[int]:
    return {int(x) // 10 for x in rb.get_shuffled(n)["id"][0].tolist()}


# ---------------------------------------------------------------------------------------------
# RB-1: float sizes


@clause("RB-1")
@pytest.mark.parametrize("max_size", [1e6, 4.0, 1.0])
def test_integral_float_max_size_is_taken(impl: Any, max_size: float) -> None:
    rb = impl.ReplayBuffer(max_size)
    expect(
        rb.size() == 0,
        "RB-1",
        f"ReplayBuffer({max_size!r}).size() = {rb.size()!r}",
        f"print(impl.ReplayBuffer({max_size!r}).size())  # want 0",
    )
    if max_size <= 4:
        for i in range(6):  # one item per put: the capacity shows, whatever RB-5 does
            rb.put(items(impl, i, 1))
        expect(
            rb.size() == int(max_size) and sampled_ids(rb) == set(range(6 - int(max_size), 6)),
            "RB-1",
            f"ReplayBuffer({max_size!r}) after 6 puts of one item holds {rb.size()} items "
            f"{sorted(sampled_ids(rb))}; want the last {int(max_size)}",
            ITEMS_SOURCE + f"rb = impl.ReplayBuffer({max_size!r})\nfor i in range(6):\n"
            f"    rb.put(items(impl, i, 1))\nprint(rb.size(), {SAMPLED})"
            f"  # want {int(max_size)} {list(range(6 - int(max_size), 6))}",
        )


@clause("RB-1")
@pytest.mark.parametrize(
    ("max_size", "error"),
    [
        (2.5, TypeError),
        (float("nan"), TypeError),
        (float("inf"), TypeError),
        (True, TypeError),
        ("4", TypeError),
        (0.0, ValueError),
        (-2.0, ValueError),
        (0, ValueError),
    ],
    ids=["2.5", "nan", "inf", "True", "str", "0.0", "-2.0", "0"],
)
def test_other_max_sizes_raise(impl: Any, max_size: object, error: type[Exception]) -> None:
    expect_raises(
        error,
        "RB-1",
        f"ReplayBuffer({max_size!r})",
        lambda: impl.ReplayBuffer(max_size),
        f"impl.ReplayBuffer({code(max_size)})",
    )


# ---------------------------------------------------------------------------------------------
# RB-14: devices


@clause("RB-14")
@pytest.mark.parametrize("device", [None, "cpu", torch.device("cpu")], ids=["None", "str", "dev"])
def test_device_of_the_buffer(impl: Any, device: object) -> None:
    rb = impl.ReplayBuffer(4) if device is None else impl.ReplayBuffer(4, device=device)
    got = rb.device
    made = (
        "impl.ReplayBuffer(4)" if device is None else f"impl.ReplayBuffer(4, device={code(device)})"
    )
    repro = ITEMS_SOURCE + f"rb = {made}\n"
    expect(
        isinstance(got, torch.device) and got == torch.device("cpu"),
        "RB-14",
        f"ReplayBuffer(4, device={device!r}).device = {got!r}; want torch.device('cpu')",
        repro + "print(repr(rb.device))  # want device(type='cpu')",
    )
    rb.put(items(impl, 0, 3))
    sample = rb.get_shuffled(5)
    expect(
        sample["obs"].device.type == "cpu",
        "RB-14",
        f"sample on {sample['obs'].device}",
        repro + "rb.put(items(impl, 0, 3))\nprint(rb.get_shuffled(5)['obs'].device)  # want cpu",
    )


@clause("RB-14")
def test_device_on_an_accelerator(impl: Any) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine (the CPU-only side is tested apart)")
    rb = impl.ReplayBuffer(4, device="cuda")
    repro = ITEMS_SOURCE + "rb = impl.ReplayBuffer(4, device='cuda')\n"
    expect(
        rb.device == torch.device("cuda"),
        "RB-14",
        f"device = {rb.device!r}",
        repro + "print(repr(rb.device))  # want device(type='cuda')",
    )
    rb.put(items(impl, 0, 6))
    sample = rb.get_shuffled(8)
    repro += "rb.put(items(impl, 0, 6))\nsample = rb.get_shuffled(8)\n"
    expect(
        sample["id"].device.type == "cuda",
        "RB-14",
        f"sample on {sample['id'].device}",
        repro + "print(sample['id'].device)  # want cuda",
    )
    ids = {int(x) // 10 for x in sample["id"][0].cpu().tolist()}
    expect(
        ids <= {2, 3, 4, 5},
        "RB-14",
        f"a cuda buffer sampled ids {ids}, stored 2..5",
        repro + "print(sorted({int(x) // 10 for x in sample['id'][0].cpu().tolist()}))"
        "  # want ids among 2..5",
    )


@clause("RB-14")
@pytest.mark.parametrize("device", ["foo", "cuda:x", "", "cuda"])
def test_bad_device_names_raise_at_construction(impl: Any, device: str) -> None:
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA: 'cuda' is a valid device here")
    expect_raises(
        ValueError,
        "RB-14",
        f"ReplayBuffer(4, device={device!r})",
        lambda: impl.ReplayBuffer(4, device=device),
        f"impl.ReplayBuffer(4, device={device!r})",
    )


@clause("RB-14")
@pytest.mark.parametrize("device", [1.5, object(), ["cpu"]], ids=["float", "object", "list"])
def test_device_of_another_type_raises(impl: Any, device: object) -> None:
    expect_raises(
        TypeError,
        "RB-14",
        f"ReplayBuffer(4, device={device!r})",
        lambda: impl.ReplayBuffer(4, device=device),
        f"impl.ReplayBuffer(4, device={code(device)})",
    )


# ---------------------------------------------------------------------------------------------
# RB-15, RB-16: max_size, is_full, variables by slot


@clause("RB-15")
def test_max_size_and_is_full(impl: Any) -> None:
    rb = impl.ReplayBuffer(3)
    log = [ITEMS_SOURCE, "rb = impl.ReplayBuffer(3)"]
    expect(
        type(rb.max_size) is int and rb.max_size == 3,
        "RB-15",
        f"max_size = {rb.max_size!r}",
        "\n".join([*log, "print(repr(rb.max_size))  # want 3"]),
    )
    for n, want in ((0, False), (2, False), (1, True), (1, True), (5, True)):
        if n:
            rb.put(items(impl, 0, n))
            log.append(f"rb.put(items(impl, 0, {n}))")
        full = rb.is_full
        expect(
            type(full) is bool and full == want and full == (rb.size() == 3),
            "RB-15",
            f"is_full = {full!r} with size() = {rb.size()} of max_size 3; want {want}",
            "\n".join([*log, f"print(repr(rb.is_full), rb.size())  # want {want} (size 3: full)"]),
        )
    big = impl.ReplayBuffer(1e6)
    expect(
        type(big.max_size) is int and big.max_size == 10**6,
        "RB-15",
        f"{big.max_size!r}",
        "print(repr(impl.ReplayBuffer(1e6).max_size))  # want 1000000",
    )


@clause("RB-16")
@given(
    max_size=st.integers(1, 7),
    widths=st.lists(st.integers(0, 10), min_size=1, max_size=6),
    time_size=st.integers(1, 3),
)
def test_variables_hold_the_items_by_slot(
    impl: Any, max_size: int, widths: list[int], time_size: int
) -> None:
    rb = impl.ReplayBuffer(max_size)
    ring = Ring(max_size)
    variables = rb.variables
    expect(
        len(variables) == 0,
        "RB-16",
        f"ReplayBuffer({max_size}).variables = {variables!r}; want no variable before a put",
        f"print(impl.ReplayBuffer({max_size}).variables)  # want no variable",
    )
    log = [ITEMS_SOURCE, f"rb = impl.ReplayBuffer({max_size})"]
    first = 0
    for n in widths:
        rb.put(items(impl, first, n, time_size))
        ring.put(first, n)
        log.append(f"rb.put(items(impl, {first}, {n}, {time_size}))")
        first += n
        want = ring.filled()
        got = slot_ids(rb)
        # after puts of zero items only, the buffer may have no variable yet: whether such a
        # put fixes the schema is open (not-specified.md)
        expect(
            got == want or (not want and len(rb.variables) == 0),
            "RB-16",
            f"rb.variables['id'] by slot holds items {got}; the ring model says {want}",
            "\n".join([*log, "print(rb.variables['id'])"]),
        )
        if want:
            obs = rb.variables["obs"]
            ids = torch.tensor(want)
            expected = (ids.float().unsqueeze(1) + torch.arange(time_size) / 2).unsqueeze(2)
            expect_equal_tensors(
                obs,
                expected + torch.arange(3) / 8,
                "RB-16",
                "rb.variables['obs'], [size, T, 3] by slot",
                "\n".join([*log, f"print(rb.variables['obs'])  # want items {want} by slot"]),
            )


# ---------------------------------------------------------------------------------------------
# RB-17: to


@clause("RB-17")
def test_to_returns_the_buffer_and_keeps_the_items(impl: Any) -> None:
    rb = impl.ReplayBuffer(4)
    rb.put(items(impl, 0, 6))
    before = slot_ids(rb)
    repro = ITEMS_SOURCE + "rb = impl.ReplayBuffer(4)\nrb.put(items(impl, 0, 6))\n"
    returned = rb.to("cpu")
    expect(
        returned is rb,
        "RB-17",
        f"rb.to('cpu') returned {returned!r}, not the buffer",
        repro + "print(rb.to('cpu') is rb)  # want True",
    )
    returned = rb.to(torch.device("cpu"))
    repro += "rb.to('cpu')\n"
    expect(
        returned is rb,
        "RB-17",
        "rb.to(torch.device('cpu')) did not return the buffer",
        repro + "print(rb.to(torch.device('cpu')) is rb)  # want True",
    )
    repro += "rb.to(torch.device('cpu'))\n"
    expect(
        slot_ids(rb) == before,
        "RB-17",
        f"to('cpu') changed the slots: {slot_ids(rb)}",
        repro + f"print({SLOTS})  # want {before}",
    )
    expect(
        rb.device == torch.device("cpu"),
        "RB-17",
        f"device after to: {rb.device!r}",
        repro + "print(repr(rb.device))  # want device(type='cpu')",
    )
    rb.put(items(impl, 6, 1))
    expect(
        slot_ids(rb) == [4, 5, 6, 3],
        "RB-17",
        f"slots after to and a put: {slot_ids(rb)}",
        repro + f"rb.put(items(impl, 6, 1))\nprint({SLOTS})  # want [4, 5, 6, 3]",
    )


def _second_device(impl: Any) -> str:
    """CUDA when the machine has it, else ``meta``, if the implementation takes it as a device
    (RB-14 leaves open whether ``meta`` is one: not-specified.md); else skip."""
    if torch.cuda.is_available():
        return "cuda"
    try:
        impl.ReplayBuffer(1).to("meta")
    except (ValueError, TypeError):
        pytest.skip("no second device: no CUDA, and this implementation refuses 'meta'")
    return "meta"


@clause("RB-17")
def test_to_another_device_updates_the_device(impl: Any) -> None:
    target = _second_device(impl)
    rb = impl.ReplayBuffer(4)
    rb.put(items(impl, 0, 3))
    rb.to(target)
    repro = (
        ITEMS_SOURCE + f"rb = impl.ReplayBuffer(4)\nrb.put(items(impl, 0, 3))\nrb.to({target!r})\n"
    )
    expect(
        rb.device == torch.device(target),
        "RB-17",
        f"after rb.to({target!r}), rb.device = {rb.device!r}",
        repro + f"print(rb.device)  # want {target}",
    )
    held = {name: value.device.type for name, value in rb.variables.items()}
    expect(
        set(held.values()) == {target},
        "RB-17",
        f"after rb.to({target!r}), rb.variables are on {held}",
        repro + "print({k: v.device for k, v in rb.variables.items()})" + f"  # want {target}",
    )
    if target == "cuda":  # a sample is a workspace, which holds no meta tensor (WS-22)
        sample = rb.get_shuffled(4)
        expect(
            sample["obs"].device.type == target,
            "RB-17",
            f"sample on {sample['obs'].device}",
            repro + f"print(rb.get_shuffled(4)['obs'].device)  # want {target}",
        )
    expect(
        rb.size() == 3,
        "RB-17",
        f"size after to: {rb.size()}",
        repro + "print(rb.size())  # want 3",
    )
    if target == "cuda":
        rb.to("cpu")
        expect(
            slot_ids(rb) == [0, 1, 2],
            "RB-17",
            f"slots after cuda and back: {slot_ids(rb)}",
            repro + f"rb.to('cpu')\nprint({SLOTS})  # want [0, 1, 2]",
        )


@clause("RB-17")
def test_to_on_an_empty_buffer(impl: Any) -> None:
    rb = impl.ReplayBuffer(4)
    expect_raises(
        ValueError,
        "RB-17",
        "rb.to('foo') on an empty buffer",
        lambda: rb.to("foo"),
        "rb = impl.ReplayBuffer(4)\nrb.to('foo')",
    )
    target = _second_device(impl)
    returned = rb.to(target)
    expect(
        returned is rb and rb.device == torch.device(target),
        "RB-17",
        f"to({target!r}) when empty",
        f"rb = impl.ReplayBuffer(4)\nprint(rb.to({target!r}) is rb, rb.device)"
        f"  # want True {target}",
    )


@clause("RB-17")
def test_to_a_bad_device_changes_nothing(impl: Any) -> None:
    rb = impl.ReplayBuffer(4)
    rb.put(items(impl, 0, 5))
    repro = ITEMS_SOURCE + "rb = impl.ReplayBuffer(4)\nrb.put(items(impl, 0, 5))\n"
    expect_raises(ValueError, "RB-17", "rb.to('foo')", lambda: rb.to("foo"), repro + "rb.to('foo')")
    expect_raises(TypeError, "RB-17", "rb.to(1.5)", lambda: rb.to(1.5), repro + "rb.to(1.5)")
    expect(
        rb.device == torch.device("cpu") and slot_ids(rb) == [4, 1, 2, 3],
        "RB-17",
        f"a failed to() left device {rb.device!r}, slots {slot_ids(rb)}",
        repro + "for device in ('foo', 1.5):\n    try:\n        rb.to(device)\n"
        "    except (TypeError, ValueError) as exc:\n        print(type(exc).__name__)\n"
        f"print(rb.device, {SLOTS})  # want cpu [4, 1, 2, 3]",
    )


# ---------------------------------------------------------------------------------------------
# RB-18: exact dtypes


def bits(value: torch.Tensor) -> torch.Tensor:
    """The raw bits of a tensor, so that NaN payloads and signed zeros compare exactly."""
    value = value.detach().cpu().contiguous()
    if value.dtype.is_complex:
        value = torch.view_as_real(value).contiguous()
    if value.dtype.is_floating_point:
        value = value.view({2: torch.int16, 4: torch.int32, 8: torch.int64}[value.dtype.itemsize])
    return value


BITS_SOURCE = "import math\n" + inspect.getsource(bits)


def special_values(dtype: torch.dtype, n: int) -> torch.Tensor:
    """``n`` values of ``dtype`` with the awkward bit patterns: extremes, signed zeros, NaN
    payloads (a quiet one and a signaling one, which a round trip through a wider float type
    makes quiet), infinities, subnormals; item ``i`` gets value ``i mod len``."""
    if dtype == torch.bool:
        base = torch.tensor([True, False])
    elif dtype.is_complex:
        real = special_values(torch.float64, 8).to(dtype.to_real())
        return torch.complex(real[torch.arange(n) % 8], real.flip(0)[torch.arange(n) % 8])
    elif dtype.is_floating_point:
        width = {2: torch.int16, 4: torch.int32, 8: torch.int64}[dtype.itemsize]
        info = torch.finfo(dtype)
        plain = torch.tensor([-0.0, info.max, info.tiny / 2, -math.inf], dtype=torch.float64)
        base = plain.to(dtype)
        nan_bits = torch.full((1,), -1, dtype=width)  # all ones: a negative NaN with payload
        # the bits of +inf plus one: a signaling NaN (quiet bit clear, payload 1)
        snan_bits = torch.tensor([math.inf], dtype=dtype).view(width) + 1
        signaling = snan_bits.view(dtype)
        base = torch.cat([signaling, base, nan_bits.view(dtype), torch.tensor([1.5]).to(dtype)])
    else:
        ints = torch.iinfo(dtype)
        base = torch.tensor([ints.min, ints.max, 0, 1], dtype=torch.int64).to(dtype)
    return base[torch.arange(n) % len(base)]


#: RB-18's dtypes
DOMAIN = ITEM_DTYPES


#: what the reproducers of the special values start with
SPECIAL_SOURCE = BITS_SOURCE + inspect.getsource(special_values)


@clause("RB-18")
@pytest.mark.parametrize("dtype", DOMAIN, ids=lambda d: str(d).removeprefix("torch."))
def test_every_dtype_is_stored_exactly(impl: Any, dtype: torch.dtype) -> None:
    n = 6
    value = special_values(dtype, n)
    ws = items(impl, 0, n)
    ws.set_full("v", torch.stack([value, value.flip(0)]))
    rb = impl.ReplayBuffer(n)
    rb.put(ws)
    sample = rb.get_shuffled(8 * n)
    ids = [int(x) // 10 for x in sample["id"][0].tolist()]
    got = sample["v"]
    repro = (
        ITEMS_SOURCE
        + SPECIAL_SOURCE
        + (
            f"value = special_values({dtype}, {n})\nws = items(impl, 0, {n})\n"
            "ws.set_full('v', torch.stack([value, value.flip(0)]))\n"
            f"rb = impl.ReplayBuffer({n})\nrb.put(ws)\nsample = rb.get_shuffled({8 * n})\n"
        )
    )
    expect(
        got.dtype == dtype,
        "RB-18",
        f"a {dtype} variable is sampled as {got.dtype}",
        repro + f"print(sample['v'].dtype)  # want {dtype}",
    )
    want = torch.stack([value[ids], value.flip(0)[ids]])
    expect(
        torch.equal(bits(got), bits(want)),
        "RB-18",
        f"sampled {dtype} values differ in their bits from those put: got {got.tolist()}, "
        f"want {want.tolist()} (items {ids})",
        repro + "ids = [int(x) // 10 for x in sample['id'][0].tolist()]\n"
        "want = torch.stack([value[ids], value.flip(0)[ids]])\n"
        "print(bits(sample['v']))\nprint(bits(want))  # want the same bits",
    )
    slots = rb.variables["v"]  # full: slot i holds item i
    expect(
        slots.dtype == dtype
        and torch.equal(bits(slots), bits(torch.stack([value, value.flip(0)], 1))),
        "RB-18",
        f"rb.variables['v'] ({slots.dtype}) differs in its bits from the items put",
        repro + "print(rb.variables['v'].dtype, bits(rb.variables['v']))\n"
        f"print(bits(torch.stack([value, value.flip(0)], 1)))  # want {dtype}, the same bits",
    )


@clause("RB-18", "RB-16", "RB-12")
@pytest.mark.parametrize("dtype", DOMAIN, ids=lambda d: str(d).removeprefix("torch."))
def test_every_dtype_survives_wrapping_puts(impl: Any, dtype: torch.dtype) -> None:
    """Puts that wrap around and one larger than max_size, then a state_dict round trip: every
    slot holds its item's exact bits (the ring model of RB-16), and so do samples and the copy."""
    value = special_values(dtype, 12)  # item i's value is value[i] at t=0, value[11 - i] at t=1
    ring = Ring(4)
    rb = impl.ReplayBuffer(4)
    repro = ITEMS_SOURCE + SPECIAL_SOURCE + f"value = special_values({dtype}, 12)\n"
    repro += "rb = impl.ReplayBuffer(4)\n"
    for first, n in ((0, 3), (3, 3), (6, 6)):
        ws = items(impl, first, n)
        ids = torch.arange(first, first + n)
        ws.set_full("v", torch.stack([value[ids], value[11 - ids]]))
        rb.put(ws)
        ring.put(first, n)
        repro += (
            f"ws = items(impl, {first}, {n})\nids = torch.arange({first}, {first + n})\n"
            "ws.set_full('v', torch.stack([value[ids], value[11 - ids]]))\nrb.put(ws)\n"
        )
    filled = torch.tensor(ring.filled())
    want = torch.stack([value[filled], value[11 - filled]], 1)
    slots = rb.variables["v"]
    expect(
        slots.dtype == dtype and torch.equal(bits(slots), bits(want)),
        "RB-18",
        f"after puts of 3, 3 and 6 {dtype} items into ReplayBuffer(4), rb.variables['v'] holds "
        f"{slots.dtype} {slots.tolist()}; want slots of items {ring.filled()}: {want.tolist()}",
        repro + "print(bits(rb.variables['v']))  # raw bits: NaN payloads compare exactly",
    )
    sample = rb.get_shuffled(32)
    sampled = torch.tensor([int(x) // 10 for x in sample["id"][0].tolist()])
    expect(
        sample["v"].dtype == dtype
        and torch.equal(
            bits(sample["v"]), bits(torch.stack([value[sampled], value[11 - sampled]]))
        ),
        "RB-18",
        f"a sample of the wrapped {dtype} buffer does not give back its items' bits",
        repro + "sample = rb.get_shuffled(32)\nprint(sample['id'][0] // 10, bits(sample['v']))",
    )
    copy = impl.ReplayBuffer(4)
    copy.load_state_dict(rb.state_dict())
    again = copy.variables["v"]
    expect(
        again.dtype == dtype and torch.equal(bits(again), bits(want)),
        "RB-12",
        f"a state_dict round trip of the wrapped {dtype} buffer holds {again.tolist()}",
        repro + "copy = impl.ReplayBuffer(4)\ncopy.load_state_dict(rb.state_dict())\n"
        "print(bits(copy.variables['v']))",
    )


@clause("RB-18")
@pytest.mark.parametrize(
    "dtype",
    [torch.uint16, torch.uint32, torch.uint64, torch.float8_e4m3fn],
    ids=["uint16", "uint32", "uint64", "float8_e4m3fn"],
)
def test_other_dtypes_are_refused(impl: Any, dtype: torch.dtype) -> None:
    ws = items(impl, 0, 2)
    try:
        ws.set_full("v", torch.zeros(2, 2, dtype=dtype))
    except TypeError:
        return  # the workspace itself holds no such variable: no put can carry one
    rb = impl.ReplayBuffer(4)
    repro = ITEMS_SOURCE + (
        f"ws = items(impl, 0, 2)\nws.set_full('v', torch.zeros(2, 2, dtype={dtype}))\n"
        "rb = impl.ReplayBuffer(4)\n"
    )
    refused = (
        repro + "try:\n    rb.put(ws)\nexcept TypeError as exc:\n    print('TypeError:', exc)\n"
    )
    expect_raises(
        TypeError,
        "RB-18",
        f"a put with a {dtype} variable",
        lambda: rb.put(ws),
        repro + "rb.put(ws)",
    )
    expect(
        rb.size() == 0,
        "RB-18",
        f"a refused put left {rb.size()} items",
        refused + "print(rb.size())  # want 0",
    )
    rb.put(items(impl, 0, 1))  # the refused put fixed no schema
    expect(
        rb.size() == 1,
        "RB-18",
        "a put after the refused one failed",
        refused + "rb.put(items(impl, 0, 1))\nprint(rb.size())  # want 1",
    )


# ---------------------------------------------------------------------------------------------
# RB-19..RB-21: generators


@clause("RB-19")
def test_samples_come_from_the_buffers_generator(impl: Any) -> None:
    g = torch.Generator().manual_seed(5)
    a = impl.ReplayBuffer(8, generator=g)
    b = impl.ReplayBuffer(8, generator=torch.Generator().manual_seed(5))
    repro = ITEMS_SOURCE + (
        "g = torch.Generator().manual_seed(5)\na = impl.ReplayBuffer(8, generator=g)\n"
        "b = impl.ReplayBuffer(8, generator=torch.Generator().manual_seed(5))\n"
    )
    expect(
        a.generator is g,
        "RB-19",
        f"rb.generator is {a.generator!r}, not the one given",
        repro + "print(a.generator is g)  # want True",
    )
    for rb in (a, b):
        rb.put(items(impl, 0, 8))
    torch.manual_seed(0)
    first = a.get_shuffled(16)["id"]
    torch.manual_seed(1)  # the global generator does not matter
    second = b.get_shuffled(16)["id"]
    repro += "for rb in (a, b):\n    rb.put(items(impl, 0, 8))\n"
    expect_equal_tensors(
        first,
        second,
        "RB-19",
        "samples of two buffers with equally seeded generators",
        repro + "torch.manual_seed(0)\nprint(a.get_shuffled(16)['id'][0])\n"
        "torch.manual_seed(1)\nprint(b.get_shuffled(16)['id'][0])  # want the same ids",
    )
    state = a.generator.get_state()
    a.get_shuffled(4, generator=torch.Generator().manual_seed(2))
    expect(
        torch.equal(a.generator.get_state(), state),
        "RB-19",
        "get_shuffled(n, generator=h) changed rb.generator",
        repro + "state = a.generator.get_state()\n"
        "a.get_shuffled(4, generator=torch.Generator().manual_seed(2))\n"
        "print(torch.equal(a.generator.get_state(), state))  # want True",
    )
    expect_raises(
        TypeError,
        "RB-19",
        "ReplayBuffer(4, generator=42)",
        lambda: impl.ReplayBuffer(4, generator=42),
        "impl.ReplayBuffer(4, generator=42)",
    )


@clause("RB-20")
def test_default_generator_is_seeded_from_torch(impl: Any) -> None:
    runs = []
    for later_seed in (1, 2):
        torch.manual_seed(123)
        rb = impl.ReplayBuffer(16)
        rb.put(items(impl, 0, 16))
        torch.manual_seed(later_seed)  # draws after construction do not matter
        runs.append(rb.get_shuffled(32)["id"])
    expect_equal_tensors(
        runs[0],
        runs[1],
        "RB-20",
        "buffers built after torch.manual_seed(123), sampled under different global seeds",
        ITEMS_SOURCE + "for later_seed in (1, 2):\n    torch.manual_seed(123)\n"
        "    rb = impl.ReplayBuffer(16)\n    rb.put(items(impl, 0, 16))\n"
        "    torch.manual_seed(later_seed)\n"
        "    print(rb.get_shuffled(32)['id'][0])  # want the same ids twice",
    )


@clause("RB-21")
@pytest.mark.parametrize("generator", [42, "g", object()], ids=["int", "str", "object"])
def test_get_shuffled_rejects_a_bad_generator(impl: Any, generator: object) -> None:
    rb = impl.ReplayBuffer(4)
    rb.put(items(impl, 0, 3))
    repro = ITEMS_SOURCE + "rb = impl.ReplayBuffer(4)\nrb.put(items(impl, 0, 3))\n"
    call = f"rb.get_shuffled(2, generator={code(generator)})"
    expect_raises(
        TypeError,
        "RB-21",
        f"rb.get_shuffled(2, generator={generator!r})",
        lambda: rb.get_shuffled(2, generator=generator),
        repro + call,
    )
    expect(
        sampled_ids(rb) == {0, 1, 2},
        "RB-21",
        "a failed get_shuffled changed the buffer",
        repro + f"try:\n    {call}\nexcept TypeError as exc:\n    print('TypeError:', exc)\n"
        f"print({SAMPLED})  # want [0, 1, 2]",
    )


@clause("RB-21")
def test_an_impossible_sample_raises_memory_error(impl: Any) -> None:
    rb = impl.ReplayBuffer(4)
    rb.put(items(impl, 0, 3))
    g = torch.Generator().manual_seed(9)
    state = g.get_state()
    expect_raises(
        MemoryError,
        "RB-21",
        f"rb.get_shuffled({HUGE}) (items of 32 bytes: more memory than any machine has)",
        lambda: rb.get_shuffled(HUGE, generator=g),
        ITEMS_SOURCE + f"rb = impl.ReplayBuffer(4)\nrb.put(items(impl, 0, 3))\n"
        f"rb.get_shuffled({HUGE})",
    )
    failed = ITEMS_SOURCE + (
        "rb = impl.ReplayBuffer(4)\nrb.put(items(impl, 0, 3))\n"
        "g = torch.Generator().manual_seed(9)\nstate = g.get_state()\n"
        f"try:\n    rb.get_shuffled({HUGE}, generator=g)\n"
        "except MemoryError as exc:\n    print('MemoryError:', exc)\n"
    )
    expect(
        torch.equal(g.get_state(), state),
        "RB-21",
        "the failed sample advanced the generator",
        failed + "print(torch.equal(g.get_state(), state))  # want True",
    )
    expect(
        sampled_ids(rb) == {0, 1, 2},
        "RB-21",
        "the buffer changed after the failed sample",
        failed + f"print({SAMPLED})  # want [0, 1, 2]",
    )


# ---------------------------------------------------------------------------------------------
# RB-22: storage that cannot be allocated


#: ``max_size`` values a put may fail to allocate, with the items put: HUGE items of 16 bytes
#: (1 PiB), and items of zero bytes (``[2, n, 0]``) in buffers of 2**63 and 2**64 + 5 slots,
#: which need no memory but more slots than a tensor dimension holds
UNALLOCATABLE = {
    "huge": (HUGE, "items(impl, 0, 2)"),
    "zero-bytes-2**63": (2**63, "empty_items(impl, 2)"),
    "zero-bytes-2**64": (2**64 + 5, "empty_items(impl, 2)"),
}
EMPTY_ITEMS_SOURCE = """\
def empty_items(impl, n):
    ws = impl.Workspace()
    ws.set_full("e", torch.zeros(2, n, 0))
    return ws
"""


def empty_items(impl: Any, n: int) -> Any:
    ws = impl.Workspace()
    ws.set_full("e", torch.zeros(2, n, 0))
    return ws


@clause("RB-22")
@pytest.mark.parametrize("case", list(UNALLOCATABLE))
def test_a_put_that_cannot_allocate_raises_memory_error(impl: Any, case: str) -> None:
    """A put into a buffer too big to allocate raises MemoryError and changes nothing; an
    implementation that allocates as needed may succeed instead, and must then hold the put."""
    max_size, put = UNALLOCATABLE[case]
    rb = impl.ReplayBuffer(max_size)
    repro = ITEMS_SOURCE + EMPTY_ITEMS_SOURCE + f"rb = impl.ReplayBuffer({code(max_size)})\n"
    failed = repro + (
        f"try:\n    rb.put({put})\nexcept MemoryError as exc:\n    print('MemoryError:', exc)\n"
    )
    value = items(impl, 0, 2) if put.startswith("items") else empty_items(impl, 2)
    try:
        rb.put(value)
    except MemoryError:
        expect(
            rb.size() == 0,
            "RB-22",
            f"the failed put left size() = {rb.size()}",
            failed + "print(rb.size())  # want 0",
        )
        expect(
            len(rb.variables) == 0,
            "RB-22",
            "the failed put fixed a schema",
            failed + "print(rb.variables)  # want no variable",
        )
        expect_raises(
            ValueError,
            "RB-22",
            "get_shuffled after it",
            lambda: rb.get_shuffled(1),
            failed + "rb.get_shuffled(1)",
        )
        return
    except Exception as exc:
        expect(
            False,
            "RB-22",
            f"ReplayBuffer({code(max_size)}).put({put}) raised {type(exc).__name__}: {exc}; "
            "want MemoryError (or success for storage allocated as needed)",
            failed
            + "print(rb.size())  # want MemoryError above, or 2 (storage allocated as needed)",
        )
    # storage allocated as needed: the put must then have worked (RB-2)
    if put.startswith("items"):
        expect(
            rb.size() == 2 and sampled_ids(rb) == {0, 1},
            "RB-22",
            "a lazy buffer lost the put",
            repro + f"rb.put({put})\nprint(rb.size(), {SAMPLED})  # want 2 [0, 1]",
        )
        return
    shape = tuple(rb.get_shuffled(3)["e"].shape)
    expect(
        rb.size() == 2 and shape == (2, 3, 0),
        "RB-22",
        f"after the put, size() = {rb.size()} and a sample of 3 has shape {shape}; want 2 and "
        "(2, 3, 0)",
        repro + f"rb.put({put})\nprint(rb.size(), rb.get_shuffled(3)['e'].shape)",
    )


@clause("RB-8")
def test_unusual_variable_names_are_stored(impl: Any) -> None:
    names = ["f0", "v0", "x/y/z", "éé", ""]
    ws = items(impl, 0, 3)
    stored = []
    for i, name in enumerate(names):
        try:
            ws.set_full(name, torch.full((2, 3), float(i)))
        except (TypeError, ValueError):
            continue  # a name the workspace refuses cannot reach a buffer
        stored.append((i, name))
    rb = impl.ReplayBuffer(4)
    rb.put(ws)
    sample = rb.get_shuffled(5)
    repro = ITEMS_SOURCE + "ws = items(impl, 0, 3)\n"
    repro += "".join(
        f"ws.set_full({name!r}, torch.full((2, 3), {float(i)}))\n" for i, name in stored
    )
    repro += "rb = impl.ReplayBuffer(4)\nrb.put(ws)\nsample = rb.get_shuffled(5)\n"
    for i, name in stored:
        expect_equal_tensors(
            sample[name],
            torch.full((2, 5), float(i)),
            "RB-8",
            f"a sample of variable {name!r} (next to variables named {[n for _, n in stored]})",
            repro + f"print(sample[{name!r}])  # want {float(i)} everywhere, shape (2, 5)",
        )
