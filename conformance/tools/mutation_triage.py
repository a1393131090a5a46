"""Merge a mutation run's survivors into the triage file and compute the mutation score.

Usage, from the repository root, after ``python conformance/tools/mutation.py run``:

    python conformance/tools/mutation_triage.py            # merge, write triage.toml, report
    python conformance/tools/mutation_triage.py --check    # also exit 1 while anything is open

Every surviving mutant of the run gets an entry in ``conformance/mutation/triage.toml``, keyed
stably by (file, function, the changed source lines before and after, occurrence); mutmut's
numbered names are not used, since they shift when a function changes. A new survivor enters as
``untriaged``; a person then sets its status:

- ``equivalent``: no program observing only what the spec fixes can tell it from the
  reference (``reason`` says why; ``@name`` refers to a shared reason in ``[reasons]``);
- ``needs-test``: it violates an existing clause (``clause``) that no test checks well
  enough yet (``sketch``: the test that would kill it);
- ``spec-gap``: the spec does not fix the behaviour it changes (``clause``: the clause to
  add, ``sketch``: its test);
- ``killed-by-new-test``: a test written for it kills it now (``test``: which).

The merge keeps the verdicts of unchanged mutants and flags what a person must look at: new
survivors, an entry that the run contradicts (an ``equivalent`` mutant that a test kills, a
``killed-by-new-test`` one that survives), entries whose mutant no longer exists (the code
changed) and canaries with the wrong outcome. Untriaged entries whose mutant is now killed or
gone are dropped; other stale entries are kept and flagged.

Score = killed / (tested - equivalent), over the mutants the run tested (killed includes
timeouts, reported separately). The target (issue 14) is at least 90%.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "build" / "mutation" / "results.json"
TRIAGE = ROOT / "conformance" / "mutation" / "triage.toml"
TARGET = 0.90

KILLED = {"killed", "timeout", "segfault"}
SURVIVED = {"survived", "no tests", "suspicious"}
STATUSES = ("untriaged", "equivalent", "needs-test", "spec-gap", "killed-by-new-test")
OPEN = {"untriaged", "needs-test", "spec-gap"}
#: Fields of an entry, in the order they are written; the first five are the key.
KEY_FIELDS = ("file", "function", "before", "after", "occurrence")
FIELDS = (*KEY_FIELDS, "line", "mutmut_status", "status", "reason", "clause", "sketch", "test")

HEADER = """\
# Triage of the mutants of reference/bbrl_reference that the conformance suite does not kill.
#
# Written by conformance/tools/mutation_triage.py from a run of conformance/tools/mutation.py
# (nox -s mutants, nox -s mutants_full); see conformance/mutation/README.md. Edit the status,
# reason, clause, sketch and test of an entry by hand; the merge keeps them while the mutant
# (file, function, before, after, occurrence) exists, and rewrites everything else, in order.
# status: untriaged | equivalent (reason) | needs-test (clause, sketch) |
#         spec-gap (clause to add, sketch) | killed-by-new-test (test)
# A [[canary]] is a mutant every run includes, with the outcome a sound setup must report.
"""

Key = tuple[str, str, str, str, int]


def entry_key(entry: dict[str, Any]) -> Key:
    return (
        str(entry["file"]),
        str(entry["function"]),
        str(entry["before"]),
        str(entry["after"]),
        int(entry.get("occurrence", 1)),
    )


@dataclass
class Triage:
    reasons: dict[str, str] = field(default_factory=dict)
    canaries: list[dict[str, Any]] = field(default_factory=list)
    entries: dict[Key, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Triage:
        if not path.is_file():
            return cls()
        data = tomllib.loads(path.read_text())
        triage = cls(dict(data.get("reasons", {})), list(data.get("canary", [])))
        for entry in data.get("mutant", []):
            status = entry.get("status")
            if status not in STATUSES:
                raise ValueError(f"{path}: {entry_key(entry)}: unknown status {status!r}")
            triage.entries[entry_key(entry)] = dict(entry)
        return triage

    def reason_of(self, entry: dict[str, Any]) -> str:
        reason = str(entry.get("reason", ""))
        return self.reasons.get(reason[1:], reason) if reason.startswith("@") else reason

    def dump(self) -> str:
        out = [HEADER]
        if self.reasons:
            out.append("[reasons]")
            out += [f"{_bare_or_quoted(k)} = {_s(v)}" for k, v in sorted(self.reasons.items())]
            out.append("")
        for canary in self.canaries:
            out.append("[[canary]]")
            out += [f"{k} = {_s(v)}" for k, v in canary.items()]
            out.append("")
        order = sorted(
            self.entries.values(), key=lambda e: (e["file"], e.get("line", 0), *entry_key(e))
        )
        for entry in order:
            out.append("[[mutant]]")
            for name in FIELDS:
                value = entry.get(name)
                # a key field is always written: a mutant may delete a line ("after" = "")
                if name in KEY_FIELDS[:4] and value is not None:
                    out.append(f"{name} = {_s(value)}")
                    continue
                if value is None or value == "" or (name == "occurrence" and value == 1):
                    continue
                out.append(f"{name} = {_s(value)}")
            out.append("")
        return "\n".join(out)


def _s(value: object) -> str:
    # JSON strings and integers are valid TOML values.
    return json.dumps(value, ensure_ascii=False)


def _bare_or_quoted(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() else _s(key)


@dataclass
class Merge:
    """What a merge found: counts for the score and the lines a person must read."""

    tested: int = 0
    killed: int = 0
    timeouts: int = 0
    equivalent: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    flags: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        denominator = self.tested - self.equivalent
        return self.killed / denominator if denominator else 1.0


def where(m: dict[str, Any]) -> str:
    change = " / ".join(m["before"].splitlines()) + "  ->  " + " / ".join(m["after"].splitlines())
    return f"reference/{m['file']}:{m.get('line', '?')} {m['function']}: {change}"


def merge(results: dict[str, Any], triage: Triage) -> Merge:
    """Update ``triage`` in place from a run's ``results``; return the counts and flags."""
    found = Merge()
    mutants = results["mutants"]
    generated = {entry_key(m): m for m in mutants}
    for m in mutants:
        status = m["status"]
        if status not in KILLED and status not in SURVIVED:
            continue  # not part of this run (sampled out)
        found.tested += 1
        key = entry_key(m)
        entry = triage.entries.get(key)
        if status in KILLED:
            found.killed += 1
            found.timeouts += status == "timeout"
            if entry is None:
                continue
            verdict = entry["status"]
            if verdict == "untriaged":
                del triage.entries[key]
            elif verdict == "equivalent":
                found.flags.append(f"EQUIVALENT BUT KILLED ({status}): {where(m)}")
            elif verdict in ("needs-test", "spec-gap"):
                found.flags.append(
                    f"NOW KILLED (set killed-by-new-test, name the test): {where(m)}"
                )
            if key in triage.entries:
                triage.entries[key].update(line=m["line"], mutmut_status=status)
            continue
        if entry is None:
            entry = {k: m[k] for k in (*KEY_FIELDS, "line")}
            entry["status"] = "untriaged"
            triage.entries[key] = entry
        entry.update(line=m["line"], mutmut_status=status)
        verdict = entry["status"]
        if verdict == "equivalent":
            found.equivalent += 1
        if verdict == "killed-by-new-test":
            found.flags.append(f"SURVIVED ALTHOUGH {entry.get('test')} SHOULD KILL IT: {where(m)}")
        found.by_status[verdict] += 1
    for key, entry in list(triage.entries.items()):
        if key in generated:
            continue
        if entry["status"] == "untriaged":
            del triage.entries[key]
        else:
            found.flags.append(f"VANISHED (the code changed: delete or re-key): {where(entry)}")
    check_canaries(triage, generated, found)
    return found


