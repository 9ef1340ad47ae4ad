"""The real workflow on the tiny `.test` config (MobileNetV2 / CIFAR-10, all three accelerators, embedded engine):
outputs exist with the documented columns and units, and are internally consistent."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis import accelerator_totals
from analysis.schema import LAYER_COLUMNS, RES_COLUMNS, SUMMARY_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def snakemake(*args):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e")
    config = yaml.safe_load((ROOT / ".test" / "config.yaml").read_text())
    config["results"] = str(out / "results")
    path = out / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    run = snakemake("--cores", "2", "--configfile", str(path))
    assert run.returncode == 0, run.stderr[-4000:]
    return out / "results", path


def test_outputs_have_the_documented_columns(results):
    root, _ = results
    layers = pd.read_csv(root / "mobilenet/cifar10/layers.csv")
    res = pd.read_csv(root / "mobilenet/cifar10/res.csv")
    summary = pd.read_csv(root / "summary.csv")
    assert list(layers.columns) == LAYER_COLUMNS
    assert list(res.columns) == RES_COLUMNS
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert set(layers["accelerator"]) == {"dense", "sparse", "archon"}
    assert set(layers["engine"]) == {"embedded"}
    assert (layers["energy_uJ"] > 0).all() and (layers["cycles"] >= 0).all()
    assert (layers["cycles"] == layers["cycles"].round()).all()
    for name in ("totals", "archon_phases"):
        for ext in ("png", "svg"):
            assert (root / "plots" / f"{name}.{ext}").stat().st_size > 1000
    assert not list(root.rglob("*.tmp")), "half-written files left behind"


def test_totals_are_sums_of_rows(results):
    root, _ = results
    layers = pd.read_csv(root / "mobilenet/cifar10/layers.csv")
    res = pd.read_csv(root / "mobilenet/cifar10/res.csv")
    summary = pd.read_csv(root / "summary.csv").set_index("accelerator")
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
    root, _ = results
    layers = pd.read_csv(root / "mobilenet/cifar10/layers.csv").set_index(["accelerator", "layer"])
    # the head conv is the same layer on the same arch as in the artifact: 9.89 uJ / 12288 cycles
    assert layers.loc[("dense", "head.conv1"), "cycles"] == 12288
    assert layers.loc[("dense", "head.conv1"), "energy_uJ"] == pytest.approx(9.89, rel=0.01)
    summary = pd.read_csv(root / "summary.csv").set_index("accelerator")
    assert summary.loc["sparse", "cycles"] < summary.loc["dense", "cycles"]
    assert summary.loc["dense", "archon_speedup"] > 2  # the paper reports 5.8x for this network


def test_rerun_has_nothing_to_do_and_the_report_builds(results):
    root, config = results
    dry = snakemake("-n", "--cores", "2", "--configfile", str(config))
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr
    report = root / "report.html"
    built = snakemake("--cores", "1", "--configfile", str(config), "--report", str(report))
    assert built.returncode == 0, built.stderr[-3000:]
    assert report.stat().st_size > 10_000
