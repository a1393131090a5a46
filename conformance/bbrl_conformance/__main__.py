"""Run the conformance suite from anywhere.

    python -m bbrl_conformance --impl MODULE [--areas WS,RB,...] [--profile ci|dev|nightly]
                               [--report DIR] [--deviations FILE | --no-deviations]
                               [-- PYTEST_ARGS...]

Exit status: 0 when every test passed (known deviations failing as listed); non-zero otherwise:
4 when the module cannot be imported or lacks a required name of an area it claims (no test is
run), 5 when no test was collected or run (never a success), 1 when a test failed.

The command line is one parser (``_parser``) and one dispatch (``main``): a new mode adds its
options to the parser and a branch before the final ``run``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from bbrl_conformance._impl import AREAS, parse_areas
from bbrl_conformance._profiles import PROFILES
from bbrl_conformance._runner import pytest_args, run

__all__ = ["main", "pytest_args", "run"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bbrl_conformance",
        description="Run the BBRL conformance suite against an implementation module.",
        epilog="Arguments after '--' go to pytest, e.g. -- -x -k workspace",
    )
    parser.add_argument("--impl", help="module to test (default: $BBRL_CONFORMANCE_IMPL)")
    parser.add_argument(
        "--areas",
        metavar="AREA[,AREA...]",
        help=f"run only the areas the module implements, of {','.join(AREAS)} (default: the "
        "module's CONFORMANCE_AREAS, else all); the others are reported as not claimed",
    )
    parser.add_argument("--profile", choices=PROFILES, help="Hypothesis profile (default ci)")
    parser.add_argument("--report", metavar="DIR", help="write report.json and report.md here")
    parser.add_argument(
        "--deviations",
        action="append",
        default=[],
        metavar="FILE",
        help="known-deviations TOML (path or shipped name); default: the implementation's own",
    )
    parser.add_argument(
        "--no-deviations", action="store_true", help="use no known-deviations file at all"
    )
    parser.add_argument("--max-examples", type=int, help="override the profile's max_examples")
    parser.add_argument(
        "--clauses",
        action="append",
        default=[],
        metavar="ID[,ID...]",
        help="run only the tests citing these clause IDs (repeatable)",
    )
    parser.add_argument(
        "--print-report-schema",
        action="store_true",
        help="print the JSON Schema of report.json and exit",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point (``bbrl-conformance`` and ``python -m bbrl_conformance``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # -- differential mode (issue #14 item 8): --impl A --against B, in its own module ------
    if "--against" in argv or any(a.startswith("--against=") for a in argv):
        from bbrl_conformance._differential import main as differential_main

        return differential_main(argv)
    # -- end of differential mode ----------------------------------------------------------
    extra: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, extra = argv[:split], argv[split + 1 :]
    options = _parser().parse_args(argv)
    if options.print_report_schema:
        from bbrl_conformance._report import REPORT_SCHEMA

        return _print(json.dumps(REPORT_SCHEMA, indent=1))
    impl = options.impl or os.environ.get("BBRL_CONFORMANCE_IMPL", "").strip()
    if not impl:
        _parser().error("no implementation chosen: pass --impl MODULE or set BBRL_CONFORMANCE_IMPL")
    if options.deviations and options.no_deviations:
        _parser().error("--deviations and --no-deviations exclude each other")
    areas = None
    if options.areas is not None:
        try:
            areas = parse_areas(options.areas)
        except ValueError as exc:
            _parser().error(f"--{exc}")
    return run(
        impl,
        profile=options.profile,
        report=options.report,
        deviations=options.deviations,
        no_deviations=options.no_deviations,
        max_examples=options.max_examples,
        clauses=[c for group in options.clauses for c in group.split(",") if c],
        areas=areas,
        extra=extra,
    )


def _print(text: str) -> int:
    """Print to stdout; a reader that closes the pipe early (``| head``) is not an error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python would report the failed flush at exit: point stdout at devnull first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
