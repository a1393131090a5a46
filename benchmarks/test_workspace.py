"""Workspace operations on a workspace filled row by row, the way agents fill it.

* ``get_transitions`` for T in ``T_curve`` (B fixed) and B in ``B_curve`` (T fixed): floor =
  one ``nonzero`` and one ``index_select`` per variable on contiguous ``[T, B, ...]`` tensors.
* ``get_full`` and ``ws[name]`` per call for T in ``T_curve``: floor = a dict lookup; it must
  not grow with T when nothing changed.
* ``copy_n_last_steps(1)`` for V in ``V_curve`` variables: floor = V slice copies; it must
  grow linearly in V.
"""

from __future__ import annotations

import operator
from typing import Any

import pytest
import torch
from bench_support import (
    SIZES,
    curve,
    describe,
    fill_rowwise,
    floor_transitions,
    load_api,
    make_source,
    paired_target,
    ratio_target,
    slope_target,
)

PEERS = ["floor", "reference", "bbrl"]
TB_CASES = sorted({(T, SIZES.B) for T in SIZES.T_curve} | {(SIZES.T, B) for B in SIZES.B_curve})


def _workspace(peer: str, data: dict[str, torch.Tensor]) -> Any:
    return fill_rowwise(load_api(peer, "Workspace").Workspace(), data)


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize(("T", "B"), TB_CASES, ids=[f"T={T}-B={B}" for T, B in TB_CASES])
def test_get_transitions(benchmark: Any, peer: str, T: int, B: int) -> None:
    data = make_source(T, B)
    expected = floor_transitions(data)
    benchmark.group = f"get_transitions T={T} B={B}"
    benchmark.extra_info.update(peer=peer, T=T, B=B, floor=peer == "floor")
    chart = "scaling_get_transitions.png"
    curves = [curve(chart, f"get_transitions vs T (B={SIZES.B})", "T")] if B == SIZES.B else []
    curves += [curve(chart, f"get_transitions vs B (T={SIZES.T})", "B")] if T == SIZES.T else []
    if (T, B) == (SIZES.T, SIZES.B):
        targets = [
            ratio_target("get_transitions: reference / floor", 1.3),
            paired_target("get_transitions: bbrl / reference", "bbrl", "reference", 10),
        ]
        describe(benchmark, headline="get_transitions", targets=targets, curves=curves)
    else:
        describe(benchmark, curves=curves)
    if peer == "floor":
        out = benchmark(floor_transitions, data)
        got = dict(out)
    else:
        ws = _workspace(peer, data)
        out = benchmark(ws.get_transitions)
        got = {name: out[name] for name in data}
    n_pairs = int(torch.logical_not(data["env/done"][:-1]).sum())
    for name, value in expected.items():
        assert got[name].shape[:2] == (2, n_pairs)
        assert torch.equal(got[name], value), name


GETTERS = [("floor", "dict"), ("reference", "get_full"), ("reference", "getitem")]
GETTERS += [("bbrl", "get_full"), ("bbrl", "getitem")]


@pytest.mark.parametrize(("peer", "how"), GETTERS, ids=[f"{p}-{h}" for p, h in GETTERS])
@pytest.mark.parametrize("T", SIZES.T_curve, ids=[f"T={T}" for T in SIZES.T_curve])
def test_get_full(benchmark: Any, peer: str, how: str, T: int) -> None:
    data = make_source(T, SIZES.B)
    name = "env/env_obs"
    benchmark.group = f"get_full T={T} B={SIZES.B}"
    benchmark.extra_info.update(peer=f"{peer} {how}", T=T, floor=peer == "floor")
    title = "get_full per call vs T"
    describe(
        benchmark,
        curves=[curve("scaling_workspace.png", title, "T")],
        targets=[
            slope_target(
                "get_full: log-log slope in T (0 = O(1), 1 = O(T))",
                title,
                "reference get_full",
                limit=0.25,
            )
        ],
    )
    if peer == "floor":
        out = benchmark(data.__getitem__, name)
    else:
        ws = _workspace(peer, data)
        getter = ws.get_full if how == "get_full" else (lambda key: operator.getitem(ws, key))
        getter(name)  # a first call may build the full tensor; later calls must not
        out = benchmark(getter, name)
    assert torch.equal(out, data[name])


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("V", SIZES.V_curve, ids=[f"V={V}" for V in SIZES.V_curve])
def test_copy_n_last_steps(benchmark: Any, peer: str, V: int) -> None:
    T, B = SIZES.copy_T, SIZES.B
    g = torch.Generator().manual_seed(V)
    data = {f"var{k:02d}": torch.randn(T, B, generator=g) for k in range(V)}
    benchmark.group = f"copy_n_last_steps(1) V={V} T={T} B={B}"
    benchmark.extra_info.update(peer=peer, V=V, floor=peer == "floor")
    title = "copy_n_last_steps(1) vs V"
    describe(
        benchmark,
        curves=[curve("scaling_workspace.png", title, "V")],
        targets=[
            slope_target(
                "copy_n_last_steps(1): log-log slope in V, reference minus floor (V slice copies)",
                title,
                "reference",
                minus="floor",
                limit=0.25,
            ),
            slope_target(
                "copy_n_last_steps(1): same for bbrl (O(V^2): B1)", title, "bbrl", minus="floor"
            ),
        ],
    )
    if peer == "floor":
        buffers = [value.clone() for value in data.values()]

        def floor_copy() -> None:
            for buf in buffers:
                buf[0:1].copy_(buf[T - 1 : T])

        benchmark(floor_copy)
        after = dict(zip(data, buffers, strict=True))
    else:
        ws = _workspace(peer, data)
        benchmark(ws.copy_n_last_steps, 1)
        after = {name: ws[name] for name in data}
    for name, value in data.items():
        assert after[name].shape == (T, B)
        assert torch.equal(after[name][0], value[T - 1]), name
        assert torch.equal(after[name][1:], value[1:]), name
