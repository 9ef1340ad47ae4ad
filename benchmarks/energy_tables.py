"""The derived energy/area table of an arch next to the shipped (paper) one, and a network's dense total under both.

    python benchmarks/energy_tables.py                        # arch/eyeriss, MobileNetV2/CIFAR-10
    python benchmarks/energy_tables.py --table-only           # only the per-component table
    python benchmarks/energy_tables.py --network mnasnet --jobs 2

Prints a Markdown table per component (largest read/write energy in pJ — the vector access energy Timeloop and the
embedded engine use is the largest action — and area in um^2), then maps every layer of the network's baseline
variant on the arch with the embedded engine and the sweep's mapper settings (workflows/config/default.yaml),
twice: with the paper table and with the derived one, and prints the totals (energy x repeat, summed; uJ),
plus the paper-table mappings re-costed with the derived table. Needs the hwcomponents packages (Python >= 3.12).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# run as a script: the project imports need the repository root on sys.path first
from engines.embedded import EmbeddedEngine, evaluate_mapping, fast_analysis, load_arch, load_energy_table  # noqa: E402
from engines.embedded.problem import load_problem  # noqa: E402
from engines.mapping import Mapping  # noqa: E402
from estimation import derive_tables  # noqa: E402
from specs.energy import load_art, load_ert  # noqa: E402

PJ_PER_UJ = 1e6


def component_table(paper_ert: Path, paper_art: Path, derived_ert: Path, derived_art: Path) -> str:
    ert_p, ert_d, art_p, art_d = load_ert(paper_ert), load_ert(derived_ert), load_art(paper_art), load_art(derived_art)
    header = (
        "| component | class | paper read / write (pJ) | derived read / write (pJ) | derived / paper (max) "
        "| paper area (um^2) | derived area (um^2) |"
    )
    lines = [header, "|---|---|---|---|---|---|---|"]
    classes = yaml.safe_load(derived_ert.read_text())["ERT"]["derivation"]["components"]
    for name in ert_p.names():
        actions = ert_p.actions(name)
        read = "read" if "read" in actions else next(iter(actions))
        write = "write" if "write" in actions else read
        p = (ert_p.max_energy(name, read), ert_p.max_energy(name, write))
        d = (ert_d.max_energy(name, read), ert_d.max_energy(name, write))
        label = f"{p[0]:.4g} / {p[1]:.4g}" if read != write else f"{p[0]:.4g} ({read})"
        dlabel = f"{d[0]:.4g} / {d[1]:.4g}" if read != write else f"{d[0]:.4g} ({read})"
        lines.append(
            f"| {name} | {classes[name]['class']} | {label} | {dlabel} | "
            f"{ert_d.max_energy(name) / ert_p.max_energy(name):.2f} | {art_p.area(name):,.1f} | "
            f"{art_d.area(name):,.1f} |"
        )
    return "\n".join(lines)


def _layer_inputs(network: str, dataset: str, out: Path) -> list[tuple[str, int, Path]]:
    """Each dense layer run of the default config's sweep settings (the workflow's own plan), inputs written out."""
    from accelerators.dense import repeat
    from engines.runs import write_inputs
    from workflows import plan
    from workflows.config import load

    config = load()
    net = plan.network(network, dataset, "dense")
    layers = []
    for run in plan.runs(config, network, dataset, "dense"):
        write_inputs(run.spec, out / run.layer)
        layers.append((run.layer, repeat(net.layer(run.layer), config["problem"]["depthwise"]), out / run.layer))
    return layers


def _map(job: tuple[str, str]) -> tuple[str, float, int, Mapping]:
    arch, inputs = Path(job[0]), Path(job[1])
    stats = EmbeddedEngine().evaluate(
        arch, inputs / "problem.yaml", [inputs / "constraints.yaml"], inputs / "mapper.yaml"
    )
    if stats.mapping is None:
        raise RuntimeError(f"{inputs}: the mapper returned no mapping")
    return inputs.name, stats.total_energy_pJ, stats.cycles, stats.mapping


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", type=Path, default=ROOT / "arch/eyeriss")
    parser.add_argument("--network", default="mobilenet")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="energy-tables-"))
    start = time.perf_counter()
    paper = derive_tables(args.arch, work / "tables", "paper", cache_dir=work / "cache")
    derived = derive_tables(args.arch, work / "tables", "derived", cache_dir=work / "cache")
    print(f"tables in {time.perf_counter() - start:.1f} s: {derived[0]}\n")
    print(component_table(*paper, *derived))
    if args.table_only:
        return 0
    archs = {}
    for preset, (ert, _art) in (("paper", paper), ("derived", derived)):
        archs[preset] = work / f"arch-{preset}"
        shutil.copytree(args.arch, archs[preset], ignore=shutil.ignore_patterns("ERT*.yaml", "ART*.yaml"))
        shutil.copy(ert, archs[preset] / "ERT.yaml")  # the table the engine reads beside the arch
    layers = _layer_inputs(args.network, args.dataset, work / "problems")
    repeat = {name: r for name, r, _ in layers}
    results = {}
    for preset, arch in archs.items():
        start = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) as pool:
            results[preset] = {
                name: (e, c, m) for name, e, c, m in pool.map(_map, [(str(arch), str(d)) for _, _, d in layers])
            }
        print(f"\nmapped {len(layers)} layers with the {preset} table in {time.perf_counter() - start:.0f} s")
    # the paper table's mappings re-costed with the derived table
    spec, table = load_arch(archs["derived"] / "arch.yaml"), load_energy_table(derived[0])
    recost = 0.0
    for name, _, directory in layers:
        mapping = results["paper"][name][2]
        stats = evaluate_mapping(spec, table, load_problem(directory / "problem.yaml"), mapping, fast_analysis)
        recost += stats.total_energy_pJ * repeat[name]
    totals = {p: sum(e * repeat[n] for n, (e, _, _) in r.items()) for p, r in results.items()}
    cycles = {p: sum(c * repeat[n] for n, (_, c, _) in r.items()) for p, r in results.items()}
    print(f"\n{args.network}/{args.dataset} dense on {args.arch.name}, {len(layers)} layers:")
    print(f"  paper table:   {totals['paper'] / PJ_PER_UJ:.4f} uJ, {cycles['paper']} cycles")
    print(f"  derived table: {totals['derived'] / PJ_PER_UJ:.4f} uJ, {cycles['derived']} cycles (re-mapped)")
    print(f"  derived table, the paper table's mappings re-costed: {recost / PJ_PER_UJ:.4f} uJ")
    print(f"  derived / paper: {totals['derived'] / totals['paper']:.3f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
