"""The coverage gate over the shipped tests: every test cites clauses, every cited clause
exists, and every MUST clause of spec/ has at least one test."""

from __future__ import annotations

from typing import Any

import pytest
from bbrl_conformance._clauses import registry


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory, suite_runner: Any) -> list[dict[str, Any]]:
    run = suite_runner(
        ["--impl", "bbrl_reference", "--", "--collect-only", "-q"],
        tmp_path_factory.mktemp("collect"),
    )
    assert run.report is not None, run.output
    tests: list[dict[str, Any]] = run.report["tests"]
    assert len(tests) > 0, run.output
    return tests


def test_every_test_carries_a_clause_mark(collected: list[dict[str, Any]]) -> None:
    unmarked = [t["id"] for t in collected if not t["clauses"]]
    assert unmarked == [], f"tests without @clause(...): {unmarked}"


def test_every_cited_clause_exists(collected: list[dict[str, Any]]) -> None:
    known = registry()
    unknown = sorted(
        {f"{c} (in {t['id']})" for t in collected for c in t["clauses"] if c not in known}
    )
    assert unknown == [], f"tests cite clause IDs missing from spec/: {unknown}"


def test_every_must_clause_has_a_test(collected: list[dict[str, Any]]) -> None:
    cited = {c for t in collected for c in t["clauses"]}
    untested = [cid for cid, c in registry().items() if c.level == "MUST" and cid not in cited]
    assert untested == [], f"MUST clauses with no test citing them: {untested}"
