"""Make the hwcomponents packages' CACTI binary runnable on this machine (idempotent).

    python -m estimation.install          # exit 0 when CACTI runs (rebuilt if needed), 1 when it cannot

The CACTI executable inside the hwcomponents-cacti wheel is linked against a newer glibc (2.38) than some
machines have ("GLIBC_2.38 not found"); its C++ sources ship in the same package, so when the shipped binary
cannot start, `make opt` in the package's cacti/ directory rebuilds it (g++ and make, about 30 s on two
shared cores). A binary that starts is left alone. Nothing is done when the packages are not installed
(the derived tables are then unavailable and the tests that need them skip).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

USAGE_MARK = "CACTI"  # the shipped binary prints its usage ("how to use CACTI") when started without arguments


def cacti_dir() -> Path | None:
    """The hwcomponents-cacti package's cacti/ source and binary directory, or None when not installed."""
    spec = importlib.util.find_spec("hwcomponents_cacti")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "cacti"


def cacti_runs(directory: Path) -> tuple[bool, str]:
    """(True, "") when `directory`/cacti starts, else (False, what it printed)."""
    binary = directory / "cacti"
    if not binary.is_file():
        return False, f"{binary}: missing"
    try:
        run = subprocess.run([str(binary)], cwd=directory, capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        return False, str(exc)
    output = run.stdout + run.stderr
    return (USAGE_MARK in output and "not found" not in output), output.strip()


def rebuild_cacti(directory: Path) -> None:
    """`make opt` in `directory`; raises RuntimeError with the build's last lines on failure."""
    missing = [tool for tool in ("make", "g++") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(
            f"cannot rebuild CACTI in {directory}: {' and '.join(missing)} not installed "
            "(apt-get install build-essential)"
        )
    build = subprocess.run(["make", "opt", "-j2"], cwd=directory, capture_output=True, text=True, check=False)
    if build.returncode != 0:
        tail = "\n".join((build.stdout + build.stderr).strip().splitlines()[-5:])
        raise RuntimeError(f"`make opt` in {directory} failed:\n{tail}")


def ensure_cacti(log=print) -> bool:
    """True when the packages are installed and CACTI runs (rebuilding it if needed); False when not installed."""
    directory = cacti_dir()
    if directory is None:
        log("hwcomponents-cacti is not installed: nothing to do (derived energy tables unavailable)")
        return False
    ok, output = cacti_runs(directory)
    if ok:
        log(f"CACTI runs: {directory / 'cacti'}")
        return True
    log(f"the shipped CACTI cannot run ({output.splitlines()[0] if output else 'no output'}); rebuilding it")
    rebuild_cacti(directory)
    ok, output = cacti_runs(directory)
    if not ok:
        raise RuntimeError(f"the rebuilt CACTI in {directory} still cannot run: {output[:300]}")
    log(f"rebuilt CACTI: {directory / 'cacti'}")
    return True


def main() -> int:
    try:
        ensure_cacti()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
