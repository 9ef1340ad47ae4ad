"""The systolic accelerator plug-in (accelerators/systolic.py, arch/systolic): its runs map with the embedded mapper
and obey the weight-stationary dataflow, its rows follow the dense accelerator's shared cost rules, and the registry,
config schema and res.csv schema pick it up."""

from math import prod
from pathlib import Path

import pytest

import accelerators
from accelerators.systolic import Systolic
from analysis import accelerator_totals, res_table
from analysis.schema import BODY_SLOTS, EDGE_SLOTS, RES_COLUMNS, TOTAL_COLUMNS
from engines.runs import execute
from specs.arch import load_arch
from workflows import config as wfconfig
from workflows import plan

ROOT = Path(__file__).resolve().parents[1]
ARCH = load_arch(ROOT / "arch" / "systolic")
COLUMNS, ROWS = ARCH.arithmetic.mesh_x, ARCH.arithmetic.instances // ARCH.arithmetic.mesh_x
REDUCTION = {"C", "R", "S"}  # spread down the columns (Y); M across them (X)


def _config(form: str, network: str = "mobilenet") -> dict:
    return wfconfig.validate(
        {
            "sweep": [{"network": network, "dataset": "cifar10"}],
            "accelerators": ["systolic"],
            "problem": {"version": "0.3", "depthwise": form},
        },
        "test",
    )


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    """{(network, form): {layer: LayerStats}}: every systolic run of a baseline network, mapped once per key."""
    out_dir = tmp_path_factory.mktemp("systolic-runs")
    by_key: dict = {}
    cache: dict = {}

    def stats(network: str, form: str):
        if (network, form) not in cache:
            runs = plan.runs(_config(form, network), network, "cifar10", "systolic")
            for run in runs:
                if run.key not in by_key:
                    by_key[run.key] = execute(run.spec, out_dir / run.key, root=ROOT)[0]
            cache[network, form] = {run.layer: by_key[run.key] for run in runs}
        return cache[network, form]

    return stats


def _network(name: str):
    return plan.network(name, "cifar10", "systolic")


# ---- registry, config and schemas --------------------------------------------------------------------------


def test_registry_config_and_schemas_pick_it_up():
    assert "systolic" in accelerators.names() and isinstance(accelerators.get("systolic"), Systolic)
    assert accelerators.mapped("systolic") == "systolic"
    schema = wfconfig.schema()["properties"]
    assert "systolic" in schema["accelerators"]["items"]["enum"]
    config = wfconfig.load()  # the default sweep runs every registered accelerator, systolic included
    assert "systolic" in config["accelerators"]
    assert config["mapper"]["systolic"] == Systolic.mapper_kinds["systolic"]
    for column in (*Systolic.columns.main, *Systolic.columns.trailing):
        assert RES_COLUMNS.count(column) == 1
    # its main columns follow the other accelerators' main columns, its SE columns close the row
    assert RES_COLUMNS.index("systolic_PW1/L1_e") > RES_COLUMNS.index("main_c")
    assert RES_COLUMNS[-2:] == ["systolic_SE_e", "systolic_SE_c"]
    assert BODY_SLOTS["systolic", "conv"] == ("systolic_DW_e", "systolic_DW_c")
    assert EDGE_SLOTS["systolic"] == ("systolic_PW1/L1_e", "systolic_PW1/L1_c")
    assert TOTAL_COLUMNS["systolic"][1] == ["systolic_PW1/L1_c", "systolic_DW_c", "systolic_PW2_c", "systolic_SE_c"]


def test_runs_are_the_baseline_layers_on_the_systolic_arch():
    config = _config("coupled")
    network = _network("mobilenet")
    runs = Systolic().runs(network, config)
    assert [r.name for r in runs] == [layer.name for layer in network.layers()]
    assert {r.arch for r in runs} == {ROOT / "arch" / "systolic"} and {r.mapper_kind for r in runs} == {"systolic"}
    # identical layers share one content-keyed mapper job (MobileNetV2: 54 layers, 31 distinct runs)
    assert len(runs) == 54 and len({r.key for r in plan.runs(config, "mobilenet", "cifar10", "systolic")}) == 31


