"""Speed of the design-space search (issue 19): evaluations per second and time per generation.

    python benchmarks/search.py [SPACE.yaml ...] [--config CONFIG] [--results DIR] [--generations N] [--jobs 2]

Per space: the time to build the tables (runs mapped first when missing, in --jobs processes, reported apart), the
model's throughput on one random population of 10,000 designs (one vectorised call), then NSGA-II for the space's
generations (or --generations) with no checkpoint: seconds per generation and designs evaluated per second in the
loop (pymoo's mating, duplicate elimination and survival included). Default spaces: the shipped MobileNetV2
multiplier space (dense accelerator) and the hybrid space (fusion per block + multipliers).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_SPACES = [ROOT / "dse/examples/mobilenet-multipliers.yaml", ROOT / "dse/examples/mobilenet-hybrid.yaml"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spaces", nargs="*", type=Path, default=DEFAULT_SPACES)
    parser.add_argument("--config", type=Path, default=ROOT / "workflows/config/default.yaml")
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--generations", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2, help="processes for mapping missing runs and for accuracy")
    args = parser.parse_args(argv)

    from dse.inputs import design_inputs, ensure_runs, evaluator_for, planned_runs
    from dse.model import DesignModel
    from dse.nsga import front, run_search
    from dse.run import cost_settings
    from dse.space import load_space
    from workflows import config as wfconfig

    config = wfconfig.load(args.config)
    results = Path(args.results or config["results"])
    for path in args.spaces:
        space = load_space(path)
        start = time.perf_counter()
        stats = ensure_runs(planned_runs(space, config), results, args.jobs, log=lambda line: print(f"  {line}"))
        mapped = time.perf_counter()
        model = DesignModel(
            space,
            design_inputs(space, config, stats),
            cost_settings(config),
            evaluator_for(space),
            accuracy_jobs=args.jobs,
        )
        built = time.perf_counter()
        genes = model.repair(np.random.default_rng(0).integers(0, model.upper + 1, size=(10_000, model.n_var)))
        t0 = time.perf_counter()
        model.evaluate(genes, accuracy=False)
        model_rate = len(genes) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        state = run_search(model, generations=args.generations, log=lambda line: None)
        loop = time.perf_counter() - t0
        per_gen = [p["seconds"] for p in state.progress]
        print(
            f"{space.name}: {len(model.layers)} layers, {model.n_var} genes"
            f"{f', {len(model.fusion_blocks)} fusion genes' if model.fusion_blocks else ''}; "
            f"objectives {', '.join(space.objectives)}"
        )
        print(f"  runs ready in {mapped - start:.1f} s; tables built in {built - mapped:.2f} s")
        print(f"  model: {model_rate:,.0f} designs/s (one population of {len(genes):,}; cost metrics, no accuracy)")
        if model.evaluator is not None:
            print(
                f"  accuracy evaluator: {len(model.accuracy_cache)} designs measured during the search "
                f"({args.jobs} process(es))"
            )
        print(
            f"  NSGA-II: {len(per_gen)} generations of {space.algorithm['pop_size']}, {len(state.archive)} designs "
            f"in {loop:.2f} s: {len(state.archive) / loop:,.0f} designs/s, {np.mean(per_gen) * 1e3:.1f} ms per "
            f"generation (median {np.median(per_gen) * 1e3:.1f}, max {np.max(per_gen) * 1e3:.1f}); front "
            f"{len(front(model, state.archive))} points"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
