"""The mutant zoo: each deliberately broken implementation (meta_tests/mutants/) must make the
suite's tests of the clauses it lists in KILLED_BY fail, with a failure naming that clause.

Each run selects the tests citing those clauses (or the mutant's SELECT clauses) in the one
test module the mutant lists (TESTS), with the ``mutants`` profile (no shrinking), so a mutant
costs a couple of seconds. A mutant that is not killed means the suite cannot detect
that defect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bbrl_conformance import REQUIRED_NAMES

MUTANTS_DIR = Path(__file__).resolve().parent / "mutants"


def test_zoo_is_not_empty() -> None:
    assert len([p for p in MUTANTS_DIR.glob("*.py") if not p.stem.startswith("_")]) >= 10


def test_mutant_is_killed_by_its_clauses(
    mutant_run: Any, mutant_module: Any, mutant_name: str
) -> None:
    name = mutant_name
    mutant = mutant_module(name)
    # A mutant lacking a name would be refused by the runner, not killed by its defect.
    missing = [n for n in REQUIRED_NAMES if not hasattr(mutant, n)]
    assert not missing, f"mutant {name} lacks {missing}"
    killed_by: list[str] = mutant.KILLED_BY
    run = mutant_run(name)
    assert run.report is not None, run.output
    # The clause a failure names: its ConformanceFailure's, or for an unexpected exception
    # inside the implementation, the clauses its test cites (the note names them).
    named: set[str] = set()
    for test in run.report["tests"]:
        if test["outcome"] == "failed":
            named |= {test["failed_clause"]} if test["failed_clause"] else set(test["clauses"])
    failures = "\n".join(line for line in run.output.splitlines() if line.startswith("FAILED"))
    ran = run.report["summary"]["tests"]
    assert ran["passed"] + ran["failed"] > 0, f"no test of {killed_by} ran:\n{run.output}"
    assert run.returncode == 1, f"mutant {name} survived:\n{run.output[-2000:]}"
    statuses = {cid: run.clause_status(cid) for cid in killed_by}
    assert all(s == "fail" for s in statuses.values()), (
        f"mutant {name}: expected every clause of {killed_by} to fail, got {statuses}; the "
        f"failures named {named}:\n{failures}"
    )
    # Killed by a ConformanceFailure of that clause, not by an unexpected exception.
    for cid in killed_by:
        assert cid in named, f"mutant {name}: no failure names {cid} (failures named {named})"
        assert f"{cid} (" in run.output or f"clause(s) {cid}" in run.output
