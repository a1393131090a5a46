"""Per-clause results of a run: the terminal table, report.json and report.md."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from bbrl_conformance import __version__
from bbrl_conformance._clauses import lookup, registry, registry_hash
from bbrl_conformance._impl import LoadedImplementation, areas_of_clause
from bbrl_conformance._triage import triage

# 2: areas (implementation.areas, unclaimed_areas, the not-claimed status and outcome),
#    per-test failures with their reproducers, and the triage of distinct failing clauses.
SCHEMA_VERSION = 2

#: Test outcomes, as recorded per test. ``not-claimed``: the test belongs to an area the
#: implementation does not claim (deselected, or it used a name of such an area).
TEST_OUTCOMES = ("passed", "failed", "xfailed", "skipped", "not-claimed")
#: Clause statuses, in order of precedence (the first that applies wins).
CLAUSE_STATUSES = ("fail", "known-deviation", "blocked", "pass", "not-claimed", "not-tested")

#: What each clause status and test outcome means, where a user sees them (console, report.md).
STATUS_LEGEND = {
    "fail": "a test failed on this clause (or raised an unexpected exception while checking it)",
    "known-deviation": "a test listed in the deviations ledger failed on it, as the ledger says",
    "blocked": "a test citing it failed on another clause first, so it was not fully checked",
    "pass": "every test citing it that ran passed",
    "not-claimed": "it belongs to an area the implementation does not claim (--areas)",
    "not-tested": "no test citing it ran (deselected, skipped, or none exists)",
}
TABLE_LEGEND = (
    "tests passed/cited: of the tests citing the clause (or failing on it), how many passed"
)


@dataclass
class FailureInfo:
    """One failure inside a failed test: the clause it names, its message, its reproducer."""

    clause: str | None  # None: an unexpected exception, not a checked failure
    message: str
    reproducer: str | None = None

    __test__ = False


@dataclass
class TestRecord:
    """One collected test of the suite and what happened to it."""

    id: str
    clauses: list[str]
    outcome: str | None = None  # None: not run (deselected or not reached)
    #: the clause a ConformanceFailure named; None for an unexpected exception or a pass
    failed_clause: str | None = None
    first_failure: str | None = None
    deviation: str | None = None  # reason, if the test is listed as a known deviation
    #: every failure of the test (Hypothesis can report several distinct ones)
    failures: list[FailureInfo] = field(default_factory=list)

    __test__ = False  # not a pytest test class

    def update(self, outcome: str, failed_clause: str | None) -> None:
        # A later phase can only make things worse (a teardown error after a pass).
        if self.outcome in (None, "passed", "skipped") or outcome == "failed":
            self.outcome = outcome
            if outcome in ("failed", "xfailed"):
                self.failed_clause = failed_clause

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy (sent from pytest-xdist workers to the controller)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestRecord:
        failures = [FailureInfo(**f) for f in data.get("failures", [])]
        return cls(**{**data, "failures": failures})

    def merge(self, other: TestRecord) -> None:
        """Take what another process learnt about the same test (pytest-xdist workers)."""
        if other.outcome is not None and (self.outcome is None or other.outcome == "failed"):
            self.outcome = other.outcome
            self.failed_clause = other.failed_clause
            self.first_failure = other.first_failure
            self.failures = list(other.failures)
        self.deviation = self.deviation or other.deviation


def outcome_of(report: pytest.TestReport) -> str | None:
    """The test outcome a phase report stands for, or None for a passing setup/teardown."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "passed"  # a non-strict xpass
    if report.failed:
        return "failed"
    if report.skipped:
        return "skipped"
    return "passed" if report.when == "call" else None


@dataclass
class ClauseResult:
    """The status of one clause over the tests citing it."""

    id: str
    level: str
    file: str
    sentence: str
    status: str
    tests: list[TestRecord] = field(default_factory=list)
    first_failure: str | None = None


def _status_contribution(test: TestRecord, clause_id: str) -> str | None:
    if test.outcome == "not-claimed":
        return "not-claimed"
    if test.outcome == "passed":
        return "pass"
    if test.outcome in ("failed", "xfailed"):
        own = test.failed_clause in (None, clause_id)
        if not own:
            return "blocked"
        return "fail" if test.outcome == "failed" else "known-deviation"
    return None


