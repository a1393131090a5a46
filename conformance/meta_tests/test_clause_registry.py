"""The clause registry: parsing spec text, and _clauses.json in sync with spec/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bbrl_conformance import _clauses
from bbrl_conformance._clauses import (
    Clause,
    SpecFormatError,
    clause,
    dump_registry,
    parse_spec_dir,
    parse_spec_text,
)

ROOT = Path(__file__).resolve().parents[2]

#: parser input; its IDs are IDs spec/ defines (a two-digit one included), so that tools that
#: look for undefined clause IDs under conformance/ find none here
SAMPLE = """# Sample area

Intro text with **bold** words that is not a clause.

**WS-1** (MUST). A new workspace is empty.

**WS-2** (MUST NOT). A set never
casts silently: the sentence goes on
over three lines.

**ENV-10** (SHOULD NOT). Messages do not lie.

**DET-3** (MAY). Something optional.
*Note.* not a clause.
"""


def test_parse_sample_spec() -> None:
    found = parse_spec_text(SAMPLE, "sample.md")
    assert [(c.id, c.level) for c in found] == [
        ("WS-1", "MUST"),
        ("WS-2", "MUST NOT"),
        ("ENV-10", "SHOULD NOT"),
        ("DET-3", "MAY"),
    ]
    assert found[1].sentence == (
        "A set never casts silently: the sentence goes on over three lines."
    )
    assert found[0] == Clause("WS-1", "MUST", "sample.md", "A new workspace is empty.")
    assert found[3].sentence == "Something optional. *Note.* not a clause."


@pytest.mark.parametrize(
    "bad",
    ["**WS-1** (MUSTN'T). Bad level.", "**WS-1** MUST. No parentheses.", "**WS-1**(MUST). x"],
)
def test_malformed_clause_is_an_error(bad: str) -> None:
    with pytest.raises(SpecFormatError, match="WS-1"):
        parse_spec_text(f"intro\n\n{bad}\n", "bad.md")


def test_duplicate_id_across_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("**WS-1** (MUST). One.\n")
    (tmp_path / "b.md").write_text("**WS-1** (MUST). Two.\n")
    with pytest.raises(SpecFormatError, match="WS-1 defined twice"):
        parse_spec_dir(tmp_path)


def test_dump_round_trips() -> None:
    found = parse_spec_text(SAMPLE, "sample.md")
    assert [Clause(**c) for c in json.loads(dump_registry(found))] == found


def test_clause_marker_rejects_bad_ids() -> None:
    assert clause("WS-4", "ERR-2").args == ("WS-4", "ERR-2")
    with pytest.raises(ValueError, match="ws-4"):
        clause("ws-4")
    with pytest.raises(ValueError, match="at least one"):
        clause()


def test_registry_is_in_sync_with_spec() -> None:
    expected = dump_registry(parse_spec_dir(ROOT / "spec"))
    shipped = (ROOT / "conformance" / "bbrl_conformance" / "_clauses.json").read_text()
    assert shipped == expected, (
        "bbrl_conformance/_clauses.json is out of sync with spec/: run "
        "python conformance/tools/sync_clauses.py"
    )


def test_registry_loads_and_has_every_level() -> None:
    reg = _clauses.registry()
    assert len(reg) >= 1
    assert {c.level for c in reg.values()} <= set(_clauses.LEVELS)
    assert all(cid == c.id for cid, c in reg.items())
    assert _clauses.lookup("ZZ-999").level == "?"
