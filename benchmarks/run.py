"""Run the full benchmark and write benchmarks/RESULTS.md, results.json and charts/*.png.

The pytest-benchmark run over ``benchmarks/`` is repeated ``--repeats`` times, alternating the
test order (forward, reverse, ...). Within one run every peer of a group is measured back to
back; a group's ratios are the peers' medians over the floor's median *of the same run*, and
the reported ratio is the median of those per-run ratios. Raw JSON goes to ``benchmarks/out/``
(not committed).

Usage: python benchmarks/run.py [--repeats 3] [--quick] [--from-json] [-k EXPR]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
CHARTS = HERE / "charts"
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


# --------------------------------------------------------------------------- running
def run_pytest(index: int, args: argparse.Namespace) -> Path:
    """One pytest-benchmark run; returns its JSON file."""
    OUT.mkdir(exist_ok=True)
    out = OUT / f"run-{index}.json"
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
    log = OUT / f"run-{index}.log"
    with log.open("w") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    tail = log.read_text().splitlines()[-3:]
    print("    " + "\n    ".join(tail), flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"pytest failed (exit {proc.returncode}); see {log}")
    return out


def machine_info() -> dict[str, Any]:
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


# --------------------------------------------------------------------------- aggregation
@dataclass
class Entry:
    """One peer of one group, aggregated over runs."""

    group: str
    peer: str
    medians: list[float]
    ratios: list[float]
    extra: dict[str, Any]

    @property
    def median(self) -> float:
        return statistics.median(self.medians)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios) if self.ratios else math.nan


def aggregate(runs: list[dict[str, Any]]) -> dict[str, dict[str, Entry]]:
    """group -> peer -> Entry, with per-run ratios to the group's floor."""
    groups: dict[str, dict[str, Entry]] = defaultdict(dict)
    for run in runs:
        by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for bench in run["benchmarks"]:
            by_group[bench["group"]].append(bench)
        for group, benches in by_group.items():
            floors = [b for b in benches if b["extra_info"].get("floor")]
            floor = floors[0]["stats"]["median"] if floors else None
            for b in benches:
                peer = b["extra_info"].get("peer", b["name"])
                med = b["stats"]["median"]
                entry = groups[group].setdefault(peer, Entry(group, peer, [], [], {}))
                entry.medians.append(med)
                if floor:
                    entry.ratios.append(med / floor)
                entry.extra = {k: v for k, v in b["extra_info"].items() if k != "peer"}
    return groups


def paired(groups: dict[str, dict[str, Entry]], group: str, slow: str, fast: str) -> float:
    """Median over runs of ``median(slow) / median(fast)`` in ``group`` (nan if missing)."""
    g = groups.get(group, {})
    if slow not in g or fast not in g:
        return math.nan
    pairs = zip(g[slow].medians, g[fast].medians, strict=False)
    return statistics.median(s / f for s, f in pairs)


def find_group(groups: dict[str, Any], prefix: str) -> str:
    """The one group whose name starts with ``prefix`` ('' when none)."""
    names = [g for g in groups if g.startswith(prefix)]
    return names[0] if names else ""


def curve(
    groups: dict[str, dict[str, Entry]],
    prefix: str,
    key: str,
    peer: str,
    fixed: dict[str, Any] | None = None,
) -> list[tuple[float, float]]:
    """(x, median) points of ``peer`` over the groups starting with ``prefix``.

    ``x`` is the ``key`` of the benchmark's extra_info; ``fixed`` keeps only the benchmarks
    whose extra_info has those values (the other sizes of a curve).
    """
    points = []
    for name, entries in groups.items():
        entry = entries.get(peer)
        if not name.startswith(prefix) or entry is None or key not in entry.extra:
            continue
        if all(entry.extra.get(k) == val for k, val in (fixed or {}).items()):
            points.append((float(entry.extra[key]), entry.median))
    return sorted(points)


