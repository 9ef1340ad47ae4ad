"""`fuseloop`: the user's command line (installed by `pip install -e .`; `python -m workflows.command` works too).

    fuseloop check [CONFIG ...]          validate configs (merged in order over the default) and print the sweep
    fuseloop run [CONFIG ...] [-- SNAKEMAKE ARGS]   check, then `snakemake --cores N --configfile CONFIG ...`
    fuseloop cache clear DIR             delete every entry of a run cache (config `run_cache`)

`check` reports a malformed YAML file by name and line (Snakemake's own message for a bad --configfile names
neither), an unknown field by its path, and a bad preset, override or engine option before any job runs.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


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
    return validate(merged_config(paths), source)


def _summary(config: dict[str, Any]) -> str:
    from . import plan
    from .config import pairs

    runs = plan.all_runs(config)
    sweep = ", ".join(p.key for p in pairs(config))
    return (f"results: {config['results']}\nengine: {config['engine']}\naccelerators: {', '.join(config['accelerators'])}"
            f"\nsweep: {sweep}\ndistinct mapper runs: {len(runs)}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    parser = argparse.ArgumentParser(prog="fuseloop", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate configs and print the sweep")
    p.add_argument("configs", nargs="*", type=Path)
    p = sub.add_parser("run", help="check, then run snakemake (arguments after -- go to snakemake)")
    p.add_argument("configs", nargs="*", type=Path)
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    p = sub.add_parser("cache", help="the run cache")
    p.add_argument("action", choices=["clear"])
    p.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "cache":
            from engines.runs import clear_cache

            print(f"deleted {clear_cache(args.directory)} run cache entries from {args.directory}")
            return 0
        config = check(args.configs)
    except ValueError as exc:
        print(f"fuseloop {args.command}: error: {exc}", file=sys.stderr)
        return 1
    if args.command == "check":
        print(_summary(config))
        return 0
    command = [sys.executable, "-m", "snakemake", "--cores", str(args.cores)]
    for path in args.configs:
        command += ["--configfile", str(path)]
    return subprocess.call(command + extra, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
