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


def map_run(
    key: str, origin: str, settings: dict[str, Any], threads: int, cache: Path | None, arch_dir: Path | None, out: Path
) -> str:
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
    return (
        f"run {Path(out).parent.name} on {run.arch} ({source}): {stats.cycles} cycles, "
        f"{stats.total_energy_pJ * 1e-6:.4f} uJ, utilization {stats.utilization:.3f}"
    )


def tables(arch: Path, preset: str, out: Path) -> str:
    """A copy of an arch directory's run files with its derived energy and area tables."""
    from engines.runs import write_arch_with_tables

    ert, art = write_arch_with_tables(Path(arch), Path(out), preset)
    return f"{preset} tables of {arch}: {ert.name}, {art.name} in {out}"


def prepare(accelerator: str, artifact: str, network: str, dataset: str, settings: dict[str, Any], out: Path) -> str:
    import accelerators

    from .plan import network as load_network

    summary = accelerators.get(accelerator).prepare(
        artifact, load_network(network, dataset, accelerator), settings, Path(out)
    )
    return f"{accelerator} {artifact} of {network}/{dataset}: {summary}"


def table(
    accelerator: str,
    network: str,
    dataset: str,
    runs: dict[str, str],
    results: Path,
    settings: dict[str, Any],
    out: Path,
) -> str:
    """<accelerator>/layers.csv, plus details.json (per-layer details) and runs.json (layer -> its run directory,
    relative to the results directory) next to it."""
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
    write_text(
        Path(out).parent / RUNS_FILE, json.dumps({layer: f"runs/{key}" for layer, key in runs.items()}, indent=1) + "\n"
    )
    with atomic_path(out) as tmp:
        frame.to_csv(tmp, index=False)
    return (
        f"{accelerator} on {network}/{dataset}: {len(frame)} rows from {len(stats)} runs; "
        f"{frame['energy_uJ'].sum():.2f} uJ, {int(frame['cycles'].sum())} cycles"
    )


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


# ---- optional steps: cost columns (config `costs`) ----------------------------------------------------------


def _pair_costs(
    network: str,
    dataset: str,
    layers: Path,
    runs: dict[str, dict[str, str]],
    results: Path,
    choices: Path,
    settings: dict[str, Any],
):
    """Per accelerator of layers.csv: (rows, evaluated network, resolved choices, {layer: run stats})."""
    import pandas as pd

    import accelerators
    from costs import load_choices
    from engines.stats import LayerStats

    from .plan import network as load_network

    table = load_choices(choices)
    rows = pd.read_csv(layers)
    out = []
    for accelerator, group in rows.groupby("accelerator", sort=False):
        plugin = accelerators.get(str(accelerator))
        net = plugin.evaluated_network(load_network(network, dataset, str(accelerator)), settings)
        stats = {
            layer: LayerStats.from_json(Path(results) / "runs" / key / "stats.json")
            for layer, key in runs.get(str(accelerator), {}).items()
        }
        out.append((str(accelerator), group, net, table.resolve(net, strict=False), stats))
    return out


def costs(
    network: str,
    dataset: str,
    layers: Path,
    runs: dict[str, dict[str, str]],
    results: Path,
    choices: Path,
    settings: dict[str, Any],
    out: Path,
    summary_out: Path,
) -> str:
    """costs.csv (layers.csv rows + cost columns, fast precision mode) and costs_summary.csv (per accelerator)."""
    import pandas as pd

    from costs.columns import cost_columns
    from costs.scores import CostSettings

    from .costplan import KEEP_PHASES

    cost_settings = CostSettings.from_dict(settings["costs"], source="costs settings")
    frames, summaries = [], []
    for accelerator, group, net, resolved, stats in _pair_costs(
        network, dataset, layers, runs, results, choices, settings
    ):
        rows, summary = cost_columns(
            net,
            group.reset_index(drop=True),
            resolved,
            stats=stats,
            settings=cost_settings,
            scaled_accelerators=(accelerator,),
            keep_phases=KEEP_PHASES,
        )
        summary.insert(summary.columns.get_loc("energy_scaled_uJ") + 1, "cycles", group["cycles"].sum())
        frames.append(rows)
        summaries.append(summary)
    table, summary = pd.concat(frames, ignore_index=True), pd.concat(summaries, ignore_index=True)
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(summary_out) as tmp:
        summary.to_csv(tmp, index=False)
    totals = ", ".join(
        f"{r.accelerator} {r.energy_uJ:.2f} -> {r.energy_scaled_uJ:.2f} uJ" for r in summary.itertuples()
    )
    return f"costs of {network}/{dataset} with {choices}: {len(table)} rows; energy {totals}"


