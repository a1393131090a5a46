"""Generate conformance/KILL_MATRIX.md: each zoo mutant against the clauses whose tests fail.

Usage, from the repository root (``nox -s kill_matrix`` runs the first form):

    python conformance/tools/kill_matrix.py              # run the whole suite on every mutant
    python conformance/tools/kill_matrix.py --missing    # only mutants whose row is missing or
                                                         # whose KILLED_BY changed
    python conformance/tools/kill_matrix.py --check      # exit 1 if the rows do not match the
                                                         # zoo (names, KILLED_BY); runs nothing

Each mutant of ``conformance/meta_tests/mutants/`` (the hand-written zoo, see
``conformance/meta_tests/test_mutants.py``) is run against the WHOLE suite, in its usual order,
with the ``mutants`` profile and no deviations, in its own process; its row gives the clauses it
is expected to be killed by (``KILLED_BY``), the clause the first failing test names, and every
clause with a failing test. (The meta test runs only the tests of ``KILLED_BY``, for speed; this
is the full picture.)
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bbrl_conformance._clauses import registry

ROOT = Path(__file__).resolve().parents[2]
META_DIR = ROOT / "conformance" / "meta_tests"
MUTANTS_DIR = META_DIR / "mutants"
MATRIX = ROOT / "conformance" / "KILL_MATRIX.md"
ROW = re.compile(r"^\| `(?P<name>[a-z0-9_]+)` \|(?P<cells>.*)\|$")


@dataclass
class ZooMutant:
    """A mutant module as its source declares it (read without importing it)."""

    name: str
    what: str
    killed_by: list[str]


@dataclass
class Row:
    name: str
    what: str
    killed_by: list[str]
    first: str = ""  # the clause the first failing test names ("" if none failed)
    failing: list[str] = field(default_factory=list)

    @property
    def killed_as_expected(self) -> bool:
        return bool(self.killed_by) and set(self.killed_by) <= set(self.failing)


def zoo() -> list[ZooMutant]:
    """The zoo's mutants, sorted by name, from their sources (docstring and KILLED_BY)."""
    found = []
    for path in sorted(MUTANTS_DIR.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        tree = ast.parse(path.read_text())
        doc = ast.get_docstring(tree) or ""
        what = " ".join(doc.split("\n\n")[0].split())
        killed_by: list[str] = []
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "KILLED_BY" for t in node.targets)
                and isinstance(node.value, ast.List)
            ):
                killed_by = [str(ast.literal_eval(e)) for e in node.value.elts]
        found.append(ZooMutant(path.stem, what, killed_by))
    return found


#: seconds one mutant's run may take (the whole suite takes about 1 min here); a mutant that
#: makes the suite hang gets the row "timeout" instead of stalling the matrix
TIMEOUT = 1200