def clause_results(tests: list[TestRecord], unclaimed: Sequence[str] = ()) -> list[ClauseResult]:
    """One result per registry clause (spec order), then any cited ID missing from it.

    A clause of an ``unclaimed`` area is ``not-claimed`` unless a test failed on it.
    """

    ids = list(registry())
    ids += sorted({c for t in tests for c in t.clauses} - set(ids))
    results = []
    for clause_id in ids:
        info = lookup(clause_id)
        # A test failing on a clause it does not cite still counts against that clause.
        citing = [t for t in tests if clause_id in t.clauses or t.failed_clause == clause_id]
        contributions = {_status_contribution(t, clause_id) for t in citing}
        if set(areas_of_clause(clause_id)) & set(unclaimed):
            contributions.add("not-claimed")
        status = next((s for s in CLAUSE_STATUSES[:-1] if s in contributions), "not-tested")
        first = next(
            (
                t.first_failure
                for t in citing
                if _status_contribution(t, clause_id) in ("fail", "known-deviation")
            ),
            None,
        )
        results.append(
            ClauseResult(info.id, info.level, info.file, info.sentence, status, citing, first)
        )
    return results


def summary_table(results: list[ClauseResult]) -> list[str]:
    """Fixed-width lines: clause, level, status, tests passed/cited, totals, then a legend."""
    lines = [f"{'clause':<10} {'level':<11} {'status':<16} tests (passed/cited)"]
    for r in results:
        passed = sum(1 for t in r.tests if t.outcome == "passed")
        lines.append(f"{r.id:<10} {r.level:<11} {r.status:<16} {passed}/{len(r.tests)}")
    counts = {s: sum(1 for r in results if r.status == s) for s in CLAUSE_STATUSES}
    lines.append(f"clauses: {len(results)}; " + ", ".join(f"{s} {n}" for s, n in counts.items()))
    lines.append("legend: " + TABLE_LEGEND)
    lines += [f"  {status:<16} {STATUS_LEGEND[status]}" for status in CLAUSE_STATUSES]
    return lines


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _triage_document(tests: list[TestRecord]) -> list[dict[str, Any]]:
    result = triage(tests)
    return [
        {
            "clause": root.clause,
            "tests": root.tests,
            "cascades": [{"clause": c, "tests": t} for c, t in root.cascades.items()],
            "reproducer": root.reproducer,
            "reproducer_test": root.reproducer_test,
        }
        for root in result.roots
    ]


def build_report(
    *,
    impl: LoadedImplementation | None,
    tests: list[TestRecord],
    profile: str,
    deviation_files: list[str],
    ledger_errors: list[str],
    complete: bool,
    exit_status: int,
) -> dict[str, Any]:
    """The report document (see REPORT_SCHEMA)."""
    unclaimed = list(impl.unclaimed) if impl else []
    results = clause_results(tests, unclaimed)
    outcome_counts = {o: sum(1 for t in tests if t.outcome == o) for o in TEST_OUTCOMES}
    outcome_counts["not-run"] = sum(1 for t in tests if t.outcome is None)
    return {
        "schema_version": SCHEMA_VERSION,
        "suite": {
            "name": "bbrl_conformance",
            "version": __version__,
            "registry_sha256": registry_hash(),
        },
        "implementation": {
            "module": impl.module_name if impl else None,
            "name": impl.name if impl else None,
            "version": impl.version if impl else None,
            "missing_names": list(impl.missing) if impl else [],
            "areas": list(impl.areas) if impl else [],
            "unclaimed_areas": unclaimed,
        },
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            **{d: _version(d) for d in ("torch", "numpy", "gymnasium", "hypothesis", "pytest")},
        },
        "profile": profile,
        "deviation_files": deviation_files,
        "ledger_errors": ledger_errors,
        "complete": complete,
        "exit_status": exit_status,
        "summary": {
            "clauses": {s: sum(1 for r in results if r.status == s) for s in CLAUSE_STATUSES},
            "tests": outcome_counts,
        },
        "triage": _triage_document(tests),
        "clauses": [
            {
                "id": r.id,
                "level": r.level,
                "file": r.file,
                "sentence": r.sentence,
                "status": r.status,
                "tests": [{"id": t.id, "outcome": t.outcome or "not-run"} for t in r.tests],
                "first_failure": r.first_failure,
            }
            for r in results
        ],
        "tests": [
            {
                "id": t.id,
                "clauses": t.clauses,
                "outcome": t.outcome or "not-run",
                "failed_clause": t.failed_clause,
                "deviation": t.deviation,
                "failure": t.first_failure[:4000] if t.first_failure else None,
                "failures": [
                    {"clause": f.clause, "message": f.message[:4000], "reproducer": f.reproducer}
                    for f in t.failures
                ],
            }
            for t in tests
        ],
    }


