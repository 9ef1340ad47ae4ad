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
from benchmarks.sweep import scratch_copy
from workflows import config as wfconfig
from workflows import plan

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def snakemake(cwd: Path, *args):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=1800
    )


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
            run_dir = results / run
            assert {"problem.yaml", "constraints.yaml", "mapper.yaml", "stats.json", "map.txt"} <= {
                p.name for p in run_dir.iterdir()
            }
    details = json.loads((results / "mobilenet/cifar10/sparse/details.json").read_text())
    assert details["b1.decom"]["sparse_macs"] < details["b1.decom"]["dense_macs"]


def test_totals_are_sums_of_rows(results):
    layers = pd.read_csv(results / "mobilenet/cifar10/layers.csv")
    res = pd.read_csv(results / "mobilenet/cifar10/res.csv")
    summary = pd.read_csv(results / "summary.csv").set_index("accelerator")
    rows = res[~res["layer"].isin(["head", "body", "tail", "total"])]
    for part in ("head", "body", "tail"):
        part_sum = rows[rows["part"] == part].drop(columns=["layer", "part"]).sum(min_count=1)
        pd.testing.assert_series_equal(
            res.set_index("layer").loc[part].drop("part").astype(float),
            part_sum.astype(float),
            check_names=False,
            rtol=1e-9,
        )
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


# ---- cost columns (config `costs`) and the design-space search (config `search`) --------------------------------
# These run before the edit tests below (which touch an arch file, making every run out of date).


def output_hashes(results: Path) -> dict[str, str]:
    import hashlib

    return {
        str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in results.rglob("*")
        if p.is_file() and not {"logs", "benchmarks"} & set(p.relative_to(results).parts)
    }


