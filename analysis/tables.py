"""Merge per-layer rows into the head / bottleneck body / tail table (`res.csv`).

Rows: one per head layer, one per bottleneck block, one per tail layer, then `head`, `body`, `tail`
and `total`. A cell is empty (NaN) where that accelerator has no such layer or block: the dense and
fused networks need not have the same head, tail or block count.
"""

from __future__ import annotations

import pandas as pd

from .schema import BODY_SLOTS, EDGE_SLOTS, REQUIRED_LAYER_COLUMNS, TOTAL_COLUMNS, res_columns


class TableError(ValueError):
    pass


def check_layers(df: pd.DataFrame, source: str = "layers table") -> pd.DataFrame:
    missing = [c for c in REQUIRED_LAYER_COLUMNS if c not in df.columns]
    if missing:
        raise TableError(f"{source}: missing columns {missing}")
    if len(df[["network", "dataset"]].drop_duplicates()) > 1:
        raise TableError(f"{source}: rows of several networks/datasets; build one res table per network/dataset")
    return df


def _edge_order(df: pd.DataFrame, part: str) -> list[str]:
    """Head (or tail) layer names in execution order, merged over accelerators (first seen first)."""
    order: list[str] = []
    for _, group in df[df["part"] == part].groupby("accelerator", sort=False):
        previous = -1
        for name in group["layer"]:
            if name in order:
                previous = order.index(name)
            else:
                order.insert(previous + 1, name)
                previous += 1
    return order


def _row_key(row) -> str:
    return f"b{int(row['block'])}" if row["part"] == "body" else row["layer"]


def res_table(layers: pd.DataFrame) -> pd.DataFrame:
    """layers.csv rows (all accelerators of one network/dataset) -> res.csv table."""
    check_layers(layers)
    blocks = sorted({int(b) for b in layers.loc[layers["part"] == "body", "block"]})
    keys = _edge_order(layers, "head") + [f"b{b}" for b in blocks] + _edge_order(layers, "tail")
    parts = {k: "head" for k in _edge_order(layers, "head")}
    parts.update({f"b{b}": "body" for b in blocks})
    parts.update({k: "tail" for k in _edge_order(layers, "tail")})

    columns = res_columns(set(layers["accelerator"]))
    table = pd.DataFrame(index=keys, columns=columns[2:], dtype=float)
    for _, row in layers.iterrows():
        acc, part, role = row["accelerator"], row["part"], row["role"]
        if part == "body":
            slot = BODY_SLOTS.get((acc, role))
            if slot is None:
                raise TableError(f"layer {row['layer']}: no res.csv column for accelerator {acc!r} role {role!r}")
        else:
            slot = EDGE_SLOTS[acc]
        key = _row_key(row)
        energy_col, cycles_col = slot
        table.loc[key, energy_col] = _add(table.loc[key, energy_col], row["energy_uJ"])
        if cycles_col is not None:
            table.loc[key, cycles_col] = _add(table.loc[key, cycles_col], row["cycles"])

    table.insert(0, "part", [parts[k] for k in keys])
    table.insert(0, "layer", keys)
    totals = []
    for part in ("head", "body", "tail"):
        totals.append(_sum_row(table[table["part"] == part], part, part, columns))
    totals.append(_sum_row(pd.DataFrame(totals), "total", "total", columns))
    return pd.concat([table, pd.DataFrame(totals)], ignore_index=True)[columns]


def _add(current, value):
    return value if pd.isna(current) else current + value


def _sum_row(rows: pd.DataFrame, label: str, part: str, columns: list[str]) -> dict:
    sums = rows[columns[2:]].astype(float).sum(min_count=1)
    return {"layer": label, "part": part, **sums.to_dict()}


def accelerator_totals(res: pd.DataFrame, accelerator: str, row: str = "total") -> tuple[float, float]:
    """(energy uJ, cycles) of one accelerator from a res table's `head`/`body`/`tail`/`total` row."""
    energy_cols, cycle_cols = TOTAL_COLUMNS[accelerator]
    line = res[res["layer"] == row]
    if line.empty:
        raise TableError(f"res table has no {row!r} row")
    values = line.iloc[0]
    return float(values[energy_cols].astype(float).sum()), float(values[cycle_cols].astype(float).sum())