def loglog_slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(time) on log(size): 0 for O(1), 1 for linear, 2 quadratic."""
    if len(points) < 2:
        return math.nan
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


@dataclass
class Target:
    name: str
    measured: float
    limit: float | None  # None: shown for information
    at_most: bool = True  # measured <= limit, else measured >= limit

    @property
    def status(self) -> str:
        if math.isnan(self.measured):
            return "not measured"
        if self.limit is None:
            return "info"
        ok = self.measured <= self.limit if self.at_most else self.measured >= self.limit
        return "met" if ok else "MISSED"


def targets(groups: dict[str, dict[str, Entry]], sizes: dict[str, Any]) -> list[Target]:
    def ratio(group: str, peer: str) -> float:
        entry = groups.get(group, {}).get(peer)
        return entry.ratio if entry else math.nan

    roll = find_group(groups, "rollout ")
    tr = find_group(groups, f"get_transitions T={sizes['T']} B={sizes['B']}")
    cap = sizes["capacity"]
    put = find_group(groups, f"rb put 256 capacity={cap}")
    smp = find_group(groups, f"rb get_shuffled n=256 capacity={cap}")
    mem = find_group(groups, "rb fill+memory")
    mem_entry = groups.get(mem, {}).get("reference")
    mem_ratio = mem_entry.extra.get("memory_ratio", math.nan) if mem_entry else math.nan
    gf_ref = curve(groups, "get_full", "T", "reference get_full")
    cp_ref = curve(groups, "copy_n_last_steps", "V", "reference")
    cp_floor = curve(groups, "copy_n_last_steps", "V", "floor")
    cp_bbrl = loglog_slope(curve(groups, "copy_n_last_steps", "V", "bbrl")) - loglog_slope(cp_floor)

    def packed(group: str) -> float:
        return paired(groups, group, "reference", "packed floor")

    async_sync = paired(
        groups, find_group(groups, "rollout-heavy"), "reference async", "reference sync"
    )
    out = [
        Target("rollout: reference / raw loop", ratio(roll, "reference"), 1.6, True),
        Target("rollout: bbrl / reference", paired(groups, roll, "bbrl", "reference"), 4, False),
        Target("get_transitions: reference / floor", ratio(tr, "reference"), 1.3, True),
        Target(
            "get_transitions: bbrl / reference", paired(groups, tr, "bbrl", "reference"), 10, False
        ),
        Target("get_full: log-log slope in T (0 = O(1), 1 = O(T))", loglog_slope(gf_ref), 0.25),
        Target(
            "copy_n_last_steps(1): log-log slope in V, reference minus floor (V slice copies)",
            loglog_slope(cp_ref) - loglog_slope(cp_floor),
            0.25,
        ),
        Target("copy_n_last_steps(1): same for bbrl (O(V^2): B1)", cp_bbrl, None),
        Target("rb put: reference / floor", ratio(put, "reference"), 1.5, True),
        Target(
            "rb put: torchrl / reference", paired(groups, put, "torchrl", "reference"), 3, False
        ),
        Target("rb get_shuffled: reference / floor", ratio(smp, "reference"), 1.5, True),
        Target(
            "rb get_shuffled: torchrl / reference",
            paired(groups, smp, "torchrl", "reference"),
            3,
            False,
        ),
        Target("rb memory: bytes held / raw bytes", mem_ratio, 1.2, True),
        Target("stretch: rb put reference / 5-variable floor", ratio(put, "reference"), 0.5, True),
        Target("stretch: rb get_shuffled reference / floor", ratio(smp, "reference"), 0.5, True),
        Target("rb put: reference / packed floor (one copy)", packed(put), None),
        Target("rb get_shuffled: reference / packed floor (one gather)", packed(smp), None),
        Target("rollout heavy: reference async / sync", async_sync, None),
    ]
    return out


# --------------------------------------------------------------------------- output
def natural(text: str) -> list[Any]:
    """Sort key that orders embedded numbers numerically ("V=4" before "V=16")."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def fmt_time(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def fmt_ratio(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.2f}"


def write_markdown(
    groups: dict[str, dict[str, Entry]], tgts: list[Target], info: dict[str, Any], n_runs: int
) -> str:
    v = info["versions"]
    lines = [
        "# Benchmark results",
        "",
        "Generated by `python benchmarks/run.py` (`nox -s bench`); do not edit by hand.",
        "Ratios are to the floor of the same group (the same work as plain torch / gymnasium",
        f"code), measured in the same run; each is the median over {n_runs} runs with alternating",
        "test order. Absolute times depend on the machine; compare ratios.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores; {info['platform']}",
        f"- load average at start: {' '.join(str(x) for x in info['load_average_start'])}"
        " (the machine is shared with other jobs)",
        f"- python {info['python']}, " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"- timer: `{info.get('timer', 'time.process_time')}` (CPU time of the benchmark process:"
        " other jobs on a shared machine do not count), except the rollout-heavy group, timed"
        " with the wall clock (its work runs in worker processes)",
        "- torch runs with 1 thread; pytest-benchmark medians, GC enabled; large allocations"
        " come from the heap (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_` = 1 GiB)",
        "",
        "## Targets (issue 5)",
        "",
        "| target | measured | limit | status |",
        "|---|---:|---:|---|",
    ]
    for t in tgts:
        limit = "" if t.limit is None else f"{'≤' if t.at_most else '≥'} {t.limit:g}"
        lines.append(f"| {t.name} | {fmt_ratio(t.measured)} | {limit} | {t.status} |")
    skipped = skipped_lines()
    if skipped:
        lines += ["", "## Skipped", ""] + [f"- {line}" for line in skipped]
    lines += ["", "## Tables", ""]
    for group in sorted(groups, key=natural):
        entries = sorted(groups[group].values(), key=lambda e: e.median)
        lines += [f"### {group}", "", "| peer | median | ratio to floor | per-run range | extra |"]
        lines.append("|---|---:|---:|---:|---|")
        for e in entries:
            extra = ", ".join(
                f"{k}={val:.3g}" if isinstance(val, float) else f"{k}={val}"
                for k, val in e.extra.items()
                if k not in ("floor", "T", "B", "V", "n", "capacity")
            )
            spread = f"{min(e.ratios):.2f}–{max(e.ratios):.2f}" if e.ratios else "–"
            lines.append(
                f"| {e.peer} | {fmt_time(e.median)} | {fmt_ratio(e.ratio)} | {spread} | {extra} |"
            )
        lines.append("")
    lines += [
        "## Charts",
        "",
        "![ratios](charts/ratios.png)",
        "![get_transitions](charts/scaling_get_transitions.png)",
        "![workspace](charts/scaling_workspace.png)",
        "![replay buffer](charts/scaling_replay.png)",
        "",
    ]
    return "\n".join(lines)


