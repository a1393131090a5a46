"""cProfile of the reference on the benchmarked operations: where its time goes.

Prints, per operation, the share of own time by area (bbrl_reference, torch, gymnasium,
numpy, other) and the top functions by own time, as ``file:line(function)``.

Usage: python benchmarks/profile_reference.py [rollout|transitions|put|sample|epoch ...]
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("BBRL_BENCH_FULL", "1")
sys.path.insert(0, str(Path(__file__).parent))

import torch
from bench_support import (
    CARTPOLE,
    SIZES,
    fill_rowwise,
    load_api,
    make_source,
    make_transition_batches,
    rollout_agent,
    to_workspace,
)


def area(filename: str) -> str:
    for key in ("bbrl_reference", "gymnasium", "numpy", "torch"):
        if key in filename:
            return key
    return "builtins" if filename == "~" else "other"


def profile(title: str, fn: Callable[[], object], repeat: int, top: int = 14) -> None:
    fn()  # warm up
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeat):
        fn()
    prof.disable()
    stats = pstats.Stats(prof)
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    shares: dict[str, float] = {}
    for (filename, _, _), v in raw.items():
        shares[area(filename)] = shares.get(area(filename), 0.0) + v[2]
    print(f"\n### {title}: {repeat} calls, own time {total:.3f} s (profiled)\n")
    print(" | ".join(f"{k} {100 * s / total:.0f}%" for k, s in sorted(shares.items())))
    print("\n| own time | calls | function |\n|---:|---:|---|")
    rows = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]
    for (filename, line, func), v in rows:
        short = filename.split("site-packages/")[-1].split("/reference/")[-1]
        print(f"| {100 * v[2] / total:.1f}% | {v[1]} | `{short}:{line}({func})` |")


def main(which: list[str]) -> None:
    torch.set_num_threads(1)
    api = load_api("reference")
    if "rollout" in which:
        agent, _ = rollout_agent(api, CARTPOLE, SIZES.n_envs)
        profile(
            "rollout 8 CartPole x 1000",
            lambda: agent(api.Workspace(), t=0, n_steps=SIZES.rollout_steps),
            3,
        )
    if "transitions" in which:
        ws = fill_rowwise(api.Workspace(), make_source(SIZES.T, SIZES.B))
        profile(f"get_transitions T={SIZES.T} B={SIZES.B}", ws.get_transitions, 50)
    batches = [to_workspace(api, b) for b in make_transition_batches(256)]
    rb = api.ReplayBuffer(max_size=SIZES.capacity)
    if "put" in which or "sample" in which:
        i = 0
        while rb.size() < SIZES.capacity:
            rb.put(batches[i % 8])
            i += 1
    if "put" in which:
        state = {"i": 0}

        def put() -> None:
            state["i"] += 1
            rb.put(batches[state["i"] % 8])

        profile("rb put 256 at capacity 1e6", put, 3000)
    if "sample" in which:
        profile("rb get_shuffled(256) at capacity 1e6", lambda: rb.get_shuffled(256), 3000)


if __name__ == "__main__":
    main(sys.argv[1:] or ["rollout", "transitions", "put", "sample"])