def test_costs_example_config_adds_cost_columns_and_nothing_else(workspace, tmp_path):
    """The shipped example (8-bit MobileNetV2/CIFAR-10, per-layer multipliers) with .test's short mapper settings (so
    the workspace's runs are reused): only the cost steps run; every existing output stays byte-identical; a change
    of one layer's multiplier re-runs the cost steps only."""
    from costs import load_choices
    from costs.precision import fast_mode
    from engines.stats import LayerStats

    repo, results, config_path = workspace
    base = yaml.safe_load(config_path.read_text())
    config = yaml.safe_load((repo / "costs/examples/config-mobilenet-8bit.yaml").read_text())
    config.update(results=str(results), mapper=base["mapper"])
    before = output_hashes(results)
    costs_only = {"pair_costs": 1, "costs_summary": 1, "cost_plots": 1, "all": 1}
    assert dry_run_counts(repo, config, tmp_path) == costs_only
    path = tmp_path / "costs.yaml"
    path.write_text(yaml.safe_dump(config))
    run = snakemake(repo, "--cores", "2", "--configfile", str(path))
    assert run.returncode == 0, run.stderr[-4000:]
    after = output_hashes(results)
    assert {k: after[k] for k in before} == before  # nothing that existed changed
    assert set(after) - set(before) >= {
        "mobilenet/cifar10/costs.csv",
        "mobilenet/cifar10/costs_summary.csv",
        "costs_summary.csv",
        "plots/costs/mobilenet.cifar10.txt",
    }

    layers = pd.read_csv(results / "mobilenet/cifar10/layers.csv")
    costs = pd.read_csv(results / "mobilenet/cifar10/costs.csv")
    assert list(costs.columns[: len(LAYER_COLUMNS)]) == LAYER_COLUMNS and len(costs) == len(layers)
    assert {
        "multiplier",
        "weight_bits",
        "mult_energy_uJ",
        "E_W",
        "micronet_score_imagenet",
        "bitstream_energy",
        "energy_scaled_uJ",
    } <= set(costs.columns)
    dense = costs[costs["accelerator"] == "dense"].set_index("layer")
    assert dense.loc["b2.decom", "multiplier"] == "mul8u_2AC" and dense.loc["b1.decom", "multiplier"] == "exact"
    assert dense.loc["b16.comp", "psum_bits"] == 32 and dense.loc["head.conv1", "weight_bits"] == 8
    # energy_scaled_uJ of a dense row = its energy x the fast-mode ratio of its run (recomputed here)
    index = json.loads((results / "mobilenet/cifar10/dense/runs.json").read_text())
    stats = LayerStats.from_json(results / index["b2.decom"] / "stats.json")
    choice = load_choices(repo / "costs/examples/mobilenet_8bit.yaml").for_layer("b2.decom")
    ratio = fast_mode(stats, choice).total_energy_pJ / stats.total_energy_pJ
    assert dense.loc["b2.decom", "energy_scaled_uJ"] == pytest.approx(dense.loc["b2.decom", "energy_uJ"] * ratio)
    # ARCHON's prediction and overhead phases keep their energy (their own precision model)
    archon = costs[costs["accelerator"] == "archon"]
    kept = archon[archon["phase"].isin(["prediction", "overhead"])]
    assert (kept["energy_scaled_uJ"] == kept["energy_uJ"]).all()
    summary = pd.read_csv(results / "costs_summary.csv").set_index("accelerator")
    assert list(summary.index) == ["dense", "sparse", "archon"]
    for accelerator in summary.index:
        rows = costs[costs["accelerator"] == accelerator]
        assert summary.loc[accelerator, "energy_scaled_uJ"] == pytest.approx(rows["energy_scaled_uJ"].sum())
        assert summary.loc[accelerator, "cycles"] == rows["cycles"].sum()
    assert summary.loc["dense", "energy_scaled_uJ"] < 0.75 * summary.loc["dense", "energy_uJ"]  # 8-bit operands
    assert summary.loc["dense", "multipliers"] == "drum6 exact mul8u_2AC mul8u_ZFB"
    for name in ("dense_multiply_energy", "dense_precision_levels", "archon_multiply_energy"):
        assert (results / "plots/costs" / f"mobilenet_cifar10_{name}.png").stat().st_size > 10_000

    # one layer's multiplier: the cost steps only (no mapper run, no table step)
    choices = repo / "costs/examples/mobilenet_8bit.yaml"
    original = choices.read_text()
    try:
        choices.write_text(original + "  b5.conv: {multiplier: mul8u_NGR}\n")
        assert dry_run_counts(repo, config, tmp_path) == costs_only
    finally:
        choices.write_text(original)


def test_hybrid_with_every_block_fused_is_archon(workspace):
    """hybrid with fused_blocks: all gives ARCHON's rows exactly, from ARCHON's own runs."""
    from engines.stats import LayerStats

    _, results, config_path = workspace
    config = wfconfig.validate(yaml.safe_load(config_path.read_text()))
    index = json.loads((results / "mobilenet/cifar10/archon/runs.json").read_text())
    stats = {layer: LayerStats.from_json(results / run / "stats.json") for layer, run in index.items()}
    network = plan.network("mobilenet", "cifar10", "hybrid")
    plugin = accelerators.get("hybrid")
    rows = pd.DataFrame(
        plugin.table_for(network, stats, plan.table_settings(config, "hybrid"), (True,) * len(network.blocks)).rows
    ).set_index("layer")
    archon = pd.read_csv(results / "mobilenet/cifar10/archon/layers.csv").set_index("layer")
    assert list(rows.index) == list(archon.index)
    for column in ("energy_uJ", "cycles", "macs", "phase", "role"):
        assert rows[column].tolist() == archon[column].tolist(), column


SEARCH_SPACE = {
    "name": "e2e-hybrid",
    "network": "mobilenet",
    "dataset": "cifar10",
    "accelerator": "hybrid",
    "base": {"weight_bits": 8, "input_bits": 8, "output_bits": 8, "psum_bits": 24},
    "genes": {
        "b[12].main": {"multiplier": ["exact", "mul8u_2AC", "mul8u_NGR"]},
        "b[12].decom": {"multiplier": ["exact", "mul8u_12N4"]},
        "tail.*": {"multiplier": ["exact", "mul8u_19DB"]},
    },
    "fusion": {"blocks": [1, 2], "default": "fused"},
    "objectives": ["energy", "cycles", "mult_energy"],
    "algorithm": {"pop_size": 16, "generations": 4, "seed": 0},
}


