"""ReplayBuffer: spec/replay-buffer.md (RB-n) and DET-7."""

from __future__ import annotations

import os
import sys
from collections import deque

import pytest
import torch
from bbrl_reference import (
    AllocationError,
    DTypeError,
    EmptyBufferError,
    InvalidArgumentError,
    ReplayBuffer,
    ShapeError,
    UnknownVariableError,
    Workspace,
)
from bbrl_reference import _replay_buffer as rb_module
from bbrl_reference._replay_buffer import _Columns, _Packed

#: "packed" or "columns": the storage the buffers of the running test use (see ``layout``)
LAYOUT = "packed"


@pytest.fixture(autouse=True, params=["packed", "columns"])
def layout(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs on both storages of the reference buffer (see _replay_buffer.py).

    For "columns" the items also carry a bfloat16 variable ``h``, which numpy has no dtype for.
    """
    monkeypatch.setattr(sys.modules[__name__], "LAYOUT", request.param)
    return str(request.param)


def items(ids: list[int], T: int = 2) -> Workspace:
    """A [T, N] workspace: x[t, i] = 1000 t + id, obs[t, i] = (id, -id) float, done bool.

    With the "columns" layout also h[t, i] = id as bfloat16.
    """
    ws = Workspace()
    idx = torch.tensor(ids, dtype=torch.int64)
    ws.set_full("x", torch.stack([1000 * t + idx for t in range(T)]))
    ws.set_full("obs", torch.stack([torch.stack((idx, -idx), 1).float()] * T))
    ws.set_full("done", torch.zeros(T, len(ids), dtype=torch.bool))
    if LAYOUT == "columns":
        ws.set_full("h", torch.stack([idx.to(torch.bfloat16)] * T))
    return ws


def test_storage_follows_the_dtypes_and_device() -> None:
    """The packed storage holds CPU items of numpy dtypes, the columns storage the rest."""
    rb = ReplayBuffer(4)
    rb.put(items([1, 2]))
    want = _Packed if LAYOUT == "packed" else _Columns
    assert isinstance(rb._storage, want)
    meta = ReplayBuffer(4, device="meta")
    meta.put(items([1]))
    assert isinstance(meta._storage, _Columns)
    empty = Workspace()
    empty.set_full("e", torch.zeros(2, 3, 0))  # items of zero bytes: columns
    zero = ReplayBuffer(4)
    zero.put(empty)
    assert isinstance(zero._storage, _Columns) and zero.get_shuffled(2)["e"].shape == (2, 2, 0)


def test_samples_are_the_items_at_the_generator_indices() -> None:
    """RB-9, DET-7: sample column j is stored item randint(size, (n,), generator=g)[j]."""
    rb = ReplayBuffer(6)
    rb.put(items(list(range(10, 19))))  # slots hold 16, 17, 18, 13, 14, 15
    index = torch.randint(6, (25,), generator=torch.Generator().manual_seed(3))
    out = rb.get_shuffled(25, generator=torch.Generator().manual_seed(3))
    slots = rb.state_dict()["variables"]["x"][:, 0]
    assert torch.equal(out["x"][0], slots[index])
    assert torch.equal(out["obs"][1, :, 1], -slots[index].float())


def stored(rb: ReplayBuffer) -> list[int]:
    """The stored item ids, oldest first (from the state dict's slot order and position)."""
    state = rb.state_dict()
    ids = state["variables"]["x"][:, 0].tolist() if state["variables"] else []
    if state["size"] == rb.max_size:
        ids = ids[state["position"] :] + ids[: state["position"]]
    return ids


def test_construction() -> None:
    """RB-1: starts empty; max_size < 1 ValueError; integral floats taken, others TypeError."""
    rb = ReplayBuffer(5)
    assert rb.size() == 0 and type(rb.size()) is int
    assert ReplayBuffer(1e6).max_size == 1_000_000 and type(ReplayBuffer(4.0).max_size) is int
    for bad in (0, -1.0):
        with pytest.raises(ValueError):
            ReplayBuffer(bad)
    for wrong in (2.5, float("nan"), float("inf"), True, "4"):
        with pytest.raises(TypeError):
            ReplayBuffer(wrong)  # type: ignore[arg-type]


def test_fifo_ring_against_a_deque() -> None:
    """RB-2, RB-3, RB-4, RB-5: puts of many widths match a deque(maxlen) model."""
    rb = ReplayBuffer(5)
    model: deque[int] = deque(maxlen=5)
    next_id = 0
    for width in [2, 2, 2, 1, 3, 5, 0, 7, 11, 4, 1, 6]:
        ids = list(range(next_id, next_id + width))
        next_id += width
        rb.put(items(ids))
        model.extend(ids)
        assert rb.size() == len(model)
        assert stored(rb) == list(model), f"after put of {width}"


def test_oversize_put_equals_single_puts() -> None:
    """RB-5: a put of N > max_size keeps the last max_size, as N single puts would."""
    big, single = ReplayBuffer(4), ReplayBuffer(4)
    big.put(items([0]))
    single.put(items([0]))
    big.put(items(list(range(1, 11))))
    for i in range(1, 11):
        single.put(items([i]))
    assert big.state_dict()["position"] == single.state_dict()["position"]
    for name, value in big.state_dict()["variables"].items():
        assert torch.equal(value, single.state_dict()["variables"][name]), name


def test_schema_errors_are_atomic() -> None:
    """RB-6, RB-7: missing/extra KeyError, T or shape ValueError, dtype TypeError; no change."""
    rb = ReplayBuffer(4)
    rb.put(items([0, 1, 2]))
    before = rb.state_dict()
    missing = items([5])
    missing.clear("done")
    extra = items([5])
    extra.set_full("z", torch.zeros(2, 1))
    longer = items([5], T=3)
    shape = items([5])
    shape.set_full("obs", torch.zeros(2, 1, 3))
    dtype = items([5])
    dtype.set_full("x", torch.zeros(2, 1))
    cases = [
        (missing, UnknownVariableError),
        (extra, KeyError),
        (longer, ShapeError),
        (shape, ValueError),
        (dtype, DTypeError),
    ]
    for ws, error in cases:
        with pytest.raises(error):
            rb.put(ws)
        after = rb.state_dict()
        assert (after["size"], after["position"]) == (before["size"], before["position"])
        for name, value in before["variables"].items():
            assert torch.equal(after["variables"][name], value)
    mixed = Workspace()
    mixed.set_full("x", torch.zeros(2, 1, dtype=torch.int64))
    mixed.set("x", 2, torch.zeros(1, dtype=torch.int64))
    mixed.set_full("obs", torch.zeros(2, 1, 2))
    mixed.set_full("done", torch.zeros(2, 1, dtype=torch.bool))
    if LAYOUT == "columns":
        mixed.set_full("h", torch.zeros(2, 1, dtype=torch.bfloat16))
    with pytest.raises(ValueError):
        rb.put(mixed)
    with pytest.raises(TypeError):
        rb.put({"x": torch.zeros(2, 1)})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ReplayBuffer(3).put(Workspace())
    assert rb.size() == 3


def test_samples_shape_contiguity_and_coherence() -> None:
    """RB-8, RB-9: [T, batch, *S] contiguous, stored dtypes, one item per column, only stored."""
    rb = ReplayBuffer(8)
    rb.put(items(list(range(10, 16)), T=3))
    out = rb.get_shuffled(50)
    assert list(out.keys()) == ["x", "obs", "done"] + (["h"] if LAYOUT == "columns" else [])
    x, obs = out["x"], out["obs"]
    assert x.shape == (3, 50) and obs.shape == (3, 50, 2) and out["done"].dtype == torch.bool
    assert x.is_contiguous() and obs.is_contiguous()
    assert set(x[0].tolist()) <= set(range(10, 16))
    assert torch.equal(x[2] - x[0], torch.full((50,), 2000))  # time coherence
    assert torch.equal(obs[1, :, 0].long(), x[0])
    out.set("x", 3, torch.zeros(50, dtype=torch.int64))  # a sample is an ordinary workspace
    assert out["x"].shape == (4, 50) and out["x"][3].abs().sum() == 0
    out.clear("x")
    assert out.get_transitions(None)["obs"].shape == (2, 100, 2)
    one = ReplayBuffer(1)  # dimensions of size 1 (T = 1, batch 1): strides numpy may leave odd
    one.put(items([5], T=1))
    single = one.get_shuffled(1)
    assert single["obs"].tolist() == [[[5.0, -5.0]]] and single["obs"].is_contiguous()


def test_sampling_is_uniform_with_replacement() -> None:
    """RB-9: every stored item is drawn, with replacement, about equally often."""
    rb = ReplayBuffer(4)
    rb.put(items([7, 8, 9]))
    ids = rb.get_shuffled(3000)["x"][0]
    counts = torch.bincount(ids - 7, minlength=3).tolist()
    assert len(counts) == 3 and all(900 < c < 1100 for c in counts)
    assert rb.get_shuffled(10)["x"].shape == (2, 10)  # batch_size > size() allowed


def test_sampling_errors() -> None:
    """RB-10: empty buffer and batch_size <= 0 raise ValueError."""
    rb = ReplayBuffer(3)
    with pytest.raises(EmptyBufferError):
        rb.get_shuffled(1)
    rb.put(items([]))  # a put of 0 items fixes the schema, stores nothing
    with pytest.raises(ValueError):
        rb.get_shuffled(1)
    rb.put(items([1]))
    for bad in (0, -3):
        with pytest.raises(InvalidArgumentError):
            rb.get_shuffled(bad)


def test_stored_items_are_detached_copies() -> None:
    """RB-11: samples do not require grad; later writes to source or sample change nothing."""
    w = torch.nn.Parameter(torch.ones(()))
    ws = items([1, 2])
    ws.set_full("obs", w * torch.ones(2, 2, 2))
    rb = ReplayBuffer(4)
    rb.put(ws)
    ws.set("obs", 0, torch.full((2, 2), 9.0))
    sample = rb.get_shuffled(4)
    assert not sample["obs"].requires_grad
    sample["x"].add_(100)
    assert sorted(stored(rb)) == [1, 2]
    assert float(rb.state_dict()["variables"]["obs"].max()) == 1.0


def test_generator_determinism() -> None:
    """DET-7: two buffers with the same items and equally seeded generators sample alike."""
    a, b = ReplayBuffer(10), ReplayBuffer(10)
    for rb in (a, b):
        rb.put(items(list(range(7))))
    sa = a.get_shuffled(20, generator=torch.Generator().manual_seed(4))
    torch.rand(5)  # the global generator is not used
    sb = b.get_shuffled(20, generator=torch.Generator().manual_seed(4))
    assert torch.equal(sa["x"], sb["x"]) and torch.equal(sa["obs"], sb["obs"])


def test_state_dict_round_trip() -> None:
    """RB-12: a new buffer loaded from state_dict has the same items, samples and evictions."""
    rb = ReplayBuffer(5)
    rb.put(items(list(range(7))))
    copy = ReplayBuffer(5)
    copy.load_state_dict(rb.state_dict())
    assert copy.size() == 5 and stored(copy) == stored(rb) == [2, 3, 4, 5, 6]
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(rb.get_shuffled(9, g1)["x"], copy.get_shuffled(9, g2)["x"])
    for buf in (rb, copy):
        buf.put(items([100, 101]))
    assert stored(copy) == stored(rb) == [4, 5, 6, 100, 101]
    partial = ReplayBuffer(5)
    partial.put(items([1, 2]))
    again = ReplayBuffer(5)
    again.load_state_dict(partial.state_dict())
    assert stored(again) == [1, 2]
    empty = ReplayBuffer(5)
    empty.load_state_dict(ReplayBuffer(5).state_dict())
    assert empty.size() == 0
    state = partial.state_dict()  # a lazily negated view loads like any tensor
    obs = state["variables"]["obs"]
    state["variables"]["obs"] = torch.complex(obs, -obs).conj().imag  # == obs, negative bit
    assert state["variables"]["obs"].is_neg()
    views = ReplayBuffer(5)
    views.load_state_dict(state)
    assert torch.equal(views.state_dict()["variables"]["obs"], obs)


def test_load_state_dict_validation_is_atomic() -> None:
    """RB-12, ERR-5: a bad state raises and leaves the buffer unchanged."""
    rb = ReplayBuffer(5)
    rb.put(items([1, 2, 3]))
    good = rb.state_dict()
    bad_states: list[tuple[object, type[Exception]]] = [
        ("nope", TypeError),
        ({**good, "extra": 1}, ValueError),
        ({**good, "max_size": 6}, ValueError),
        ({**good, "position": 1}, ValueError),
        ({**good, "size": 9}, ValueError),
        ({**good, "variables": [1]}, TypeError),
        ({**good, "variables": {"x": torch.zeros(2, 2)}}, ValueError),
        ({**good, "variables": {"x": [1]}}, TypeError),
        ({**good, "variables": {"x": torch.zeros(3, 2), "y": torch.zeros(3, 4)}}, ValueError),
        ({**good, "variables": {}}, ValueError),
    ]
    for state, error in bad_states:
        with pytest.raises(error):
            rb.load_state_dict(state)  # type: ignore[arg-type]
        assert stored(rb) == [1, 2, 3]


def test_storage_on_another_device() -> None:
    """RB-8 with ``device=``: storage and samples live on the buffer's device (meta here)."""
    rb = ReplayBuffer(4, device="meta")
    rb.put(items([1, 2, 3]))
    out = rb.get_shuffled(5)
    assert out["obs"].device.type == "meta" and tuple(out["obs"].shape) == (2, 5, 2)
    out = rb.get_shuffled(2, generator=torch.Generator().manual_seed(0))
    assert out["x"].device.type == "meta"


def test_device_argument() -> None:
    """RB-14: None, str or torch.device of this machine; bad names and devices ValueError."""
    assert ReplayBuffer(2).device == torch.device("cpu")
    assert ReplayBuffer(2, device="cpu").device == torch.device("cpu")
    assert ReplayBuffer(2, device=torch.device("meta")).device == torch.device("meta")
    for bad in ("foo", "cuda:x"):
        with pytest.raises(InvalidArgumentError, match="device"):
            ReplayBuffer(2, device=bad)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidArgumentError, match="this machine"):
            ReplayBuffer(2, device="cuda")
    with pytest.raises(TypeError, match="device"):
        ReplayBuffer(2, device=0)  # type: ignore[arg-type]


def test_views_is_full_and_slots() -> None:
    """RB-15, RB-16: is_full, max_size, and variables by slot (item i at slot i mod max)."""
    rb = ReplayBuffer(4)
    assert rb.variables == {} and rb.is_full is False
    rb.put(items([0, 1, 2]))
    assert (rb.variables["x"][:, 0].tolist(), rb.is_full) == ([0, 1, 2], False)
    rb.put(items([3, 4, 5, 6, 7, 8]))
    assert (rb.variables["x"][:, 0].tolist(), rb.is_full) == ([8, 5, 6, 7], True)
    assert rb.variables["obs"].shape == (4, 2, 2)
    empty_schema = ReplayBuffer(3)
    empty_schema.put(items([]))
    assert empty_schema.variables["x"].shape == (0, 2)


def bits(value: torch.Tensor) -> torch.Tensor:
    """The raw bits of a tensor, so that NaN payloads and signed zeros compare exactly."""
    value = value.contiguous()
    if value.dtype.is_complex:
        value = torch.view_as_real(value).contiguous()
    if value.dtype.is_floating_point:
        value = value.view({2: torch.int16, 4: torch.int32, 8: torch.int64}[value.dtype.itemsize])
    return value


def test_dtype_domain() -> None:
    """RB-18: every dtype of the domain round-trips bit for bit; others TypeError, no change."""
    values = {
        torch.bool: torch.tensor([[True, False]]),
        torch.uint8: torch.tensor([[255, 0]]),
        torch.int8: torch.tensor([[-128, 127]]),
        torch.int16: torch.tensor([[-(2**15), 2**15 - 1]]),
        torch.int32: torch.tensor([[-(2**31), 2**31 - 1]]),
        torch.int64: torch.tensor([[-(2**63), 2**63 - 1]]),
        torch.float16: torch.tensor([[-0.0, float("nan")]]),
        torch.bfloat16: torch.tensor([[-0.0, float("inf")]]),
        torch.float32: torch.tensor([[-0.0, 1e-45]]),
        torch.float64: torch.tensor([[-0.0, 5e-324]]),
        torch.complex64: torch.tensor([[complex(-0.0, 1.0), complex(float("nan"), 0)]]),
        torch.complex128: torch.tensor([[complex(1e-300, -0.0), complex(0, 3)]]),
    }
    for dtype, value in values.items():
        ws = Workspace()
        ws.set_full("v", value.to(dtype))
        rb = ReplayBuffer(2)
        rb.put(ws)
        stored = rb.variables["v"].transpose(0, 1)
        assert torch.equal(bits(stored), bits(value.to(dtype))), dtype
    # a workspace holds uint16/32/64 (WS-21), a buffer does not; float8 reaches a buffer only
    # through load_state_dict (no workspace holds it)
    for dtype in (torch.uint16, torch.uint32, torch.uint64, torch.float8_e4m3fn):
        rb = ReplayBuffer(2)
        if dtype != torch.float8_e4m3fn:
            ws = Workspace()
            ws.set_full("v", torch.zeros(2, 2, dtype=dtype))
            with pytest.raises(DTypeError):
                rb.put(ws)
            assert rb.variables == {}
        with pytest.raises(DTypeError):
            rb.load_state_dict(
                {
                    "max_size": 2,
                    "size": 1,
                    "position": 1,
                    "variables": {"v": torch.zeros(1, 2, dtype=dtype)},
                }
            )


def test_own_generator() -> None:
    """RB-19, RB-20: samples come from rb.generator unless one is given; the default is seeded
    from torch's global generator."""
    g = torch.Generator().manual_seed(5)
    a = ReplayBuffer(8, generator=g)
    b = ReplayBuffer(8, generator=torch.Generator().manual_seed(5))
    assert a.generator is g
    for rb in (a, b):
        rb.put(items(list(range(8))))
    torch.manual_seed(0)
    first = a.get_shuffled(16)["x"]
    torch.manual_seed(1)
    assert torch.equal(first, b.get_shuffled(16)["x"])
    state = a.generator.get_state()
    a.get_shuffled(4, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a.generator.get_state(), state)
    torch.manual_seed(3)
    c = ReplayBuffer(8)
    torch.manual_seed(3)
    d = ReplayBuffer(8)
    for rb in (c, d):
        rb.put(items(list(range(8))))
    assert torch.equal(c.get_shuffled(16)["x"], d.get_shuffled(16)["x"])
    with pytest.raises(TypeError, match="generator"):
        ReplayBuffer(2, generator=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="generator"):
        a.get_shuffled(2, generator=42)  # type: ignore[arg-type]


def test_to_moves_items() -> None:
    """RB-17: to() keeps items, slots, position and generator; works empty; bad device."""
    rb = ReplayBuffer(4)
    assert rb.to("cpu") is rb and rb.to("meta") is rb and rb.device.type == "meta"
    rb = ReplayBuffer(3, generator=torch.Generator().manual_seed(1))
    rb.put(items([1, 2, 3, 4]))
    before = rb.state_dict()
    with pytest.raises(InvalidArgumentError):
        rb.to("nope")
    assert rb.to(torch.device("cpu")) is rb and stored(rb) == [2, 3, 4]
    moved = rb.to("meta")
    assert moved.device == torch.device("meta") and rb.variables["x"].device.type == "meta"
    assert rb.get_shuffled(2)["obs"].device.type == "meta"
    assert rb.state_dict()["position"] == before["position"] and rb.size() == 3


def test_allocation_failures_are_typed_and_atomic(monkeypatch: pytest.MonkeyPatch) -> None:
    """RB-21, RB-22: storage or samples beyond memory raise MemoryError, nothing changes."""
    huge = ReplayBuffer(2**46)
    with pytest.raises(AllocationError, match="storage"):
        huge.put(items([1, 2]))
    assert huge.size() == 0 and huge.variables == {}
    empty = Workspace()
    empty.set_full("e", torch.zeros(2, 3, 0))  # items of zero bytes: the slots still count
    for max_size in (2**63, 2**64):
        too_many = ReplayBuffer(max_size)
        with pytest.raises(AllocationError, match="slots"):
            too_many.put(empty)
        assert too_many.size() == 0 and too_many.variables == {}
    rb = ReplayBuffer(4, generator=torch.Generator().manual_seed(0))
    rb.put(items([1, 2]))
    state = rb.generator.get_state()
    with pytest.raises(MemoryError):
        rb.get_shuffled(2**46)
    assert torch.equal(rb.generator.get_state(), state)

    def failing(self: object, index: torch.Tensor) -> object:
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory")

    storage = type(rb._storage)
    monkeypatch.setattr(storage, "gather", failing)
    for n in (4, 2**16):  # a small sample keeps no snapshot; a large one restores it
        with pytest.raises(AllocationError):
            rb.get_shuffled(n)
    assert not torch.equal(rb.generator.get_state(), state)  # the small one drew
    drawn = rb.generator.get_state()
    with pytest.raises(AllocationError):
        rb.get_shuffled(2**16)
    assert torch.equal(rb.generator.get_state(), drawn)

    def other(self: object, index: torch.Tensor) -> object:
        raise RuntimeError("something else")

    monkeypatch.setattr(storage, "gather", other)
    with pytest.raises(RuntimeError, match="something else"):
        rb.get_shuffled(2)

    def oom(self: object, index: torch.Tensor) -> object:
        raise MemoryError

    monkeypatch.setattr(storage, "gather", oom)
    with pytest.raises(AllocationError):
        rb.get_shuffled(2)


def test_memory_limit_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The physical-memory bound: the CPU's via sysconf, none elsewhere or without sysconf."""
    assert rb_module._memory_bytes(torch.device("meta")) is None
    assert (rb_module._memory_bytes(torch.device("cpu")) or 0) > 0

    def no_sysconf(name: str) -> int:
        raise ValueError(name)

    monkeypatch.setattr(os, "sysconf", no_sysconf)
    assert rb_module._memory_bytes(torch.device("cpu")) is None
    rb = ReplayBuffer(4)  # no bound known: the allocation itself decides
    rb.put(items([1]))
    assert rb.size() == 1


def test_storage_allocator_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    """RB-22: an allocator's failure at the first put is a MemoryError; nothing changes."""
    for error in (MemoryError(), RuntimeError("DefaultCPUAllocator: can't allocate memory")):

        def failing(*args: object, exc: BaseException = error) -> object:
            raise exc

        monkeypatch.setattr(rb_module, "_new_storage", failing)
        rb = ReplayBuffer(4)
        with pytest.raises(AllocationError):
            rb.put(items([1]))
        assert rb.size() == 0 and rb.variables == {}

    def other(*args: object) -> object:
        raise RuntimeError("something else")

    monkeypatch.setattr(rb_module, "_new_storage", other)
    with pytest.raises(RuntimeError, match="something else"):
        ReplayBuffer(4).put(items([1]))


def test_any_variable_name_is_stored() -> None:
    """RB-8: names that numpy would treat specially ('f0', ' ') are stored like any other."""
    ws = items([1, 2])
    for i, name in enumerate([" ", "f0", "v0", "v1"]):
        ws.set_full(name, torch.full((2, 2), float(i)))
    rb = ReplayBuffer(3)
    rb.put(ws)
    sample = rb.get_shuffled(4)
    for i, name in enumerate([" ", "f0", "v0", "v1"]):
        assert torch.equal(sample[name], torch.full((2, 4), float(i))), name
