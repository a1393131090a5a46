"""Known deviations: parsing, and strictness end to end (an unexpected pass fails the run, and
so does an entry naming no existing test or clause)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bbrl_conformance._deviations import (
    DeviationsError,
    load_deviations,
    parse_deviations,
)

# a module whose make_env does not take the spec's arguments: one test (ENV-1) fails
MISSING = ["--impl", "impls.broken_make_env", "--clauses", "AG-1"]
LEDGER_OK = """
[[deviation]]
test = "test_surface.py::test_required_name_is_exported[make_env]"
reason = "no make_env"

[[deviation]]
test = "test_surface.py::test_make_env_is_callable_with_the_spec_call_shape"
reason = "no make_env"
issue = "https://example.org/issue/1"
"""


def _ledger(tmp_path: Path, text: str) -> str:
    path = tmp_path / "ledger.toml"
    path.write_text(text)
    return str(path)


def test_parse_entries() -> None:
    entries = parse_deviations(
        LEDGER_OK + '\n[[deviation]]\nclause = "WS-16"\nreason = "B1"\n', "x"
    )
    assert [e.target for e in entries] == [
        "test test_surface.py::test_required_name_is_exported[make_env]",
        "test test_surface.py::test_make_env_is_callable_with_the_spec_call_shape",
        "clause WS-16",
    ]
    assert entries[1].issue == "https://example.org/issue/1"
    assert entries[2].matches("test_ws.py::t[1]", ["WS-15", "WS-16"])
    assert not entries[2].matches("test_ws.py::t[1]", ["WS-15"])
    param = parse_deviations('[[deviation]]\ntest = "m.py::t"\nreason = "r"\n', "x")[0]
    assert param.matches("m.py::t[3-a]", []) and param.matches("m.py::t", [])
    assert not param.matches("m.py::t_other", [])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[deviation]]\nreason = "r"\n', "exactly one of 'test' or 'clause'"),
        ('[[deviation]]\ntest = "m.py::t"\nclause = "WS-1"\nreason = "r"\n', "exactly one"),
        ('[[deviation]]\ntest = "m.py::t"\n', "'reason' is required"),
        ('[[deviation]]\ntest = "m.py::t"\nreason = ""\n', "non-empty string"),
        ('[[deviation]]\ntest = "t"\nreason = "r"\n', "test_module.py::test_name"),
        ('[[deviation]]\ntest = "m.py::t"\nreason = "r"\nwhy = 1\n', "unknown keys"),
        ("[other]\nx = 1\n", r"only \[\[deviation\]\] tables"),
        ("[[deviation]\n", "not valid TOML"),
    ],
)
def test_malformed_entries_are_errors(text: str, message: str) -> None:
    with pytest.raises(DeviationsError, match=message):
        parse_deviations(text, "ledger.toml")


def test_shipped_bbrl_ledger_parses() -> None:
    entries = load_deviations("bbrl")
    assert all(e.reason for e in entries)


#: the ledger of impls.broken_make_env
LEDGER_BROKEN = """
[[deviation]]
test = "test_surface.py::test_make_env_is_callable_with_the_spec_call_shape"
reason = "make_env takes no arguments"
issue = "https://example.org/issue/1"

[[deviation]]
test = "test_programs_generated.py::test_generated_programs"
reason = "make_env takes no arguments: the generated programs' env agents cannot be built"
"""


def test_listed_failures_make_the_run_pass(suite: Any, tmp_path: Path) -> None:
    assert suite(MISSING).returncode == 1  # the baseline: without a ledger the run fails
    run = suite([*MISSING, "--deviations", _ledger(tmp_path, LEDGER_BROKEN)])
    assert run.returncode == 0, run.output
    assert run.clause_status("ENV-1") == "known-deviation"
    assert run.clause_status("AG-1") == "blocked"  # its test failed on ENV-1 first


def test_unexpected_pass_fails_the_run(suite: Any, tmp_path: Path) -> None:
    text = LEDGER_BROKEN + (
        '\n[[deviation]]\ntest = "test_surface.py::test_required_name_is_exported[Workspace]"\n'
        'reason = "wrongly listed"\n'
    )
    run = suite([*MISSING, "--deviations", _ledger(tmp_path, text)])
    assert run.returncode == 1, run.output
    assert "XPASS(strict)" in run.output


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('test = "test_surface.py::test_no_such_test"', "no such test in the suite"),
        ('test = "test_no_such_module.py::test_x"', "no such test in the suite"),
        ('clause = "ZZ-1"', "no such clause in the registry"),
    ],
)
def test_stale_entry_fails_the_run(suite: Any, tmp_path: Path, entry: str, message: str) -> None:
    text = LEDGER_BROKEN + f'\n[[deviation]]\n{entry}\nreason = "stale"\n'
    run = suite([*MISSING, "--deviations", _ledger(tmp_path, text)])
    assert run.returncode == 1, run.output
    assert "STALE DEVIATION (fails the run)" in run.output and message in run.output
    assert run.report is not None and len(run.report["ledger_errors"]) == 1


def test_no_deviations_ignores_the_default_ledger(suite: Any) -> None:
    run = suite(["--impl", "impls.broken_make_env", "--no-deviations", "--clauses", "AG-1"])
    assert run.report is not None and run.report["deviation_files"] == []
    assert run.returncode == 1
