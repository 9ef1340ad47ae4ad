"""Wall time of the workflow, and what re-runs cost: a fresh full sweep, then a no-op re-run and one edit at a time.

    python benchmarks/sweep.py [--config workflows/config/default.yaml] [--cores 2] [--keep DIR]

Everything runs in a scratch copy of the repository (so an arch file can be edited) with its own results directory.
Printed as a table:
  fresh      the whole sweep from an empty results directory: wall time, Snakemake steps, the sum of the mapper jobs'
             own run times (from `benchmark:` files) and the ratio wall / (that sum / cores): 1.0 means no overhead
             beyond the mapping itself;
  no-op      a re-run with nothing changed;
  archon     `archon.overrides` changed (ARCHON's table only, no mapper run);
  main       `mapper.main` changed (ARCHON's main runs only);
  eyeriss    a comment added to arch/eyeriss/arch.yaml (the dense runs, the sparse table re-costs them);
  sparse     `sparse.seed` changed (the pruned weights and the sparse table);
each with the job count per rule that Snakemake ran.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def scratch_copy(destination: Path) -> Path:
    """The repository's tracked files (and the working tree's edits and untracked, unignored files) copied to
    `destination` (the workflow tests run there too)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    return destination


def run(repo: Path, config: dict, cores: int, scratch: Path) -> tuple[float, Counter]:
    """Run Snakemake on `config`; (wall seconds, jobs per rule that ran)."""
    path = scratch / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", str(cores), "--configfile", str(path)],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    output = done.stdout + done.stderr
    if done.returncode != 0:
        sys.exit("snakemake failed; last lines:\n" + "\n".join(output.splitlines()[-30:]))
    if "Job stats:" not in output:
        return seconds, Counter()
    table = output.split("Job stats:")[1].split("\n\n")[0]
    return seconds, Counter({m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"})


def mapper_seconds(results: Path) -> tuple[float, int]:
    """(sum of the map_run jobs' run times, their number) from Snakemake's benchmark files."""
    total, count = 0.0, 0
    for path in (results / "benchmarks" / "map_run").glob("*.tsv"):
        with open(path) as handle:
            total += float(next(csv.DictReader(handle, delimiter="\t"))["s"])
            count += 1
    return total, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "workflows/config/default.yaml")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="work here (and keep it) instead of a temporary directory")
    args = parser.parse_args()
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="fuseloop-sweep-"))
    repo = scratch_copy(scratch / "repo")
    base = yaml.safe_load(args.config.read_text())
    base["results"] = str(scratch / "results")
    rows = []

    seconds, jobs = run(repo, base, args.cores, scratch)
    mapped, maps = mapper_seconds(scratch / "results")
    ratio = seconds / (mapped / args.cores) if mapped else float("nan")
    rows.append(
        (
            "fresh",
            seconds,
            jobs,
            f"{maps} mapper jobs, {mapped:.0f} s of mapping; wall / (mapping / {args.cores} cores) = {ratio:.2f}",
        )
    )
    rows.append(("no-op", *run(repo, base, args.cores, scratch), ""))
    edits = {
        "archon": {**base, "archon": {**base.get("archon", {}), "overrides": {"adders_per_pe": 4}}},
        "main": {
            **base,
            "mapper": {
                **base["mapper"],
                "main": {
                    **base["mapper"]["main"],
                    "victory_condition": base["mapper"]["main"]["victory_condition"] + 1,
                },
            },
        },
        "sparse": {**base, "sparse": {**base.get("sparse", {}), "seed": 1 + base.get("sparse", {}).get("seed", 0)}},
    }
    for name, config in edits.items():
        rows.append((name, *run(repo, config, args.cores, scratch), ""))
        run(repo, base, args.cores, scratch)  # back to the base state (its runs are still there)
    arch = repo / "arch" / "eyeriss" / "arch.yaml"
    arch.write_text(arch.read_text() + "# edited\n")
    rows.append(("eyeriss", *run(repo, base, args.cores, scratch), ""))

    print(f"{'case':8} {'wall s':>8}  jobs per rule (ran)")
    for name, seconds, jobs, note in rows:
        ran = ", ".join(f"{rule} {n}" for rule, n in sorted(jobs.items()) if rule != "all") or "nothing"
        print(f"{name:8} {seconds:8.1f}  {ran}{'  | ' + note if note else ''}")
    if not args.keep:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
