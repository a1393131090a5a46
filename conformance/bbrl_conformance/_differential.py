"""Differential mode: the same generated programs on two implementations, side by side.

    python -m bbrl_conformance --impl A --against B [--max-examples N] [--steps N]
                               [--seed S] [--skip ID,ID] [--no-shrink] [--script FILE]

Every step of a program (``bbrl_conformance._machine``) runs on both implementations, and what
each observes is compared with the other's, in a form that drops what spec/not-specified.md
leaves open: which subclass of the builtin exception type is raised and the wording of
messages, the order of ``keys()``, whether returned tensors are views or copies (they are never
written through), the reset seeds of env agents (the generated envs' observations do not depend
on them here), and which items a replay-buffer sample holds (each sample is judged against the
model instead: only whether it is a valid sample is compared).

The first divergence is shrunk (unless ``--no-shrink``) and printed as a standalone script that
runs the program on both modules and prints what each returned; the exit status is 1. With no
divergence in the examples run, the exit status is 0. ``--skip`` leaves out the calls and
checks of the given clauses (for instance the ones whose divergence is a known deviation), so
that a run can look past them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import hypothesis.core
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from bbrl_conformance import _profiles
from bbrl_conformance._impl import ImplementationError, load_implementation
from bbrl_conformance._judge import Divergence, Subject
from bbrl_conformance._machine import make_program_machine

__all__ = ["find_divergence", "main"]


def find_divergence(
    impl: str,
    against: str,
    *,
    max_examples: int = 100,
    steps: int = 50,
    seed: int | None = None,
    skip: Sequence[str] = (),
    shrink: bool = True,
) -> Divergence | None:
    """Run generated programs on modules ``impl`` and ``against``; the first divergence, or
    None. ``seed=None`` runs the derandomized sequence of programs (the same on every run)."""
    first = load_implementation(impl)
    second = load_implementation(against)
    _profiles.activate("ci")  # torch's RNG under Hypothesis' control, as in the suite

    def subjects() -> list[Subject]:
        return [Subject(first, impl), Subject(second, against)]

    machine = make_program_machine(subjects, skip=skip, noisy_envs=False)
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    config = settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        derandomize=seed is None,
        database=None,
        deadline=None,
        phases=phases,
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )
    # what pytest's --hypothesis-seed sets: the seed of every non-derandomized run
    saved = hypothesis.core.global_force_seed
    hypothesis.core.global_force_seed = seed  # type: ignore[assignment]
    try:
        run_state_machine_as_test(machine, settings=config)
    except Divergence as divergence:
        return divergence
    finally:
        hypothesis.core.global_force_seed = saved
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bbrl_conformance --impl A --against B",
        description="Run generated programs on two implementations and report the first "
        "observable difference the spec does not allow, as a standalone script.",
    )
    parser.add_argument("--impl", required=True, help="the first implementation module")
    parser.add_argument("--against", required=True, help="the implementation to compare with")
    parser.add_argument("--max-examples", type=int, default=100, help="programs to run")
    parser.add_argument("--steps", type=int, default=50, help="steps per program at most")
    parser.add_argument(
        "--seed",
        type=int,
        help="random programs from this seed (default: the derandomized sequence)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="ID[,ID...]",
        help="leave out the calls and checks of these clauses (repeatable)",
    )
    parser.add_argument("--no-shrink", action="store_true", help="report the divergence as found")
    parser.add_argument("--script", metavar="FILE", help="also write the reproducer to FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry (``python -m bbrl_conformance --impl A --against B``)."""
    options = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    skip = [c for group in options.skip for c in group.split(",") if c]
    try:
        found = find_divergence(
            options.impl,
            options.against,
            max_examples=options.max_examples,
            steps=options.steps,
            seed=options.seed,
            skip=skip,
            shrink=not options.no_shrink,
        )
    except ImplementationError as exc:
        print(f"bbrl_conformance: {exc}", file=sys.stderr)
        return 2
    if found is None:
        print(
            f"no divergence between {options.impl} and {options.against} in "
            f"{options.max_examples} programs of up to {options.steps} steps"
            + (f" (skipping {', '.join(skip)})" if skip else "")
        )
        return 0
    print(f"divergence under {found.clause}: {found.what}\n")
    print("Reproducer (a standalone script):\n")
    print(found.script)
    if options.script:
        Path(options.script).write_text(found.script, encoding="utf-8")
    return 1
