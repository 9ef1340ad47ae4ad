"""Shared fixtures. The reference data (real Timeloop runs) lives beside the checkout in ../shared/reference."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("FUSELOOP_REFERENCE", ROOT.parent / "shared" / "reference")).resolve()
MOBILENET_RUNS = REFERENCE / "timeloop-runs" / "mobilenet-cifar10"


def _require_reference() -> Path:
    if not (REFERENCE / "networks.yaml").is_file():
        # Not a skip: the golden suites are core and must run in CI.
        pytest.fail(f"reference data not found at {REFERENCE} (set FUSELOOP_REFERENCE to its location)")
    return REFERENCE


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return _require_reference()


@pytest.fixture(scope="session")
def mobilenet_runs() -> Path:
    _require_reference()
    return MOBILENET_RUNS


def all_reference_runs() -> list[Path]:
    """Every recorded MobileNetV2/CIFAR-10 Timeloop run directory (the ones with a stats.txt)."""
    return sorted(p.parent for p in MOBILENET_RUNS.rglob("stats.txt"))
