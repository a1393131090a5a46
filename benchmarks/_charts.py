"""charts/*.png: the headline ratios (groups with a ``headline``) and the scaling panels the
benchmarks declare (``curves``), one PNG per figure name."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from _results import Groups, Panel, headlines, panels

DPI = 80


def write_charts(groups: Groups, charts: Path) -> list[Path]:
    """Draw every chart into ``charts``; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts.mkdir(parents=True, exist_ok=True)
    headline = headlines(groups)
    every_peer = sorted({p for entries in groups.values() for p in entries})
    colors = {peer: plt.get_cmap("tab20")(i % 20) for i, peer in enumerate(every_peer)}
    written = [charts / "ratios.png"]

    fig, ax = plt.subplots(figsize=(max(9.0, 1.3 * len(headline) + 4), 4.2))
    widest = max((len(groups.get(g, {})) for g in headline.values()), default=1)
    width = 0.8 / max(widest, 1)
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
    ax.set_xticks(range(len(headline)), list(headline), fontsize=8, rotation=20, ha="right")
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylabel("time / floor (log)")
    ax.set_title("Ratio to the floor, same run (lower is better)", fontsize=9)
    if labelled:
        ax.legend(fontsize=6, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(written[0], dpi=DPI)
    plt.close(fig)

    by_figure: dict[str, list[Panel]] = {}
    for panel in panels(groups):
        by_figure.setdefault(panel.figure, []).append(panel)
    for name, figure_panels in by_figure.items():
        fig, axes = plt.subplots(1, len(figure_panels), figsize=(4 * len(figure_panels), 3.2))
        for ax, panel in zip(
            [axes] if len(figure_panels) == 1 else axes, figure_panels, strict=True
        ):
            _draw_panel(ax, panel, colors)
        fig.tight_layout()
        fig.savefig(charts / name, dpi=DPI)
        plt.close(fig)
        written.append(charts / name)
    return written


def _draw_panel(ax: Any, panel: Panel, colors: dict[str, Any]) -> None:
    xs: set[float] = set()
    for peer, points in sorted(panel.lines.items()):
        xs.update(p[0] for p in points)
        xy = ([p[0] for p in points], [p[1] for p in points])
        ax.plot(*xy, "o-", color=colors.get(peer), label=peer)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.minorticks_off()
    ax.set_xticks(sorted(xs), [f"{x:g}" for x in sorted(xs)], fontsize=7)
    ax.set_xlabel(panel.x)
    ax.set_ylabel("median time (s)")
    ax.set_title(panel.title, fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6)
