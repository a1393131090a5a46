"""Census of hostile calls (issue #11 item 7): run N generated calls of the hostile-input test's
worlds against an implementation and print, per class of bad input, how the calls ended.

    python conformance/tools/hostile_census.py --impl bbrl_reference -n 20000
    python conformance/tools/hostile_census.py --impl bbrl_reference --worlds buffer,env -n 5000

Each world (``--worlds``, default all: workspace, transitions, agents, temporal, buffer, env)
gets N calls and its own table, followed by the table of all of them. Calls come in sequences
of --steps on fresh worlds (seeds 0, 1, ...); a sequence stops at its first failing call (the
object is then in an unknown state). Outcomes: "correct result" and "typed error" (the clause's
type, state unchanged) pass; "spec gap" counts passing calls where the spec is silent; the
others are failures (wrong error type, internal error, state changed, nothing raised, wrong
result, stalled). The env world runs on the implementation's first declared backend.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable
from typing import Any

from bbrl_conformance._backends import declared_backends
from bbrl_conformance._hostile._agents import AgentsWorld
from bbrl_conformance._hostile._buffer import BufferWorld
from bbrl_conformance._hostile._engine import Draw, RandomDraw, Tally, World, step
from bbrl_conformance._hostile._env import EnvWorld
from bbrl_conformance._hostile._workspace import WorkspaceWorld

#: world name -> (the area of its calls, how to build one on an implementation)
WORLDS: dict[str, tuple[str, Callable[[Any, Draw], World]]] = {
    "workspace": ("WS", WorkspaceWorld),
    "transitions": ("TR", WorkspaceWorld),
    "agents": ("AG", AgentsWorld),
    "temporal": ("TA", AgentsWorld),
    "buffer": ("RB", BufferWorld),
    "env": ("ENV", lambda impl, draw: EnvWorld(impl, draw, declared_backends(impl)[0])),
}


def census(impl_name: str, world: str, calls: int, steps: int) -> tuple[Tally, int]:
    """The tally of ``calls`` calls on ``world``, and the number of sequences run."""
    impl = importlib.import_module(impl_name)
    area, build = WORLDS[world]
    tally = Tally()
    done = 0
    seed = 0
    while done < calls:
        draw = RandomDraw(seed)
        live = build(impl, draw)
        try:
            for _ in range(steps):
                result = step(live, draw, area)
                if result is None:
                    continue
                klass, outcome = result
                tally.add(klass, outcome)
                done += 1
                if outcome.failure is not None or done >= calls:
                    break
        finally:
            live.close()
        seed += 1
    return tally, seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", required=True, help="module implementing the BBRL core")
    parser.add_argument("-n", type=int, default=2000, help="number of calls per world")
    parser.add_argument("--steps", type=int, default=25, help="calls per sequence")
    parser.add_argument(
        "--worlds",
        default=",".join(WORLDS),
        help=f"comma-separated worlds among {', '.join(WORLDS)} (default: all)",
    )
    args = parser.parse_args()
    worlds = [w.strip() for w in args.worlds.split(",") if w.strip()]
    unknown = [w for w in worlds if w not in WORLDS]
    if unknown or not worlds:
        parser.error(f"--worlds: unknown {unknown}, expected some of {', '.join(WORLDS)}")
    total = Tally()
    for world in worlds:
        start = time.perf_counter()
        tally, sequences = census(args.impl, world, args.n, args.steps)
        print(f"## {world}\n\n{tally.markdown()}\n")
        print(
            f"{args.n} calls in {sequences} sequences on {args.impl}, "
            f"{time.perf_counter() - start:.0f} s\n"
        )
        for klass, row in tally.counts.items():
            total.counts.setdefault(klass, type(row)()).update(row)
    if len(worlds) > 1:
        print(f"## all worlds\n\n{total.markdown()}")


if __name__ == "__main__":
    main()
