"""Helpers of the suite's meta tests: run the shipped suite in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


@pytest.fixture
def suite(tmp_path: Path) -> Any:
    """``suite(args)`` runs the shipped suite in a subprocess and returns a SuiteRun."""

    def _run(args: list[str], timeout: float = 240) -> SuiteRun:
        return run_suite(args, tmp_path, timeout)

    return _run


@pytest.fixture(scope="session")
def suite_runner() -> Any:
    """``run_suite`` itself, for module- or session-scoped fixtures."""
    return run_suite
