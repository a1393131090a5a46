"""conformance/KILL_MATRIX.md is up to date with the mutant zoo (cheaply: no mutant is run).

The matrix itself comes from running the whole suite on every mutant
(``python conformance/tools/kill_matrix.py``, ``nox -s kill_matrix``); these tests only check
that its rows name exactly the zoo's mutants with their current ``KILLED_BY``, and that each
row records the mutant killed by those clauses. After adding or changing a mutant, run
``python conformance/tools/kill_matrix.py --missing``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
MUTANTS_DIR = Path(__file__).resolve().parent / "mutants"
NAMES = sorted(p.stem for p in MUTANTS_DIR.glob("*.py") if not p.stem.startswith("_"))
HINT = "regenerate it: python conformance/tools/kill_matrix.py --missing"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "kill_matrix", ROOT / "conformance" / "tools" / "kill_matrix.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["kill_matrix"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kill_matrix() -> ModuleType:
    return _tool()


def _killed_by(name: str) -> list[str]:
    sys.path.insert(0, str(MUTANTS_DIR.parent))
    try:
        return list(importlib.import_module(f"mutants.{name}").KILLED_BY)
    finally:
        sys.path.remove(str(MUTANTS_DIR.parent))


def test_matrix_rows_are_the_zoo_with_its_killed_by(kill_matrix: ModuleType) -> None:
    rows = kill_matrix.read_matrix()
    assert rows, f"{kill_matrix.MATRIX} has no rows: {HINT}"
    committed = {name: row.killed_by for name, row in rows.items()}
    zoo = {name: _killed_by(name) for name in NAMES}
    assert committed == zoo, f"{kill_matrix.MATRIX.name} is out of date: {HINT}"
    # The tool reads KILLED_BY from the sources, without importing: same answer.
    assert {m.name: m.killed_by for m in kill_matrix.zoo()} == zoo
    assert kill_matrix.check(rows, kill_matrix.zoo()) == []


def test_matrix_records_every_mutant_killed_by_its_clauses(kill_matrix: ModuleType) -> None:
    rows = kill_matrix.read_matrix().values()
    missed = {row.name: (row.killed_by, row.failing) for row in rows if not row.killed_as_expected}
    assert not missed, f"rows where an expected clause did not fail: {missed}"
    assert all(row.first for row in rows), "a row with no failing clause"


def test_check_reports_missing_changed_and_extra_rows(kill_matrix: ModuleType) -> None:
    zoo = [kill_matrix.ZooMutant("a", "A.", ["WS-1"]), kill_matrix.ZooMutant("b", "B.", ["WS-2"])]
    rows = {
        "b": kill_matrix.Row("b", "B.", ["WS-3"], "WS-3", ["WS-3"]),
        "c": kill_matrix.Row("c", "C.", ["WS-1"], "WS-1", ["WS-1"]),
    }
    problems = kill_matrix.check(rows, zoo)
    assert len(problems) == 3
    assert problems[0].startswith("a: no row")
    assert problems[1].startswith("b: row says KILLED_BY ['WS-3']")
    assert problems[2].startswith("c: row of a mutant that is not in the zoo")


def test_render_and_read_round_trip(kill_matrix: ModuleType, tmp_path: Path) -> None:
    rows = [
        kill_matrix.Row("ws_x", "Breaks a | b.", ["WS-1", "WS-2"], "WS-2", ["WS-1", "WS-2"]),
        kill_matrix.Row("ws_y", "Raises.", ["TR-5"], "exception (TR-5)", ["TR-5"]),
        kill_matrix.Row("ws_z", "Survives.", ["RB-1"], "", []),
    ]
    path = tmp_path / "matrix.md"
    path.write_text(kill_matrix.render(rows, "Last run: today."))
    read = kill_matrix.read_matrix(path)
    assert list(read) == ["ws_x", "ws_y", "ws_z"]
    for row in rows:
        got = read[row.name]
        assert (got.what, got.killed_by, got.first, got.failing) == (
            row.what,
            row.killed_by,
            row.first,
            row.failing,
        )
    assert [r.killed_as_expected for r in read.values()] == [True, True, False]
    assert "| `ws_z` | Survives. | RB-1 | - | - | ✗ |" in path.read_text()
