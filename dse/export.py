"""A chosen design as a normal workflow config: `choices.yaml` (every layer the design runs, all fields explicit)
and `config.yaml` (the pair, the space's accelerator, hybrid's fused blocks, `costs.choices` pointing at the choices
file, and the search config's run and cost settings), so `snakemake --configfile config.yaml` evaluates it with the
full pipeline: `<results>/<network>/<dataset>/costs_summary.csv` then holds the design's energy_scaled_uJ, cycles,
mult_energy_uJ, mult_area_um2, E_W, MicroNet and bitstream columns, and res.csv / summary.csv the usual tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from specs.io import write_text
from workflows.config import subset

from .model import DesignModel

# the search config's settings an exported config keeps (what determines the runs and the rows)
KEPT = ("engine", "engine_options", "energy_tables", "threads_per_layer", "run_cache", "problem", "mapper")


def choices_document(model: DesignModel, genes: np.ndarray) -> dict[str, Any]:
    _, choices = model.design(model.repair(genes))
    base = {k: getattr(v, "name", v) for k, v in model.space.base.items()}
    layers = {name: {k: v for k, v in choice.to_dict().items()} for name, choice in choices.items()}
    document: dict[str, Any] = {"defaults": base, "layers": layers}
    if model.space.multipliers:
        document["multipliers"] = {
            name: {k: (str((model.space.base_dir / v).resolve()) if k == "table" else v) for k, v in spec.items()}
            for name, spec in model.space.multipliers.items()
        }
    return document


def workflow_config(
    model: DesignModel, config: dict[str, Any], genes: np.ndarray, choices: Path, results: str
) -> dict[str, Any]:
    import accelerators

    space = model.space
    if space.accelerator is None:
        raise ValueError(f"{space.source}: a design without an accelerator has no workflow config (choices only)")
    fused, _ = model.design(model.repair(genes))
    plugin = accelerators.get(space.accelerator)
    out: dict[str, Any] = {
        "results": results,
        "sweep": [{"network": space.network, "dataset": space.dataset}],
        "accelerators": [space.accelerator],
    }
    out.update(subset(config, tuple(k for k in KEPT if k in config)))
    for key, value in subset(config, plugin.table_reads).items():
        if key not in out:
            out[key] = value
    if space.accelerator == "hybrid":
        out["hybrid"] = {"fused_blocks": list(fused)}
    out["costs"] = {
        **{k: v for k, v in config.get("costs", {}).items() if k != "choices"},
        "choices": str(Path(choices).resolve()),
    }
    return out


def export_point(
    model: DesignModel, config: dict[str, Any], genes: np.ndarray, outdir: Path, results: str | None = None
) -> dict[str, Path]:
    """Write choices.yaml and (with an accelerator) config.yaml for one design into `outdir`."""
    outdir = Path(outdir)
    paths = {"choices": outdir / "choices.yaml"}
    header = f"# design exported from the search space {model.space.source} (genes {' '.join(map(str, genes))})\n"
    write_text(
        paths["choices"],
        header + yaml.safe_dump(choices_document(model, genes), sort_keys=False, default_flow_style=None, width=120),
    )
    if model.space.accelerator is not None:
        document = workflow_config(
            model, config, genes, paths["choices"], results or str((outdir / "results").resolve())
        )
        paths["config"] = outdir / "config.yaml"
        write_text(paths["config"], header + yaml.safe_dump(document, sort_keys=False))
    return paths
