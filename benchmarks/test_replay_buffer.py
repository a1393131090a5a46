"""ReplayBuffer of CartPole transitions (60 bytes each) filled to capacity before timing.

Peers: ``floor`` (one preallocated ``[2, capacity, ...]`` tensor per variable: ring slice copy
on put, ``randint`` + ``index_select`` on sample), ``packed floor`` (a single copy / gather of
the same bytes: the physical limit), the reference, bbrl 1.0.1 and TorchRL
(``ReplayBuffer(storage=LazyTensorStorage(capacity))`` over a TensorDict with ``"next"``).

Groups: ``rb fill+memory`` (time to fill an empty buffer to capacity, bytes held per
transition in ``extra_info``), ``rb put`` of 256 and ``rb get_shuffled`` of 256 for each
capacity in ``capacity_curve``, and ``rb get_shuffled`` for each batch size in
``batch_curve`` at the largest capacity. RB-13 (SHOULD: a put of ``N`` items costs O(N) and
``get_shuffled(n)`` O(n), whatever ``max_size``) is checked here, as the log-log slopes of the
reference's put and get_shuffled times in the capacity, not by a timed test in the suite.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from bench_support import (
    SIZES,
    TRANSITION_VARS,
    IndexedFloorRB,
    PackedFloorRB,
    bytes_per_transition,
    curve,
    describe,
    extra_target,
    held_tensor_bytes,
    import_torchrl,
    load_api,
    make_transition_batches,
    paired_target,
    ratio_target,
    slope_target,
    to_tensordict,
    to_workspace,
)

PEERS = ["floor", "packed floor", "reference", "bbrl", "torchrl"]
PUT_N = 256
BATCHES = make_transition_batches(PUT_N)
#: every stored transition's (obs_t, obs_t+1), to check that samples come from the buffer
STORED_OBS = torch.cat([torch.cat((b["env/env_obs"][0], b["env/env_obs"][1]), 1) for b in BATCHES])


@dataclass
class Case:
    """One peer's buffer behind a common interface; ``sample`` returns ``[n, 8]`` obs pairs."""

    holder: object
    put: Callable[[Any], None]
    draw: Callable[[int], Any]
    obs_pairs: Callable[[Any], torch.Tensor]
    size: Callable[[], int]
    items: list[Any]


def _dict_pairs(out: Any) -> torch.Tensor:
    obs = out["env/env_obs"]
    for name, (shape, dtype) in TRANSITION_VARS.items():
        assert out[name].dtype == dtype, name
        assert tuple(out[name].shape) == (2, obs.shape[1], *shape), name
    return torch.cat((obs[0], obs[1]), 1)


def _packed_pairs(rows: Any) -> torch.Tensor:
    assert rows.dtype == torch.uint8 and rows.shape[1] == bytes_per_transition()
    pairs: torch.Tensor = rows[:, :32].contiguous().view(torch.float32)
    return pairs


def _td_pairs(td: Any) -> torch.Tensor:
    assert td["action"].dtype == torch.int64 and td["next", "done"].dtype == torch.bool
    return torch.cat((td["env_obs"], td["next", "env_obs"]), 1)


def new_case(peer: str, capacity: int) -> Case:
    """An empty buffer of ``peer`` and the 256-transition items it is fed with."""
    if peer == "floor":
        floor = IndexedFloorRB(capacity)
        return Case(floor, floor.put, floor.sample, _dict_pairs, floor.size, BATCHES)
    if peer == "packed floor":
        packed = PackedFloorRB(capacity)
        rows = [PackedFloorRB.pack(b) for b in BATCHES]
        return Case(packed, packed.put, packed.sample, _packed_pairs, packed.size, rows)
    if peer == "torchrl":
        data = import_torchrl()
        logging.getLogger("torchrl").setLevel(logging.WARNING)
        rb = data.ReplayBuffer(storage=data.LazyTensorStorage(capacity))
        tds = [to_tensordict(b) for b in BATCHES]
        return Case(rb, rb.extend, lambda n: rb.sample(batch_size=n), _td_pairs, rb.__len__, tds)
    api = load_api(peer, "Workspace", "ReplayBuffer")
    buf = api.ReplayBuffer(max_size=capacity)
    wss = [to_workspace(api, b) for b in BATCHES]
    return Case(buf, buf.put, buf.get_shuffled, _dict_pairs, buf.size, wss)


def fill(case: Case, capacity: int) -> Case:
    for item in itertools.cycle(case.items):
        if case.size() >= capacity:
            break
        case.put(item)
    return case


_FILLED: dict[tuple[str, int], Case] = {}


def filled_case(peer: str, capacity: int) -> Case:
    """A buffer of ``peer`` filled to ``capacity``, shared by the tests of this module."""
    key = (peer, capacity)
    if key not in _FILLED:
        _FILLED[key] = fill(new_case(peer, capacity), capacity)
    return _FILLED[key]


