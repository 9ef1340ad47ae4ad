"""Embedded mapper vs the paper artifact's recorded Timeloop mapper runs.

For every recorded MobileNetV2/CIFAR-10 run: map the same problem with the same constraints, arch and mapper
settings, and print the time per layer and our cycles / energy relative to Timeloop's recorded result.

    python benchmarks/mapper.py [--reference ../shared/reference] [--jobs 2] [FILTER ...]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.embedded.artifact import QUALITY_ENERGY, map_recorded, meets_bar, recorded_runs  # noqa: E402


def run_all(reference: Path, jobs: int = 1, filters: list[str] | None = None, seed: int = 0) -> list[dict]:
    runs = recorded_runs(reference / "timeloop-runs" / "mobilenet-cifar10")
    if filters:
        runs = [r for r in runs if any(f in r.name for f in filters)]
    accelerators = reference / "accelerators"
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(map_recorded, runs, [accelerators] * len(runs), [seed] * len(runs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, default=ROOT.parent / "shared" / "reference")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="the mapper's random seed")
    parser.add_argument("filters", nargs="*")
    args = parser.parse_args()
    rows = run_all(args.reference, args.jobs, args.filters, args.seed)
    print(f"{'run':52s} {'time s':>7s} {'cycles/TL':>9s} {'energy/TL':>9s} {'evals':>6s}")
    for r in rows:
        flag = "" if meets_bar(r) else "  <-- below the bar"
        flag += f"  <-- breaks constraints: {'; '.join(r['violations'])}" if r["violations"] else ""
        print(f"{r['run']:52s} {r['seconds']:7.2f} {r['cycles_ratio']:9.3f} {r['energy_ratio']:9.4f} {r['evaluated']:6d}{flag}")
    times = [r["seconds"] for r in rows]
    good = sum(meets_bar(r) for r in rows)
    energies = [r["energy_ratio"] for r in rows]
    illegal = sum(bool(r["violations"]) for r in rows)
    print(f"\n{good}/{len(rows)} layers meet the bar (cycles <= Timeloop, energy <= {QUALITY_ENERGY} x Timeloop)")
    print(f"{illegal} mappings break their constraints (seed {args.seed})")
    print(f"time per layer: median {statistics.median(times):.2f} s, max {max(times):.2f} s (jobs={args.jobs})")
    print(f"energy / Timeloop: median {statistics.median(energies):.4f}, min {min(energies):.4f}, max {max(energies):.4f}")


if __name__ == "__main__":
    main()
