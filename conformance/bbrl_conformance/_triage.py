"""Triage of a run's failures: one bug reads as one clause.

A bug usually fails several tests: the tests of the clause it breaks, and tests of clauses built
on that one (the epoch protocol TR-10 is built on the pair rules TR-2..TR-5, gradients through
``get_transitions`` on the pairs it keeps, ...). Triage groups the failing clauses of a run:

- a failing clause whose failure may be a consequence of another failing clause (``BUILT_ON``
  below) is a *cascade*, listed under that *root*;
- every root comes with the failing tests naming it and one reproducer (the shortest that prints
  or asserts something), so that the end of the console reads "these N distinct clauses fail".

Triage never hides a failure: every failing test stays in the report with its own clause; the
grouping only orders what a reader looks at first. Fixing a root and rerunning shows whether a
cascade was an independent bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bbrl_conformance._clauses import registry

if TYPE_CHECKING:
    from bbrl_conformance._report import TestRecord

#: ``clause: clauses it is built on``: a failure of the key may be a consequence of a failure of
#: any of the values (in the same run). Extend it when a clause's tests exercise another clause's
#: behaviour on the way; only then, not because two clauses are often seen failing together
#: (the replay buffer's own clauses are not built on the epoch loop that feeds it in one test).
#: Transitive: TR-10 on TR-3 on nothing.
BUILT_ON: dict[str, tuple[str, ...]] = {
    # N, the width of every variable, counts the pairs TR-2..TR-4 keep.
    "TR-1": ("TR-2", "TR-3", "TR-4"),
    # gradients and copies of the result flow through the pairs that are kept.
    "TR-8": ("TR-2", "TR-3", "TR-4"),
    # the epoch protocol: rows of the env agent, copies of the last step, the pair rules.
    "TR-10": (
        "TR-2",
        "TR-3",
        "TR-4",
        "TR-5",
        "WS-15",
        "WS-16",
        "TA-1",
        "ENV-3",
        "ENV-4",
        "ENV-5",
        "ENV-6",
        "ENV-8",
    ),
    # the table of rows (ENV-2) is checked through the rows of the first and later calls.
    "ENV-2": ("ENV-3", "ENV-4"),
}


def _explainers(clause_id: str) -> set[str]:
    """The clauses ``clause_id`` is built on, transitively."""
    seen: set[str] = set()
    todo = list(BUILT_ON.get(clause_id, ()))
    while todo:
        other = todo.pop()
        if other not in seen and other != clause_id:
            seen.add(other)
            todo.extend(BUILT_ON.get(other, ()))
    return seen


@dataclass
class Candidate:
    """A reproducer offered by one failing test for one clause."""

    test: str
    code: str


@dataclass
class RootFailure:
    """A distinct failing clause, with the tests naming it and the cascades grouped under it."""

    clause: str
    tests: list[str] = field(default_factory=list)
    #: cascade clause -> the failing tests naming it
    cascades: dict[str, list[str]] = field(default_factory=dict)
    reproducer: str | None = None
    reproducer_test: str | None = None


@dataclass
class Triage:
    """The roots of a run's failures, in spec order, and the unexpected exceptions."""

    roots: list[RootFailure]
    #: failing tests whose failure named no clause (an exception raised by the implementation)
    unexpected: list[str]
    #: tests the deviations ledger lists as failing that passed (strict xfail: they fail the run)
    now_passing: list[str] = field(default_factory=list)

    @property
    def failing_clauses(self) -> int:
        return len(self.roots)


def _score(code: str) -> tuple[int, int]:
    """Lower is better: a reproducer that asserts or prints, then the shortest."""
    shows = "raise AssertionError" in code or "assert " in code or "print(" in code
    return (0 if shows else 1, len(code))


def triage(tests: list[TestRecord]) -> Triage:
    """Group the failed tests (not the known deviations) by the clause their failures name."""
    by_clause: dict[str, list[str]] = {}
    candidates: dict[str, list[Candidate]] = {}
    unexpected: list[str] = []
    now_passing: list[str] = []
    for test in tests:
        if test.outcome != "failed":
            continue
        named = [f for f in test.failures if f.clause is not None]
        if not named:
            (now_passing if test.deviation is not None else unexpected).append(test.id)
            continue
        for failure in named:
            assert failure.clause is not None
            ids = by_clause.setdefault(failure.clause, [])
            if test.id not in ids:
                ids.append(test.id)
            if failure.reproducer:
                candidates.setdefault(failure.clause, []).append(
                    Candidate(test.id, failure.reproducer)
                )
    failing = set(by_clause)
    order = {cid: i for i, cid in enumerate(registry())}
    ranked = sorted(failing, key=lambda c: (order.get(c, len(order)), c))
    root_of: dict[str, str] = {}
    for clause_id in ranked:
        causes = [c for c in ranked if c in _explainers(clause_id)]
        # A root explains a cascade; two clauses built on each other (a cycle in BUILT_ON)
        # both stay roots rather than hiding each other.
        causes = [c for c in causes if clause_id not in _explainers(c)]
        if causes:
            root_of[clause_id] = causes[0]
    roots: dict[str, RootFailure] = {}
    for clause_id in ranked:
        if clause_id in root_of:
            continue
        root = RootFailure(clause_id, list(by_clause[clause_id]))
        best = min(candidates.get(clause_id, []), key=lambda c: _score(c.code), default=None)
        if best is not None:
            root.reproducer, root.reproducer_test = best.code, best.test
        roots[clause_id] = root
    for clause_id, cause in root_of.items():
        while cause in root_of:
            cause = root_of[cause]
        roots[cause].cascades[clause_id] = list(by_clause[clause_id])
    return Triage([roots[c] for c in ranked if c in roots], unexpected, now_passing)


def summary_lines(result: Triage, impl_module: str | None) -> list[str]:
    """The end of the console: each distinct failing clause, its cascades and a reproducer."""
    from bbrl_conformance._clauses import lookup

    lines: list[str] = []
    rerun = f"python -m bbrl_conformance --impl {impl_module or 'MODULE'}"
    for number, root in enumerate(result.roots, 1):
        lines.append(f"[{number}] {lookup(root.clause).headline()}")
        lines.append(f"    failing tests ({len(root.tests)}): {', '.join(root.tests[:3])}")
        if len(root.tests) > 3:
            lines[-1] += f", and {len(root.tests) - 3} more"
        if root.cascades:
            parts = [f"{c} ({len(t)} test{'s' * (len(t) != 1)})" for c, t in root.cascades.items()]
            lines.append(
                f"    grouped under it (failures that may follow from it): {', '.join(parts)}"
            )
        lines.append(f"    rerun: {rerun} --clauses {root.clause}")
        if root.reproducer is not None:
            lines.append(
                f"    reproducer (from {root.reproducer_test}), a standalone Python script:"
            )
            lines.append("")
            lines.extend(root.reproducer.splitlines())
            lines.append("")
    if result.unexpected:
        lines.append(
            f"{len(result.unexpected)} failing test(s) raised an unexpected exception (no clause "
            f"named; see the note under each failure): {', '.join(result.unexpected[:5])}"
            + (" ..." if len(result.unexpected) > 5 else "")
        )
    if result.now_passing:
        lines.append(
            f"{len(result.now_passing)} test(s) listed in the deviations ledger now pass (the "
            f"ledger is strict: remove their entries): {', '.join(result.now_passing[:5])}"
            + (" ..." if len(result.now_passing) > 5 else "")
        )
    return lines
