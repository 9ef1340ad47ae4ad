"""Command line the Snakemake rules call: `python -m workflows.cli <step> ...`.

Each step is a thin wrapper around a function in `workflows.steps`; errors are printed as one line
(to the rule's log) and exit with status 1, leaving no partial output behind.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path


def _settings(text: str) -> dict:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"--settings is not valid JSON: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workflows.cli", description=__doc__)
    sub = parser.add_subparsers(dest="step", required=True)

    p = sub.add_parser("problems", help="write the Timeloop inputs of every layer run")
    p.add_argument("--network", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--accelerator", required=True, choices=["dense", "archon"])
    p.add_argument("--settings", required=True, type=_settings)
    p.add_argument("--out", required=True, type=Path)

    p = sub.add_parser("map", help="map one layer with the configured engine")
    p.add_argument("--inputs", required=True, type=Path, help="the layer's directory written by `problems`")
    p.add_argument("--settings", required=True, type=_settings)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, type=Path, help="stats.json to write")

    p = sub.add_parser("prune", help="pruned weights of a network (user model or generated)")
    p.add_argument("--network", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--settings", required=True, type=_settings)
    p.add_argument("--out", required=True, type=Path, help="weights.npz to write")

    p = sub.add_parser("sparse", help="sparse cycles and energy of one layer")
    p.add_argument("--network", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--layer", required=True)
    p.add_argument("--dense", required=True, type=Path)
    p.add_argument("--weights", required=True, type=Path)
    p.add_argument("--settings", required=True, type=_settings)
    p.add_argument("--out", required=True, type=Path)

    p = sub.add_parser("table", help="per-layer rows of one accelerator")
    p.add_argument("--network", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--accelerator", required=True, choices=["dense", "sparse", "archon"])
    p.add_argument("--results", required=True, type=Path)
    p.add_argument("--settings", required=True, type=_settings)
    p.add_argument("--out", required=True, type=Path)

    p = sub.add_parser("merge", help="layers.csv + res.csv of one network/dataset")
    p.add_argument("--inputs", required=True, nargs="+", type=Path)
    p.add_argument("--layers-out", required=True, type=Path)
    p.add_argument("--res-out", required=True, type=Path)

    p = sub.add_parser("summary", help="summary.csv of the sweep")
    p.add_argument("--inputs", required=True, nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path)

    p = sub.add_parser("plots", help="PNG + SVG plots")
    p.add_argument("--summary", required=True, type=Path)
    p.add_argument("--layers", required=True, nargs="+", type=Path)
    p.add_argument("--outdir", required=True, type=Path)
    return parser


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM (scancel, a SLURM time limit, Snakemake shutting down) unwinds like an error, so the atomic writes
    of workflows/files.py delete their temporary files instead of leaving them in the results."""
    print(f"fuseloop: terminated by signal {signum}", file=sys.stderr)
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = build_parser().parse_args(argv)
    from . import steps

    step = getattr(steps, {"map": "map_layer"}.get(args.step, args.step))
    options = {k: v for k, v in vars(args).items() if k != "step"}
    try:
        step(**options)
    except Exception as exc:  # one clear line for the log; the traceback only with FUSELOOP_DEBUG
        import os

        if os.environ.get("FUSELOOP_DEBUG"):
            raise
        print(f"fuseloop {args.step}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
