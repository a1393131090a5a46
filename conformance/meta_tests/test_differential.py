"""Differential mode (``python -m bbrl_conformance --impl A --against B``, issue #14 item 8):
an implementation against itself finds nothing (exit 0); the reference against a mutant the
generator catches finds a divergence (exit 1) and prints a reproducer that, run as a script,
shows the two implementations returning different things."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

META_DIR = Path(__file__).resolve().parent


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(META_DIR), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env.pop("BBRL_CONFORMANCE_IMPL", None)
    env.pop("HYPOTHESIS_PROFILE", None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_reference_against_itself_finds_nothing(tmp_path: Path) -> None:
    args = ["--impl", "bbrl_reference", "--against", "bbrl_reference"]
    proc = _run(["-m", "bbrl_conformance", *args, "--max-examples", "5", "--steps", "20"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no divergence between bbrl_reference and bbrl_reference" in proc.stdout


def test_mutant_divergence_has_a_reproducer(tmp_path: Path) -> None:
    script = tmp_path / "repro.py"
    args = ["--impl", "bbrl_reference", "--against", "mutants.ws_negative_t"]
    proc = _run(
        [
            "-m",
            "bbrl_conformance",
            *args,
            "--max-examples",
            "40",  # derandomized: 10 sufficed until the programs drew wide env agents too
            "--steps",
            "20",
            "--no-shrink",
            "--script",
            str(script),
        ],
        tmp_path,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "divergence under " in proc.stdout
    assert "Reproducer (a standalone script):" in proc.stdout
    assert script.read_text(encoding="utf-8") in proc.stdout
    # The reproducer, run alone, prints one line per implementation, and they differ.
    shown = _run([str(script)], tmp_path)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    lines = [line for line in shown.stdout.splitlines() if " -> " in line]
    results = {line.split(" -> ", 1)[0]: line.split(" -> ", 1)[1] for line in lines}
    assert set(results) == {"bbrl_reference", "mutants.ws_negative_t"}, shown.stdout
    assert results["bbrl_reference"] != results["mutants.ws_negative_t"], shown.stdout
