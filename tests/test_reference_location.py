"""Where the test suite finds the reference data, and what it says when it cannot."""
import os
import shutil
import subprocess
import sys

from conftest import REFERENCE, ROOT


def _pytest(args: list[str], cwd, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "FUSELOOP_REFERENCE"} | env
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=cwd,
                          env=environ, capture_output=True, text=True, timeout=300)


def test_missing_reference_stops_the_suite_with_one_message(tmp_path):
    run = _pytest(["tests/test_zoo.py"], ROOT, FUSELOOP_REFERENCE=str(tmp_path / "nowhere"))
    assert run.returncode == 4, run.stdout + run.stderr
    out = run.stdout + run.stderr
    assert f"reference data not found (looked for networks.yaml in: {tmp_path / 'nowhere'})" in out
    assert "passed" not in out and "skipped" not in out


def test_a_clone_elsewhere_finds_the_reference_beside_its_origin(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    shutil.copy(ROOT / "tests" / "conftest.py", clone / "tests" / "conftest.py")  # the version under test
    assert not (tmp_path / "shared").exists()
    probe = clone / "tests" / "test_probe.py"
    probe.write_text("from conftest import REFERENCE\n\n"
                     "def test_where():\n    print('REFERENCE=' + str(REFERENCE))\n")
    run = _pytest(["-s", "tests/test_probe.py"], clone)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"REFERENCE={REFERENCE}" in run.stdout
