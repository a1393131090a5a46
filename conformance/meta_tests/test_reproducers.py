"""Every reproducer the suite emits shows the bug: run against the mutant that triggered it, it
raises or prints something else than against the reference, and against the reference it runs
without an exception (a reproducer of a required error checks the error itself and says so).

The reproducers are those of the zoo's runs (the same runs as test_mutants.py): every failure of
every failing test, and the one the triage summary shows for each distinct failing clause. Each
is executed in this process, once with ``impl`` the mutant and once the reference, with torch,
numpy and ``random`` seeded alike before each run.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import random
import re
from typing import Any

import numpy as np
import torch

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def _execute(script: str, module: str) -> tuple[str | None, str]:
    """Run ``script`` with ``impl`` = ``module``: (exception type name or None, its stdout)."""
    lines = script.splitlines()
    if lines and lines[0].endswith(" as impl") and lines[0].startswith("import "):
        lines = lines[1:]
    namespace: dict[str, Any] = {"impl": importlib.import_module(module)}
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    out = io.StringIO()
    error: str | None = None
    with contextlib.redirect_stdout(out):
        try:
            exec(compile("\n".join(lines), f"<reproducer against {module}>", "exec"), namespace)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
    return error, _ADDRESS.sub("0x?", out.getvalue())


def _reproducers(report: dict[str, Any]) -> dict[str, str]:
    """Every reproducer of the report, each with where it comes from (deduplicated)."""
    found: dict[str, str] = {}
    for test in report["tests"]:
        if test["outcome"] != "failed":
            continue
        for failure in test["failures"]:
            if failure["reproducer"]:
                found.setdefault(failure["reproducer"], f"{test['id']} ({failure['clause']})")
    for root in report["triage"]:
        if root["reproducer"]:
            found.setdefault(root["reproducer"], f"triage of {root['clause']}")
    return found


def test_every_reproducer_shows_its_mutants_bug(mutant_run: Any, mutant_name: str) -> None:
    run = mutant_run(mutant_name)
    assert run.report is not None, run.output
    scripts = _reproducers(run.report)
    failed = [t for t in run.report["tests"] if t["outcome"] == "failed"]
    if any(f["clause"] for t in failed for f in t["failures"]):
        # each distinct failing clause comes with a reproducer
        assert run.report["triage"], run.output
        assert all(root["reproducer"] for root in run.report["triage"]), run.report["triage"]
    else:  # only exceptions raised inside the implementation: no reproducer to check
        assert failed and not scripts, run.output
    problems = []
    for script, origin in scripts.items():
        reference = _execute(script, "bbrl_reference")
        mutant = _execute(script, f"mutants.{mutant_name}")
        if reference[0] is not None:
            problems.append(f"{origin}: raises against the reference: {reference[0]}\n{script}")
        elif mutant == reference:
            problems.append(f"{origin}: same output against mutant and reference\n{script}")
    assert not problems, "\n\n".join(problems)
