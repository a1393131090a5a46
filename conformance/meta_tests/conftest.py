"""Helpers of the suite's meta tests: run the shipped suite in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

META_DIR = Path(__file__).resolve().parent


@dataclass
class SuiteRun:
    """The outcome of one ``python -m bbrl_conformance`` subprocess."""

    returncode: int
    output: str
    report: dict[str, Any] | None

    def clause_status(self, clause_id: str) -> str:
        assert self.report is not None, f"no report.json was written; output:\n{self.output}"
        for item in self.report["clauses"]:
            if item["id"] == clause_id:
                return str(item["status"])
        raise KeyError(clause_id)


def run_suite(args: list[str], tmp_path: Path, timeout: float = 240) -> SuiteRun:
    """Run ``python -m bbrl_conformance ARGS --report DIR`` with meta_tests/ on sys.path."""
    report_dir = tmp_path / "report"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(META_DIR), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env.pop("BBRL_CONFORMANCE_IMPL", None)
    env.pop("HYPOTHESIS_PROFILE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bbrl_conformance", "--report", str(report_dir), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    report_file = report_dir / "report.json"
    report = json.loads(report_file.read_text()) if report_file.is_file() else None
    return SuiteRun(proc.returncode, proc.stdout + proc.stderr, report)


def run_suite_inprocess(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> SuiteRun:
    """Like ``run_suite`` but in this process through ``bbrl_conformance.__main__.main``.

    Much cheaper than a subprocess (torch and the test modules are imported once). Warnings
    keep Python's default filters inside, as in a real run (not this session's "error").
    """
    from bbrl_conformance.__main__ import main

    report_dir = tmp_path / f"report{len(list(tmp_path.glob('report*')))}"
    if str(META_DIR) not in sys.path:
        sys.path.insert(0, str(META_DIR))
    saved_env = {
        k: os.environ.pop(k)
        for k in ("BBRL_CONFORMANCE_IMPL", "HYPOTHESIS_PROFILE")
        if k in os.environ
    }
    capsys.readouterr()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            try:
                code = main(["--report", str(report_dir), *args])
            except SystemExit as exc:  # argparse errors
                code = int(exc.code or 0)
    finally:
        os.environ.update(saved_env)
    captured = capsys.readouterr()
    report_file = report_dir / "report.json"
    report = json.loads(report_file.read_text()) if report_file.is_file() else None
    return SuiteRun(code, captured.out + captured.err, report)


@pytest.fixture
def suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """``suite(args)`` runs the shipped suite (in this process) and returns a SuiteRun."""

    def _run(args: list[str]) -> SuiteRun:
        return run_suite_inprocess(args, tmp_path, capsys)

    return _run


@pytest.fixture(scope="session")
def suite_runner() -> Any:
    """``run_suite`` itself, for module- or session-scoped fixtures."""
    return run_suite


MUTANTS_DIR = META_DIR / "mutants"
#: the mutant zoo: every module of meta_tests/mutants/ but the private ones
MUTANT_NAMES = sorted(p.stem for p in MUTANTS_DIR.glob("*.py") if not p.stem.startswith("_"))


def import_mutant(name: str) -> Any:
    """The module ``mutants.<name>`` (meta_tests/ on sys.path while importing)."""
    import importlib

    if str(META_DIR) not in sys.path:
        sys.path.insert(0, str(META_DIR))
    return importlib.import_module(f"mutants.{name}")


def mutant_args(name: str) -> list[str]:
    """The suite's arguments that run the tests meant to kill one mutant: the tests citing its
    KILLED_BY (or SELECT) clauses in its TESTS module, without shrinking."""
    mutant = import_mutant(name)
    selected: list[str] = getattr(mutant, "SELECT", mutant.KILLED_BY)
    return [
        "--impl",
        f"mutants.{name}",
        "--no-deviations",
        "--profile",
        "mutants",
        "--clauses",
        ",".join(selected),
        "--",
        "-q",
        "-p",
        "no:randomly",
        f"bbrl_conformance.tests.{mutant.TESTS}",
    ]


_MUTANT_RUNS: dict[str, SuiteRun] = {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking ``mutant_name`` runs once per mutant of the zoo."""
    if "mutant_name" in metafunc.fixturenames:
        metafunc.parametrize("mutant_name", MUTANT_NAMES)


@pytest.fixture(scope="session")
def mutant_module() -> Any:
    """``mutant_module(name)``: import ``mutants.<name>``."""
    return import_mutant


@pytest.fixture
def mutant_run(suite: Any) -> Any:
    """``mutant_run(name)``: the suite's run against one mutant, made once per session (the zoo
    test and the reproducer test read the same run)."""

    def _run(name: str) -> SuiteRun:
        if name not in _MUTANT_RUNS:
            _MUTANT_RUNS[name] = suite(mutant_args(name))
        return _MUTANT_RUNS[name]

    return _run
