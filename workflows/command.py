"""`fuseloop`: the user's command line (installed by `pip install -e .`; `python -m workflows.command` works too).

    fuseloop check [CONFIG ...]          validate configs (merged in order over the default) and print the sweep
    fuseloop run [CONFIG ...] [-- SNAKEMAKE ARGS]   check, then `snakemake --cores N --configfile CONFIG ...`
    fuseloop cache clear DIR             delete every entry of a run cache (config `run_cache`)
    fuseloop search SPACE.yaml [...]     NSGA-II over per-layer choices and fusion (dse/README.md)
    fuseloop search-export SPACE.yaml --point I   a Pareto point as choices.yaml + a workflow config.yaml
    fuseloop import-keras MODEL --name NAME [--dataset D] [--config FILE]
                                         a Keras model (.h5/.keras) as a network file, workloads/networks/NAME.yaml:
                                         its baseline and the ARCHON fused variant (workloads/keras_network.py);
                                         prints (or writes with --config) a config running it with the model's
                                         own pruned weights on the sparse accelerator

`check` reports a malformed YAML file by name and line (Snakemake's own message for a bad --configfile names
neither), an unknown field by its path, and a bad preset, override or engine option before any job runs. Configs
are checked and run from the repository root, where Snakemake runs: relative paths inside them (results, models)
are relative to it; config file paths on the command line are relative to the current directory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from workloads.keras_network import PRED_BITS, PRUNE_FACTOR

ROOT = Path(__file__).resolve().parents[1]
IMPORT_MARK = "imported by `fuseloop import-keras`"  # in the first line of every network file it writes


def merged_config(paths: list[Path]) -> dict[str, Any]:
    """The default config with each file merged over it (nested mappings merged key by key, as Snakemake does)."""
    from specs.io import read_mapping

    from .config import DEFAULT_CONFIG, ConfigError

    config = read_mapping(DEFAULT_CONFIG, "config file", ConfigError)
    for path in paths:
        _merge(config, read_mapping(path, "config file", ConfigError))
    return config


def _merge(base: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def check(paths: list[Path]) -> dict[str, Any]:
    from .config import DEFAULT_CONFIG, validate

    source = ", ".join(map(str, paths)) or str(DEFAULT_CONFIG)
    config = merged_config(paths)
    with contextlib.chdir(ROOT):  # model and results paths are relative to where Snakemake runs
        return validate(config, source)


# ----------------------------------------------------------------------------------------- import-keras


def _shown(path: Path) -> str:
    """A path as a config should hold it: relative to the repository root when inside it, else absolute."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _load_keras_model(path: Path) -> Any:
    from sparsity.models import MODEL_SUFFIXES

    if path.suffix not in MODEL_SUFFIXES:
        raise ValueError(f"{path}: not a Keras model file (expected {' or '.join(MODEL_SUFFIXES)})")
    if not path.is_file():
        raise ValueError(f"{path}: model file not found")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # noqa: BLE001 (Keras raises many types for a bad file; all mean "cannot read it")
        message = (str(exc).strip().splitlines() or [""])[0]
        raise ValueError(f"{path}: cannot read Keras model ({type(exc).__name__}: {message})") from None


def import_keras(args: argparse.Namespace) -> str:
    """Write the network file (and the config with --config); returns what to print."""
    from sparsity.models import load_pruned_weights
    from specs.io import write_text
    from workloads import from_keras
    from workloads.keras_network import check_name, network_file
    from workloads.zoo import NETWORKS_DIR

    check_name(args.name)
    check_name(args.dataset, "dataset name")
    out_dir = args.out or NETWORKS_DIR
    target = out_dir / f"{args.name}.yaml"
    if target.exists():
        if not args.force:
            raise ValueError(f"{target} exists; choose another --name or replace it with --force")
        if IMPORT_MARK not in target.read_text().split("\n", 1)[0]:
            raise ValueError(f"{target} was not written by fuseloop import-keras; not replacing it")
    if args.config is not None and args.config.exists() and not args.force:
        raise ValueError(f"{args.config} exists; choose another --config or replace it with --force")
    model_path = args.model
    model = _load_keras_model(model_path)
    imported = network_file(model, args.name, args.dataset, args.pred_bits, args.prune_factor, _shown(model_path))
    baseline = from_keras(model, args.name, args.dataset)  # = the file's baseline (network_file checks it)
    weights = load_pruned_weights(model_path, baseline)  # what the sparse accelerator's preparation will read
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(target, imported.text)
    kept = sum(int((w != 0).sum()) for w in weights.values()) / sum(w.size for w in weights.values())
    unfused = (
        f"; model block(s) {', '.join(map(str, imported.unfused))} (no expand 1x1) run unfused in the fused head / tail"
        if imported.unfused
        else ""
    )
    lines = [
        (
            f"wrote {_shown(target)} ({args.name}/{args.dataset}): baseline {len(baseline.layers())} layers, "
            f"{imported.baseline_blocks} blocks; fused {imported.fused_blocks} ARCHON blocks (pred_bits "
            f"{args.pred_bits}, prune_factor {args.prune_factor}){unfused}"
        ),
        f"model weights: {len(weights)} kernels match the baseline's layers; non-zero fraction {kept:.4f}",
    ]
    if out_dir.resolve() != NETWORKS_DIR:
        lines.append(f"note: the workflow reads networks from {_shown(NETWORKS_DIR)}/; copy the file there to run it")
    snippet = (
        f"sweep:\n  - {{network: {args.name}, dataset: {args.dataset}}}\n"
        f'sparse:\n  models: {{"{args.name}/{args.dataset}": {_yaml_string(_shown(model_path))}}}\n'
    )
    if args.config is not None:
        write_text(
            args.config,
            f"# written by `fuseloop import-keras`: {args.name}/{args.dataset} with the pruned "
            f"weights of {_shown(model_path)}; keys left out take their defaults "
            "(workflows/config/default.yaml)\n" + snippet,
        )
        lines.append(f"wrote {args.config}: run it with `fuseloop run {args.config}`")
    else:
        lines.append("to run it, add to a config (the model's own pruned weights feed the sparse accelerator):")
        lines += ["  " + line for line in snippet.splitlines()]
    return "\n".join(lines)


