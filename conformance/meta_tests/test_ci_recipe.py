"""The CI recipe for an implementation's own repository (conformance/ci/): the shell variant runs
the suite with a ledger and leaves report.json, report.md and JUnit XML, passing or failing; the
GitHub Actions workflow runs the same command and uploads the same three files. (Installing
from the built wheel with this script is the nox session ``wheel``.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "conformance" / "ci"
EXAMPLES = ROOT / "conformance" / "examples"
META = Path(__file__).resolve().parent
COMMAND = '-m bbrl_conformance "${args[@]}" -- --junitxml "$OUT/junit.xml"'


def _recipe(tmp_path: Path, **env: str) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    full_env = {
        **os.environ,
        "SKIP_INSTALL": "1",
        "PYTHON": sys.executable,
        "OUT": str(out),
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES), str(META)]),
        **env,
    }
    full_env.pop("BBRL_CONFORMANCE_IMPL", None)
    proc = subprocess.run(
        ["bash", str(CI / "run-conformance.sh")],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr, out


def test_shell_recipe_passes_with_a_ledger(tmp_path: Path) -> None:
    code, output, out = _recipe(
        tmp_path,
        IMPL="partial_core",
        LEDGER=str(EXAMPLES / "deviations.toml"),
        SUITE_ARGS="--clauses WS-1,TR-5,RB-1,AG-1",
    )
    assert code == 0, output
    report = json.loads((out / "report.json").read_text())
    assert report["implementation"]["unclaimed_areas"] == ["AG", "TA", "ENV"]
    assert report["deviation_files"] == [str(EXAMPLES / "deviations.toml")]
    assert "# Conformance report: partial-core (example) 0.0.1" in (out / "report.md").read_text()
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", "0")) > 0
    assert suite.get("failures") == "0"


def test_shell_recipe_fails_and_still_reports(tmp_path: Path) -> None:
    code, output, out = _recipe(
        tmp_path, IMPL="mutants.tr_drop_second", AREAS="WS,TR", SUITE_ARGS="--clauses TR-3"
    )
    assert code == 1, output
    report = json.loads((out / "report.json").read_text())
    assert [root["clause"] for root in report["triage"]] == ["TR-3"]
    assert "Distinct failing clauses" in (out / "report.md").read_text()
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures", "0")) > 0
    # the JUnit failure message is the clause's, not a traceback
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.get("message", "").startswith("TR-3 (MUST)")


def test_shell_recipe_needs_an_implementation(tmp_path: Path) -> None:
    code, output, _ = _recipe(tmp_path)
    assert code != 0 and "set IMPL" in output


def test_github_workflow_runs_the_same_command_and_uploads_three_files() -> None:
    workflow = (CI / "github-workflow.yml").read_text()
    script = (CI / "run-conformance.sh").read_text()
    assert COMMAND in script and COMMAND in workflow
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in workflow
    for name in ("report.json", "report.md", "junit.xml"):
        assert f"${{{{ env.OUT }}}}/{name}" in workflow
    assert "if: always()" in workflow
