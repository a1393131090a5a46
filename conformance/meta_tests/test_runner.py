"""The plugin and the runner, end to end: choosing the implementation, exit statuses (5 is a
failure), areas and missing names (refused before any test runs), the unexpected-exception
note, the report header, profiles, the report schema option, and what a run leaves in the
current directory. Each run selects a few tests to stay fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import bbrl_conformance

REF = ["--impl", "bbrl_reference"]


def test_reference_passes_the_surface_tests(suite: Any) -> None:
    run = suite([*REF, "--clauses", "AG-1"])
    assert run.returncode == 0, run.output
    assert "bbrl_conformance: implementation bbrl_reference" in run.output  # report header
    assert "per-clause summary" in run.output
    assert run.clause_status("AG-1") == "pass"
    assert run.report is not None and run.report["complete"] is False  # deselected tests
    assert run.report["suite"]["version"] == bbrl_conformance.__version__
    assert run.report["implementation"]["unclaimed_areas"] == []
    # the console explains its words where a user sees them
    assert "not-claimed      it belongs to an area" in run.output
    assert "blocked          a test citing it failed on another clause" in run.output


def test_run_leaves_nothing_in_the_current_directory(tmp_path: Path, suite_runner: Any) -> None:
    run = suite_runner([*REF, "--clauses", "AG-1"], tmp_path)
    assert run.returncode == 0, run.output
    assert "configfile: pytest.ini" in run.output  # the suite's own, not ../../dev/null
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


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


def test_missing_names_are_refused_before_any_test(suite: Any) -> None:
    run = suite(["--impl", "impls.empty"])
    assert run.returncode == 4, run.output
    assert run.report is None and "test session starts" not in run.output
    assert "'impls.empty' lacks required names: Workspace, Agent, Agents, TemporalAgent, " in (
        run.output
    )
    assert "--areas" in run.output and "CONFORMANCE_AREAS" in run.output
    # one message, not a run
    assert len(run.output.strip().splitlines()) == 1, run.output
    only = suite(["--impl", "impls.no_make_env"])
    assert only.returncode == 4 and "lacks required names: make_env (ENV" in only.output


def test_areas_not_claimed_are_not_run_and_reported(suite: Any) -> None:
    run = suite(
        ["--impl", "impls.no_make_env", "--areas", "WS,AG,TA,TR,RB", "--clauses", "AG-1,ENV-1"]
    )
    assert run.returncode == 0, run.output
    assert run.report is not None
    impl = run.report["implementation"]
    assert impl["areas"] == ["WS", "AG", "TA", "TR", "RB"] and impl["unclaimed_areas"] == ["ENV"]
    outcomes = {t["id"]: t["outcome"] for t in run.report["tests"]}
    # the export test of make_env uses a name of the unclaimed area; ENV-1's test is not run
    assert outcomes["test_surface.py::test_required_name_is_exported[make_env]"] == "not-claimed"
    assert outcomes["test_surface.py::test_required_name_is_exported[Workspace]"] == "passed"
    assert (
        outcomes["test_surface.py::test_make_env_is_callable_with_the_spec_call_shape"]
        == "not-claimed"
    )
    assert run.clause_status("ENV-1") == "not-claimed"
    assert run.clause_status("AG-1") == "pass"
    assert "areas not claimed by impls.no_make_env" in run.output
    bad = suite([*REF, "--areas", "WS,XX"])
    assert bad.returncode == 2 and "expected a comma-separated list of WS, AG" in bad.output


def test_module_declares_its_areas(suite: Any) -> None:
    run = suite(["--impl", "impls.workspace_only", "--clauses", "WS-1,TR-5,RB-1,AG-1"])
    assert run.returncode == 0, run.output
    assert run.report is not None
    assert run.report["implementation"]["areas"] == ["WS", "TR"]
    assert run.clause_status("WS-1") == "pass" and run.clause_status("TR-5") == "pass"
    assert run.clause_status("RB-1") == "not-claimed"
    assert run.clause_status("AG-1") == "not-claimed"
    assert run.report["complete"] is False  # --clauses deselected tests of claimed areas
    # --areas overrides the module's own claim
    wider = suite(["--impl", "impls.workspace_only", "--areas", "WS,RB"])
    assert wider.returncode == 4 and "lacks required names: ReplayBuffer" in wider.output


def test_unexpected_exception_names_clauses_and_rerun(suite: Any) -> None:
    # Only test_workspace: test_errors also reads time_size() after failed calls and reports a
    # raising time_size there as a broken state (ERR-5), a checked failure with a triage entry.
    run = suite(
        [
            "--impl",
            "impls.raising",
            "--clauses",
            "WS-1",
            "--",
            "bbrl_conformance.tests.test_workspace",
        ]
    )
    assert run.returncode == 1
    assert "time_size is broken in this implementation" in run.output
    assert "while checking clause(s) WS-1" in run.output
    assert (
        "Rerun: python -m bbrl_conformance --impl impls.raising -- "
        "bbrl_conformance.tests.test_workspace::test_"
    ) in run.output
    assert run.clause_status("WS-1") == "fail"
    assert run.report is not None and run.report["triage"] == []
    assert "raised an unexpected exception" in run.output


def test_profiles_are_selectable(suite: Any) -> None:
    run = suite([*REF, "--profile", "dev", "--clauses", "AG-1"])
    assert run.returncode == 0, run.output
    assert run.report is not None and run.report["profile"] == "dev"
    bad = suite([*REF, "--profile", "fast"])
    assert bad.returncode == 2 and "invalid choice" in bad.output


def test_print_report_schema_to_a_closed_pipe(tmp_path: Path) -> None:
    # `... --print-report-schema | head`: the reader goes away before the schema is written.
    proc = subprocess.Popen(
        [sys.executable, "-m", "bbrl_conformance", "--print-report-schema"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    with proc.stderr:
        stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, stderr
    assert "BrokenPipeError" not in stderr and "Traceback" not in stderr, stderr


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