def check_canaries(triage: Triage, generated: dict[Key, dict[str, Any]], found: Merge) -> None:
    for canary in triage.canaries:
        m = generated.get(entry_key(canary))
        if m is None:
            found.flags.append(f"CANARY VANISHED (pick another): {where(canary)}")
            continue
        outcome = "killed" if m["status"] in KILLED else "survived"
        if m["status"] not in KILLED | SURVIVED:
            found.errors.append(f"CANARY NOT RUN: {where(m)}")
        elif outcome != canary["expect"]:
            found.errors.append(
                f"CANARY {outcome.upper()}, EXPECTED {canary['expect']} (the setup is unsound: "
                f"the tests do not see the mutants, or see them wrongly): {where(m)}"
            )


def report(results: dict[str, Any], triage: Triage, found: Merge, lines: Iterable[str]) -> None:
    mode = results["mode"]
    sample = "" if mode == "all" else f" (sample of {results['sample']}, seed {results['seed']})"
    print(f"mutation run of {results['date']}{sample}: {found.tested} mutants tested")
    print(
        f"killed {found.killed} (of which {found.timeouts} by timeout), equivalent "
        f"{found.equivalent}, open: "
        + (", ".join(f"{n} {s}" for s, n in sorted(found.by_status.items()) if s in OPEN) or "none")
    )
    print(
        f"score: killed / (tested - equivalent) = {found.killed} / "
        f"{found.tested - found.equivalent} = {found.score:.1%} (target {TARGET:.0%})"
    )
    for line in lines:
        print(line)


def open_survivors(triage: Triage, results: dict[str, Any]) -> list[str]:
    tested = {entry_key(m) for m in results["mutants"] if m["status"] in SURVIVED}
    lines = []
    for key, entry in sorted(
        triage.entries.items(), key=lambda kv: (kv[0][0], kv[1].get("line", 0))
    ):
        if key in tested and entry["status"] in OPEN:
            extra = f" [{entry.get('clause', '')}]" if entry.get("clause") else ""
            lines.append(f"  {entry['status']}{extra}: {where(entry)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--triage-file", type=Path, default=TRIAGE)
    parser.add_argument("--check", action="store_true", help="exit 1 while anything is open")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    triage = Triage.load(args.triage_file)
    found = merge(results, triage)
    args.triage_file.parent.mkdir(parents=True, exist_ok=True)
    args.triage_file.write_text(triage.dump())
    lines = open_survivors(triage, results)
    report(results, triage, found, [*lines, *found.flags, *found.errors])
    if found.errors:
        return 2
    if args.check and (lines or found.flags or found.score < TARGET):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
