"""The sweep summary: totals per network/dataset/accelerator, ARCHON speedups and energy ratios, part shares, and the
energy band of an accelerator whose rows report one (layers.csv energy_low_uJ / energy_high_uJ; empty otherwise)."""

from __future__ import annotations

import pandas as pd

from .schema import SUMMARY_COLUMNS
from .tables import check_layers

PARTS = ("head", "body", "tail")


def summarize(layers: pd.DataFrame) -> pd.DataFrame:
    """layers.csv rows of any number of networks/datasets -> one summary row per (network, dataset, accelerator)."""
    rows = []
    for (network, dataset), net in layers.groupby(["network", "dataset"], sort=False):
        check_layers(net, f"{network}/{dataset}")
        totals = net.groupby("accelerator", sort=False)[["energy_uJ", "cycles"]].sum()
        archon = totals.loc["archon"] if "archon" in totals.index else None
        for accelerator, acc_rows in net.groupby("accelerator", sort=False):
            energy, cycles = totals.loc[accelerator, "energy_uJ"], totals.loc[accelerator, "cycles"]
            by_part = acc_rows.groupby("part")[["energy_uJ", "cycles"]].sum()
            row = {
                "network": network,
                "dataset": dataset,
                "accelerator": accelerator,
                "engine": ",".join(sorted(set(acc_rows["engine"].astype(str)))),
                "energy_uJ": energy,
                "cycles": cycles,
                "energy_low_uJ": _band(acc_rows, "energy_low_uJ"),
                "energy_high_uJ": _band(acc_rows, "energy_high_uJ"),
                "archon_speedup": cycles / archon["cycles"] if archon is not None else float("nan"),
                "archon_energy_ratio": energy / archon["energy_uJ"] if archon is not None else float("nan"),
            }
            for part in PARTS:
                part_energy = by_part["energy_uJ"].get(part, 0.0)
                part_cycles = by_part["cycles"].get(part, 0.0)
                row[f"{part}_energy_share"] = part_energy / energy if energy else float("nan")
                row[f"{part}_cycles_share"] = part_cycles / cycles if cycles else float("nan")
            rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _band(rows: pd.DataFrame, column: str) -> float:
    """The sum of a band column, or NaN when the accelerator reports no band (a row without a band value counts
    with its energy_uJ: its model has no bounds there)."""
    if column not in rows or rows[column].isna().all():
        return float("nan")
    return float(rows[column].fillna(rows["energy_uJ"]).sum())
