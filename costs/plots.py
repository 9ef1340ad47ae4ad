"""Plots of the cost models (PNG + SVG, matplotlib Agg), each `f(data, base) -> [png, svg]`:

multiply_energy_plot   multiply energy per head layer / bottleneck block / tail layer, one bar per multiplier
accuracy_vs_power      digits accuracy vs relative multiply power, one point per multiplier
multiplier_tradeoff    mean relative error vs relative power: the 36 EvoApprox8b circuits and the families
precision_levels_plot  energy per memory level and MAC at the reference width vs the chosen widths (fast mode)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, base: str | Path) -> list[Path]:
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = [base.with_suffix(".png"), base.with_suffix(".svg")]
    for path in paths:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    _pyplot().close(fig)
    return paths


def _group(layer: str) -> str:
    """head.x / tail.x stay; b<k>.<role> -> b<k>."""
    return layer.split(".")[0] if layer.startswith("b") and layer[1:2].isdigit() else layer


def multiply_energy_plot(costs_by_label: Mapping[str, pd.DataFrame], base: str | Path, title: str = "") -> list[Path]:
    """costs_by_label: {label: costs.columns.network_costs(...)}; grouped bars of mult_energy_uJ per group."""
    plt = _pyplot()
    labels = list(costs_by_label)
    first = costs_by_label[labels[0]]
    groups = list(dict.fromkeys(_group(layer) for layer in first["layer"]))
    width = 0.8 / len(labels)
    fig, ax = plt.subplots(figsize=(max(7, 0.42 * len(groups) * max(1, len(labels) / 2)), 4.2))
    x = np.arange(len(groups))
    for i, label in enumerate(labels):
        costs = costs_by_label[label]
        sums = costs.groupby(costs["layer"].map(_group), sort=False)["mult_energy_uJ"].sum().reindex(groups)
        total = costs["mult_energy_uJ"].sum()
        ax.bar(
            x + (i - (len(labels) - 1) / 2) * width,
            sums.to_numpy(),
            width,
            color=COLORS[i % len(COLORS)],
            label=f"{label} (total {total:.3g} uJ)",
        )
    ax.set_xticks(x, groups, rotation=90, fontsize=8)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel("multiply energy (uJ)")
    ax.set_title(title or "Multiply energy per layer / bottleneck block")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, base)


def accuracy_vs_power(table: pd.DataFrame, base: str | Path) -> list[Path]:
    """table: costs.digits.run(...) (columns multiplier, accuracy, relative_power, power_source)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    reference = table[table["multiplier"] == "float"]
    points = table[table["multiplier"] != "float"].dropna(subset=["relative_power"])
    for source, marker in (("published", "o"), ("estimate", "s"), ("user", "^")):
        part = points[points["power_source"] == source]
        if len(part):
            ax.scatter(
                part["relative_power"],
                100 * part["accuracy"],
                marker=marker,
                s=36,
                zorder=3,
                label={"estimate": "family (estimated power)", "published": "published power", "user": "user power"}[
                    source
                ],
            )
    for _, row in points.iterrows():
        ax.annotate(
            row["multiplier"],
            (row["relative_power"], 100 * row["accuracy"]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    if len(reference):
        ax.axhline(100 * reference["accuracy"].iloc[0], color="grey", linestyle="--", linewidth=1, label="float model")
    ax.set_xlabel("relative multiply power r (exact 8x8 = 1)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_xlim(0, 1.08)
    ax.margins(y=0.1)
    ax.set_title("Digits CNN, 8-bit quantised: accuracy vs multiplier power")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, base)


def multiplier_tradeoff(multipliers: Sequence[Any], base: str | Path) -> list[Path]:
    """Mean relative error (log) vs relative power of costs.multipliers.Multiplier objects."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    kinds = (("evoapprox", "o", "EvoApprox8b (published)"), ("family", "s", "families (estimated power)"))
    for kind, marker, label in kinds:
        chosen = [m for m in multipliers if m.kind == kind and m.relative_power is not None and m.metrics()]
        chosen = [m for m in chosen if m.metrics().mre_pct > 0]
        ax.scatter(
            [m.relative_power for m in chosen],
            [m.metrics().mre_pct for m in chosen],
            marker=marker,
            s=30,
            label=label,
            zorder=3,
        )
        if kind == "family":
            for m in chosen:
                ax.annotate(
                    m.name,
                    (m.relative_power, m.metrics().mre_pct),
                    textcoords="offset points",
                    xytext=(4, 3),
                    fontsize=7,
                )
    ax.set_yscale("log")
    ax.set_xlabel("relative power r (exact 8x8 = 1)")
    ax.set_ylabel("mean relative error (%)")
    ax.set_title("Approximate 8x8 multipliers: error vs power")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, base)


def precision_levels_plot(
    breakdowns: Mapping[str, Mapping[str, float]], base: str | Path, title: str = ""
) -> list[Path]:
    """breakdowns: {label: {level or "MAC": pJ}} (e.g. summed LayerStats.energy_table() of the original and the
    fast-mode runs); stacked bars, one per label, in uJ."""
    plt = _pyplot()
    labels = list(breakdowns)
    levels = list(dict.fromkeys(level for b in breakdowns.values() for level in b))
    fig, ax = plt.subplots(figsize=(2.2 + 1.4 * len(labels), 4.4))
    bottom = np.zeros(len(labels))
    for i, level in enumerate(levels):
        values = np.array([breakdowns[label].get(level, 0.0) for label in labels]) / 1e6
        ax.bar(labels, values, bottom=bottom, color=COLORS[i % len(COLORS)], label=level, width=0.6)
        bottom += values
    for x, total in enumerate(bottom):
        ax.annotate(f"{total:.3g}", (x, total), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("energy (uJ)")
    ax.set_title(title or "Energy per level at each precision")
    handles, names = ax.get_legend_handles_labels()  # top of the stack first
    ax.legend(handles[::-1], names[::-1], fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")
    return _save(fig, base)
