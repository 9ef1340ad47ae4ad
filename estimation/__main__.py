"""python -m estimation ARCH_DIR [ARCH_DIR...] [--out DIR] [--preset derived|paper] [--cache DIR] [--check]

Writes ERT.<preset>.yaml and ART.<preset>.yaml (Accelergy formats) for each arch directory, into --out (default:
the arch directory itself), unless they are already up to date. --check writes nothing: exit 1 if a directory's
tables are missing or were made for other arch contents. Errors are one line naming the file and component
(exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from specs.components import SpecError
from specs.table_record import check_tables

from .tables import PRESETS, derive_tables, table_names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m estimation", description=__doc__.split("\n\n")[1])
    parser.add_argument("arch_dirs", nargs="+", type=Path, metavar="ARCH_DIR")
    parser.add_argument("--out", type=Path, help="output directory (default: each ARCH_DIR)")
    parser.add_argument("--preset", choices=PRESETS, default="derived")
    parser.add_argument("--cache", type=Path, help="cache directory (default ~/.cache/fuseloop/tables)")
    parser.add_argument("--check", action="store_true", help="only check existing tables against their arch")
    args = parser.parse_args(argv)
    if args.out is not None and len(args.arch_dirs) > 1:
        parser.error("--out takes one ARCH_DIR (the tables of two archs would overwrite each other)")
    stale = 0
    for arch_dir in args.arch_dirs:
        out = args.out or arch_dir
        try:
            if args.check:
                paths = [out / name for name in table_names(args.preset)]
                missing = [p for p in paths if not p.is_file()]
                if missing:
                    raise SpecError(
                        f"{missing[0]}: missing (run python -m estimation {arch_dir} --preset {args.preset})"
                    )
                check_tables(arch_dir, *paths)
                print(f"ok: {', '.join(str(p) for p in paths)}")
            else:
                ert, art = derive_tables(arch_dir, out, args.preset, cache_dir=args.cache)
                print(f"{ert}\n{art}")
        except SpecError as exc:
            print(f"error: {exc}", file=sys.stderr)
            if not args.check:
                return 2
            stale += 1
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
