"""Census of hostile calls (issue #11 item 7): run N generated calls of the hostile-input test's
worlds against an implementation and print, per class of bad input, how the calls ended.

    python conformance/tools/hostile_census.py --impl bbrl_reference -n 20000

Calls come in sequences of --steps on fresh worlds (seeds 0, 1, ...); a sequence stops at its
first failing call (the object is then in an unknown state). Outcomes: "correct result" and
"typed error" (the clause's type, state unchanged) pass; "spec gap" counts passing calls where
the spec is silent; the others are failures (wrong error type, internal error, state changed,
nothing raised, wrong result, stalled).
"""

from __future__ import annotations

import argparse
import importlib
import time

from bbrl_conformance._hostile._engine import RandomDraw, Tally, step
from bbrl_conformance._hostile._workspace import WorkspaceWorld

AREAS = ("WS", "TR")


def census(impl_name: str, calls: int, steps: int) -> tuple[Tally, int]:
    """The tally of ``calls`` calls spread over the areas, and the number of sequences run."""
    impl = importlib.import_module(impl_name)
    tally = Tally()
    done = 0
    seed = 0
    while done < calls:
        area = AREAS[seed % len(AREAS)]
        draw = RandomDraw(seed)
        world = WorkspaceWorld(impl, draw)
        try:
            for _ in range(steps):
                result = step(world, draw, area)
                if result is None:
                    continue
                klass, outcome = result
                tally.add(klass, outcome)
                done += 1
                if outcome.failure is not None or done >= calls:
                    break
        finally:
            world.close()
        seed += 1
    return tally, seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", required=True, help="module implementing the BBRL core")
    parser.add_argument("-n", type=int, default=2000, help="number of calls")
    parser.add_argument("--steps", type=int, default=25, help="calls per sequence")
    args = parser.parse_args()
    start = time.perf_counter()
    tally, sequences = census(args.impl, args.n, args.steps)
    print(tally.markdown())
    print(
        f"\n{args.n} calls in {sequences} sequences on {args.impl}, "
        f"{time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
