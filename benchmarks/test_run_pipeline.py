"""run.py's pipeline on made-up runs (no timing): groups, headline labels, curves and targets
are found through the benchmarks' extra_info, so a new benchmark file is reported without any
edit to run.py; quick runs and partial runs cannot overwrite the committed results."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import _charts
import _markdown
import _results
import pytest
import run
from bench_support import curve, paired_target, ratio_target, slope_target


def _bench(group: str, peer: str, median: float, **extra: Any) -> dict[str, Any]:
    return {
        "group": group,
        "name": f"test_x[{peer}]",
        "stats": {"median": median},
        "extra_info": {"peer": peer, "floor": peer == "floor", **extra},
    }


def _runs() -> list[dict[str, Any]]:
    # a group from a benchmark file run.py has never heard of, with its own targets
    declared = {
        "headline": "new backend",
        "targets": [
            ratio_target("new backend: reference / floor", 2.0),
            paired_target("new backend: bbrl / reference", "bbrl", "reference", 3),
        ],
    }
    line = {"curves": [curve("scaling_new.png", "step vs N", "N")]}
    slope = {"targets": [slope_target("step: slope in N", "step vs N", "reference", "floor", 0.3)]}
    runs = []
    for scale in (1.0, 1.1):
        runs.append(
            {
                "benchmarks": [
                    _bench("backend X", "floor", 1.0 * scale, **declared),
                    _bench("backend X", "reference", 1.5 * scale, **declared),
                    _bench("backend X", "bbrl", 6.0 * scale, **declared),
                    *[
                        _bench(f"step N={n}", peer, t * n, N=n, **line, **slope)
                        for n in (10, 100)
                        for peer, t in (("floor", 1.0), ("reference", 1.0))
                    ],
                ]
            }
        )
    return runs


def test_targets_headlines_and_curves_come_from_the_data(tmp_path: Path) -> None:
    groups = _results.aggregate(_runs())
    assert _results.headlines(groups) == {"new backend": "backend X"}
    targets = {t.name: t for t in _results.targets(groups)}
    assert targets["new backend: reference / floor"].measured == pytest.approx(1.5)
    assert targets["new backend: reference / floor"].status == "met"
    assert targets["new backend: bbrl / reference"].measured == pytest.approx(4.0)
    assert targets["new backend: bbrl / reference"].status == "met"
    assert targets["step: slope in N"].measured == pytest.approx(0.0)
    (panel,) = _results.panels(groups)
    assert (panel.figure, panel.title, sorted(panel.lines)) == (
        "scaling_new.png",
        "step vs N",
        ["floor", "reference"],
    )
    charts = _charts.write_charts(groups, tmp_path / "charts")
    assert [c.name for c in charts] == ["ratios.png", "scaling_new.png"]
    assert all(c.stat().st_size > 0 for c in charts)
    info = {
        "versions": {"torch": "x"},
        "cpu": "cpu",
        "cores": 2,
        "platform": "linux",
        "load_average_start": [0.5],
        "python": "3.11",
        "date": "2026-01-01 00:00 UTC",
    }
    text = _markdown.write_markdown(groups, list(targets.values()), info, 2, [], charts)
    assert "| new backend: bbrl / reference | 4.00 | ≥ 3 | met |" in text
    assert "### backend X" in text and "![scaling_new](charts/scaling_new.png)" in text
    assert "- measured: 2026-01-01 00:00 UTC" in text
    assert "- load average at start: 0.5 (the machine" in text  # older results: no load after
    info["load_average_after_runs"] = [3.1, 4.2]
    text = _markdown.write_markdown(groups, list(targets.values()), info, 2, [], charts)
    assert "- load average at start: 0.5; 1-minute load after each run: 3.1, 4.2 (" in text


def test_a_missing_peer_is_not_measured() -> None:
    groups = _results.aggregate([{"benchmarks": [_bench("g", "floor", 1.0)]}])
    assert math.isnan(_results.paired(groups, "g", "bbrl", "reference"))


def test_only_a_full_run_is_published() -> None:
    assert run.parse_args([]).publish is False
    for bad in (["--publish", "--quick"], ["--publish", "-k", "rollout"]):
        with pytest.raises(SystemExit):
            run.parse_args(bad)
