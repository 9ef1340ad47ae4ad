"""Plots (PNG + SVG): head/body/tail totals per accelerator and network; ARCHON phases per block."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

PARTS = ("head", "body", "tail")
PART_COLORS = {"head": "#8da0cb", "body": "#66c2a5", "tail": "#fc8d62"}
PHASES = ("prediction", "main", "overhead")
PHASE_COLORS = {"prediction": "#e78ac3", "main": "#a6d854", "overhead": "#ffd92f"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, base: Path) -> list[Path]:
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = [base.with_suffix(".png"), base.with_suffix(".svg")]
    for path in paths:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return paths


def totals_plot(layers: pd.DataFrame, base: Path) -> list[Path]:
    """Two rows (energy, cycles) of stacked bars: one group per network/dataset, one bar per accelerator."""
    plt = _pyplot()
    from matplotlib.ticker import FuncFormatter
    from matplotlib.transforms import blended_transform_factory

    sums = layers.groupby(["network", "dataset", "accelerator", "part"])[["energy_uJ", "cycles"]].sum()
    groups = list(dict.fromkeys(zip(layers["network"], layers["dataset"], strict=True)))
    accelerators = list(dict.fromkeys(layers["accelerator"]))
    positions = [g * (len(accelerators) + 0.8) + i for g in range(len(groups)) for i in range(len(accelerators))]
    fig, axes = plt.subplots(2, 1, figsize=(max(7.0, 0.5 * len(positions) + 2.5), 7.5), sharex=True)
    for ax, metric, label in zip(axes, ("energy_uJ", "cycles"), ("energy (µJ)", "cycles"), strict=True):
        x = iter(positions)
        for network, dataset in groups:
            for accelerator in accelerators:
                position, bottom = next(x), 0.0
                for part in PARTS:
                    value = float(sums[metric].get((network, dataset, accelerator, part), 0.0))
                    ax.bar(
                        position,
                        value,
                        bottom=bottom,
                        color=PART_COLORS[part],
                        width=0.8,
                        label=part if position == positions[0] else None,
                    )
                    bottom += value
        ax.set_ylabel(label, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[1].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:g}M" if v else "0"))
    axes[0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=9, ncol=3, frameon=False)
    axes[1].set_xticks(positions, [a for _ in groups for a in accelerators], rotation=40, ha="right", fontsize=9)
    below = blended_transform_factory(axes[1].transData, axes[1].transAxes)
    for g, (network, dataset) in enumerate(groups):
        centre = sum(positions[g * len(accelerators) : (g + 1) * len(accelerators)]) / len(accelerators)
        axes[1].text(centre, -0.32, f"{network}\n{dataset}", transform=below, ha="center", va="top", fontsize=10)
    axes[0].set_title("Energy and cycles per accelerator: head / bottleneck body / tail", loc="left", pad=22)
    fig.subplots_adjust(bottom=0.22, hspace=0.08)
    paths = _save(fig, base)
    plt.close(fig)
    return paths


def phases_plot(layers: pd.DataFrame, base: Path) -> list[Path]:
    """Per network/dataset: ARCHON energy per block, stacked by phase (prediction, main, overhead)."""
    plt = _pyplot()
    archon = layers[(layers["accelerator"] == "archon") & (layers["part"] == "body")]
    groups = list(dict.fromkeys(zip(archon["network"], archon["dataset"], strict=True)))
    if not groups:  # ARCHON is not in this sweep: say so rather than draw an empty axis
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            "ARCHON is not among this sweep's accelerators: no phases to plot",
            ha="center",
            va="center",
            fontsize=10,
        )
        paths = _save(fig, base)
        plt.close(fig)
        return paths
    fig, axes = plt.subplots(len(groups) or 1, 1, figsize=(9, 2.6 * max(1, len(groups))), squeeze=False)
    for ax, (network, dataset) in zip(axes[:, 0], groups, strict=True):
        rows = archon[(archon["network"] == network) & (archon["dataset"] == dataset)]
        table = rows.pivot_table(index="block", columns="phase", values="energy_uJ", aggfunc="sum").fillna(0.0)
        bottom = None
        for phase in PHASES:
            if phase not in table:
                continue
            ax.bar(table.index, table[phase], bottom=bottom, color=PHASE_COLORS[phase], label=phase)
            bottom = table[phase] if bottom is None else bottom + table[phase]
        ax.set_title(f"ARCHON {network}/{dataset}: energy per block by phase", fontsize=9)
        ax.set_ylabel("energy (uJ)")
        ax.set_xlabel("block")
        ax.legend(fontsize=7)
    fig.tight_layout()
    paths = _save(fig, base)
    plt.close(fig)
    return paths
