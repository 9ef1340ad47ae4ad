"""`fuseloop search` and `fuseloop search-export` (also `python -m dse search | export ...`).

    fuseloop search SPACE.yaml [--config CONFIG.yaml] [--results DIR] [--out DIR] [--generations N] [--fresh]
                               [--jobs N]
        NSGA-II over the space; runs missing from <results>/runs/ are mapped first (in N processes), as the
        workflow's map_run step would. Outputs in --out (default <results>/search/<space name>/): pareto.csv,
        evaluated.csv, progress.csv, pareto.png/.svg and checkpoint.pkl (a re-run resumes from it; --fresh ignores
        it; --generations N continues a finished search up to N generations).
    fuseloop search-export SPACE.yaml --point I [--config ...] [--results ...] [--out DIR] [--to DIR]
        writes the front's point I (pareto.csv `point`) as <to>/choices.yaml + <to>/config.yaml (default
        <out>/point-<I>/), a workflow config: `snakemake --cores 2 --configfile <to>/config.yaml` evaluates it.

CONFIG is a workflow config (default workflows/config/default.yaml): its engine, mapper, problem and accelerator
settings determine the runs, its `costs` section the cost settings. Errors are one line naming the file and field.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fuseloop", description=__doc__.split("\n\n")[0])  # also python -m dse
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("space", type=Path, help="search space YAML (dse/README.md)")
    common.add_argument("--config", type=Path, default=None, help="workflow config (default: the default sweep's)")
    common.add_argument("--results", type=Path, default=None, help="results directory (default: the config's)")
    common.add_argument("--out", type=Path, default=None, help="search output directory")
    p = sub.add_parser("search", parents=[common], help="run (or resume) NSGA-II over a space")
    p.add_argument("--generations", type=int, default=None, help="generations in all (default: the space's)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="processes for mapping missing runs and for the accuracy evaluator (default 2)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p = sub.add_parser(
        "export", aliases=["search-export"], parents=[common], help="a Pareto point as a workflow config"
    )
    p.add_argument("--point", type=int, required=True, help="pareto.csv `point` to export")
    p.add_argument("--to", type=Path, default=None, help="directory for choices.yaml + config.yaml")
    p.add_argument("--point-results", default=None, help="results directory the exported config names")
    return parser


def _context(args):
    from workflows import config as wfconfig

    from .space import load_space

    config = wfconfig.load(args.config) if args.config else wfconfig.load()
    space = load_space(args.space)
    results = Path(args.results or config["results"])
    out = Path(args.out or results / "search" / space.name)
    return config, space, results, out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config, space, results, out = _context(args)
        if args.command == "search":
            return _search(args, config, space, results, out)
        return _export(args, config, space, results, out)
    except Exception as exc:  # one line; the traceback with FUSELOOP_DEBUG
        if os.environ.get("FUSELOOP_DEBUG"):
            raise
        hint = " (install the search extra: pip install '.[search]')" if getattr(exc, "name", "") == "pymoo" else ""
        print(f"fuseloop {args.command}: error: {exc}{hint}", file=sys.stderr)
        return 1


def _search(args, config, space, results, out) -> int:
    from .run import search

    start = time.perf_counter()
    log = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    _model, state, paths = search(
        space, config, results, out, args.generations, resume=not args.fresh, map_missing=True, jobs=args.jobs, log=log
    )
    import pandas as pd

    pareto = pd.read_csv(paths["pareto"])
    print(
        f"{space.name}: {len(state.archive)} designs evaluated in {len(state.progress)} generations "
        f"({time.perf_counter() - start:.1f} s); front {len(pareto)} points "
        f"(reference design {'on' if pareto['reference'].any() else 'not on'} it)"
    )
    for name, path in paths.items():
        print(f"  {name}: {path}")
    return 0


def _export(args, config, space, results, out) -> int:
    import numpy as np
    import pandas as pd

    from .export import export_point
    from .run import build_model

    pareto = pd.read_csv(out / "pareto.csv", dtype={"genes": str}, keep_default_na=False)
    rows = pareto[pareto["point"] == args.point]
    if rows.empty:
        raise ValueError(f"{out / 'pareto.csv'}: no point {args.point} (points 0..{len(pareto) - 1})")
    genes = np.array(rows.iloc[0]["genes"].split(), dtype=np.int64)
    model, _keys = build_model(space, config, results)
    if len(genes) != model.n_var:
        raise ValueError(f"{out / 'pareto.csv'}: point {args.point} has {len(genes)} genes, the space {model.n_var}")
    paths = export_point(model, config, genes, args.to or out / f"point-{args.point}", args.point_results)
    for name, path in paths.items():
        print(f"{name}: {path}")
    if "config" in paths:
        print(f"evaluate it: snakemake --cores 2 --configfile {paths['config']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
