"""tests/cluster runs the sweep on the real SLURM cluster of tests/cluster/slurm.sh (`make test-cluster` starts it).
Without a running cluster its tests are skipped with the reason printed (`-ra`), or fail when
FUSELOOP_REQUIRE_CLUSTER=1 (set by `make test-cluster`, so that a cluster that did not come up is not a pass)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPORT: list[str] = []  # measured figures, printed at the end of the run


def cluster_status() -> tuple[bool, str]:
    run = subprocess.run(
        ["bash", str(HERE / "slurm.sh"), "status"], capture_output=True, text=True, timeout=60, check=False
    )
    return run.returncode == 0, (run.stdout + run.stderr).strip()


@pytest.fixture(scope="session")
def slurm_conf() -> Path:
    """The running test cluster's slurm.conf (clients find it through SLURM_CONF)."""
    up, status = cluster_status()
    if not up:
        message = f"{status}; `make test-cluster` starts one and runs these tests"
        if os.environ.get("FUSELOOP_REQUIRE_CLUSTER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return Path(status.split("SLURM_CONF=", 1)[1].split()[0])


@pytest.fixture(scope="session")
def report() -> list[str]:
    return REPORT


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("SLURM sweep figures")
        for line in REPORT:
            terminalreporter.write_line(line)