def write_charts(groups: dict[str, dict[str, Entry]], sizes: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    CHARTS.mkdir(exist_ok=True)
    dpi = 80
    cap = sizes["capacity"]
    headline = {
        "rollout": find_group(groups, "rollout "),
        "rollout heavy": find_group(groups, "rollout-heavy"),
        "get_transitions": find_group(groups, f"get_transitions T={sizes['T']} B={sizes['B']}"),
        "rb put": find_group(groups, f"rb put 256 capacity={cap}"),
        "rb get_shuffled": find_group(groups, f"rb get_shuffled n=256 capacity={cap}"),
        "epoch loop": find_group(groups, "epoch loop"),
    }
    peers = sorted({p for g in headline.values() for p in groups.get(g, {})})
    colors = {peer: plt.get_cmap("tab20")(i % 20) for i, peer in enumerate(peers)}
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / max(max((len(groups.get(g, {})) for g in headline.values()), default=1), 1)
    labelled: set[str] = set()
    for j, g in enumerate(headline.values()):
        present = sorted(groups.get(g, {}).values(), key=lambda e: e.ratio)
        for i, entry in enumerate(present):
            if math.isnan(entry.ratio):
                continue
            x = j + (i - (len(present) - 1) / 2) * width
            label = None if entry.peer in labelled else entry.peer
            labelled.add(entry.peer)
            ax.bar(x, entry.ratio, width, color=colors[entry.peer], label=label)
    ax.set_xticks(range(len(headline)), list(headline), fontsize=8)
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylabel("time / floor (log)")
    ax.set_title("Ratio to the floor, same run (lower is better)", fontsize=9)
    if labelled:
        ax.legend(fontsize=6, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(CHARTS / "ratios.png", dpi=dpi)
    plt.close(fig)

    Panel = tuple[str, str, dict[str, Any], str, Iterable[str]]

    def panel(
        ax: Any, prefix: str, key: str, fixed: dict[str, Any], title: str, peers: Iterable[str]
    ) -> None:
        xs: set[float] = set()
        for peer in peers:
            pts = curve(groups, prefix, key, peer, fixed)
            if pts:
                xs.update(p[0] for p in pts)
                # a variant ("reference getitem") takes its peer's colour, dashed
                style = "o-" if peer in colors else "o--"
                line_color = colors.get(peer, colors.get(peer.split(" ")[0]))
                xy = ([p[0] for p in pts], [p[1] for p in pts])
                ax.plot(*xy, style, color=line_color, label=peer)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.minorticks_off()
        ax.set_xticks(sorted(xs), [f"{x:g}" for x in sorted(xs)], fontsize=7)
        ax.set_xlabel(key)
        ax.set_ylabel("median time (s)")
        ax.set_title(title, fontsize=9)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)

    def figure(name: str, panels: list[Panel]) -> None:
        fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
        for ax, spec in zip(axes, panels, strict=True):
            panel(ax, *spec)
        fig.tight_layout()
        fig.savefig(CHARTS / name, dpi=dpi)
        plt.close(fig)

    three = ["floor", "reference", "bbrl"]
    figure(
        "scaling_get_transitions.png",
        [
            (
                "get_transitions",
                "T",
                {"B": sizes["B"]},
                f"get_transitions vs T (B={sizes['B']})",
                three,
            ),
            (
                "get_transitions",
                "B",
                {"T": sizes["T"]},
                f"get_transitions vs B (T={sizes['T']})",
                three,
            ),
        ],
    )
    getters = ["floor dict", "reference get_full", "reference getitem", "bbrl get_full"]
    figure(
        "scaling_workspace.png",
        [
            ("get_full", "T", {}, "get_full per call vs T", getters),
            ("copy_n_last_steps", "V", {}, "copy_n_last_steps(1) vs V", three),
        ],
    )
    rb = ["floor", "packed floor", "reference", "bbrl", "torchrl"]
    figure(
        "scaling_replay.png",
        [
            ("rb put", "capacity", {}, "put 256 vs capacity", rb),
            ("rb get_shuffled", "capacity", {"n": 256}, "get_shuffled(256) vs capacity", rb),
            ("rb get_shuffled", "n", {"capacity": cap}, f"get_shuffled(n), capacity={cap}", rb),
        ],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="pytest-benchmark runs (default 3)")
    ap.add_argument("--quick", action="store_true", help="quick sizes (checks the pipeline)")
    ap.add_argument("--from-json", action="store_true", help="reuse benchmarks/out/run-*.json")
    ap.add_argument("--min-rounds", type=int, default=5)
    ap.add_argument("--max-time", type=float, default=0.3, help="seconds per benchmark")
    ap.add_argument(
        "--min-time", type=float, default=2e-4, help="seconds per round (amortises the timer)"
    )
    ap.add_argument("-k", default="", help="pytest -k expression (partial runs)")
    ap.add_argument(
        "--timer",
        default="time.process_time",
        help="pytest-benchmark timer (default CPU time, robust to other jobs on the machine)",
    )
    ap.add_argument(
        "--no-profile", action="store_true", help="skip the cProfile section of RESULTS.md"
    )
    args = ap.parse_args()

    info = machine_info()
    print(f"load average at start: {info['load_average_start']}", flush=True)
    if args.from_json:
        paths = sorted(OUT.glob("run-*.json"))
        if not paths:
            raise SystemExit(f"--from-json: no run-*.json in {OUT}")
        info = json.loads((OUT / "machine.json").read_text())
    else:
        info["quick"] = args.quick
        info["timer"] = args.timer
        for old in OUT.glob("run-*.json"):
            old.unlink()
        paths = [run_pytest(i, args) for i in range(args.repeats)]
        (OUT / "machine.json").write_text(json.dumps(info, indent=1))
    runs = [json.loads(p.read_text()) for p in paths]
    sizes = sizes_of(bool(info.get("quick")))
    groups = aggregate(runs)
    tgts = targets(groups, sizes)
    markdown = write_markdown(groups, tgts, info, len(runs))
    profile = OUT / "profile.md"
    if not args.no_profile and not args.from_json:
        profile.write_text(run_profile(bool(info.get("quick"))))
    if not args.no_profile and profile.exists():
        markdown += PROFILE_INTRO + profile.read_text()
    (HERE / "RESULTS.md").write_text(markdown)
    results = {
        "machine": info,
        "runs": len(runs),
        "targets": [
            {"name": t.name, "measured": t.measured, "limit": t.limit, "status": t.status}
            for t in tgts
        ],
        "groups": {
            g: {
                p: {"median_s": e.median, "ratio": e.ratio, "run_ratios": e.ratios}
                for p, e in entries.items()
            }
            for g, entries in sorted(groups.items())
        },
    }
    (HERE / "results.json").write_text(json.dumps(no_nan(results), indent=1) + "\n")
    write_charts(groups, sizes)
    for t in tgts:
        print(f"{t.status:>12}  {t.name}: {fmt_ratio(t.measured)}")
    print(f"wrote {HERE / 'RESULTS.md'}, results.json and charts/")


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


def no_nan(obj: Any) -> Any:
    """``obj`` with NaN floats replaced by None (strict JSON)."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: no_nan(val) for k, val in obj.items()}
    if isinstance(obj, list):
        return [no_nan(val) for val in obj]
    return obj


def skipped_lines() -> list[str]:
    """The distinct ``SKIPPED`` summary lines of the pytest logs (peers not installed)."""
    lines: set[str] = set()
    for log in sorted(OUT.glob("run-*.log")):
        for line in log.read_text().splitlines():
            if line.startswith("SKIPPED"):
                lines.add(line.split(": ", 1)[-1] if ": " in line else line)
    return sorted(lines)


def sizes_of(quick: bool) -> dict[str, Any]:
    """The headline sizes of bench_support (imported here to share one definition)."""
    os.environ["BBRL_BENCH_FULL"] = "0" if quick else "1"
    sys.path.insert(0, str(HERE))
    import bench_support

    chosen = bench_support.QUICK_SIZES if quick else bench_support.FULL_SIZES
    return {"T": chosen.T, "B": chosen.B, "capacity": chosen.capacity}


if __name__ == "__main__":
    main()
