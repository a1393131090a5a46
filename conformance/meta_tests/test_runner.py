"""The plugin and the runner, end to end in subprocesses: choosing the implementation, exit
statuses (5 is a failure), missing names, the unexpected-exception note, the report header,
profiles and the report schema option. Each run selects a few surface tests to stay fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REF = ["--impl", "bbrl_reference"]


def test_reference_passes_the_surface_tests(suite: Any) -> None:
    run = suite([*REF, "--clauses", "AG-1"])
    assert run.returncode == 0, run.output
    assert "bbrl_conformance: implementation bbrl_reference" in run.output  # report header
    assert "per-clause summary" in run.output
    assert run.clause_status("AG-1") == "pass"
    assert run.report is not None and run.report["complete"] is False  # deselected tests


def test_no_test_collected_is_a_failure(suite: Any) -> None:
    run = suite([*REF, "--", "-k", "no_test_has_this_name"])
    assert run.returncode == 5, run.output
    assert "no test was collected or run" in run.output


def test_runner_requires_an_implementation(suite: Any) -> None:
    run = suite([])
    assert run.returncode == 2
    assert "no implementation chosen" in run.output


def test_plain_pytest_without_impl_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--pyargs",
            "bbrl_conformance.tests.test_surface",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "no implementation chosen" in proc.stdout + proc.stderr


def test_unimportable_implementation_is_a_usage_error(suite: Any) -> None:
    run = suite(["--impl", "no_such_module_for_bbrl_conformance"])
    assert run.returncode == 4
    assert "cannot import the implementation module" in run.output


def test_missing_names_fail_only_their_tests(suite: Any) -> None:
    run = suite(["--impl", "impls.no_make_env", "--clauses", "AG-1"])
    assert run.returncode == 1, run.output
    assert "missing names: make_env" in run.output
    assert run.report is not None
    failed = sorted(t["id"] for t in run.report["tests"] if t["outcome"] == "failed")
    assert failed == [
        "test_surface.py::test_make_env_is_callable_with_the_spec_call_shape",
        "test_surface.py::test_required_name_is_exported[make_env]",
    ]
    assert "AG-1 (MUST): The implementation module exports" in run.output


def test_unexpected_exception_names_clauses_and_rerun(suite: Any) -> None:
    # Every name is a stub in impls.empty: Workspace() raises inside the tests of WS-1.
    run = suite(["--impl", "impls.empty", "--clauses", "WS-1"])
    assert run.returncode == 1
    assert "does not define 'Workspace'" in run.output
    assert "while checking clause(s) WS-1" in run.output
    assert "Rerun: python -m bbrl_conformance --impl impls.empty -- -k " in run.output
    assert run.clause_status("WS-1") == "fail"


def test_profiles_are_selectable(suite: Any) -> None:
    run = suite([*REF, "--profile", "dev", "--clauses", "AG-1"])
    assert run.returncode == 0, run.output
    assert run.report is not None and run.report["profile"] == "dev"
    bad = suite([*REF, "--profile", "fast"])
    assert bad.returncode == 2 and "invalid choice" in bad.output


def test_print_report_schema(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bbrl_conformance", "--print-report-schema"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    schema = json.loads(proc.stdout)
    assert schema["title"] == "bbrl_conformance report"
    assert "clauses" in schema["required"]


def test_plugin_is_inert_in_other_sessions(tmp_path: Path) -> None:
    (tmp_path / "test_other.py").write_text(
        "import sys\n\n"
        "def test_other(request):\n"
        "    assert request.config.pluginmanager.has_plugin('bbrl_conformance')\n"
        "    assert 'torch' not in sys.modules\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_other.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "bbrl_conformance" not in output


def test_readme_area_table_is_the_code_table() -> None:
    from bbrl_conformance import AREAS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in AREAS:
            rows[cells[0]] = cells
    assert list(rows) == list(AREAS)
    for prefix, area in AREAS.items():
        _, title, names, needs = rows[prefix]
        assert title == area.title
        assert [n.strip().strip("`") for n in names.split(",")] == list(area.names)
        assert [n.strip().strip("`") for n in needs.split(",") if n.strip()] == list(area.needs)