def test_energy_tables_are_generated_from_the_45nm_figures():
    import subprocess
    import sys

    check = subprocess.run(
        [sys.executable, "arch/make_ert.py", "--check", "arch/systolic"], cwd=ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


# ---- the mapped runs obey the weight-stationary dataflow ---------------------------------------------------

LAYERS = [
    ("mobilenet", "coupled", "head.conv1"),
    ("mobilenet", "coupled", "b1.decom"),
    ("mobilenet", "coupled", "b1.conv"),
    ("mobilenet", "paper", "b1.conv"),
    ("mobilenet", "coupled", "tail.FC1"),
    ("shufflenet", "coupled", "b2.comp"),
]


@pytest.mark.parametrize("network, form, name", LAYERS)
def test_mapping_is_weight_stationary(mapped, network, form, name):
    stats = mapped(network, form)[name]
    layer = next(layer for layer in _network(network).layers() if layer.name == name)
    copies = layer.groups if layer.kind == "grouped-pointwise" else 1
    weights = layer.weights // copies  # one copy of a grouped layer is simulated
    glb, reg = stats.mapping.level("shared_glb"), stats.mapping.level("weight_reg")
    # keep/bypass: weights only in the PE register and DRAM, inputs and outputs only in the shared buffer and DRAM
    assert reg.keep == ("Weights",) and set(glb.keep) == {"Inputs", "Outputs"}
    # the register holds one weight, reused over all of N, P and Q: the temporal loops there are exactly N, P, Q
    assert stats.level("weight_reg").tensors["Weights"].utilized_capacity == 1
    assert {loop.dim for loop in reg.temporal() if loop.bound > 1} <= {"N", "P", "Q"}
    assert prod(loop.bound for loop in reg.temporal()) == layer.N * layer.P * layer.Q
    # every weight is read from DRAM once and written into exactly one PE register once
    assert stats.level("DRAM").tensors["Weights"].reads == weights
    w_reg = stats.level("weight_reg").tensors["Weights"]
    assert w_reg.fills * w_reg.utilized_instances == weights
    # spatial: M across the columns (X), the reduction down the rows (Y), within the 16 x 16 array
    x, y = glb.spatial("X"), glb.spatial("Y")
    assert {loop.dim for loop in x if loop.bound > 1} <= {"M"}
    assert {loop.dim for loop in y if loop.bound > 1} <= REDUCTION
    assert prod(loop.bound for loop in x) <= COLUMNS and prod(loop.bound for loop in y) <= ROWS
    assert stats.meta["compute_cycles"] * prod(loop.bound for loop in x + y) == stats.macs
    # weights never pass through the shared buffer; partial sums are reduced down the columns before it
    assert "Weights" not in stats.level("shared_glb").tensors
    outputs = layer.M // copies * layer.N * layer.P * layer.Q
    reduced = prod(loop.bound for loop in y)
    assert stats.level("shared_glb").tensors["Outputs"].updates == stats.macs // reduced
    assert stats.level("DRAM").tensors["Outputs"].updates >= outputs


def test_every_layer_kind_maps(mapped):
    """conv, pointwise, depthwise (both forms), fc on MobileNetV2; grouped-pointwise on ShuffleNet."""
    kinds = set()
    for network, form in (("mobilenet", "coupled"), ("mobilenet", "paper"), ("shufflenet", "coupled")):
        runs = mapped(network, form)
        for layer in _network(network).layers():
            assert runs[layer.name].cycles > 0 and runs[layer.name].total_energy_pJ > 0
            kinds.add(layer.kind)
    assert kinds == {"conv", "pointwise", "depthwise", "fc", "grouped-pointwise"}


# ---- rows: the dense accelerator's cost rules --------------------------------------------------------------


def _settings(form: str, fix: str = "checked") -> dict:
    return {"engine": "embedded", "problem": {"depthwise": form, "depthwise_fix": fix}}


def test_rows_repeat_grouped_layers(mapped):
    network = _network("shufflenet")
    stats = mapped("shufflenet", "coupled")
    rows = {r["layer"]: r for r in Systolic().table(network, stats, {}, _settings("coupled")).rows}
    layer = next(layer for layer in network.layers() if layer.kind == "grouped-pointwise")
    run = stats[layer.name]
    assert layer.groups == 3
    assert rows[layer.name]["energy_uJ"] == pytest.approx(run.total_energy_pJ * 3 / 1e6, rel=1e-12)
    assert rows[layer.name]["cycles"] == run.cycles * 3 and rows[layer.name]["macs"] == layer.macs
    assert rows[layer.name]["accelerator"] == "systolic" and rows[layer.name]["phase"] == "layer"


def test_rows_add_the_paper_depthwise_input_fix(mapped):
    network = _network("mobilenet")
    stats = mapped("mobilenet", "paper")
    result = Systolic().table(network, stats, {}, _settings("paper", "artifact"))
    rows = {r["layer"]: r for r in result.rows}
    layer = network.blocks[0].layer("conv")
    run = stats[layer.name]
    # each of the M channels reads its own input channel; the C=1 run counted one, at the buffer and DRAM
    fix = sum(run.level(name).tensors["Inputs"].energy_pJ for name in ("shared_glb", "DRAM")) * (layer.M - 1)
    assert fix > 0.1 * run.total_energy_pJ
    assert rows[layer.name]["energy_uJ"] == pytest.approx((run.total_energy_pJ + fix) / 1e6, rel=1e-12)
    assert rows[layer.name]["cycles"] == run.cycles
    assert result.details[layer.name]["depthwise_fix_pJ"] == pytest.approx(fix, rel=1e-12)
    pointwise = network.blocks[0].layer("decom")  # no fix for other layers
    assert rows[pointwise.name]["energy_uJ"] == pytest.approx(stats[pointwise.name].total_energy_pJ / 1e6, rel=1e-12)


def test_checked_depthwise_fix_follows_the_mapping(mapped):
    """b1.conv (96 channels) in the C=1 form: DRAM M3 | GLB M2, 16 M lanes across X, the 3x3 taps across Y. DRAM
    reads the 1156-word channel once, so the closed form holds there; the GLB sends it to all 16 M lanes at once
    (one multicast read per use), where the 16 lanes of the real layer need 16 different channels: the checked fix
    prices 16 x the reads plus 96 channels' fills instead of 96 x everything."""
    network = _network("mobilenet")
    stats = mapped("mobilenet", "paper")
    layer = network.blocks[0].layer("conv")
    run = stats[layer.name]
    glb, dram = run.level("shared_glb").tensors["Inputs"], run.level("DRAM").tensors["Inputs"]
    assert (dram.reads, glb.fills, glb.reads) == (1156, 1156, 3 * 2 * 9 * 32 * 32)
    checked = Systolic().table(network, stats, {}, _settings("paper")).details[layer.name]["depthwise_fix_pJ"]
    coupled_glb = glb.energy_pJ * (16 * glb.reads + 96 * 1156) / (glb.reads + glb.fills)
    assert checked == pytest.approx(dram.energy_pJ * 95 + coupled_glb - glb.energy_pJ, rel=1e-9)
    assert checked < (dram.energy_pJ + glb.energy_pJ) * 95 / 2


def test_rows_fill_its_res_columns(mapped):
    import pandas as pd

    network = _network("mobilenet")
    rows = Systolic().table(network, mapped("mobilenet", "coupled"), {}, _settings("coupled")).rows
    res = res_table(pd.DataFrame(rows))
    energy, cycles = accelerator_totals(res, "systolic")
    assert energy == pytest.approx(sum(r["energy_uJ"] for r in rows), rel=1e-12)
    assert cycles == sum(r["cycles"] for r in rows)
    b1 = res.set_index("layer").loc["b1"]
    assert b1["systolic_DW_c"] == next(r["cycles"] for r in rows if r["layer"] == "b1.conv")
    assert res.set_index("layer").loc["head.conv1", "systolic_PW1/L1_c"] > 0
    assert res.drop(columns=["layer", "part", *Systolic.columns.main, *Systolic.columns.trailing]).isna().all().all()
