"""The real workflow on the tiny `.test` config (MobileNetV2 / CIFAR-10; dense, sparse and ARCHON; embedded engine),
run in a scratch copy of the repository: outputs exist with the documented columns and units, are internally
consistent, and a re-run after an edit executes exactly the steps that read what changed."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import accelerators
from analysis import accelerator_totals
from analysis.schema import LAYER_COLUMNS, RES_COLUMNS, SUMMARY_COLUMNS
from workflows import config as wfconfig
from workflows import plan

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def snakemake(cwd: Path, *args):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=1800)


def scratch_copy(destination: Path) -> Path:
    """The repository's tracked files (and the working tree's edits to them) copied to `destination`."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """(repository copy, results directory, config path) after one real run of the .test sweep."""
    base = tmp_path_factory.mktemp("e2e")
    repo = scratch_copy(base / "checkout with space")
    config = yaml.safe_load((ROOT / ".test" / "config.yaml").read_text())
    config["results"] = str(base / RESULTS_NAME)  # a space, a quote and a `;` must reach no shell unquoted
    path = base / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    run = snakemake(repo, "--cores", "2", "--configfile", str(path))
    assert run.returncode == 0, run.stderr[-4000:]
    return repo, base / RESULTS_NAME, path


RESULTS_NAME = "results 'x'; touch pwned; y"


@pytest.fixture(scope="module")
def results(workspace):
    return workspace[1]


def test_outputs_have_the_documented_columns(results):
    layers = pd.read_csv(results / "mobilenet/cifar10/layers.csv")
    res = pd.read_csv(results / "mobilenet/cifar10/res.csv")
    summary = pd.read_csv(results / "summary.csv")
    assert list(layers.columns) == LAYER_COLUMNS
    assert list(res.columns) == RES_COLUMNS
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert set(layers["accelerator"]) == {"dense", "sparse", "archon"}
    assert set(layers["engine"]) == {"embedded"}
    assert (layers["energy_uJ"] > 0).all() and (layers["cycles"] >= 0).all()
    assert (layers["cycles"] == layers["cycles"].round()).all()
    for name in ("totals", "archon_phases"):
        for ext in ("png", "svg"):
            assert (results / "plots" / f"{name}.{ext}").stat().st_size > 1000
    assert not list(results.rglob("*.tmp")) and not list(results.rglob(".*.tmp*")), "half-written files left behind"


def test_paths_are_quoted_and_files_are_readable(workspace):
    """A results path with a space, a quote and a `;` (and a checkout path with a space): nothing was executed,
    every output landed there, results get the umask's mode (0644 here), and each step's log holds its summary."""
    repo, results, _ = workspace
    assert not list(results.parent.rglob("pwned")) and not list(repo.rglob("pwned"))
    assert results.is_dir() and not (results.parent / "results 'x'").exists()
    mask = os.umask(0)
    os.umask(mask)
    for path in [results / "summary.csv", results / "mobilenet/cifar10/res.csv", *results.glob("runs/*/stats.json")]:
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask, path
    table_log = (results / "logs/accelerator_table/mobilenet.cifar10.dense.log").read_text()
    assert "dense on mobilenet/cifar10: 54 rows from 54 runs" in table_log and " s)" in table_log
    map_log = next((results / "logs/map_run").glob("*.log")).read_text()
    assert "cycles" in map_log and "uJ" in map_log


def test_each_layer_points_at_its_run(results):
    """runs.json maps every layer to a content-keyed run directory holding the run's inputs and stats; details.json
    holds the accelerator's per-layer details."""
    for accelerator in ("dense", "archon"):
        index = json.loads((results / "mobilenet/cifar10" / accelerator / "runs.json").read_text())
        layers = pd.read_csv(results / "mobilenet/cifar10" / accelerator / "layers.csv")
        assert set(layers.loc[layers["role"] != "overhead", "layer"]) <= set(index)
        for run in index.values():
            run_dir = results.parent / run
            assert {"problem.yaml", "constraints.yaml", "mapper.yaml", "stats.json", "map.txt"} <= {
                p.name for p in run_dir.iterdir()}
    details = json.loads((results / "mobilenet/cifar10/sparse/details.json").read_text())
    assert details["b1.decom"]["sparse_macs"] < details["b1.decom"]["dense_macs"]


