"""Per-clause statuses, the summary table, report.json (against its schema) and report.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bbrl_conformance._clauses import registry
from bbrl_conformance._report import (
    CLAUSE_STATUSES,
    REPORT_SCHEMA,
    STATUS_LEGEND,
    FailureInfo,
    TestRecord,
    build_report,
    clause_results,
    render_markdown,
    summary_table,
    write_report,
)

A, B, C = list(registry())[:3]


def _status(tests: list[TestRecord], clause_id: str) -> str:
    return next(r.status for r in clause_results(tests) if r.id == clause_id)


def _rec(clauses: list[str], outcome: str | None, failed: str | None = None) -> TestRecord:
    record = TestRecord(f"test_x.py::t{len(clauses)}{outcome}", clauses)
    if outcome is not None:
        record.update(outcome, failed)
    if outcome in ("failed", "xfailed"):
        record.failures = [FailureInfo(failed, f"{failed} (MUST): sentence", "print(1)")]
    return record


def test_statuses() -> None:
    assert _status([], A) == "not-tested"
    assert _status([_rec([A], "passed")], A) == "pass"
    assert _status([_rec([A], "skipped")], A) == "not-tested"
    assert _status([_rec([A], None)], A) == "not-tested"
    assert _status([_rec([A], "passed"), _rec([A], "failed", A)], A) == "fail"
    # a failure naming another clause blocks A, it does not fail it
    assert _status([_rec([A, B], "failed", B)], A) == "blocked"
    assert _status([_rec([A, B], "failed", B)], B) == "fail"
    # an unexpected exception (no clause named) fails every clause of the test
    assert _status([_rec([A, B], "failed", None)], A) == "fail"
    assert _status([_rec([A], "xfailed", A), _rec([A], "passed")], A) == "known-deviation"
    assert _status([_rec([A], "xfailed", A), _rec([A], "failed", A)], A) == "fail"


def test_not_claimed() -> None:
    # a clause of an unclaimed area is not-claimed, unless a test failed on it
    assert _status_of_area("RB-1", [], ["RB"]) == "not-claimed"
    assert _status_of_area("RB-1", [_rec(["RB-1"], "failed", "RB-1")], ["RB"]) == "fail"
    assert _status_of_area("WS-1", [], ["RB"]) == "not-tested"
    # TR-10's tests need the env agent: it is not claimed without ENV
    assert _status_of_area("TR-10", [], ["ENV"]) == "not-claimed"
    # cross-cutting clauses belong to no area
    assert _status_of_area("ERR-1", [], ["WS", "AG", "TA", "ENV", "TR", "RB"]) == "not-tested"
    assert _status([_rec([A], "not-claimed")], A) == "not-claimed"


def _status_of_area(clause_id: str, tests: list[TestRecord], unclaimed: list[str]) -> str:
    return next(r.status for r in clause_results(tests, unclaimed) if r.id == clause_id)


def test_every_status_has_a_meaning() -> None:
    assert list(STATUS_LEGEND) == list(CLAUSE_STATUSES)
    lines = summary_table(clause_results([]))
    for status in CLAUSE_STATUSES:
        assert any(line.split()[:1] == [status] for line in lines), status


def test_records_travel_between_processes() -> None:
    record = _rec([A, B], "failed", B)
    record.deviation = "listed"
    copy = TestRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert copy == record
    # a worker that did not run the test knows less than the one that did
    empty = TestRecord(record.id, record.clauses)
    empty.merge(copy)
    assert empty == record


def test_teardown_failure_after_pass_counts_as_failure() -> None:
    record = _rec([A], "passed")
    record.update("failed", None)
    assert record.outcome == "failed"


def test_cited_unknown_clause_is_listed() -> None:
    results = clause_results([_rec(["ZZ-9"], "passed")])
    assert results[-1].id == "ZZ-9" and results[-1].level == "?"
    assert len(results) == len(registry()) + 1


def test_summary_table_counts() -> None:
    lines = summary_table(clause_results([_rec([A], "passed"), _rec([B], "failed", B)]))
    assert lines[0].startswith("clause")
    assert any(line.startswith(A) and "pass" in line and "1/1" in line for line in lines)
    totals = next(line for line in lines if line.startswith("clauses: "))
    assert totals.startswith(f"clauses: {len(registry())}; fail 1, known-deviation 0")


def _check_schema(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """A small validator for the JSON Schema subset REPORT_SCHEMA uses."""
    if "const" in schema:
        assert value == schema["const"], where
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    kinds = schema.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        py = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool}
        assert any(value is None if k == "null" else isinstance(value, py[k]) for k in kinds), (
            f"{where}: {value!r} is not {kinds}"
        )
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _check_schema(value[key], sub, f"{where}.{key}")
        if "propertyNames" in schema:
            for key in value:
                _check_schema(key, schema["propertyNames"], f"{where} key")
        if "additionalProperties" in schema:
            for key, sub_value in value.items():
                _check_schema(sub_value, schema["additionalProperties"], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check_schema(item, schema["items"], f"{where}[{i}]")


def _sample_report() -> dict[str, Any]:
    tests = [_rec([A], "passed"), _rec([B, C], "failed", B), _rec([C], "xfailed", C)]
    tests[1].first_failure = f"{B} (MUST): sentence\n  details"
    return build_report(
        impl=None,
        tests=tests,
        profile="ci",
        deviation_files=["bbrl"],
        ledger_errors=["x.toml: test test_a.py::t: no such test in the suite"],
        complete=False,
        exit_status=1,
    )


def test_report_matches_its_schema(tmp_path: Path) -> None:
    data = _sample_report()
    _check_schema(data, REPORT_SCHEMA)
    write_report(tmp_path / "out", data)
    reread = json.loads((tmp_path / "out" / "report.json").read_text())
    assert reread == data
    statuses = {c["id"]: c["status"] for c in reread["clauses"]}
    assert (statuses[A], statuses[B], statuses[C]) == ("pass", "fail", "known-deviation")
    assert reread["summary"]["tests"] == {
        "passed": 1,
        "failed": 1,
        "xfailed": 1,
        "skipped": 0,
        "not-claimed": 0,
        "not-run": 0,
    }
    assert reread["triage"][0]["clause"] == B
    failed = next(t for t in reread["tests"] if t["outcome"] == "failed")
    assert failed["failures"] == [
        {"clause": B, "message": f"{B} (MUST): sentence", "reproducer": "print(1)"}
    ]


def test_schema_checker_can_fail() -> None:
    data = _sample_report()
    data["clauses"][0]["status"] = "great"
    with pytest.raises(AssertionError, match="great"):
        _check_schema(data, REPORT_SCHEMA)


def test_markdown_lists_every_clause_and_first_failures() -> None:
    text = render_markdown(_sample_report())
    assert f"| {A} | " in text and f"| {B} | " in text
    assert "complete run: NO" in text
    assert f"### {B} (fail)" in text and "details" in text
    assert "stale deviation (fails the run)" in text
    assert text.count("\n| ") == len(registry()) + 2  # header, separator, one row per clause
    assert "## Distinct failing clauses (1)" in text
    assert "```python\nprint(1)\n```" in text  # the reproducer, clean
    assert "- `not-claimed`: it belongs to an area" in text
