"""Embedded model: fidelity over the 109 recorded Timeloop runs and time per evaluation.

Run: /work/venv/bin/python benchmarks/model.py [--repeat N] [--reference]

Prints the worst relative error of cycles, total energy and per-level energy
against the recorded stats.txt files, then the mean wall time of one model
evaluation (inputs already loaded): the full `evaluate_mapping` (nest checks,
analysis, buffer model) and the nest analysis alone; with --reference also
the slow step-by-step replay.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_embedded_model import RUNS, arch_dir, compare_run, read_map  # noqa: E402  (private readers)

from engines.embedded import EmbeddedEngine, load_arch_and_energy, load_problem_cached  # noqa: E402
from engines.embedded.analysis import fast_analysis  # noqa: E402
from engines.embedded.model import evaluate_mapping  # noqa: E402
from engines.embedded.nest import build_nest  # noqa: E402
from engines.embedded.reference import reference_analysis  # noqa: E402


def fidelity() -> None:
    engine = EmbeddedEngine("fast")
    worst = {"cycles": 0.0, "total": 0.0, "level": 0.0}
    failing = 0
    for run in RUNS:
        problems, errs = compare_run(run, engine)
        failing += bool(problems)
        for key in worst:
            worst[key] = max(worst[key], errs[key])
    print(f"runs: {len(RUNS)}, with any mismatch: {failing}")
    print(
        f"max |rel err|: cycles {worst['cycles']:.2e}, total energy {worst['total']:.2e}, "
        f"per-level energy {worst['level']:.2e}"
    )


def timing(repeat: int, reference: bool) -> None:
    cases = []
    for run in RUNS:
        arch, energy = load_arch_and_energy(arch_dir(run))
        cases.append((arch, energy, load_problem_cached(run / "prob" / "prob.yaml"), read_map(run / "map.txt")))
    start = time.perf_counter()
    for _ in range(repeat):
        for arch, energy, prob, mapping in cases:
            evaluate_mapping(arch, energy, prob, mapping, fast_analysis)
    per_eval = (time.perf_counter() - start) / repeat / len(cases)
    nests = [(prob, build_nest(arch, prob, mapping)) for arch, _, prob, mapping in cases]
    start = time.perf_counter()
    for _ in range(repeat):
        for prob, nest in nests:
            fast_analysis(prob, nest)
    per_analysis = (time.perf_counter() - start) / repeat / len(nests)
    print(f"fast model: {per_eval * 1e6:.0f} us per evaluation ({per_analysis * 1e6:.0f} us nest analysis)")
    if reference:
        start = time.perf_counter()
        for prob, nest in nests:
            reference_analysis(prob, nest)
        print(f"reference replay: {(time.perf_counter() - start) / len(nests) * 1e3:.1f} ms per nest analysis")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timing repetitions over the 109 runs")
    parser.add_argument("--reference", action="store_true", help="also time the reference replay")
    args = parser.parse_args()
    fidelity()
    timing(args.repeat, args.reference)


if __name__ == "__main__":
    main()
