"""Clause registry: the normative clauses of spec/*.md and the ``clause`` test marker.

The spec is not shipped in the wheel, so the registry travels as ``_clauses.json`` (a list of
``{"id", "level", "file", "sentence"}`` objects), generated from spec/ by
``conformance/tools/sync_clauses.py``. A meta test checks that it is in sync with spec/.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import pytest

LEVELS = ("MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY")

# A clause paragraph starts exactly with `**AREA-n** (LEVEL). sentence...`.
_CLAUSE_START = re.compile(
    r"^\*\*(?P<id>[A-Z]+-\d+)\*\* "
    r"\((?P<level>MUST NOT|MUST|SHOULD NOT|SHOULD|MAY)\)\.\s*(?P<rest>.*)$"
)
# Something that looks like a clause start but is malformed (checked so typos are not dropped).
_LOOKS_LIKE_CLAUSE = re.compile(r"^\*\*[A-Z]+-\d+\*\*")

REGISTRY_FILE = "_clauses.json"


@dataclass(frozen=True)
class Clause:
    """One normative clause of the spec."""

    id: str
    level: str
    file: str
    sentence: str

    def headline(self) -> str:
        """The first line of every failure message: ``WS-4 (MUST): sentence``."""
        return f"{self.id} ({self.level}): {self.sentence}"


class SpecFormatError(ValueError):
    """A spec paragraph looks like a clause but does not follow the clause format."""


def clause(*ids: str) -> pytest.MarkDecorator:
    """Mark a test as covering the given clause IDs: ``@clause("WS-4", "ERR-2")``."""
    if not ids:
        raise ValueError("clause: expected at least one clause ID, got none")
    for clause_id in ids:
        if not re.fullmatch(r"[A-Z]+-\d+", clause_id):
            raise ValueError(f"clause: expected an ID like 'WS-4', got {clause_id!r}")
    return pytest.mark.clause(*ids)


def parse_spec_text(text: str, file: str) -> list[Clause]:
    """Extract the clauses of one spec markdown file.

    A clause is a paragraph (lines up to the next blank line) whose first line starts with
    ``**ID** (LEVEL).``; its sentence is the rest of the paragraph with whitespace collapsed.
    """
    clauses: list[Clause] = []
    paragraphs: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    for para in paragraphs:
        if not para:
            continue
        match = _CLAUSE_START.match(para[0])
        if match is None:
            if _LOOKS_LIKE_CLAUSE.match(para[0]):
                raise SpecFormatError(
                    f"{file}: paragraph {para[0][:60]!r} starts like a clause but does not "
                    "match '**AREA-n** (LEVEL). sentence'"
                )
            continue
        sentence = " ".join([match["rest"], *para[1:]]).strip()
        clauses.append(Clause(match["id"], match["level"], file, sentence))
    return clauses


def parse_spec_dir(spec_dir: Path) -> list[Clause]:
    """All clauses of ``spec_dir/*.md`` in file-name order; duplicate IDs are an error."""
    clauses: list[Clause] = []
    seen: dict[str, str] = {}
    for path in sorted(spec_dir.glob("*.md")):
        for found in parse_spec_text(path.read_text(encoding="utf-8"), path.name):
            if found.id in seen:
                raise SpecFormatError(
                    f"clause {found.id} defined twice: in {seen[found.id]} and {found.file}"
                )
            seen[found.id] = found.file
            clauses.append(found)
    return clauses


def dump_registry(clauses: list[Clause]) -> str:
    """The canonical text of ``_clauses.json`` for these clauses."""
    return json.dumps([asdict(c) for c in clauses], indent=1, ensure_ascii=False) + "\n"


def _registry_text() -> str:
    resource = resources.files("bbrl_conformance").joinpath(REGISTRY_FILE)
    if not resource.is_file():
        return "[]\n"
    return resource.read_text(encoding="utf-8")


@functools.cache
def registry() -> dict[str, Clause]:
    """The shipped clause registry, by ID, in spec order."""
    raw = json.loads(_registry_text())
    return {item["id"]: Clause(**item) for item in raw}


def registry_hash() -> str:
    """sha256 of the shipped registry text (recorded in reports)."""
    return hashlib.sha256(_registry_text().encode("utf-8")).hexdigest()


def lookup(clause_id: str) -> Clause:
    """The registry entry of ``clause_id``, or a placeholder saying it is unknown."""
    found = registry().get(clause_id)
    if found is None:
        return Clause(clause_id, "?", "?", "<clause not in the registry>")
    return found


def clause_ids_of(item: pytest.Item) -> list[str]:
    """The clause IDs cited by a collected test, in mark order, without duplicates."""
    ids: list[str] = []
    for mark in item.iter_markers(name="clause"):
        for clause_id in mark.args:
            if clause_id not in ids:
                ids.append(clause_id)
    return ids
