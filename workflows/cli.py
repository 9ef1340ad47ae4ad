"""Command line the Snakemake rules call: `python -m workflows.cli <step> ... --log FILE`.

Each step is a thin wrapper around a function in `workflows.steps` that returns a short summary (what it read, the
result's key numbers); the summary and the time taken go to the step's log. An error is one line, written to the
log and to stderr (so Snakemake shows it in the terminal), exit status 1, and no partial output is left behind.
Only the modules a step needs are imported (the mapper step imports neither pandas nor TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path


def _json(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"not valid JSON: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workflows.cli", description=__doc__)
    sub = parser.add_subparsers(dest="step", required=True)

    def step(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("--log", type=Path, help="append the summary (or the error) to this file")
        return p

    p = step("map", "map one run with its engine")
    p.add_argument("--key", required=True, help="the run's key")
    p.add_argument("--origin", required=True, help="network/dataset/accelerator/layer of a layer that has the run")
    p.add_argument("--settings", required=True, type=_json, help="the run settings (problem, mapper, engine)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache", type=Path, default=None, help="run cache shared across results directories")
    p.add_argument("--arch-dir", type=Path, default=None, help="the arch copy with derived tables to read")
    p.add_argument("--out", required=True, type=Path, help="stats.json to write (its directory holds the run)")

    p = step("tables", "a copy of an arch directory with its derived energy and area tables")
    p.add_argument("--arch", required=True, type=Path)
    p.add_argument("--preset", default="derived")
    p.add_argument("--out", required=True, type=Path)

    p = step("prepare", "a per-network artifact of an accelerator (e.g. pruned weights)")
    for arg in ("--accelerator", "--artifact", "--network", "--dataset"):
        p.add_argument(arg, required=True)
    p.add_argument("--settings", required=True, type=_json)
    p.add_argument("--out", required=True, type=Path)

    p = step("table", "layers.csv rows of one accelerator for one network/dataset")
    for arg in ("--accelerator", "--network", "--dataset"):
        p.add_argument(arg, required=True)
    p.add_argument("--runs", required=True, type=_json, help="{layer: run key}")
    p.add_argument("--results", required=True, type=Path)
    p.add_argument("--settings", required=True, type=_json)
    p.add_argument("--out", required=True, type=Path)

    p = step("merge", "layers.csv + res.csv of one network/dataset")
    p.add_argument("--inputs", required=True, nargs="+", type=Path)
    p.add_argument("--layers-out", required=True, type=Path)
    p.add_argument("--res-out", required=True, type=Path)

    p = step("summary", "summary.csv of the sweep")
    p.add_argument("--inputs", required=True, nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path)

    p = step("plots", "PNG + SVG plots")
    p.add_argument("--summary", required=True, type=Path)
    p.add_argument("--layers", required=True, nargs="+", type=Path)
    p.add_argument("--outdir", required=True, type=Path)

    def pair_costs(p: argparse.ArgumentParser) -> None:
        for arg in ("--network", "--dataset"):
            p.add_argument(arg, required=True)
        p.add_argument("--layers", required=True, type=Path, help="the pair's layers.csv")
        p.add_argument("--runs", required=True, type=_json, help="{accelerator: {layer: run key}}")
        p.add_argument("--results", required=True, type=Path)
        p.add_argument("--choices", required=True, type=Path)
        p.add_argument("--settings", required=True, type=_json)

    p = step("costs", "costs.csv + costs_summary.csv of one network/dataset")
    pair_costs(p)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--summary-out", required=True, type=Path)

    p = step("costs_summary", "the sweep's costs_summary.csv")
    p.add_argument("--inputs", required=True, nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path)

    p = step("cost_plots", "cost plots (PNG + SVG) of one network/dataset")
    pair_costs(p)
    p.add_argument("--outdir", required=True, type=Path)
    p.add_argument("--done", required=True, type=Path)

    p = step("search", "NSGA-II design-space search (dse/)")
    p.add_argument("--space", required=True, type=Path)
    p.add_argument("--results", required=True, type=Path)
    p.add_argument("--settings", required=True, type=_json)
    p.add_argument("--out", required=True, type=Path)

    p = step("cache", "the run cache: `clear` deletes every entry")
    p.add_argument("action", choices=["clear"])
    p.add_argument("--dir", required=True, type=Path)
    return parser


def _log(path: Path | None, text: str) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            handle.write(text.rstrip("\n") + "\n")


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM (scancel, a SLURM time limit, Snakemake shutting down) unwinds like an error, so the atomic writes
    of specs.io delete their temporary files instead of leaving them in the results."""
    print(f"fuseloop: terminated by signal {signum}", file=sys.stderr)
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = build_parser().parse_args(argv)
    from . import steps

    function = getattr(steps, {"map": "map_run"}.get(args.step, args.step))
    options = {k: v for k, v in vars(args).items() if k not in ("step", "log")}
    if args.log is not None and args.log.exists():
        args.log.unlink()  # a re-run starts a fresh log
    start = time.perf_counter()
    try:
        summary = function(**options)
    except Exception as exc:  # one clear line; the traceback only with FUSELOOP_DEBUG
        if os.environ.get("FUSELOOP_DEBUG"):
            raise
        origin = f" {args.origin}" if getattr(args, "origin", None) else ""  # which layer a map run is for
        line = f"fuseloop {args.step}{origin}: error: {exc}"
        _log(args.log, line)
        print(line + (f" (log: {args.log})" if args.log else ""), file=sys.stderr)
        return 1
    _log(args.log, f"{summary}\n({time.perf_counter() - start:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
