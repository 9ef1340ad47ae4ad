"""Sparse Eyeriss: analysis time per layer and for the whole MobileNetV2 (CIFAR-10, baseline).

Run: /work/venv/bin/python benchmarks/sparse.py [--preset default|paper] [--repeat N] [--seed S]

Dense runs: the recorded real Timeloop runs of MobileNetV2 (stats.txt + map.txt, the reference data beside the
checkout; FUSELOOP_REFERENCE overrides its location). Layer shapes come from each run's prob.yaml; weights are the
zoo MobileNetV2's generated magnitude-pruned kernels (NumPy only, no TensorFlow; kernel shapes do not depend on the
feature-map size, so the reference's 8x8 block 12 takes the zoo's block-12 kernels). Prints per layer the mean time
of the imbalance analysis alone and of the full `evaluate_layer` (cycles + energy), then the whole network, and the
generated model's density per layer kind.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
from conftest import MOBILENET_RUNS  # noqa: E402

from accelerators.dense import depthwise_input_fix  # noqa: E402
from engines.parsers import parse_run  # noqa: E402
from sparsity import analyse, derive_pe_level, evaluate_layer, load_params, problem_tensor, split_problems  # noqa: E402
from sparsity.pruning import density, pruned_weights  # noqa: E402
from workloads.layer import Layer  # noqa: E402
from workloads.problem import parse_problem  # noqa: E402
from workloads.zoo import load_network  # noqa: E402


def reference_runs() -> list[tuple[str, Path]]:
    """(zoo layer name, run directory) for the 54 layers of the reference's MobileNetV2 result table."""
    head = MOBILENET_RUNS / "head_and_tail" / "baseline" / "head" / "baseline"
    tail = MOBILENET_RUNS / "head_and_tail" / "baseline" / "tail" / "baseline"
    runs = [(f"head.{n}", head / n) for n in ("conv1", "PW1", "DW1", "PW2")]
    runs += [
        (f"b{k}.{role}", MOBILENET_RUNS / "baseline" / f"b{k}" / role)
        for k in range(1, 17)
        for role in ("decom", "conv", "comp")
    ]
    return runs + [(f"tail.{n}", tail / n) for n in ("PW1", "FC1")]


def reference_layer(zoo_layer: Layer, run_dir: Path) -> Layer:
    """The zoo layer with the feature-map size and stride the recorded run used."""
    inst = parse_problem(run_dir / "prob" / "prob.yaml").instance
    return zoo_layer.with_(P=inst["P"], Q=inst["Q"], stride=inst["Wstride"])


def analyse_all(mapping, tensors, pe) -> list:
    """The imbalance analysis of every split problem of one layer."""
    return [analyse(mapping, w, pe) for w in tensors]


def mean_time(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    params = load_params(args.preset)
    net = load_network("mobilenet", "cifar10")
    start = time.perf_counter()
    weights = pruned_weights(net, params.target_sparsity, args.seed)
    print(f"generated pruned weights (NumPy) for {len(weights)} layers: {time.perf_counter() - start:.3f} s")
    cases = []
    for name, run_dir in reference_runs():
        stats = parse_run(run_dir)
        layer = reference_layer(net.layer(name), run_dir)
        # the recorded depthwise runs are in the paper's C=1 form: add back their missing input energy, as the
        # workflow does
        extra = sum(depthwise_input_fix(stats, layer, "paper").values())
        if stats.mapping is None:
            raise SystemExit(f"{run_dir}: the recorded run has no mapping (map.txt)")
        cases.append((layer, stats, stats.mapping, weights[name], extra))

    print(f"\npreset {args.preset}; mean of {args.repeat} runs per layer")
    print(
        f"{'layer':12} {'MACs':>10} {'PEs':>4} {'passes':>6} {'dense cyc':>9} {'sparse cyc':>10} {'balanced':>9} "
        f"{'density':>7} {'analyse ms':>10} {'evaluate ms':>11}"
    )
    totals: defaultdict[str, float] = defaultdict(float)
    for layer, stats, mapping, kernel, extra in cases:
        pe = derive_pe_level(mapping, stats)
        bounds = {d: mapping.factors(d) for d in "RSCM"}
        tensors = split_problems(layer, problem_tensor(layer, kernel), bounds)
        t_analyse = mean_time(partial(analyse_all, mapping, tensors, pe), args.repeat)
        t_eval = mean_time(partial(evaluate_layer, layer, stats, kernel, params, extra), args.repeat)
        result = evaluate_layer(layer, stats, kernel, params, extra)
        totals["analyse"] += t_analyse
        totals["evaluate"] += t_eval
        totals["dense"] += result.dense_cycles
        totals["sparse"] += result.cycles
        totals["balanced"] += result.balanced_cycles
        totals["dense_uJ"] += result.dense_energy_pJ / 1e6
        totals["sparse_uJ"] += result.energy_pJ / 1e6
        print(
            f"{layer.name:12} {result.dense_macs:10d} {result.pes:4d} {result.passes:6d} {result.dense_cycles:9d} "
            f"{result.cycles:10d} {result.balanced_cycles:9d} {result.density:7.4f} {1e3 * t_analyse:10.3f} "
            f"{1e3 * t_eval:11.3f}"
        )
    start = time.perf_counter()
    for layer, stats, _, kernel, extra in cases:
        evaluate_layer(layer, stats, kernel, params, extra)
    whole = time.perf_counter() - start
    print(
        f"\nwhole network ({len(cases)} layers): analyse {totals['analyse']:.3f} s, "
        f"evaluate {totals['evaluate']:.3f} s (one pass end to end: {whole:.3f} s)"
    )
    print(
        f"cycles: dense {totals['dense']:.0f}, sparse {totals['sparse']:.0f}, balanced bound {totals['balanced']:.0f}"
    )
    print(f"energy: dense base {totals['dense_uJ']:.2f} uJ, sparse {totals['sparse_uJ']:.2f} uJ")

    print("\ngenerated model density per layer kind (non-zero / all weights):")
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for layer in net.layers():
        by_kind[layer.kind][0] += int(np.count_nonzero(weights[layer.name]))
        by_kind[layer.kind][1] += weights[layer.name].size
    for kind, (kept, size) in sorted(by_kind.items()):
        per_layer = [density(weights[layer.name]) for layer in net.layers() if layer.kind == kind]
        print(
            f"  {kind:18} {kept:8d} / {size:8d} = {kept / size:.4f}  "
            f"(per layer {min(per_layer):.4f} .. {max(per_layer):.4f})"
        )


if __name__ == "__main__":
    main()
