"""A step terminated with SIGTERM (scancel, a SLURM time limit, Snakemake shutting down) leaves nothing
half-written: its temporary output is removed and it exits with 128 + 15."""

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The real CLI entry point, with the `tables` step replaced by one that stops halfway through its atomic write.
SLOW_STEP = """
import sys, time
from workflows import cli, steps
from specs.io import atomic_dir

def half_done_tables(out, **_):
    with atomic_dir(out) as tmp:
        (tmp / "arch.yaml").write_text("half")
        print("writing", flush=True)
        time.sleep(120)

steps.tables = half_done_tables
sys.exit(cli.main(sys.argv[1:]))
"""


def test_sigterm_removes_the_temporary_output(tmp_path):
    out = tmp_path / "arch-copy"
    args = ["--arch", "arch/eyeriss", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_STEP, "tables", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline() == "writing\n"
    assert [p.name.startswith(".arch-copy.") for p in tmp_path.iterdir()] == [True]  # the half-written directory
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "terminated by signal 15" in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_failed_map_step_names_its_layer_and_log(tmp_path, capsys):
    from workflows import cli

    log = tmp_path / "map.log"
    settings = (
        '{"energy_tables": "paper", "engine": "embedded", "engine_options": {}, "mapper": {}, "mapping": "search", '
        '"options": {}, "problem": {"depthwise": "coupled", "version": "0.3"}}'
    )
    argv = [
        "map",
        "--key",
        "0" * 64,
        "--origin",
        "nonet/cifar10/dense/b1.decom",
        "--settings",
        settings,
        "--threads",
        "1",
        "--out",
        str(tmp_path / "runs" / "x" / "stats.json"),
        "--log",
        str(log),
    ]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("fuseloop map nonet/cifar10/dense/b1.decom: error: ") and "nonet" in err.split("error: ")[1]
    assert err.endswith(f"(log: {log})") and log.read_text().startswith("fuseloop map nonet/cifar10/dense/b1.decom")
    assert not (tmp_path / "runs" / "x").exists()