def costs_summary(inputs: list[Path], out: Path) -> str:
    import pandas as pd

    table = pd.concat([pd.read_csv(p) for p in inputs], ignore_index=True)
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False)
    return f"cost summary of {len(inputs)} network/dataset pairs: {len(table)} rows"


def cost_plots(
    network: str,
    dataset: str,
    layers: Path,
    runs: dict[str, dict[str, str]],
    results: Path,
    choices: Path,
    settings: dict[str, Any],
    outdir: Path,
    done: Path,
) -> str:
    """Per accelerator network of the pair: multiply energy per block (16-bit exact, the chosen widths with exact
    multipliers, the choices) and energy per memory level of its runs at 16 bits vs the choices (fast mode)."""
    import accelerators
    from accelerators.dense import repeat
    from costs.choices import LayerChoice
    from costs.columns import network_costs
    from costs.multipliers import library_multiplier
    from costs.plots import multiply_energy_plot, precision_levels_plot
    from costs.precision import energy_by_level, fast_mode
    from costs.scores import CostSettings

    from .costplan import KEEP_PHASES

    cost_settings = CostSettings.from_dict(settings["costs"], source="costs settings")
    form = settings.get("problem", {}).get("depthwise", "coupled")
    exact = library_multiplier("exact")
    written, seen = [], set()
    for accelerator, group, net, resolved, stats in _pair_costs(
        network, dataset, layers, runs, results, choices, settings
    ):
        base = Path(outdir) / f"{network}_{dataset}_{accelerator}"  # no dots: the plot writer adds .png / .svg
        if net.key not in seen:  # one multiply-energy plot per distinct network (dense and sparse share one)
            seen.add(net.key)
            labels = {
                "16-bit exact": network_costs(net, {}, cost_settings, stats),
                "chosen widths, exact multipliers": network_costs(
                    net, {k: c.with_(multiplier=exact) for k, c in resolved.items()}, cost_settings, stats
                ),
                "choices": network_costs(net, resolved, cost_settings, stats),
            }
            written += multiply_energy_plot(
                labels,
                f"{base}_multiply_energy",
                title=f"{network}/{dataset} ({net.variant}): multiply energy per block",
            )
        if not stats or accelerators.get(accelerator).runs_of:  # re-costed runs: the mapped accelerator's plot
            continue
        reference: dict[str, float] = {}
        chosen: dict[str, float] = {}
        kept = group[~group["phase"].isin(KEEP_PHASES)]["layer"]
        for name in dict.fromkeys(kept):
            if name not in stats:
                continue
            copies = repeat(net.layer(name), form)
            for target, run in (
                (reference, stats[name]),
                (chosen, fast_mode(stats[name], resolved.get(name, LayerChoice()), cost_settings.precision)),
            ):
                for level, pJ in energy_by_level(run).items():
                    target[level] = target.get(level, 0.0) + pJ * copies
        written += precision_levels_plot(
            {"16-bit": reference, "choices (fast mode)": chosen},
            f"{base}_precision_levels",
            title=f"{network}/{dataset} {accelerator}: energy per level of its runs",
        )
    write_text(Path(done), "\n".join(str(p) for p in written) + "\n")
    return f"wrote {len(written)} cost plot files for {network}/{dataset} to {outdir}"


# ---- optional step: design-space search (config `search`) -----------------------------------------------------


def search(space: Path, results: Path, settings: dict[str, Any], out: Path) -> str:
    """NSGA-II over the space (dse/), resuming from out/checkpoint.pkl; writes pareto.csv, evaluated.csv,
    progress.csv and pareto.png / .svg into out."""
    from dse.run import search as run_search
    from dse.space import load_space

    progress: list[str] = []
    model, state, paths = run_search(load_space(space), settings, Path(results), Path(out), log=progress.append)
    last = state.progress[-1] if state.progress else {}
    done = (
        f"search {model.space.name}: {len(state.archive)} designs, front {last.get('front_size', '?')} points "
        f"-> {paths['pareto']}"
    )
    return "\n".join([*progress, done])
