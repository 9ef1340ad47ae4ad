"""The Pareto plot: every evaluated design (grey), the front (coloured, joined), the reference design (star);
two objectives: one panel; three or more: one panel per pair of the first three."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd

from .space import MAXIMISED, METRICS

LABELS = {
    "energy": "energy (uJ)",
    "cycles": "cycles",
    "edp": "EDP (uJ x cycles)",
    "area": "multiplier area (um^2)",
    "mult_energy": "multiply energy (uJ)",
    "accuracy": "accuracy (%)",
    "accuracy_drop": "accuracy drop (points)",
    "error_proxy": "error proxy (sum MACs x MRE)",
}
PERCENT = ("accuracy", "accuracy_drop")


def _values(table: pd.DataFrame, metric: str) -> pd.Series:
    from .outputs import METRIC_COLUMNS

    values = table[METRIC_COLUMNS[metric]]
    return values * 100 if metric in PERCENT else values


def pareto_plot(model, evaluated: pd.DataFrame, pareto: pd.DataFrame, base: str | Path) -> list[Path]:
    from costs.plots import _pyplot, _save

    plt = _pyplot()
    objectives = list(model.space.objectives)
    if len(objectives) == 1:  # a single objective: against the first other metric with values
        objectives.append(next(m for m in ("mult_energy", "error_proxy") if m != objectives[0]))
    pairs = list(itertools.combinations(objectives[:3], 2))
    fig, axes = plt.subplots(1, len(pairs), figsize=(6.2 * len(pairs), 4.6), squeeze=False)
    for ax, (x, y) in zip(axes[0], pairs, strict=True):
        ax.scatter(_values(evaluated, x), _values(evaluated, y), s=8, color="#bbbbbb", label="evaluated", zorder=1)
        front = pareto.sort_values(_column(x))
        style = "-o" if len(model.space.objectives) == 2 else "o"  # a projected 3-D front is not a line
        ax.plot(
            _values(front, x),
            _values(front, y),
            style,
            color="#4c72b0",
            markersize=4,
            linewidth=1,
            label=f"Pareto front ({len(pareto)})",
            zorder=2,
        )
        reference = evaluated[evaluated["reference"]]
        if len(reference):
            ax.scatter(
                _values(reference, x),
                _values(reference, y),
                marker="*",
                s=160,
                color="#c44e52",
                label="reference (option 0 everywhere)",
                zorder=3,
            )
        ax.set_xlabel(LABELS.get(x, f"{x} ({METRICS[x][0]})") + (" - maximised" if x in MAXIMISED else ""))
        ax.set_ylabel(LABELS.get(y, f"{y} ({METRICS[y][0]})") + (" - maximised" if y in MAXIMISED else ""))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    space = model.space
    fig.suptitle(
        f"{space.name}: {space.network}/{space.dataset}"
        + (f" on {space.accelerator}" if space.accelerator else "")
        + f", {len(evaluated)} designs evaluated",
        fontsize=10,
    )
    return _save(fig, base)


def _column(metric: str) -> str:
    from .outputs import METRIC_COLUMNS

    return METRIC_COLUMNS[metric]