def test_totals_are_sums_of_rows(results):
    layers = pd.read_csv(results / "mobilenet/cifar10/layers.csv")
    res = pd.read_csv(results / "mobilenet/cifar10/res.csv")
    summary = pd.read_csv(results / "summary.csv").set_index("accelerator")
    rows = res[~res["layer"].isin(["head", "body", "tail", "total"])]
    for part in ("head", "body", "tail"):
        part_sum = rows[rows["part"] == part].drop(columns=["layer", "part"]).sum(min_count=1)
        pd.testing.assert_series_equal(res.set_index("layer").loc[part].drop("part").astype(float),
                                       part_sum.astype(float), check_names=False, rtol=1e-9)
    for accelerator in ("dense", "sparse", "archon"):
        energy, cycles = accelerator_totals(res, accelerator)
        acc_rows = layers[layers["accelerator"] == accelerator]
        assert energy == pytest.approx(acc_rows["energy_uJ"].sum(), rel=1e-9)
        assert cycles == pytest.approx(acc_rows["cycles"].sum(), rel=1e-9)
        assert summary.loc[accelerator, "energy_uJ"] == pytest.approx(energy, rel=1e-9)
        assert summary.loc[accelerator, "cycles"] == pytest.approx(cycles, rel=1e-9)
        shares = summary.loc[accelerator, ["head_energy_share", "body_energy_share", "tail_energy_share"]]
        assert shares.sum() == pytest.approx(1.0)
    speedup = summary.loc["dense", "cycles"] / summary.loc["archon", "cycles"]
    assert summary.loc["dense", "archon_speedup"] == pytest.approx(speedup)


def test_numbers_are_plausible_against_the_paper_artifact(results):
    layers = pd.read_csv(results / "mobilenet/cifar10/layers.csv").set_index(["accelerator", "layer"])
    # the head conv is the same layer on the same arch as in the artifact: 12288 cycles; 9.89 uJ with the artifact's
    # Accelergy figures, more with the derived tables (their 16-bit MAC costs 3.77 pJ, the artifact's 2.2 pJ)
    assert layers.loc[("dense", "head.conv1"), "cycles"] == 12288
    assert 9.89 < layers.loc[("dense", "head.conv1"), "energy_uJ"] < 9.89 * 1.3
    summary = pd.read_csv(results / "summary.csv").set_index("accelerator")
    assert summary.loc["sparse", "cycles"] < summary.loc["dense", "cycles"]
    assert summary.loc["dense", "archon_speedup"] > 2  # the paper reports 5.8x for this network


def test_rerun_has_nothing_to_do_and_the_report_builds(workspace):
    repo, results, config = workspace
    dry = snakemake(repo, "-n", "--cores", "2", "--configfile", str(config))
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr
    report = results / "report.html"
    built = snakemake(repo, "--cores", "1", "--configfile", str(config), "--report", str(report))
    assert built.returncode == 0, built.stderr[-3000:]
    assert report.stat().st_size > 10_000


# ---- a re-run costs what changed --------------------------------------------------------------------------

def job_counts(output: str) -> dict[str, int]:
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:")[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"}


def dry_run_counts(repo: Path, config: dict, tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(config))
    dry = snakemake(repo, "-n", "--cores", "2", "--configfile", str(path), "--quiet", "rules")
    assert dry.returncode == 0, dry.stderr[-3000:]
    return job_counts(dry.stdout + dry.stderr)


def distinct_runs(config: dict, kind: str | None = None, accelerator: str | None = None) -> int:
    """Distinct mapper runs of a config, optionally only one mapper kind's or one accelerator's."""
    config = wfconfig.validate(config)
    keys = set()
    for pair in wfconfig.pairs(config):
        for name in config["accelerators"]:
            if accelerators.get(name).runs_of or (accelerator and name != accelerator):
                continue
            keys |= {r.key for r in plan.runs(config, pair.network, pair.dataset, name)
                     if kind is None or r.mapper_kind == kind}
    return len(keys)


DOWNSTREAM = {"network_tables": 1, "summary": 1, "plots": 1, "all": 1}


def test_edits_rerun_exactly_what_changed(workspace, tmp_path):
    repo, _, config_path = workspace
    base = yaml.safe_load(config_path.read_text())
    # a post-processing knob of ARCHON: its table only, no mapping
    edited = {**base, "archon": {"preset": "default", "overrides": {"adders_per_pe": 4}}}
    assert dry_run_counts(repo, edited, tmp_path) == {"accelerator_table": 1, **DOWNSTREAM}
    # the search settings of ARCHON's main runs: only those runs are mapped again
    edited = {**base, "mapper": {**base["mapper"], "main": {"timeout": 2000, "victory_condition": 101}}}
    main_runs = distinct_runs(edited, "main")
    assert dry_run_counts(repo, edited, tmp_path) == {"map_run": main_runs, "accelerator_table": 1, **DOWNSTREAM}
    assert main_runs == 7  # MobileNetV2's 14 fused blocks have 7 distinct main convolutions
    # a sparse setting: the pruned weights and the sparse table only
    edited = {**base, "sparse": {"preset": "default", "seed": 3, "models": {}, "overrides": {}}}
    assert dry_run_counts(repo, edited, tmp_path) == {"prepare": 1, "accelerator_table": 1, **DOWNSTREAM}
    # a file of the dense arch: every dense run is mapped again, and the sparse accelerator re-costs them
    arch = repo / "arch" / "eyeriss" / "arch.yaml"
    original = arch.read_text()
    try:
        arch.write_text(original + "# edited\n")
        assert dry_run_counts(repo, base, tmp_path) == {  # a new copy of the arch with its derived tables
            "arch_tables": 1, "map_run": distinct_runs(base, accelerator="dense"), "accelerator_table": 2, **DOWNSTREAM}
    finally:
        arch.write_text(original)
