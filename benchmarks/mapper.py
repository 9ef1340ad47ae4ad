"""Embedded mapper vs the paper artifact's recorded Timeloop mapper runs, per corpus.

Corpora (`--corpus`, default all):
  mobilenet          the 109 recorded MobileNetV2/CIFAR-10 runs in ../shared/reference: the same problem,
                     constraints, arch and mapper settings as each recorded run;
  artifact           the recorded MnasNet and FusioNet (CIFAR-10) runs of tests/data/artifact_runs.json whose
                     problem, constraints and arch equal what fuseloop's workflow produces (depthwise in the paper's
                     C=1 form), mapped on the workflow's own inputs with the artifact's mapper settings;
  artifact-mappings  runs of that fixture whose constraint files differ from ours (older files of the artifact) but
                     whose recorded mapping is a valid point of our mapspace: a bar on the mapping, not on the search;
  issue15            issue 15's five misses (coupled depthwise, default settings) against the issue's Timeloop figures.
Prints the time per layer and our cycles / energy relative to Timeloop's, then per corpus the fraction of layers
meeting the bar (cycles <= Timeloop's, energy <= 1.02 x Timeloop's, constraints kept).

    python benchmarks/mapper.py [--reference ../shared/reference] [--jobs 2] [--corpus C ...] [FILTER ...]

The artifact corpora need only the fixture: `--corpus artifact --corpus issue15` runs without ../shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.artifact_corpus import issue_15_runs, load_fixture, map_run, workflow_inputs  # noqa: E402
from engines.embedded.artifact import QUALITY_ENERGY, map_recorded, meets_bar, recorded_runs  # noqa: E402

CORPORA = ("mobilenet", "artifact", "artifact-mappings", "issue15")


def run_mobilenet(reference: Path, pool: ProcessPoolExecutor, filters: list[str], seed: int) -> list[dict]:
    runs = recorded_runs(reference / "timeloop-runs" / "mobilenet-cifar10")
    runs = [r for r in runs if not filters or any(f in r.name for f in filters)]
    accelerators = reference / "accelerators"
    return list(pool.map(map_recorded, runs, [accelerators] * len(runs), [seed] * len(runs)))


def fixture_runs(corpus: str) -> list[dict]:
    if corpus == "issue15":
        return issue_15_runs()
    runs = load_fixture()
    if corpus == "artifact":
        return [r for r in runs if r["status"] == "ok"]
    return [r for r in runs if r["status"] != "ok" and r.get("mapping_in_our_mapspace")]


def run_fixture(corpus: str, pool: ProcessPoolExecutor, filters: list[str], seed: int, scratch: Path) -> list[dict]:
    runs = [r for r in fixture_runs(corpus) if not filters or any(f in r["run"] for f in filters)]
    depthwise = "coupled" if corpus == "issue15" else "paper"
    dirs = [
        workflow_inputs(r["network"], r["dataset"], r["accelerator"], scratch, depthwise) / r["layer"] for r in runs
    ]
    return list(pool.map(map_run, runs, dirs, [seed] * len(runs)))


def summary(corpus: str, rows: list[dict], jobs: int) -> str:
    if not rows:
        return f"{corpus}: no layers"
    times = [r["seconds"] for r in rows]
    energies = [r["energy_ratio"] for r in rows]
    good = sum(meets_bar(r) for r in rows)
    illegal = sum(bool(r["violations"]) for r in rows)
    return (
        f"{corpus}: {good}/{len(rows)} layers ({good / len(rows):.0%}) meet the bar; {illegal} break their "
        f"constraints; time per layer median {statistics.median(times):.2f} s, max {max(times):.2f} s "
        f"(jobs={jobs}); energy / Timeloop median {statistics.median(energies):.4f}, min {min(energies):.4f}, "
        f"max {max(energies):.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, default=ROOT.parent / "shared" / "reference")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="the mapper's random seed")
    parser.add_argument("--corpus", action="append", choices=CORPORA, help="repeatable; default: all")
    parser.add_argument("filters", nargs="*", help="keep runs whose name contains one of these")
    args = parser.parse_args()
    corpora = args.corpus or list(CORPORA)
    results: dict[str, list[dict]] = {}
    with ProcessPoolExecutor(args.jobs) as pool, tempfile.TemporaryDirectory(prefix="fuseloop-bench-") as tmp:
        for corpus in corpora:
            if corpus == "mobilenet":
                results[corpus] = run_mobilenet(args.reference, pool, args.filters, args.seed)
            else:
                results[corpus] = run_fixture(corpus, pool, args.filters, args.seed, Path(tmp))
    print(f"{'run':62s} {'time s':>7s} {'cycles/TL':>9s} {'energy/TL':>9s} {'evals':>6s}")
    for corpus, rows in results.items():
        for r in rows:
            flag = "" if meets_bar(r) else "  <-- below the bar"
            flag += f"  <-- breaks constraints: {'; '.join(r['violations'])}" if r["violations"] else ""
            name = f"{corpus}: {r.get('layer', r['run'])}"
            print(
                f"{name:62s} {r['seconds']:7.2f} {r['cycles_ratio']:9.3f} {r['energy_ratio']:9.4f} "
                f"{r['evaluated']:6d}{flag}"
            )
    print(f"\nbar: cycles <= Timeloop's, energy <= {QUALITY_ENERGY} x Timeloop's, constraints kept (seed {args.seed})")
    for corpus, rows in results.items():
        print(summary(corpus, rows, args.jobs))


if __name__ == "__main__":
    main()
