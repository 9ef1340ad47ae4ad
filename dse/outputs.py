"""The search's outputs: pareto.csv (the front: genes and metrics), evaluated.csv (every design evaluated),
progress.csv (per generation), pareto.png / .svg.

Metric columns (dse.space.METRICS): energy_uJ, cycles, edp_uJ_cycles (with an accelerator), area_um2,
mult_energy_uJ, micronet_imagenet, micronet_cifar100, E_W, error_proxy, mre_weighted_pct (error_proxy / MACs run,
in %), bitstream_energy, accuracy, accuracy_drop (with an evaluator). Columns that are NaN for every design are
left out. `genes` is the repaired gene vector (space-separated; `fuseloop search-export` reads it), `reference`
marks the reference design (option 0 everywhere), then one column per (layer, gene field) (empty where the design
does not run that layer) and `fused_blocks` (hybrid).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from specs.io import atomic_path

from .model import DesignModel
from .nsga import Archive, SearchState, front
from .space import MAXIMISED

METRIC_COLUMNS = {
    "energy": "energy_uJ",
    "cycles": "cycles",
    "edp": "edp_uJ_cycles",
    "area": "area_um2",
    "mult_energy": "mult_energy_uJ",
    "micronet_imagenet": "micronet_imagenet",
    "micronet_cifar100": "micronet_cifar100",
    "E_W": "E_W",
    "error_proxy": "error_proxy",
    "mre_weighted_pct": "mre_weighted_pct",
    "bitstream_energy": "bitstream_energy",
    "accuracy": "accuracy",
    "accuracy_drop": "accuracy_drop",
}


def design_table(model: DesignModel, archive: Archive, indices: np.ndarray) -> pd.DataFrame:
    genes = archive.gene_matrix()[indices] if len(indices) else np.zeros((0, model.n_var), dtype=np.int64)
    reference = model.reference()[0]
    table = pd.DataFrame(
        {
            "genes": [" ".join(map(str, row)) for row in genes],
            "reference": [bool((row == reference).all()) for row in genes],
        }
    )
    for metric, column in METRIC_COLUMNS.items():
        values = archive.metric(metric)[indices] if len(indices) else np.zeros(0)
        if len(values) and not np.isnan(values).all():
            table[column] = values
    return pd.concat([table, model.gene_columns(genes).reset_index(drop=True)], axis=1)


def pareto_table(model: DesignModel, archive: Archive) -> pd.DataFrame:
    """The front, sorted by the first objective (best first), numbered from 0 (`point`)."""
    table = design_table(model, archive, front(model, archive))
    first = model.space.objectives[0]
    table = table.sort_values(METRIC_COLUMNS[first], ascending=first not in MAXIMISED, kind="stable")
    table.insert(0, "point", range(len(table)))
    return table.reset_index(drop=True)


def write_outputs(model: DesignModel, state: SearchState, outdir: Path) -> dict[str, Path]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    archive = state.archive
    pareto = pareto_table(model, archive)
    evaluated = design_table(model, archive, np.arange(len(archive)))
    on_front = set(pareto["genes"])
    evaluated.insert(1, "on_front", evaluated["genes"].isin(on_front))
    paths = {
        "pareto": outdir / "pareto.csv",
        "evaluated": outdir / "evaluated.csv",
        "progress": outdir / "progress.csv",
    }
    for name, frame in (("pareto", pareto), ("evaluated", evaluated), ("progress", pd.DataFrame(state.progress))):
        with atomic_path(paths[name]) as tmp:
            frame.to_csv(tmp, index=False)
    from .plots import pareto_plot

    png, svg = pareto_plot(model, evaluated, pareto, outdir / "pareto")
    paths.update(plot=png, plot_svg=svg)
    return paths