def render_markdown(data: dict[str, Any]) -> str:
    """report.md: header facts, distinct failing clauses, the per-clause table, a legend, then
    the first failure of each clause."""
    impl = data["implementation"]
    lines = [
        f"# Conformance report: {impl['name']} {impl['version']}",
        "",
        f"- module: `{impl['module']}`; profile: `{data['profile']}`; "
        f"complete run: {'yes' if data['complete'] else 'NO'}; exit status: {data['exit_status']}",
        f"- suite {data['suite']['version']}, registry sha256 "
        f"`{data['suite']['registry_sha256'][:12]}`; deviations: "
        + (", ".join(f"`{f}`" for f in data["deviation_files"]) or "none"),
        "- areas claimed: "
        + (", ".join(impl["areas"]) or "none")
        + "; not claimed: "
        + (", ".join(impl["unclaimed_areas"]) or "none"),
        "- clauses: "
        + ", ".join(f"{s} {n}" for s, n in data["summary"]["clauses"].items())
        + "; tests: "
        + ", ".join(f"{o} {n}" for o, n in data["summary"]["tests"].items()),
        "",
    ]
    for error in data["ledger_errors"]:
        lines.append(f"- **stale deviation (fails the run):** {error}")
    if data["ledger_errors"]:
        lines.append("")
    if data["triage"]:
        lines += [f"## Distinct failing clauses ({len(data['triage'])})", ""]
        for root in data["triage"]:
            info = lookup(root["clause"])
            lines += [f"### {info.headline()}", ""]
            lines.append(f"- failing tests: {', '.join(f'`{t}`' for t in root['tests'])}")
            for cascade in root["cascades"]:
                lines.append(
                    f"- grouped under it: {cascade['clause']} "
                    f"({', '.join(f'`{t}`' for t in cascade['tests'])})"
                )
            if root["reproducer"]:
                lines += [
                    f"- reproducer (from `{root['reproducer_test']}`):",
                    "",
                    "```python",
                    root["reproducer"],
                    "```",
                ]
            lines.append("")
    lines += ["## Clauses", ""]
    lines += ["| clause | level | status | tests passed/cited |", "| --- | --- | --- | --- |"]
    for c in data["clauses"]:
        passed = sum(1 for t in c["tests"] if t["outcome"] == "passed")
        lines.append(f"| {c['id']} | {c['level']} | {c['status']} | {passed}/{len(c['tests'])} |")
    lines += ["", f"Statuses ({TABLE_LEGEND}):", ""]
    lines += [f"- `{status}`: {meaning}" for status, meaning in STATUS_LEGEND.items()]
    failures = [c for c in data["clauses"] if c["first_failure"]]
    if failures:
        lines += ["", "## First failures", ""]
        for c in failures:
            lines += [f"### {c['id']} ({c['status']})", "", "```", c["first_failure"], "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(directory: Path, data: dict[str, Any]) -> None:
    """Write report.json and report.md into ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    (directory / "report.md").write_text(render_markdown(data), encoding="utf-8")


_NULLABLE_STR = {"type": ["string", "null"]}

#: JSON Schema (draft 2020-12) of report.json; printed by ``--print-report-schema``.
REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "bbrl_conformance report",
    "type": "object",
    "required": [
        "schema_version",
        "suite",
        "implementation",
        "environment",
        "profile",
        "deviation_files",
        "ledger_errors",
        "complete",
        "exit_status",
        "summary",
        "triage",
        "clauses",
        "tests",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "suite": {
            "type": "object",
            "required": ["name", "version", "registry_sha256"],
            "properties": {
                "name": {"const": "bbrl_conformance"},
                "version": _NULLABLE_STR,
                "registry_sha256": {"type": "string"},
            },
        },
        "implementation": {
            "type": "object",
            "required": [
                "module",
                "name",
                "version",
                "missing_names",
                "areas",
                "unclaimed_areas",
            ],
            "properties": {
                "module": _NULLABLE_STR,
                "name": _NULLABLE_STR,
                "version": _NULLABLE_STR,
                "missing_names": {"type": "array", "items": {"type": "string"}},
                "areas": {
                    "description": "areas the implementation claims (WS, AG, TA, ENV, TR, RB)",
                    "type": "array",
                    "items": {"type": "string"},
                },
                "unclaimed_areas": {"type": "array", "items": {"type": "string"}},
            },
        },
        "environment": {
            "description": "python, platform and the versions of torch, numpy, gymnasium, "
            "hypothesis, pytest (null when not installed)",
            "type": "object",
        },
        "profile": {"enum": ["ci", "dev", "nightly", "mutants"]},
        "deviation_files": {"type": "array", "items": {"type": "string"}},
        "ledger_errors": {
            "description": "stale known-deviation entries; any entry fails the run",
            "type": "array",
            "items": {"type": "string"},
        },
        "complete": {
            "description": "every suite test was collected and run (no deselection, skip or "
            "early stop); a partial run's 'not-tested' is not evidence",
            "type": "boolean",
        },
        "exit_status": {"description": "pytest's exit status", "type": "integer"},
        "summary": {
            "type": "object",
            "required": ["clauses", "tests"],
            "properties": {
                "clauses": {
                    "type": "object",
                    "propertyNames": {"enum": list(CLAUSE_STATUSES)},
                    "additionalProperties": {"type": "integer"},
                },
                "tests": {
                    "type": "object",
                    "propertyNames": {"enum": [*TEST_OUTCOMES, "not-run"]},
                    "additionalProperties": {"type": "integer"},
                },
            },
        },
        "triage": {
            "description": "distinct failing clauses (roots) in spec order; a cascade is a "
            "failing clause built on its root (its failures may follow from the root's)",
            "type": "array",
            "items": {
                "type": "object",
                "required": ["clause", "tests", "cascades", "reproducer", "reproducer_test"],
                "properties": {
                    "clause": {"type": "string"},
                    "tests": {"type": "array", "items": {"type": "string"}},
                    "cascades": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["clause", "tests"],
                            "properties": {
                                "clause": {"type": "string"},
                                "tests": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                    "reproducer": _NULLABLE_STR,
                    "reproducer_test": _NULLABLE_STR,
                },
            },
        },
        "clauses": {
            "description": "registry clauses in spec order, then cited IDs missing from it",
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "level", "file", "sentence", "status", "tests", "first_failure"],
                "properties": {
                    "id": {"type": "string"},
                    "level": {"enum": ["MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY", "?"]},
                    "file": {"type": "string"},
                    "sentence": {"type": "string"},
                    "status": {"enum": list(CLAUSE_STATUSES)},
                    "tests": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "outcome"],
                            "properties": {
                                "id": {"type": "string"},
                                "outcome": {"enum": [*TEST_OUTCOMES, "not-run"]},
                            },
                        },
                    },
                    "first_failure": _NULLABLE_STR,
                },
            },
        },
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "clauses",
                    "outcome",
                    "failed_clause",
                    "deviation",
                    "failure",
                    "failures",
                ],
                "properties": {
                    "id": {"type": "string"},
                    "clauses": {"type": "array", "items": {"type": "string"}},
                    "outcome": {"enum": [*TEST_OUTCOMES, "not-run"]},
                    "failed_clause": _NULLABLE_STR,
                    "deviation": _NULLABLE_STR,
                    "failure": {
                        "description": "the failure message (clause, details, reproducer), "
                        "at most 4000 characters",
                        "type": ["string", "null"],
                    },
                    "failures": {
                        "description": "every failure of the test (Hypothesis may find several)",
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["clause", "message", "reproducer"],
                            "properties": {
                                "clause": _NULLABLE_STR,
                                "message": {"type": "string"},
                                "reproducer": {
                                    "description": "a standalone Python script",
                                    "type": ["string", "null"],
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
