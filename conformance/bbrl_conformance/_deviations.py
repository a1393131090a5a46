"""Known deviations: a strict ledger of the suite's tests or clauses an implementation fails.

Format (TOML), one table per entry::

    [[deviation]]
    test = "test_workspace.py::test_copy_n_last_steps_only_named"   # or: clause = "WS-12"
    reason = "B1: copy_n_last_steps ignores var_names"
    issue = "https://github.com/osigaud/bbrl/issues/..."           # optional

``test`` is ``<module file>::<test name>`` and matches every parametrization of that test;
``clause`` matches every test citing that clause ID. Each matched test is marked
``xfail(strict=True)``: it must fail. An entry that matches no existing test (or names a clause
that is not in the registry or cited by no test) is stale, and a stale entry fails the run.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

_KEYS = {"test", "clause", "reason", "issue"}


class DeviationsError(ValueError):
    """A deviations file cannot be read or has a malformed entry."""


@dataclass(frozen=True)
class Deviation:
    """One ledger entry: a test or a clause expected to fail, and why."""

    test: str | None
    clause: str | None
    reason: str
    issue: str | None
    source: str

    @property
    def target(self) -> str:
        return f"test {self.test}" if self.test is not None else f"clause {self.clause}"

    def matches(self, test_id: str, clause_ids: list[str]) -> bool:
        """Whether the test with stable id ``test_id`` citing ``clause_ids`` is covered."""
        if self.test is not None:
            return test_id == self.test or test_id.startswith((self.test + "[", self.test + "::"))
        return self.clause in clause_ids


def parse_deviations(text: str, source: str) -> list[Deviation]:
    """Parse the TOML text of a deviations file; DeviationsError names the bad entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeviationsError(f"{source}: not valid TOML: {exc}") from exc
    extra = set(data) - {"deviation"}
    if extra:
        raise DeviationsError(
            f"{source}: expected only [[deviation]] tables, got keys {sorted(extra)}"
        )
    entries = data.get("deviation", [])
    if not isinstance(entries, list):
        raise DeviationsError(f"{source}: 'deviation' must be an array of tables ([[deviation]])")
    result: list[Deviation] = []
    for index, entry in enumerate(entries):
        where = f"{source}: deviation #{index + 1}"
        unknown = set(entry) - _KEYS
        if unknown:
            raise DeviationsError(f"{where}: unknown keys {sorted(unknown)}")
        test, clause_id = entry.get("test"), entry.get("clause")
        if (test is None) == (clause_id is None):
            raise DeviationsError(f"{where}: expected exactly one of 'test' or 'clause'")
        for key in ("test", "clause", "reason", "issue"):
            value = entry.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise DeviationsError(f"{where}: '{key}' must be a non-empty string, got {value!r}")
        if entry.get("reason") is None:
            raise DeviationsError(f"{where}: 'reason' is required")
        if test is not None and "::" not in test:
            raise DeviationsError(
                f"{where}: 'test' must look like 'test_module.py::test_name', got {test!r}"
            )
        result.append(Deviation(test, clause_id, entry["reason"], entry.get("issue"), source))
    return result


def resolve_deviations_file(name: str) -> Path:
    """A path, or the name of a file shipped in ``bbrl_conformance/deviations/`` (``bbrl``)."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = resources.files("bbrl_conformance").joinpath("deviations", f"{name}.toml")
    if shipped.is_file():
        return Path(str(shipped))
    raise DeviationsError(
        f"deviations: expected a file or the name of a shipped ledger, got {name!r} (no such file)"
    )


def load_deviations(name: str) -> list[Deviation]:
    """Read and parse a deviations file given by path or shipped name."""
    path = resolve_deviations_file(name)
    return parse_deviations(path.read_text(encoding="utf-8"), str(path))