def _check_sample(case: Case, out: Any, n: int) -> None:
    pairs = case.obs_pairs(out)
    assert pairs.shape == (n, 8)
    # every sampled (obs_t, obs_t+1) pair is one that was put, with its two halves together
    found = (pairs[:, None, :] == STORED_OBS[None, :, :]).all(-1).any(1)
    assert bool(found.all())


CHART = "scaling_replay.png"


@pytest.mark.parametrize("peer", PEERS)
def test_rb_fill_memory(benchmark: Any, peer: str) -> None:
    capacity = SIZES.capacity
    benchmark.group = f"rb fill+memory capacity={capacity}"
    benchmark.extra_info.update(peer=peer, capacity=capacity, floor=peer == "floor")
    describe(
        benchmark, targets=[extra_target("rb memory: bytes held / raw bytes", "memory_ratio", 1.2)]
    )

    new_case(peer, 1)  # a peer that is not installed skips here, before the timing starts

    def setup() -> tuple[tuple[Case, int], dict[str, Any]]:
        _FILLED.pop((peer, capacity), None)
        return (new_case(peer, capacity), capacity), {}

    case = benchmark.pedantic(fill, setup=setup, rounds=1, iterations=1)
    assert case.size() == capacity
    held = held_tensor_bytes(case.holder)
    raw = bytes_per_transition() * capacity
    benchmark.extra_info.update(bytes_held=held, raw_bytes=raw, memory_ratio=held / raw)
    assert held >= raw  # it holds at least the data it stores
    _FILLED[(peer, capacity)] = case


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("capacity", SIZES.capacity_curve, ids=lambda c: f"capacity={c}")
def test_rb_put(benchmark: Any, peer: str, capacity: int) -> None:
    case = filled_case(peer, capacity)
    items = itertools.cycle(case.items)
    benchmark.group = f"rb put {PUT_N} capacity={capacity}"
    benchmark.extra_info.update(peer=peer, capacity=capacity, floor=peer == "floor")
    curves = [curve(CHART, f"put {PUT_N} vs capacity", "capacity")]
    if capacity == SIZES.capacity:
        targets = [
            ratio_target("rb put: reference / floor", 1.5),
            paired_target("rb put: torchrl / reference", "torchrl", "reference", 3),
            ratio_target("stretch: rb put reference / 5-variable floor", 0.5),
            paired_target(
                "rb put: reference / packed floor (one copy)", "reference", "packed floor", None
            ),
            slope_target(
                f"RB-13: rb put {PUT_N}: log-log slope in capacity (0 = whatever max_size)",
                f"put {PUT_N} vs capacity",
                "reference",
                limit=0.25,
            ),
        ]
        describe(benchmark, headline="rb put", targets=targets, curves=curves)
    else:
        describe(benchmark, curves=curves)
    benchmark(lambda: case.put(next(items)))
    assert case.size() == capacity
    _check_sample(case, case.draw(64), 64)


SAMPLE_CASES = sorted(
    {(SIZES.batch, c) for c in SIZES.capacity_curve}
    | {(n, max(SIZES.capacity_curve)) for n in SIZES.batch_curve}
)


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize(
    ("n", "capacity"), SAMPLE_CASES, ids=[f"n={n}-capacity={c}" for n, c in SAMPLE_CASES]
)
def test_rb_get_shuffled(benchmark: Any, peer: str, n: int, capacity: int) -> None:
    case = filled_case(peer, capacity)
    benchmark.group = f"rb get_shuffled n={n} capacity={capacity}"
    benchmark.extra_info.update(peer=peer, n=n, capacity=capacity, floor=peer == "floor")
    curves = []
    if n == SIZES.batch:
        curves.append(curve(CHART, f"get_shuffled({SIZES.batch}) vs capacity", "capacity"))
    if capacity == max(SIZES.capacity_curve):
        curves.append(curve(CHART, f"get_shuffled(n), capacity={capacity}", "n"))
    if (n, capacity) == (SIZES.batch, SIZES.capacity):
        targets = [
            ratio_target("rb get_shuffled: reference / floor", 1.5),
            paired_target("rb get_shuffled: torchrl / reference", "torchrl", "reference", 3),
            ratio_target("stretch: rb get_shuffled reference / floor", 0.5),
            paired_target(
                "rb get_shuffled: reference / packed floor (one gather)",
                "reference",
                "packed floor",
                None,
            ),
            # the floor's gather itself slows as the buffer outgrows the caches (slope about
            # 0.25 here), so the limit allows that much; O(max_size) work gives about 1
            slope_target(
                f"RB-13: rb get_shuffled({SIZES.batch}): log-log slope in capacity "
                "(0 = whatever max_size)",
                f"get_shuffled({SIZES.batch}) vs capacity",
                "reference",
                limit=0.3,
            ),
        ]
        describe(benchmark, headline="rb get_shuffled", targets=targets, curves=curves)
    else:
        describe(benchmark, curves=curves)
    out = benchmark(case.draw, n)
    _check_sample(case, out, n)
