"""Where the test suite finds the reference data, and what it does without it: the golden tests run on the fixtures,
the corpus tests are skipped with one reason."""

import os
import shutil
import subprocess
import sys

from conftest import CORPUS_MISSING, REFERENCE, ROOT


def _pytest(args: list[str], cwd, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "FUSELOOP_REFERENCE"} | env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_without_the_reference_golden_tests_use_the_fixtures_and_corpus_tests_skip_once(tmp_path):
    nowhere = tmp_path / "nowhere"
    run = _pytest(
        ["tests/test_analysis_tables.py", "tests/test_embedded_inputs.py"], ROOT, FUSELOOP_REFERENCE=str(nowhere)
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    skipped = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, out
    assert skipped[0].startswith("SKIPPED [") and CORPUS_MISSING.replace(str(REFERENCE), str(nowhere)) in skipped[0]
    summary = out.strip().splitlines()[-1]
    assert " passed" in summary and " skipped" in summary and "failed" not in summary and "error" not in summary


def test_a_clone_elsewhere_looks_beside_itself_only(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    shutil.copy(ROOT / "tests" / "conftest.py", clone / "tests" / "conftest.py")  # the versions under test
    shutil.rmtree(clone / "tests" / "fixtures", ignore_errors=True)
    shutil.copytree(
        ROOT / "tests" / "fixtures", clone / "tests" / "fixtures", ignore=shutil.ignore_patterns("__pycache__")
    )
    assert not (tmp_path / "shared").exists()
    probe = clone / "tests" / "test_probe.py"
    probe.write_text(
        "from conftest import HAVE_REFERENCE, REFERENCE\n\n"
        "def test_where():\n    print(f'REFERENCE={REFERENCE} found={HAVE_REFERENCE}')\n"
    )
    alone = _pytest(["-s", "tests/test_probe.py"], clone)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert f"REFERENCE={tmp_path / 'shared' / 'reference'} found=False" in alone.stdout  # not beside its origin
    pointed = _pytest(["-s", "tests/test_probe.py"], clone, FUSELOOP_REFERENCE=str(REFERENCE))
    assert f"REFERENCE={REFERENCE} found={(REFERENCE / 'networks.yaml').is_file()}" in pointed.stdout
