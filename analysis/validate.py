"""Compare a fuseloop `res.csv` with a reference artifact `result.csv`, block by block.

The reference file has an unnamed index column, head/tail rows named by layer (`conv1`, `PW1`, ...;
the names repeat between head and tail) and block rows `b<k>`. Its `sparse_DW_c` and `sparse_PW2_c`
columns are swapped for MobileNetV2 and MnasNet (reference defect 14): pass `swapped_sparse_cycles=True`
to undo that before comparing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import accelerators

from .schema import RES_COLUMNS

VALUE_COLUMNS = [c for c in RES_COLUMNS if c not in ("layer", "part")]
ARCHON_COLUMNS = accelerators.get("archon").columns.main
# Where the artifact's result.csv names a fused head/tail layer differently from ours (reference defect: its rows
# are named after the baseline layers, ShuffleNet adds fused-only rows): {network: {reference row: our row}}.
FUSED_ONLY_ROWS = {"shufflenet": {"head.head_PW": "head.PW1", "head.head_DW": "head.DW1", "tail.last_PW": "tail.PW1"}}
# Rows whose ARCHON columns belong to a fused layer of another name (the baseline layer keeps the row).
FUSED_EDGE_ROWS = {"fusionet": {"tail.GPW1": "tail.PW1"}}


def read_reference(path: str | Path | pd.DataFrame, swapped_sparse_cycles: bool = False) -> pd.DataFrame:
    """Reference result.csv (a path, or its rows as a DataFrame) -> rows keyed like ours: head.<name>, b<k>,
    tail.<name>."""
    ref = path.copy() if isinstance(path, pd.DataFrame) else pd.read_csv(path)
    ref = ref.drop(columns=[c for c in ref.columns if c.startswith("Unnamed")])
    names = list(ref["layer"])
    blocks = [i for i, n in enumerate(names) if n.startswith("b") and n[1:].isdigit()]
    if not blocks:
        raise ValueError(f"{'reference table' if isinstance(path, pd.DataFrame) else path}: no block rows b<k>")
    keys = []
    for i, name in enumerate(names):
        if i < blocks[0]:
            keys.append(f"head.{name}")
        elif i > blocks[-1]:
            keys.append(f"tail.{name}")
        else:
            keys.append(name)
    ref["layer"] = keys
    if swapped_sparse_cycles:
        ref[["sparse_DW_c", "sparse_PW2_c"]] = ref[["sparse_PW2_c", "sparse_DW_c"]].to_numpy()
    return ref


def align_edge_rows(reference: pd.DataFrame, network: str) -> pd.DataFrame:
    """The reference with its fused head/tail values under our layer names (FUSED_ONLY_ROWS, FUSED_EDGE_ROWS)."""
    ref = reference.copy()
    ref["layer"] = [FUSED_ONLY_ROWS.get(network, {}).get(k, k) for k in ref["layer"]]
    for source, target in FUSED_EDGE_ROWS.get(network, {}).items():
        row = ref[ref["layer"] == source]
        if row.empty:
            raise ValueError(f"reference for {network}: no row {source}")
        fused = row.copy()
        fused["layer"] = target
        fused[[c for c in VALUE_COLUMNS if c in ref.columns and c not in ARCHON_COLUMNS]] = 0.0
        ref.loc[row.index, [c for c in ARCHON_COLUMNS if c in ref.columns]] = 0.0
        ref = pd.concat([ref.loc[: row.index[0]], fused, ref.loc[row.index[0] + 1 :]], ignore_index=True)
    return ref


def compare(ours: pd.DataFrame, reference: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Long table: layer, column, ours, reference, rel_diff ((ours - ref) / ref; NaN where either is missing or
    ref is 0)."""
    columns = [c for c in (columns or VALUE_COLUMNS) if c in reference.columns and c in ours.columns]
    ours_idx = ours.set_index("layer")
    rows = []
    for _, ref_row in reference.iterrows():
        key = ref_row["layer"]
        for col in columns:
            ref_value = float(ref_row[col])
            value = float(ours_idx.at[key, col]) if key in ours_idx.index else np.nan
            rel = (value - ref_value) / ref_value if ref_value and not np.isnan(value) else np.nan
            rows.append({"layer": key, "column": col, "ours": value, "reference": ref_value, "rel_diff": rel})
    return pd.DataFrame(rows)


def report(diffs: pd.DataFrame) -> str:
    """A printable block-by-block table of relative differences (percent)."""
    pivot = diffs.pivot(index="layer", columns="column", values="rel_diff") * 100
    order = list(dict.fromkeys(diffs["layer"]))
    pivot = pivot.reindex(order)[[c for c in dict.fromkeys(diffs["column"])]]
    worst = diffs["rel_diff"].abs().max()
    lines = [
        "relative difference, percent ((ours - reference) / reference; blank: not comparable)",
        pivot.to_string(float_format=lambda v: f"{v:+.2f}", na_rep=""),
        f"max |difference|: {worst * 100:.3f}%" if not np.isnan(worst) else "nothing comparable",
    ]
    return "\n".join(lines)


def exceeding(diffs: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """The compared cells whose |relative difference| exceeds `tolerance` (a fraction)."""
    return diffs[diffs["rel_diff"].abs() > tolerance]


def main(argv: list[str] | None = None) -> int:
    """Print the comparison; exit status 1 when a cell differs by more than --tolerance percent (default 0.5)."""
    import argparse

    parser = argparse.ArgumentParser(description="Compare a fuseloop res.csv with a reference result.csv")
    parser.add_argument("ours", type=Path)
    parser.add_argument("reference", type=Path)
    parser.add_argument("--swapped-sparse-cycles", action="store_true", help="undo the reference's defect 14")
    parser.add_argument("--columns", nargs="*", help="only these columns")
    parser.add_argument("--network", help="align the artifact's fused head/tail row names for this network")
    parser.add_argument("--tolerance", type=float, default=0.5, help="percent; larger differences fail (exit 1)")
    args = parser.parse_args(argv)
    reference = read_reference(args.reference, args.swapped_sparse_cycles)
    if args.network:
        reference = align_edge_rows(reference, args.network)
    diffs = compare(pd.read_csv(args.ours), reference, args.columns)
    print(report(diffs))
    bad = exceeding(diffs, args.tolerance / 100)
    if len(bad):
        print(f"{len(bad)} of {diffs['rel_diff'].notna().sum()} compared cells differ by more than {args.tolerance}%")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