def test_search_rule_and_an_exported_point_reproduce_through_snakemake(workspace, tmp_path):
    """`search.space` adds the search step (and the runs it needs); a Pareto point with a block unfused, exported
    with `python -m dse export`, run by snakemake, gives back its objectives within 1 %."""
    from workflows import costplan

    repo, results, config_path = workspace
    base = yaml.safe_load(config_path.read_text())
    scratch = tmp_path / "results"
    for name in ("runs", "archs"):  # the workspace's runs (and arch copies with derived tables), reused
        if (results / name).is_dir():
            shutil.copytree(results / name, scratch / name)
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(SEARCH_SPACE))
    config = {**base, "results": str(scratch), "search": {"space": str(space)}}
    search = costplan.search_plan(wfconfig.validate(config))
    new_runs = len(set(search.runs) - {p.name for p in (scratch / "runs").iterdir()})
    assert new_runs > 0  # blocks 1-2 unfused: dense-arch runs the workspace does not have
    counts = dry_run_counts(repo, config, tmp_path)
    assert counts["search"] == 1 and counts["map_run"] == new_runs
    path = tmp_path / "search.yaml"
    path.write_text(yaml.safe_dump(config))
    run = snakemake(repo, "--cores", "2", "--configfile", str(path))
    assert run.returncode == 0, run.stderr[-4000:]
    out = scratch / "search" / "e2e-hybrid"
    pareto = pd.read_csv(out / "pareto.csv", dtype={"genes": str, "fused_blocks": str}, keep_default_na=False)
    assert (out / "pareto.png").stat().st_size > 10_000 and len(pd.read_csv(out / "progress.csv")) == 4
    partial = pareto[pareto["fused_blocks"] != "1 2"]
    assert len(partial), "no point of the front runs a block unfused"
    point = partial.iloc[0]
    exported = subprocess.run(
        [
            sys.executable,
            "-m",
            "dse",
            "export",
            str(space),
            "--config",
            str(path),
            "--results",
            str(scratch),
            "--point",
            str(point["point"]),
            "--to",
            str(tmp_path / "point"),
            "--point-results",
            str(tmp_path / "point-results"),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert exported.returncode == 0, exported.stderr[-3000:]
    for name in ("runs", "archs"):
        if (scratch / name).is_dir():
            shutil.copytree(scratch / name, tmp_path / "point-results" / name)
    run = snakemake(repo, "--cores", "2", "--configfile", str(tmp_path / "point" / "config.yaml"))
    assert run.returncode == 0, run.stderr[-4000:]
    assert "map_run" not in run.stdout + run.stderr  # every run of the design was already mapped
    row = pd.read_csv(tmp_path / "point-results/mobilenet/cifar10/costs_summary.csv").iloc[0]
    assert row["accelerator"] == "hybrid"
    for metric, column in (
        ("energy_uJ", "energy_scaled_uJ"),
        ("cycles", "cycles"),
        ("mult_energy_uJ", "mult_energy_uJ"),
        ("area_um2", "mult_area_um2"),
    ):
        assert row[column] == pytest.approx(float(point[metric]), rel=0.01), metric
    res = pd.read_csv(tmp_path / "point-results/mobilenet/cifar10/res.csv").set_index("layer")
    assert res.loc["total", "hybrid_c"] == pytest.approx(float(point["cycles"]))


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
            keys |= {
                r.key
                for r in plan.runs(config, pair.network, pair.dataset, name)
                if kind is None or r.mapper_kind == kind
            }
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
            "arch_tables": 1,
            "map_run": distinct_runs(base, accelerator="dense"),
            "accelerator_table": 2,
            **DOWNSTREAM,
        }
    finally:
        arch.write_text(original)
