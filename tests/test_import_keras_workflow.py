"""A user's own Keras model, end to end, in a scratch copy of the repository: a pruned model built here goes through
`fuseloop import-keras` and `fuseloop run` (Snakemake, the .test mapper settings) to a res.csv with dense, sparse,
ARCHON and systolic rows; the sparse rows use the model's own weights; replacing the model file at the same path
re-runs exactly its preparation, the sparse table and what follows (also when the new file has an older mtime)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis import accelerator_totals

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("keras", reason="Keras / TensorFlow not installed (pip install tensorflow-cpu)")
from test_import_keras import prune, tiny_model  # noqa: E402
from test_workflow_e2e import DOWNSTREAM, job_counts, scratch_copy, snakemake  # noqa: E402

pytestmark = [pytest.mark.workflow, pytest.mark.slow, pytest.mark.tensorflow]
ACCELERATORS = ["dense", "sparse", "archon", "systolic"]
FAST = {"timeout": 2000, "victory_condition": 100}  # the .test mapper settings
SETTINGS = {
    "accelerators": ACCELERATORS,
    "mapper": {"pointwise": FAST, "depthwise": FAST, "main": FAST, "systolic": FAST},
}


def fuseloop(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """The `fuseloop` command of the scratch copy (the installed one belongs to the checkout it was installed from)."""
    return subprocess.run(
        [sys.executable, "-m", "workflows.command", *args], cwd=repo, capture_output=True, text=True, timeout=1800
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    base = tmp_path_factory.mktemp("keras-e2e")
    repo = scratch_copy(base / "repo")
    model = tiny_model()
    kept = prune(model, 0.7, seed=0)
    model_path = base / "models" / "tinynet.h5"
    model_path.parent.mkdir()
    model.save(model_path)
    imported = fuseloop(
        repo,
        "import-keras",
        str(model_path),
        "--name",
        "tinynet",
        "--dataset",
        "cifar10",
        "--config",
        str(base / "tinynet.yaml"),
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    settings = base / "settings.yaml"
    settings.write_text(yaml.safe_dump({**SETTINGS, "results": str(base / "results")}))
    configs = [str(base / "tinynet.yaml"), str(settings)]
    run = fuseloop(repo, "run", *configs, "--cores", "2")
    assert run.returncode == 0, run.stderr[-4000:]
    return {
        "base": base,
        "repo": repo,
        "model": model_path,
        "kept": kept,
        "configs": configs,
        "results": base / "results" / "tinynet" / "cifar10",
        "printed": imported.stdout,
    }


def test_import_keras_writes_the_network_into_the_zoo(workspace):
    assert (workspace["repo"] / "workloads/networks/tinynet.yaml").is_file()
    assert "model weights: 13 kernels match the baseline's layers; non-zero fraction 0.3000" in workspace["printed"]


def test_res_csv_has_every_accelerator(workspace):
    res = pd.read_csv(workspace["results"] / "res.csv")
    assert list(res["layer"]) == [
        "head.stem",
        "head.b1_dw",
        "head.b1_project",
        "b1",
        "b2",
        "b3",
        "tail.last_conv",
        "tail.classifier",
        "head",
        "body",
        "tail",
        "total",
    ]
    layers = pd.read_csv(workspace["results"] / "layers.csv")
    assert sorted(set(layers["accelerator"])) == sorted(ACCELERATORS)
    for accelerator in ACCELERATORS:
        energy, cycles = accelerator_totals(res, accelerator)
        rows = layers[layers["accelerator"] == accelerator]
        assert energy == pytest.approx(rows["energy_uJ"].sum(), rel=1e-9) and energy > 0
        assert cycles == pytest.approx(rows["cycles"].sum(), rel=1e-9) and cycles > 0
    body = res.set_index("layer")
    # ARCHON fuses the model's blocks 2 and 3 (its rows b1, b2); the model's block 1 runs in its head
    assert body.loc[["b1", "b2"], ["pred_decom_e", "pred_conv_e", "main_e", "overhead_e"]].notna().all().all()
    assert body.loc["b3", ["pred_decom_e", "main_e"]].isna().all()
    assert body.loc[["head.b1_dw", "head.b1_project"], "main_e"].notna().all()
    assert body.loc["b2", "SE_e"] > 0 and body.loc["b2", "sparse_SE_e"] > 0  # the model's squeeze-and-excite
    assert pd.isna(body.loc["b1", "PW1/L1_e"])  # no expand 1x1 in the model's block 1


def kernel_fractions(path: Path, repo: Path) -> dict[str, float]:
    """{network layer: non-zero fraction of the model's kernel}, pairing by order as the sparse preparation does."""
    from sparsity.models import read_kernels
    from workloads.zoo import load_network_file

    network = load_network_file(repo / "workloads/networks/tinynet.yaml", "cifar10", "baseline")
    kernels = read_kernels(path)
    assert len(kernels) == len(network.layers())
    return {
        layer.name: float((kernel != 0).sum()) / kernel.size
        for layer, (_, kernel) in zip(network.layers(), kernels, strict=True)
    }


def sparse_densities(results: Path) -> dict[str, float]:
    return {name: d["density"] for name, d in json.loads((results / "sparse/details.json").read_text()).items()}


def test_sparse_rows_use_the_models_own_weights(workspace):
    fractions = kernel_fractions(workspace["model"], workspace["repo"])
    assert sparse_densities(workspace["results"]) == pytest.approx(fractions, abs=1e-12)
    assert sorted(fractions.values()) == pytest.approx(sorted(workspace["kept"].values()), abs=1e-12)
    log = next((workspace["base"] / "results/logs/prepare").glob("tinynet.*.log")).read_text()
    assert f"13 layers from {workspace['model']}; kept fraction 0.3000" in log


def dry_run(workspace) -> dict[str, int]:
    dry = snakemake(workspace["repo"], "-n", "--cores", "2", "--configfile", *workspace["configs"], "--quiet", "rules")
    assert dry.returncode == 0, dry.stderr[-3000:]
    return job_counts(dry.stdout + dry.stderr)


def test_replacing_the_model_reruns_its_steps(workspace):
    results, model_path = workspace["results"], workspace["model"]
    assert dry_run(workspace) == {}
    first = model_path.with_name("first.h5")
    shutil.copyfile(model_path, first)
    dense_before = pd.read_csv(results / "dense/layers.csv")
    sparse_before = pd.read_csv(results / "sparse/layers.csv")
    model = tiny_model()
    prune(model, 0.9, seed=1)
    model.save(model_path)  # same path, other weights
    assert dry_run(workspace) == {"prepare": 1, "accelerator_table": 1, **DOWNSTREAM}
    run = fuseloop(workspace["repo"], "run", *workspace["configs"], "--cores", "2")
    assert run.returncode == 0, run.stderr[-4000:]
    assert sparse_densities(results) == pytest.approx(kernel_fractions(model_path, workspace["repo"]), abs=1e-12)
    assert max(sparse_densities(results).values()) < 0.11
    pd.testing.assert_frame_equal(pd.read_csv(results / "dense/layers.csv"), dense_before)  # not re-run
    sparse_after = pd.read_csv(results / "sparse/layers.csv")
    assert sparse_after["cycles"].sum() < sparse_before["cycles"].sum()
    assert sparse_after["energy_uJ"].sum() < sparse_before["energy_uJ"].sum()
    # the first model back, with a modification time older than every result (cp -p, rsync -a, wget do that)
    shutil.copyfile(first, model_path)
    os.utime(model_path, (946_684_800, 946_684_800))  # 2000-01-01
    assert dry_run(workspace) == {"prepare": 1, "accelerator_table": 1, **DOWNSTREAM}
