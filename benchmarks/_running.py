"""Running the benchmarks: the pytest-benchmark runs, the machine facts, the profile."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGES = (
    "torch",
    "gymnasium",
    "numpy",
    "bbrl-spec",
    "bbrl",
    "torchrl",
    "tensordict",
    "pytest-benchmark",
    "matplotlib",
)


def run_pytest(index: int, args: argparse.Namespace, out_dir: Path) -> Path:
    """One pytest-benchmark run over benchmarks/; returns its JSON file (in ``out_dir``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"run-{index}.json"
    env = dict(os.environ)
    env["BBRL_BENCH_FULL"] = "0" if args.quick else "1"
    env["BBRL_BENCH_ORDER"] = "reverse" if index % 2 else "forward"
    # large allocations from the heap and never trimmed: no page-fault storms whose presence
    # depends on the allocation history of the process (same setting for every peer)
    env.setdefault("MALLOC_MMAP_THRESHOLD_", str(2**30))
    env.setdefault("MALLOC_TRIM_THRESHOLD_", str(2**30))
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(HERE),
        "-q",
        "-p",
        "no:cacheprovider",
        "--benchmark-enable",
        "--benchmark-only",
        f"--benchmark-json={out}",
        f"--benchmark-min-rounds={args.min_rounds}",
        f"--benchmark-max-time={args.max_time}",
        f"--benchmark-min-time={args.min_time}",
        f"--benchmark-timer={args.timer}",
        "--benchmark-warmup=on",
        "--benchmark-warmup-iterations=1",
        "--benchmark-columns=median,iqr,rounds,iterations",
        "--benchmark-sort=name",
        "--durations=15",
    ]
    if args.k:
        cmd += ["-k", args.k]
    print(f"[run {index + 1}/{args.repeats}] order={env['BBRL_BENCH_ORDER']}", flush=True)
    log = out_dir / f"run-{index}.log"
    with log.open("w") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    tail = log.read_text().splitlines()[-3:]
    print("    " + "\n    ".join(tail), flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"pytest failed (exit {proc.returncode}); see {log}")
    return out


def machine_info() -> dict[str, Any]:
    """CPU, cores, platform, load average now and the versions of the peers."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


PROFILE_INTRO = """
## Where the reference spends its time

`python benchmarks/profile_reference.py` (cProfile, so absolute times are inflated; the shares
are what matter). `builtins` are C functions, mostly torch and numpy methods.
"""


def run_profile(quick: bool) -> str:
    """The output of profile_reference.py (run in a subprocess with the same mode)."""
    print("[profile] cProfile of the reference", flush=True)
    env = dict(os.environ, BBRL_BENCH_FULL="0" if quick else "1")
    proc = subprocess.run(
        [sys.executable, str(HERE / "profile_reference.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return (
            f"\nprofile_reference.py failed (exit {proc.returncode}):\n\n    {proc.stderr[-500:]}\n"
        )
    return proc.stdout


def skipped_lines(out_dir: Path) -> list[str]:
    """The distinct ``SKIPPED`` summary lines of the pytest logs (peers not installed)."""
    lines: set[str] = set()
    for log in sorted(out_dir.glob("run-*.log")):
        for line in log.read_text().splitlines():
            if line.startswith("SKIPPED"):
                lines.add(line.split(": ", 1)[-1] if ": " in line else line)
    return sorted(lines)
