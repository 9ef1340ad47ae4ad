"""The workflow's steps: thin functions that read inputs, call the packages, write outputs atomically and return a
one-line summary for the log. Heavy modules are imported inside the step that needs them."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from specs.io import atomic_path, write_text

ROOT = Path(__file__).resolve().parents[1]
DETAILS_FILE = "details.json"
RUNS_FILE = "runs.json"


def map_run(key: str, origin: str, settings: dict[str, Any], threads: int, cache: Path | None,
            arch_dir: Path | None, out: Path) -> str:
    """Map one run into out's directory (inputs, engine outputs, stats.json). The run is rebuilt from one layer
    that has it (`origin`: network/dataset/accelerator/layer) and the run settings; its key must be `key`."""
    from engines.runs import execute

    from .plan import find_run

    network, dataset, accelerator, layer = origin.split("/")
    planned = find_run(settings, network, dataset, accelerator, layer)
    if planned.key != key:
        raise ValueError(f"run {key}: {origin} now gives run {planned.key} (an input changed since the DAG was built)")
    run = planned.spec
    stats, hit = execute(run, Path(out).parent, threads=threads, cache=cache, root=ROOT, arch_dir=arch_dir)
    source = f"cache {cache}" if hit else f"engine {run.engine}"
    return (f"run {Path(out).parent.name} on {run.arch} ({source}): {stats.cycles} cycles, "
            f"{stats.total_energy_pJ * 1e-6:.4f} uJ, utilization {stats.utilization:.3f}")


def tables(arch: Path, preset: str, out: Path) -> str:
    """A copy of an arch directory's run files with its derived energy and area tables."""
    from engines.runs import write_arch_with_tables

    ert, art = write_arch_with_tables(Path(arch), Path(out), preset)
    return f"{preset} tables of {arch}: {ert.name}, {art.name} in {out}"


def prepare(accelerator: str, artifact: str, network: str, dataset: str, settings: dict[str, Any], out: Path) -> str:
    import accelerators

    from .plan import network as load_network

    summary = accelerators.get(accelerator).prepare(artifact, load_network(network, dataset, accelerator), settings,
                                                    Path(out))
    return f"{accelerator} {artifact} of {network}/{dataset}: {summary}"


def table(accelerator: str, network: str, dataset: str, runs: dict[str, str], results: Path,
          settings: dict[str, Any], out: Path) -> str:
    """<accelerator>/layers.csv, plus details.json (per-layer details) and runs.json (layer -> run) next to it."""
    import pandas as pd

    import accelerators
    from accelerators.base import ROW_COLUMNS
    from engines.stats import LayerStats

    from .plan import network as load_network

    plugin = accelerators.get(accelerator)
    net = load_network(network, dataset, accelerator)
    stats = {layer: LayerStats.from_json(Path(results) / "runs" / key / "stats.json") for layer, key in runs.items()}
    artifacts = {name: Path(out).parent / name for name in plugin.artifacts}
    result = plugin.table(net, stats, artifacts, settings)
    frame = pd.DataFrame(result.rows, columns=ROW_COLUMNS)
    write_text(Path(out).parent / DETAILS_FILE, json.dumps(result.details, indent=1, default=str) + "\n")
    write_text(Path(out).parent / RUNS_FILE, json.dumps(
        {layer: f"{Path(results).name}/runs/{key}" for layer, key in runs.items()}, indent=1) + "\n")
    with atomic_path(out) as tmp:
        frame.to_csv(tmp, index=False)
    return (f"{accelerator} on {network}/{dataset}: {len(frame)} rows from {len(stats)} runs; "
            f"{frame['energy_uJ'].sum():.2f} uJ, {int(frame['cycles'].sum())} cycles")


def merge(inputs: list[Path], layers_out: Path, res_out: Path) -> str:
    import pandas as pd

    from analysis.tables import res_table

    layers = pd.concat([pd.read_csv(p) for p in inputs], ignore_index=True)
    with atomic_path(layers_out) as tmp:
        layers.to_csv(tmp, index=False)
    res = res_table(layers)
    with atomic_path(res_out) as tmp:
        res.to_csv(tmp, index=False)
    return f"merged {len(inputs)} accelerator tables: {len(layers)} rows, res.csv {len(res)} rows"


def summary(inputs: list[Path], out: Path) -> str:
    import pandas as pd

    from analysis.summary import summarize

    table = summarize(pd.concat([pd.read_csv(p) for p in inputs], ignore_index=True))
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False)
    return f"summary of {len(inputs)} network/dataset pairs: {len(table)} rows"


def plots(summary: Path, layers: list[Path], outdir: Path) -> str:
    import pandas as pd

    from analysis.plots import phases_plot, totals_plot

    table = pd.concat([pd.read_csv(p) for p in layers], ignore_index=True)
    written = totals_plot(table, Path(outdir) / "totals") + phases_plot(table, Path(outdir) / "archon_phases")
    write_text(Path(outdir) / "done.txt", "\n".join(str(p) for p in written) + "\n")
    return f"wrote {len(written)} plot files to {outdir}"


def cache(action: str, dir: Path) -> str:
    from engines.runs import clear_cache

    return f"deleted {clear_cache(dir)} run cache entries from {dir}"
