"""Run the benchmarks and write RESULTS.md, results.json and charts/*.png.

By default everything goes to ``benchmarks/out/`` (git-ignored): a run never touches the
committed results. ``--publish`` writes ``benchmarks/RESULTS.md``, ``results.json`` and
``charts/`` instead (a full run only: quick sizes are a pipeline check, not results).

The pytest-benchmark run over ``benchmarks/`` is repeated ``--repeats`` times, alternating the
test order (forward, reverse, ...). Within one run every peer of a group is measured back to
back; a group's ratios are the peers' medians over the floor's median *of the same run*, and
the reported ratio is the median of those per-run ratios. Raw runs go to ``benchmarks/out/``.

The jobs live in modules next to this file: ``_running`` (pytest runs, machine facts, the
profile), ``_results`` (groups, ratios, curves and targets, all found through the benchmarks'
``extra_info``: see ``bench_support.describe``), ``_markdown`` and ``_charts``.

Usage: python benchmarks/run.py [--repeats 3] [--quick] [--from-json] [--publish] [-k EXPR]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _charts  # noqa: E402
import _markdown  # noqa: E402
import _results  # noqa: E402
import _running  # noqa: E402

OUT = HERE / "out"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="pytest-benchmark runs (default 3)")
    ap.add_argument("--quick", action="store_true", help="quick sizes (checks the pipeline)")
    ap.add_argument("--from-json", action="store_true", help="reuse benchmarks/out/run-*.json")
    ap.add_argument(
        "--publish",
        action="store_true",
        help="write the committed benchmarks/RESULTS.md, results.json and charts/ "
        "(default: benchmarks/out/ only)",
    )
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
    args = ap.parse_args(argv)
    if args.publish and args.quick:
        ap.error("--publish takes a full run: quick sizes are a pipeline check, not results")
    if args.publish and args.k:
        ap.error("--publish takes a full run: -k selects a part of it")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = _running.machine_info()
    print(f"load average at start: {info['load_average_start']}", flush=True)
    if args.from_json:
        paths = sorted(OUT.glob("run-*.json"))
        if not paths:
            raise SystemExit(f"--from-json: no run-*.json in {OUT}")
        info = json.loads((OUT / "machine.json").read_text())
        if args.publish and info.get("quick"):
            raise SystemExit("--publish: the runs in benchmarks/out/ used quick sizes")
    else:
        info["quick"] = args.quick
        info["timer"] = args.timer
        info["date"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        OUT.mkdir(parents=True, exist_ok=True)
        for old in OUT.glob("run-*.json"):
            old.unlink()
        paths = []
        info["load_average_after_runs"] = []  # 1-minute figures: the load during the runs
        for i in range(args.repeats):
            paths.append(_running.run_pytest(i, args, OUT))
            info["load_average_after_runs"].append(round(os.getloadavg()[0], 2))
        (OUT / "machine.json").write_text(json.dumps(info, indent=1))
    runs = [json.loads(p.read_text()) for p in paths]
    groups = _results.aggregate(runs)
    tgts = _results.targets(groups)

    dest = HERE if args.publish else OUT
    charts = _charts.write_charts(groups, dest / "charts")
    markdown = _markdown.write_markdown(
        groups, tgts, info, len(runs), _running.skipped_lines(OUT), charts
    )
    profile = OUT / "profile.md"
    if not args.no_profile and not args.from_json:
        profile.write_text(_running.run_profile(bool(info.get("quick"))))
    if not args.no_profile and profile.exists():
        markdown += _running.PROFILE_INTRO + profile.read_text()
    (dest / "RESULTS.md").write_text(markdown)
    document = _results.results_document(groups, tgts, info, len(runs))
    (dest / "results.json").write_text(json.dumps(document, indent=1) + "\n")
    for t in tgts:
        print(f"{t.status:>12}  {t.name}: {_markdown.fmt_ratio(t.measured)}")
    print(f"wrote {dest / 'RESULTS.md'}, results.json and charts/")
    if not args.publish:
        print("(benchmarks/out/ only; --publish writes the committed results)")


if __name__ == "__main__":
    main()
