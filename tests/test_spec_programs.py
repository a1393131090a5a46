"""spec/README.md, "Programs that run unchanged": the table states exactly what is true.

The table must list exactly the programs of ``bbrl_conformance.programs.PROGRAMS``, with the
calls beyond the core each one makes, and its last two columns must be exact: a program marked
``yes`` passes against that implementation (the reference, bbrl 1.0.1), and one marked otherwise
fails against it (so the table cannot lag behind when a program starts to pass).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from bbrl_conformance import programs

SPEC_README = Path(__file__).resolve().parents[1] / "spec" / "README.md"
HEADING = "## Programs that run unchanged"
IMPLEMENTATIONS = {"reference": "bbrl_reference", "bbrl 1.0.1": "bbrl_conformance.adapters.bbrl"}


def table() -> dict[str, dict[str, str]]:
    """The rows of the table under HEADING, by program name, as {column: cell}."""
    text = SPEC_README.read_text(encoding="utf-8")
    assert HEADING in text, f"spec/README.md has no section {HEADING!r}"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows: dict[str, dict[str, str]] = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == len(header), line
        row = dict(zip(header, cells, strict=True))
        name = re.fullmatch(r"`(\w+)`", row["program"])
        assert name, f"program cell must be a `name`: {row['program']!r}"
        assert name.group(1) not in rows, f"{name.group(1)} listed twice"
        rows[name.group(1)] = row
    return rows


def test_table_lists_exactly_the_programs() -> None:
    assert list(table()) == list(programs.PROGRAMS)


def test_table_gives_each_programs_calls_beyond_the_core() -> None:
    for name, row in table().items():
        program = programs.PROGRAMS[name]
        assert row["what it runs"] == program.summary, name
        assert row["calls beyond the core"] == ", ".join(program.beyond_core), name


@pytest.mark.parametrize("column", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("name", list(programs.PROGRAMS))
def test_program_runs_exactly_where_the_table_says(name: str, column: str) -> None:
    module = IMPLEMENTATIONS[column]
    if module.startswith("bbrl_conformance.adapters.bbrl"):
        pytest.importorskip("bbrl")
    impl = importlib.import_module(module)
    claimed = table()[name][column]
    error: BaseException | None = None
    try:
        programs.run(name, impl)
    except Exception as exc:  # a ConformanceFailure or any error: the program does not run
        error = exc
    if claimed == "yes":
        assert error is None, f"{name} is listed as running on {column} but fails: {error}"
    else:
        assert error is not None, (
            f"{name} now runs on {column}: say `yes` in spec/README.md (it says {claimed!r})"
        )