def _yaml_string(text: str) -> str:
    import json

    return json.dumps(text)  # a JSON string is a YAML string


def _summary(config: dict[str, Any]) -> str:
    from . import plan
    from .config import pairs

    runs = plan.all_runs(config)
    sweep = ", ".join(p.key for p in pairs(config))
    return (
        f"results: {config['results']}\nengine: {config['engine']}\n"
        f"accelerators: {', '.join(config['accelerators'])}\nsweep: {sweep}\ndistinct mapper runs: {len(runs)}"
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("search", "search-export"):  # the design-space search has its own parser (dse/cli.py)
        from dse.cli import main as search_main

        return search_main(argv)
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    parser = argparse.ArgumentParser(
        prog="fuseloop", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate configs and print the sweep")
    p.add_argument("configs", nargs="*", type=Path)
    p = sub.add_parser("run", help="check, then run snakemake (arguments after -- go to snakemake)")
    p.add_argument("configs", nargs="*", type=Path)
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    sub.add_parser("search", help="NSGA-II design-space search over a space YAML (fuseloop search --help)")
    sub.add_parser(
        "search-export", help="a Pareto point of a search as a workflow config (fuseloop search-export --help)"
    )
    p = sub.add_parser("cache", help="the run cache")
    p.add_argument("action", choices=["clear"])
    p.add_argument("directory", type=Path)
    p = sub.add_parser("import-keras", help="write a network file (baseline + ARCHON fused) from a Keras model")
    p.add_argument("model", type=Path, help="a Keras model, .h5 or .keras (its pruned weights feed the sparse runs)")
    p.add_argument("--name", required=True, help="network name: the file NAME.yaml and the sweep's `network`")
    p.add_argument("--dataset", default="custom", help="dataset name of the sweep entry (default: custom)")
    p.add_argument("--out", type=Path, default=None, help="directory to write to (default: workloads/networks)")
    p.add_argument(
        "--pred-bits",
        type=int,
        default=PRED_BITS,
        help=f"ARCHON prediction activation bits of every fused block (default {PRED_BITS})",
    )
    p.add_argument(
        "--prune-factor",
        type=float,
        default=PRUNE_FACTOR,
        help=f"ARCHON fraction of fused weights kept (default {PRUNE_FACTOR})",
    )
    p.add_argument("--config", type=Path, default=None, help="also write a workflow config running the network")
    p.add_argument("--force", action="store_true", help="replace files an earlier import-keras wrote")
    args = parser.parse_args(argv)
    try:
        if args.command == "cache":
            from engines.runs import clear_cache

            print(f"deleted {clear_cache(args.directory)} run cache entries from {args.directory}")
            return 0
        if args.command == "import-keras":
            print(import_keras(args))
            return 0
        config = check(args.configs)
    except ValueError as exc:
        print(f"fuseloop {args.command}: error: {exc}", file=sys.stderr)
        return 1
    if args.command == "check":
        print(_summary(config))
        return 0
    # concise: a progress line, no per-job blocks (a failed step prints its one-line error and its log's path);
    # a `--quiet ...` after `--` replaces this
    quiet = [] if "--quiet" in extra else ["--quiet", "rules"]
    command = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), *quiet, *extra]
    if args.configs:  # one --configfile with every file (a repeated one keeps only the last), after any targets
        command += ["--configfile", *(str(path.resolve()) for path in args.configs)]
    return subprocess.call(command, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
