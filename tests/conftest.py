"""Shared fixtures. The reference data (the paper artifact's recorded Timeloop runs and tables) lives beside the
checkout in ../shared/reference, or wherever $FUSELOOP_REFERENCE points.

Golden tests read it through the `reference_dir` / `mobilenet_runs` fixtures, which give two sources: "fixtures", the
figures kept in tests/fixtures/ written back as a reference-shaped directory (always available), and "corpus", the
reference itself. Tests that need the reference's own files (parsing stats.txt, comparing file contents) are marked
`corpus`. Without the reference, every corpus test is skipped with one reason, reported once.
"""

import os
from pathlib import Path

import fixtures
import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("FUSELOOP_REFERENCE") or ROOT.parent / "shared" / "reference").resolve()
HAVE_REFERENCE = (REFERENCE / "networks.yaml").is_file()
MOBILENET_RUNS = REFERENCE / fixtures.RUNS_DIR
CORPUS_MISSING = (
    f"needs the recorded corpus, not found at {REFERENCE} (put shared/ beside the checkout or set "
    "FUSELOOP_REFERENCE); the golden tests ran on tests/fixtures"
)

corpus = pytest.mark.corpus
# The two sources of the reference figures, for tests that compare against them.
SOURCES = [pytest.param("corpus", marks=corpus), "fixtures"]


def pytest_configure(config):
    config.addinivalue_line("markers", "corpus: reads the recorded reference files in ../shared/reference")


def pytest_report_header(config):
    found = "found" if HAVE_REFERENCE else "not found: tests marked corpus are skipped"
    return f"reference corpus: {REFERENCE} ({found})"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Raised here (not through a skip marker) so that every such skip has the same location and reason and -ra
    # reports them on one line.
    if not HAVE_REFERENCE and item.get_closest_marker("corpus"):
        pytest.skip(CORPUS_MISSING)


@pytest.fixture(scope="session")
def fixture_reference(tmp_path_factory) -> Path:
    """The fixtures written back as a reference-shaped directory (see tests/fixtures/__init__.py)."""
    return fixtures.materialize(tmp_path_factory.mktemp("fixture-reference") / "reference")


@pytest.fixture(scope="session", params=SOURCES)
def reference_dir(request) -> Path:
    return REFERENCE if request.param == "corpus" else request.getfixturevalue("fixture_reference")


@pytest.fixture(scope="session")
def mobilenet_runs(reference_dir) -> Path:
    return reference_dir / fixtures.RUNS_DIR


def run_names() -> list[str]:
    """The recorded MobileNetV2/CIFAR-10 runs (the fixtures list them; tests/test_fixtures.py checks the corpus
    has the same)."""
    return fixtures.run_names()


def all_reference_runs() -> list[Path]:
    """Every recorded run directory of the corpus."""
    return [MOBILENET_RUNS / name for name in run_names()]
