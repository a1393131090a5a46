"""From raw pytest-benchmark runs to results: groups of peers, ratios, curves and targets.

Everything is found through the benchmarks' ``extra_info`` (see ``bench_support.describe``):
``peer`` and ``floor`` name a group's members, ``headline`` labels a group of the headline
chart, ``targets`` are the checks a group declares, ``curves`` the chart panels a point is on.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


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


Groups = dict[str, dict[str, Entry]]


def aggregate(runs: list[dict[str, Any]]) -> Groups:
    """group -> peer -> Entry, with per-run ratios to the group's floor."""
    groups: Groups = defaultdict(dict)
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
    return dict(groups)


def paired(groups: Groups, group: str, slow: str, fast: str) -> float:
    """Median over runs of ``median(slow) / median(fast)`` in ``group`` (nan if missing)."""
    g = groups.get(group, {})
    if slow not in g or fast not in g:
        return math.nan
    pairs = zip(g[slow].medians, g[fast].medians, strict=False)
    return statistics.median(s / f for s, f in pairs)


def headlines(groups: Groups) -> dict[str, str]:
    """label -> group, for the groups whose benchmarks declare a ``headline``."""
    found: dict[str, str] = {}
    for group, entries in groups.items():
        for entry in entries.values():
            label = entry.extra.get("headline")
            if label:
                found.setdefault(str(label), group)
    return found


@dataclass
class Panel:
    """One chart panel: a line per peer of the points declared on it."""

    figure: str
    title: str
    x: str
    lines: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def panels(groups: Groups) -> list[Panel]:
    """The chart panels the benchmarks declare (``curves``), in order of figure and title."""
    found: dict[tuple[str, str], Panel] = {}
    for entries in groups.values():
        for entry in entries.values():
            for spec in entry.extra.get("curves", []):
                key = (spec["figure"], spec["title"])
                panel = found.setdefault(key, Panel(spec["figure"], spec["title"], spec["x"]))
                if spec["x"] in entry.extra:
                    point = (float(entry.extra[spec["x"]]), entry.median)
                    panel.lines.setdefault(entry.peer, []).append(point)
    for panel in found.values():
        for points in panel.lines.values():
            points.sort()
    return [found[k] for k in sorted(found)]


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


def _measure(spec: dict[str, Any], group: str, groups: Groups, curves: list[Panel]) -> float:
    kind = spec["kind"]
    if kind == "ratio":
        entry = groups.get(group, {}).get(spec["peer"])
        return entry.ratio if entry else math.nan
    if kind == "paired":
        return paired(groups, group, spec["slow"], spec["fast"])
    if kind == "extra":
        entry = groups.get(group, {}).get(spec["peer"])
        return float(entry.extra.get(spec["key"], math.nan)) if entry else math.nan
    if kind == "slope":
        panel = next((p for p in curves if p.title == spec["curve"]), None)
        if panel is None:
            return math.nan
        slope = loglog_slope(panel.lines.get(spec["peer"], []))
        if spec.get("minus"):
            slope -= loglog_slope(panel.lines.get(spec["minus"], []))
        return slope
    raise ValueError(f"target {spec['name']!r}: unknown kind {kind!r}")


def targets(groups: Groups) -> list[Target]:
    """The targets the benchmarks declare, each measured once, in the order first declared."""
    curves = panels(groups)
    found: dict[str, Target] = {}
    for group in sorted(groups):
        for entry in groups[group].values():
            for spec in entry.extra.get("targets", []):
                if spec["name"] in found:
                    continue
                measured = _measure(spec, group, groups, curves)
                found[spec["name"]] = Target(
                    spec["name"], measured, spec.get("limit"), spec.get("at_most", True)
                )
    return list(found.values())


def no_nan(obj: Any) -> Any:
    """``obj`` with NaN floats replaced by None (strict JSON)."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: no_nan(val) for k, val in obj.items()}
    if isinstance(obj, list):
        return [no_nan(val) for val in obj]
    return obj


def results_document(
    groups: Groups, tgts: list[Target], info: dict[str, Any], n_runs: int
) -> dict[str, Any]:
    """results.json: the machine, the targets and every group's medians and ratios."""
    document: dict[str, Any] = no_nan(
        {
            "machine": info,
            "runs": n_runs,
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
    )
    return document
