"""The suite under pytest-xdist (``-- -n 2``) gives the same results and the same report as a
run in one process: the report is built from every worker's tests, ledger entries and stale
deviations included (issue: with ``-n 2`` report.json recorded only one worker's tests)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("xdist")

LEDGER = """
[[deviation]]
test = "test_transitions.py::test_hand_worked_example"
reason = "the mutant drops the wrong pairs"

[[deviation]]
test = "test_transitions.py::test_no_such_test"
reason = "stale on purpose"
"""


def _without_addresses(report: dict[str, Any]) -> str:
    return re.sub(r"0x[0-9a-f]+", "0x?", json.dumps(report, sort_keys=True))


def test_xdist_run_reports_like_a_serial_run(tmp_path: Path, suite_runner: Any) -> None:
    ledger = tmp_path / "ledger.toml"
    ledger.write_text(LEDGER)
    args = [
        "--impl",
        "mutants.tr_drop_second",
        "--deviations",
        str(ledger),
        "--clauses",
        "TR-3,TR-5,WS-1",
    ]
    for name in ("serial", "parallel"):
        (tmp_path / name).mkdir()
    serial = suite_runner(args, tmp_path / "serial")
    parallel = suite_runner([*args, "--", "-n", "2"], tmp_path / "parallel")
    assert serial.report is not None and parallel.report is not None, parallel.output
    assert "2 workers" in parallel.output or "created: 2/2 workers" in parallel.output
    assert serial.returncode == parallel.returncode == 1
    ran = serial.report["summary"]["tests"]
    assert ran["passed"] > 0 and ran["failed"] > 0 and ran["xfailed"] == 1
    # Object addresses in failure messages (`<... at 0x7f...>`) differ between processes.
    assert _without_addresses(parallel.report) == _without_addresses(serial.report)
    assert len(parallel.report["ledger_errors"]) == 1
    assert "STALE DEVIATION" in parallel.output
    assert "1 distinct failing clause" in parallel.output
