"""The mutation-testing tools (conformance/tools/mutation*.py) on made-up data: keys, sampling,
the triage merge and the score. The mutation run itself is `nox -s mutants`."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "conformance" / "tools"


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses, and mutation.py's own import of the triage
    spec.loader.exec_module(module)
    return module


triage_tool = _load("mutation_triage")
mutation = _load("mutation")


def mutant(before: str, status: str, *, after: str = "B", function: str = "f") -> dict[str, Any]:
    return {
        "name": f"m.x_{function}__mutmut_1",
        "file": "bbrl_reference/_m.py",
        "function": function,
        "line": 3,
        "before": before,
        "after": after,
        "occurrence": 1,
        "status": status,
    }


def run_of(*mutants: dict[str, Any]) -> dict[str, Any]:
    return {"mode": "sample", "sample": 10, "seed": 1, "date": "today", "mutants": list(mutants)}


def test_parse_diff_gives_changed_lines_and_offset() -> None:
    diff = "\n".join(
        [
            "--- a.py",
            "+++ a.py",
            "@@ -2,4 +2,4 @@",
            "     x = 1",
            "-    if t < end:",
            "+    if t <= end:",
            "         go()",
        ]
    )
    assert mutation.parse_diff(diff) == ("if t < end:", "if t <= end:", 2)


def test_locate_picks_the_matching_line_nearest_the_offset() -> None:
    lines = ["def f():", "    a = 1", "    b = 2", "    a = 1", "    return a"]
    assert mutation.locate(lines, (1, 5), "a = 1", 3) == 4
    assert mutation.locate(lines, (1, 5), "a = 1", 0) == 2
    assert mutation.locate(lines, (1, 5), "nowhere", 2) == 1


def test_function_spans_cover_methods_and_decorators() -> None:
    source = "class A:\n    @staticmethod\n    def g():\n        return 1\n\ndef f():\n    pass\n"
    assert mutation.function_spans(source) == {"A.g": (2, 4), "f": (6, 7)}


def test_occurrences_number_identical_changes_within_a_function() -> None:
    ms = [mutation.Mutant(f"n{i}", "f.py", "g", i, "x + 1", "x - 1") for i in range(3)]
    ms.append(mutation.Mutant("n3", "f.py", "h", 9, "x + 1", "x - 1"))
    mutation.assign_occurrences(ms)
    assert [m.occurrence for m in ms] == [1, 2, 3, 1]


def test_sample_is_seeded_and_stable_under_other_mutants() -> None:
    ms = [mutation.Mutant(f"n{i}", "f.py", "g", i, f"x{i}", "y") for i in range(50)]
    first = mutation.sample(ms, 10, seed=3)
    assert len(first) == 10 and first == mutation.sample(ms, 10, seed=3)
    assert first != mutation.sample(ms, 10, seed=4)
    # A mutant added elsewhere displaces at most one of the sample.
    more = [*ms, mutation.Mutant("new", "f.py", "k", 1, "z", "w")]
    assert len({m.name for m in first} & {m.name for m in mutation.sample(more, 10, seed=3)}) >= 9


def test_merge_adds_survivors_keeps_verdicts_and_scores() -> None:
    triage = triage_tool.Triage()
    eq = mutant("a = 1", "survived")
    triage.entries[triage_tool.entry_key(eq)] = {**eq, "status": "equivalent", "reason": "why"}
    results = run_of(
        eq,
        mutant("b = 2", "survived"),
        mutant("c = 3", "killed"),
        mutant("d = 4", "timeout"),
        mutant("e = 5", "not checked"),
    )
    found = triage_tool.merge(results, triage)
    assert (found.tested, found.killed, found.timeouts, found.equivalent) == (4, 2, 1, 1)
    assert found.score == pytest.approx(2 / 3)
    statuses = {k[2]: e["status"] for k, e in triage.entries.items()}
    assert statuses == {"a = 1": "equivalent", "b = 2": "untriaged"}
    assert triage.entries[triage_tool.entry_key(eq)]["reason"] == "why"
    assert not found.flags and not found.errors


def test_merge_flags_contradictions_and_vanished_entries() -> None:
    triage = triage_tool.Triage()
    entries = {
        "was equivalent": "equivalent",
        "was open": "needs-test",
        "was untriaged": "untriaged",
        "claimed killed": "killed-by-new-test",
        "gone": "spec-gap",
        "gone untriaged": "untriaged",
    }
    for before, status in entries.items():
        triage.entries[triage_tool.entry_key(mutant(before, ""))] = {
            **mutant(before, ""),
            "status": status,
        }
    results = run_of(
        mutant("was equivalent", "killed"),
        mutant("was open", "killed"),
        mutant("was untriaged", "killed"),
        mutant("claimed killed", "survived"),
    )
    found = triage_tool.merge(results, triage)
    kinds = sorted(flag.split(" ")[0] for flag in found.flags)
    assert kinds == ["EQUIVALENT", "NOW", "SURVIVED", "VANISHED"]
    remaining = {k[2] for k in triage.entries}
    assert remaining == {"was equivalent", "was open", "claimed killed", "gone"}


def test_canaries_catch_an_unsound_setup() -> None:
    triage = triage_tool.Triage()
    triage.canaries = [
        {**mutant("k", ""), "expect": "killed"},
        {**mutant("s", ""), "expect": "survived"},
    ]
    good = triage_tool.merge(run_of(mutant("k", "killed"), mutant("s", "survived")), triage)
    assert not good.errors
    bad = triage_tool.merge(run_of(mutant("k", "survived"), mutant("s", "killed")), triage)
    assert len(bad.errors) == 2 and all("CANARY" in e for e in bad.errors)


def test_dump_round_trips_through_toml(tmp_path: Path) -> None:
    triage = triage_tool.Triage(reasons={"r": "a 'quoted' \"reason\"\nover two lines"})
    m = mutant('print("x")\nreturn 1', "survived", after='print("XXxXX")')
    triage.entries[triage_tool.entry_key(m)] = {**m, "status": "equivalent", "reason": "@r"}
    path = tmp_path / "triage.toml"
    path.write_text(triage.dump())
    tomllib.loads(path.read_text())  # valid TOML
    again = triage_tool.Triage.load(path)
    assert again.reasons == triage.reasons
    (entry,) = again.entries.values()
    assert triage_tool.entry_key(entry) == triage_tool.entry_key(m)
    assert again.reason_of(entry) == triage.reasons["r"]


def test_committed_triage_file_is_valid() -> None:
    triage = triage_tool.Triage.load(triage_tool.TRIAGE)
    assert triage.canaries, "the triage file names no canary"
    for entry in triage.entries.values():
        status = entry["status"]
        if status == "equivalent":
            assert triage_tool.Triage.reason_of(triage, entry), entry
            reason = str(entry["reason"])
            assert not reason.startswith("@") or reason[1:] in triage.reasons, entry
        if status in ("needs-test", "spec-gap"):
            assert entry.get("clause") and entry.get("sketch"), entry
        if status == "killed-by-new-test":
            assert entry.get("test"), entry
