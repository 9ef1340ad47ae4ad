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
    sums = layers.groupby(["network", "dataset", "accelerator", "part"])[["energy_uJ", "cycles"]].sum()
    groups = list(dict.fromkeys(zip(layers["network"], layers["dataset"])))
    accelerators = list(dict.fromkeys(layers["accelerator"]))
    fig, axes = plt.subplots(2, 1, figsize=(max(6, 1.8 * len(groups) * len(accelerators) / 2), 7), sharex=True)
    for ax, metric, label in zip(axes, ("energy_uJ", "cycles"), ("energy (uJ)", "cycles")):
        x_labels, x = [], 0
        for network, dataset in groups:
            for accelerator in accelerators:
                bottom = 0.0
                for part in PARTS:
                    key = (network, dataset, accelerator, part)
                    value = float(sums[metric].get(key, 0.0))
                    ax.bar(x, value, bottom=bottom, color=PART_COLORS[part], label=part if x == 0 else None)
                    bottom += value
                x_labels.append(f"{network}\n{dataset}\n{accelerator}")
                x += 1
            x += 0.5
        ax.set_ylabel(label)
        ax.legend(loc="upper right")
    positions = [i + 0.5 * (i // len(accelerators)) for i in range(len(groups) * len(accelerators))]
    axes[1].set_xticks(positions, x_labels, rotation=90, fontsize=7)
    axes[0].set_title("Energy and cycles per accelerator, split into head / bottleneck body / tail")
    paths = _save(fig, base)
    plt.close(fig)
    return paths


def phases_plot(layers: pd.DataFrame, base: Path) -> list[Path]:
    """Per network/dataset: ARCHON energy per block, stacked by phase (prediction, main, overhead)."""
    plt = _pyplot()
    archon = layers[(layers["accelerator"] == "archon") & (layers["part"] == "body")]
    groups = list(dict.fromkeys(zip(archon["network"], archon["dataset"])))
    fig, axes = plt.subplots(len(groups) or 1, 1, figsize=(9, 2.6 * max(1, len(groups))), squeeze=False)
    for ax, (network, dataset) in zip(axes[:, 0], groups):
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
