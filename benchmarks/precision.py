"""Fast vs exact precision mode on a whole network (issue 18's closing note): every dense layer of MobileNetV2 /
CIFAR-10 at 8 bits (8-bit weights, inputs and outputs, 24-bit partial sums), per layer and in total.

    python benchmarks/precision.py [--config CONFIG] [--results DIR] [--choices FILE] [--jobs 2] [--out table.csv]

fast:  the 16-bit run's per-level, per-tensor energies and MAC energy rescaled (costs.precision.fast_mode);
exact: the arch re-rendered with the layer's word widths (buffers hold more words) and the layer re-mapped
       (costs.exact_arch.exact_mode).
The 16-bit runs are the workflow's (<results>/runs/<key>/, mapped here when missing, with the config's mapper
settings); energies are whole layers (x repeat of grouped layers), in uJ.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _exact(args):
    from costs.exact_arch import exact_mode
    from engines.runs import write_inputs

    layer, spec, choice, baseline, workdir = args
    inputs = write_inputs(spec, Path(workdir) / "inputs")
    stats = exact_mode(
        spec.arch_path(ROOT),
        inputs["problem"],
        [inputs["constraints"]],
        inputs["mapper"],
        choice,
        baseline,
        Path(workdir) / "exact",
        engine=spec.engine,
    )
    return layer, stats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "workflows/config/default.yaml")
    parser.add_argument("--results", type=Path, default=None, help="results directory (default: the config's)")
    parser.add_argument("--network", default="mobilenet")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument(
        "--choices",
        type=Path,
        default=None,
        help="a choices file (default: 8-bit weights/inputs/outputs, 24-bit psums, exact multipliers)",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="write the per-layer table as CSV")
    args = parser.parse_args(argv)

    import pandas as pd

    from accelerators.dense import repeat
    from costs import load_choices
    from costs.choices import LayerChoice
    from costs.precision import fast_mode
    from dse.inputs import ensure_runs
    from workflows import config as wfconfig
    from workflows import plan

    config = wfconfig.load(args.config)
    results = Path(args.results or config["results"])
    runs = {r.layer: r for r in plan.runs(config, args.network, args.dataset, "dense")}
    start = time.perf_counter()
    stats = ensure_runs(runs, results, args.jobs)
    network = plan.network(args.network, args.dataset, "dense")
    table = (
        load_choices(args.choices).resolve(network, strict=False)
        if args.choices
        else {layer.name: LayerChoice(8, 8, 8, 24) for layer in network.layers()}
    )
    form = config["problem"]["depthwise"]
    with tempfile.TemporaryDirectory() as tmp:
        work = [(name, runs[name].spec, table[name], stats[name], Path(tmp) / name) for name in runs]
        mapped = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) as pool:
            exact = dict(pool.map(_exact, work))
        remap_s = time.perf_counter() - mapped
    rows = []
    for layer in network.layers():
        copies = repeat(layer, form)
        base = stats[layer.name]
        fast = fast_mode(base, table[layer.name])
        rows.append(
            {
                "layer": layer.name,
                "ref_16bit_uJ": base.total_energy_pJ * copies * 1e-6,
                "fast_uJ": fast.total_energy_pJ * copies * 1e-6,
                "exact_uJ": exact[layer.name].total_energy_pJ * copies * 1e-6,
                "cycles_16bit": base.cycles * copies,
                "cycles_exact": exact[layer.name].cycles * copies,
            }
        )
    frame = pd.DataFrame(rows)
    frame["exact_vs_fast_pct"] = 100 * (frame["exact_uJ"] / frame["fast_uJ"] - 1)
    total = frame[["ref_16bit_uJ", "fast_uJ", "exact_uJ", "cycles_16bit", "cycles_exact"]].sum()
    pd.set_option("display.width", 160)
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"\ntotal ({len(frame)} layers, {args.network}/{args.dataset}, dense Eyeriss, "
        f"{'choices ' + str(args.choices) if args.choices else '8-bit operands and outputs, 24-bit psums'}):"
    )
    print(
        f"  16-bit {total['ref_16bit_uJ']:.2f} uJ, fast {total['fast_uJ']:.2f} uJ, exact {total['exact_uJ']:.2f} uJ"
        f" (exact - fast: {total['exact_uJ'] - total['fast_uJ']:+.2f} uJ, "
        f"{100 * (total['exact_uJ'] / total['fast_uJ'] - 1):+.2f} %)"
    )
    print(f"  cycles 16-bit {int(total['cycles_16bit'])}, exact {int(total['cycles_exact'])}")
    diff = frame["exact_vs_fast_pct"]
    print(
        f"  per layer exact vs fast: min {diff.min():+.2f} %, median {diff.median():+.2f} %, max {diff.max():+.2f} %;"
        f" {int((diff.abs() < 0.01).sum())} layers within 0.01 %"
    )
    print(
        f"  time: {time.perf_counter() - start:.1f} s in all, exact-mode re-mapping {remap_s:.1f} s on {args.jobs} "
        f"processes"
    )
    if args.out:
        frame.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