def run_mutant(mutant: ZooMutant, timeout: float = TIMEOUT) -> Row:
    """Run the whole suite against one mutant; read its report."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("BBRL_CONFORMANCE_IMPL",)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(META_DIR), env.get("PYTHONPATH")]))
        env.pop("HYPOTHESIS_PROFILE", None)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bbrl_conformance",
                "--impl",
                f"mutants.{mutant.name}",
                "--no-deviations",
                "--profile",
                "mutants",
                "--report",
                tmp,
                "--",
                "-q",
                "-p",
                "no:randomly",
            ],
            cwd=tmp,
            env=env,
            capture_output=True,
            check=False,
            timeout=timeout,
        )
        report_file = Path(tmp) / "report.json"
        if not report_file.is_file():
            raise RuntimeError(f"the suite wrote no report for mutant {mutant.name}")
        report = json.loads(report_file.read_text())
    first = ""
    for test in report["tests"]:  # in the order the tests ran
        if test["outcome"] == "failed":
            cited = ",".join(test["clauses"])
            first = test["failed_clause"] or f"exception ({cited})"
            break
    failing = [c["id"] for c in report["clauses"] if c["status"] == "fail"]
    return Row(mutant.name, mutant.what, mutant.killed_by, first, failing)


def read_matrix(path: Path = MATRIX) -> dict[str, Row]:
    """The rows of the committed matrix (its first table)."""
    rows: dict[str, Row] = {}
    if not path.is_file():
        return rows
    for line in path.read_text().splitlines():
        match = ROW.match(line)
        if not match:
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", match.group("cells"))]
        what, killed_by, first, failing = cells[0], cells[1], cells[2], cells[3]
        rows[match.group("name")] = Row(
            match.group("name"),
            what.replace("\\|", "|"),
            _ids(killed_by),
            "" if first == "-" else first,
            _ids(failing),
        )
    return rows


def _ids(cell: str) -> list[str]:
    return [] if cell in ("", "-") else [c.strip() for c in cell.split(",")]


def render(rows: list[Row], when: str) -> str:
    lines = [
        "# Kill matrix of the mutant zoo",
        "",
        "Generated by `python conformance/tools/kill_matrix.py` (`nox -s kill_matrix`); do not",
        f"edit by hand. {when}",
        "",
        "Each row is a hand-written mutant of `conformance/meta_tests/mutants/`: the reference",
        "with one realistic bug. The whole suite ran against it (profile `mutants`, no",
        "deviations). *Expected* is the mutant's `KILLED_BY` (the meta test",
        "`test_mutants.py` checks those clauses fail); *first failing clause* is the clause",
        "that the first failing test named, in the suite's order (`exception (IDs)`: the",
        "implementation raised unexpectedly in a test citing IDs); *failing clauses* lists",
        "every clause with a failing test. ✗ marks a mutant some expected clause did not catch.",
        "",
        "| mutant | what it breaks | expected (KILLED_BY) | first failing clause "
        "| failing clauses | ok |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        what = row.what.replace("|", "\\|")
        ok = "✓" if row.killed_as_expected else "✗"
        lines.append(
            f"| `{row.name}` | {what} | {', '.join(row.killed_by) or '-'} | {row.first or '-'} "
            f"| {', '.join(row.failing) or '-'} | {ok} |"
        )
    by_clause: dict[str, list[str]] = {}
    for row in rows:
        for clause in row.failing:
            by_clause.setdefault(clause, []).append(row.name)
    lines += [
        "",
        "## Clauses and the mutants that fail them",
        "",
        "| clause | mutants |",
        "| --- | --- |",
    ]
    for clause in sorted(by_clause, key=_clause_order):
        lines.append(f"| {clause} | {', '.join(f'`{n}`' for n in by_clause[clause])} |")
    untouched = [
        c.id for c in registry().values() if c.level.startswith("MUST") and c.id not in by_clause
    ]
    lines += [
        "",
        f"MUST clauses that no mutant of the zoo fails ({len(untouched)}): "
        + (", ".join(sorted(untouched, key=_clause_order)) or "none")
        + ".",
    ]
    return "\n".join(lines) + "\n"


def _clause_order(clause: str) -> tuple[str, int]:
    prefix, _, number = clause.partition("-")
    return prefix, int(number) if number.isdigit() else 0


def check(rows: dict[str, Row], mutants: list[ZooMutant]) -> list[str]:
    """Why the committed rows do not describe the zoo (empty when they do)."""
    problems = []
    names = {m.name for m in mutants}
    for m in mutants:
        row = rows.get(m.name)
        if row is None:
            problems.append(f"{m.name}: no row (run kill_matrix.py --missing)")
        elif row.killed_by != m.killed_by:
            problems.append(f"{m.name}: row says KILLED_BY {row.killed_by}, module {m.killed_by}")
    problems += [f"{n}: row of a mutant that is not in the zoo" for n in sorted(set(rows) - names)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--missing", action="store_true", help="run only missing or changed rows")
    mode.add_argument("--check", action="store_true", help="compare rows with the zoo, run none")
    args = parser.parse_args(argv)
    mutants = zoo()
    committed = read_matrix()
    if args.check:
        problems = check(committed, mutants)
        print("\n".join(problems) or f"{MATRIX.name} matches the zoo ({len(mutants)} mutants)")
        return 1 if problems else 0
    rows: list[Row] = []
    start = time.monotonic()
    ran = 0
    for m in mutants:
        old = committed.get(m.name)
        if args.missing and old is not None and old.killed_by == m.killed_by:
            rows.append(Row(m.name, m.what, m.killed_by, old.first, old.failing))
            continue
        try:
            row = run_mutant(m)
        except subprocess.TimeoutExpired:
            row = Row(m.name, m.what, m.killed_by, f"timeout ({TIMEOUT} s)", [])
        ran += 1
        print(f"{m.name}: first {row.first or '-'}; failing {', '.join(row.failing) or '-'}")
        rows.append(row)
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    seconds = time.monotonic() - start
    kept = len(rows) - ran
    when = f"Last run: {date}, {ran} mutants in {seconds:.0f} s" + (
        f" ({kept} rows kept from an earlier run)." if kept else "."
    )
    MATRIX.write_text(render(rows, when))
    missed = [r.name for r in rows if not r.killed_as_expected]
    print(f"wrote {MATRIX}; not killed as expected: {', '.join(missed) or 'none'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
