"""Wall time of the workflow per network/dataset: runs Snakemake once per pair of the config's sweep
(all of that pair's accelerators), one after the other, and prints the wall time of each.

    python benchmarks/sweep.py [--config workflows/config/default.yaml] [--cores 2]

Results land where the config says (`results:`); a pair whose outputs are up to date takes seconds.
Use --fresh to delete that pair's results first, so every time is a full run.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def run_pair(config: dict, pair: dict, cores: int, fresh: bool) -> float:
    results = Path(config["results"])
    if not results.is_absolute():
        results = ROOT / results
    if fresh:
        shutil.rmtree(results / pair["network"] / pair["dataset"], ignore_errors=True)
    one = {**config, "sweep": [pair]}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump(one, handle)
    start = time.perf_counter()
    target = f"{config['results']}/{pair['network']}/{pair['dataset']}/res.csv"
    run = subprocess.run([sys.executable, "-m", "snakemake", target, "--cores", str(cores),
                          "--configfile", handle.name], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        tail = "\n".join((run.stdout + run.stderr).splitlines()[-40:])
        sys.exit(f"{pair['network']}/{pair['dataset']}: snakemake failed (exit {run.returncode}); "
                 f"last lines of its output:\n{tail}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "workflows/config/default.yaml")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="delete each pair's results before running it")
    args = parser.parse_args()
    config = yaml.safe_load(args.config.read_text())
    rows = []
    for pair in config["sweep"]:
        seconds = run_pair(config, pair, args.cores, args.fresh)
        rows.append((f"{pair['network']}/{pair['dataset']}", seconds))
        print(f"{rows[-1][0]:24s} {seconds:8.1f} s", flush=True)
    total = sum(s for _, s in rows)
    print(f"{'total':24s} {total:8.1f} s  ({len(rows)} network/dataset pairs, {args.cores} cores, "
          f"accelerators {', '.join(config['accelerators'])})")


if __name__ == "__main__":
    main()
