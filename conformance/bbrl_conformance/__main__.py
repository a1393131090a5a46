"""Run the conformance suite from anywhere.

    python -m bbrl_conformance --impl MODULE [--profile ci|dev|nightly] [--report DIR]
                               [--deviations FILE | --no-deviations] [-- PYTEST_ARGS...]

Exit status: 0 when every test passed (known deviations failing as listed); non-zero otherwise,
including when no test was collected or run (pytest's status 5 is never a success).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path

import pytest

from bbrl_conformance._profiles import PROFILES

PLUGIN = "bbrl_conformance.plugin"


def _plugin_is_autoloaded() -> bool:
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(ep.value == PLUGIN for ep in metadata.entry_points(group="pytest11"))


def pytest_args(
    impl: str,
    *,
    profile: str | None = None,
    report: str | os.PathLike[str] | None = None,
    deviations: Sequence[str] = (),
    no_deviations: bool = False,
    max_examples: int | None = None,
    clauses: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> list[str]:
    """The pytest command line the runner uses (isolated from the current directory's config)."""
    package_dir = Path(str(resources.files("bbrl_conformance")))
    args = [
        # Ignore any pytest configuration of the caller's directory; node ids relative to the
        # package; no .pytest_cache written into site-packages.
        "-c",
        os.devnull,
        "--rootdir",
        str(package_dir),
        "-p",
        "no:cacheprovider",
        "--strict-markers",
        "-ra",
        # The runner has imported bbrl_conformance before pytest starts, so pytest cannot
        # rewrite its asserts; the suite asserts through its own helpers, not bare asserts.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "--impl",
        impl,
    ]
    if not _plugin_is_autoloaded():
        args[0:0] = ["-p", PLUGIN]
    if profile is not None:
        args += ["--profile", profile]
    if report is not None:
        args += ["--conformance-report", str(report)]
    for name in deviations:
        args += ["--deviations", name]
    if no_deviations:
        args.append("--no-deviations")
    if max_examples is not None:
        args += ["--max-examples", str(max_examples)]
    if clauses:
        args += ["--clauses", ",".join(clauses)]
    # A module of the suite named in the extra arguments replaces the whole suite.
    targets = (
        []
        if any(a.startswith("bbrl_conformance.tests") for a in extra)
        else ["bbrl_conformance.tests"]
    )
    return [*args, *extra, "--pyargs", *targets]


def run(
    impl: str,
    *,
    profile: str | None = None,
    report: str | os.PathLike[str] | None = None,
    deviations: Sequence[str] = (),
    no_deviations: bool = False,
    max_examples: int | None = None,
    clauses: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> int:
    """Run the suite in this process against module ``impl``; returns the exit status.

    ``0`` means conformant (up to the listed deviations); pytest's "no tests collected" (5)
    and every other non-zero status are failures.
    """
    args = pytest_args(
        impl,
        profile=profile,
        report=report,
        deviations=deviations,
        no_deviations=no_deviations,
        max_examples=max_examples,
        clauses=clauses,
        extra=extra,
    )
    status = int(pytest.main(args))
    if status == pytest.ExitCode.NO_TESTS_COLLECTED:
        print(
            "bbrl_conformance: no test was collected or run (pytest exit status 5): the run "
            "checked nothing and is a failure",
            file=sys.stderr,
        )
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bbrl_conformance",
        description="Run the BBRL conformance suite against an implementation module.",
        epilog="Arguments after '--' go to pytest, e.g. -- -x -k workspace",
    )
    parser.add_argument("--impl", help="module to test (default: $BBRL_CONFORMANCE_IMPL)")
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

        print(json.dumps(REPORT_SCHEMA, indent=1))
        return 0
    impl = options.impl or os.environ.get("BBRL_CONFORMANCE_IMPL", "").strip()
    if not impl:
        _parser().error("no implementation chosen: pass --impl MODULE or set BBRL_CONFORMANCE_IMPL")
    if options.deviations and options.no_deviations:
        _parser().error("--deviations and --no-deviations exclude each other")
    return run(
        impl,
        profile=options.profile,
        report=options.report,
        deviations=options.deviations,
        no_deviations=options.no_deviations,
        max_examples=options.max_examples,
        clauses=[c for group in options.clauses for c in group.split(",") if c],
        extra=extra,
    )


if __name__ == "__main__":
    sys.exit(main())
