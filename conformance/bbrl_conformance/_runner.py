"""Running the suite in this process: the pytest command line, the check of required names and
``run`` (the public entry point of programs and CI; ``python -m bbrl_conformance`` calls it)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path

import pytest

from bbrl_conformance._impl import ImplementationError, load_implementation

PLUGIN = "bbrl_conformance.plugin"
#: pytest configuration of the suite (empty): the caller's directory's own is never read
CONFIG_FILE = "pytest.ini"


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
    areas: Sequence[str] | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The pytest command line the runner uses (isolated from the current directory's config)."""
    package_dir = Path(str(resources.files("bbrl_conformance")))
    args = [
        # The suite's own (empty) configuration instead of the caller's directory's; node ids
        # relative to the package; no .pytest_cache written into site-packages.
        "-c",
        str(package_dir / CONFIG_FILE),
        "--rootdir",
        str(package_dir),
        "-p",
        "no:cacheprovider",
        # pytest-benchmark, when installed, would write .benchmarks/ into the current directory.
        "-p",
        "no:benchmark",
        "--strict-markers",
        # Skips, errors and xpasses in the short summary; failures are summarized by clause.
        "-rsEX",
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
    if areas is not None:
        args += ["--areas", ",".join(areas)]
    # A module of the suite named in the extra arguments replaces the whole suite.
    targets = (
        []
        if any(a.startswith("bbrl_conformance.tests") for a in extra)
        else ["bbrl_conformance.tests"]
    )
    return [*args, *extra, "--pyargs", *targets]


def check_implementation(impl: str, areas: Sequence[str] | None = None) -> str | None:
    """Why the suite cannot run against ``impl`` (unimportable, or lacking required names of
    the areas it claims), or None. Cheap: imports the module only, runs no test."""
    try:
        loaded = load_implementation(impl, areas)
        loaded.check_required()
    except (ImplementationError, ValueError) as exc:
        return f"bbrl_conformance: {exc}"
    return None


def run(
    impl: str,
    *,
    profile: str | None = None,
    report: str | os.PathLike[str] | None = None,
    deviations: Sequence[str] = (),
    no_deviations: bool = False,
    max_examples: int | None = None,
    clauses: Sequence[str] = (),
    areas: Sequence[str] | None = None,
    extra: Sequence[str] = (),
) -> int:
    """Run the suite in this process against module ``impl``; returns the exit status.

    ``0`` means conformant (up to the listed deviations) in the areas claimed (``areas``, else
    the module's ``CONFORMANCE_AREAS``, else all). A module that cannot be imported or lacks a
    required name of a claimed area is refused before any test runs (status 4, pytest's usage
    error). pytest's "no tests collected" (5) and every other non-zero status are failures.
    """
    problem = check_implementation(impl, areas)
    if problem is not None:
        print(problem, file=sys.stderr)
        return int(pytest.ExitCode.USAGE_ERROR)
    args = pytest_args(
        impl,
        profile=profile,
        report=report,
        deviations=deviations,
        no_deviations=no_deviations,
        max_examples=max_examples,
        clauses=clauses,
        areas=areas,
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
