"""Load fuseloop results into pandas for your own analysis."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .schema import REQUIRED_LAYER_COLUMNS, RES_COLUMNS, SUMMARY_COLUMNS


@dataclass
class Results:
    """layers: every layer/phase row of every network; res: {(network, dataset): res table}; summary: totals."""

    layers: pd.DataFrame
    res: dict[tuple[str, str], pd.DataFrame]
    summary: pd.DataFrame

    def res_table(self, network: str, dataset: str) -> pd.DataFrame:
        try:
            return self.res[(network, dataset)]
        except KeyError:
            known = ", ".join(f"{n}/{d}" for n, d in self.res)
            raise KeyError(f"no res.csv for {network}/{dataset}; have {known}") from None


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    df = pd.read_csv(path)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: not a fuseloop table, missing columns {missing}")
    return df


def load_results(path: str | Path = "results") -> Results:
    """Read a results directory (the workflow's `results:` root) or one network's directory.

    >>> r = load_results("results")
    >>> r.summary.pivot(index=["network", "dataset"], columns="accelerator", values="cycles")
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such results directory")
    layer_files = sorted(root.glob("*/*/layers.csv")) or sorted(root.glob("layers.csv"))
    if not layer_files:
        raise FileNotFoundError(f"{root}: no <network>/<dataset>/layers.csv found (has the workflow run?)")
    layers = pd.concat([_read(f, REQUIRED_LAYER_COLUMNS) for f in layer_files], ignore_index=True)
    res = {}
    for f in layer_files:
        res_file = f.with_name("res.csv")
        if res_file.is_file():
            table = _read(res_file, RES_COLUMNS)
            first = pd.read_csv(f, nrows=1)
            res[(first.at[0, "network"], first.at[0, "dataset"])] = table
    summary_file = root / "summary.csv"
    if summary_file.is_file():
        summary = _read(summary_file, SUMMARY_COLUMNS)
    else:
        from .summary import summarize

        summary = summarize(layers)
    return Results(layers=layers, res=res, summary=summary)
