"""Shared fixtures. The reference data (real Timeloop runs) lives beside the checkout in ../shared/reference."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def reference_candidates() -> list[Path]:
    """Where the reference data is looked for: $FUSELOOP_REFERENCE alone if set; else ../shared/reference beside
    this checkout, then beside the local repository it was cloned from (a fresh clone in a temporary directory)."""
    if os.environ.get("FUSELOOP_REFERENCE"):
        return [Path(os.environ["FUSELOOP_REFERENCE"]).resolve()]
    candidates = [ROOT.parent / "shared" / "reference"]
    origin = subprocess.run(["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"],
                            capture_output=True, text=True).stdout.strip().removeprefix("file://")
    if origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / "shared" / "reference")
    return candidates


def _find_reference() -> Path:
    candidates = reference_candidates()
    return next((c for c in candidates if (c / "networks.yaml").is_file()), candidates[0])


REFERENCE = _find_reference()
MOBILENET_RUNS = REFERENCE / "timeloop-runs" / "mobilenet-cifar10"


def pytest_sessionstart(session):
    # Without the reference data the golden suites would collect no cases or fail one by one; they are core and
    # must not be skipped, so stop with one clear message instead.
    if not (REFERENCE / "networks.yaml").is_file():
        looked = ", ".join(str(c) for c in reference_candidates())
        pytest.exit(f"reference data not found (looked for networks.yaml in: {looked}); put the shared/ directory "
                    f"beside the checkout or set FUSELOOP_REFERENCE to its reference/ directory", returncode=4)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return REFERENCE


@pytest.fixture(scope="session")
def mobilenet_runs() -> Path:
    return MOBILENET_RUNS


def all_reference_runs() -> list[Path]:
    """Every recorded MobileNetV2/CIFAR-10 Timeloop run directory (the ones with a stats.txt)."""
    return sorted(p.parent for p in MOBILENET_RUNS.rglob("stats.txt"))
