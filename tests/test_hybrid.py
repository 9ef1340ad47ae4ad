"""The hybrid accelerator (fusion per block): what "this block unfused" is, which runs a design needs (shared with
ARCHON's by content key), the fusion mask and its errors, and that it stays out of the default sweep."""

import pytest

import accelerators
from accelerators.base import AcceleratorError
from accelerators.hybrid import fused_mask, hybrid_network, superset_network, unfused_layers
from workflows import config as wfconfig
from workflows import plan
from workloads import zoo


@pytest.fixture(scope="module")
def fused():
    return zoo.load_network("mobilenet", "cifar10", "fused")


def test_unfused_block_is_the_fused_blocks_bottleneck(fused):
    block = fused.block(4)  # 24 -> 864 -> 32, stride 2, 16x16 output
    decom, conv, comp = unfused_layers(block)
    pred_decom, pred_conv = block.layer("pred_decom"), block.layer("pred_conv")
    assert (decom.name, conv.name, comp.name) == ("b4.decom", "b4.conv", "b4.comp")
    # the layers ARCHON predicts have the prediction layers' shapes, then the projection to the block's output
    for unfused, predicted in ((decom, pred_decom), (conv, pred_conv)):
        assert (unfused.kind, unfused.R, unfused.P, unfused.C, unfused.M, unfused.stride, unfused.macs) == (
            predicted.kind,
            predicted.R,
            predicted.P,
            predicted.C,
            predicted.M,
            predicted.stride,
            predicted.macs,
        )
    assert (comp.C, comp.M, comp.P, comp.kind) == (864, 32, 16, "pointwise")
    assert comp.macs == 16 * 16 * 864 * 32
    # ShuffleNet predicts its second grouped 1x1: unfused = decom, comp (both at the input side), depthwise last
    shuffle = zoo.load_network("shufflenet", "cifar10", "fused").block(2)
    roles = [layer.role for layer in unfused_layers(shuffle)]
    assert roles == ["decom", "comp", "conv"]
    decom, comp, conv = unfused_layers(shuffle)
    assert comp.groups == shuffle.groups and comp.C == shuffle.mid_ch and comp.M == shuffle.out_ch
    assert conv.C == shuffle.out_ch and conv.stride == shuffle.stride


def test_masks_and_networks(fused):
    n = len(fused.blocks)
    assert fused_mask(fused, "all") == (True,) * n and fused_mask(fused, "none") == (False,) * n
    mask = fused_mask(fused, [2, 5])
    assert [b.index for b, on in zip(fused.blocks, mask, strict=True) if on] == [2, 5]
    mixed = hybrid_network(fused, mask)
    assert {layer.role for layer in mixed.block(2).layers} == {"pred_decom", "pred_conv", "main"}
    assert {layer.role for layer in mixed.block(3).layers} == {"decom", "conv", "comp"}
    assert len(superset_network(fused).block(3).layers) == 6
    with pytest.raises(AcceleratorError, match=r"field hybrid.fused_blocks\[1\]: 15 is not a block"):
        fused_mask(fused, [1, 15])


def _config(**changes):
    return wfconfig.validate(
        {
            "sweep": [{"network": "mobilenet", "dataset": "cifar10"}],
            "accelerators": ["dense", "archon", "hybrid"],
            **changes,
        },
        "test.yaml",
    )


def test_runs_are_archons_and_denses_shapes():
    all_fused = _config()
    keys = {r.key for r in plan.runs(all_fused, "mobilenet", "cifar10", "hybrid")}
    assert keys == {r.key for r in plan.runs(all_fused, "mobilenet", "cifar10", "archon")}
    partial = _config(hybrid={"fused_blocks": [1, 2]})
    runs = {r.layer: r for r in plan.runs(partial, "mobilenet", "cifar10", "hybrid")}
    assert "b1.main" in runs and "b3.decom" in runs and "b3.main" not in runs and "b1.decom" not in runs
    assert runs["b3.decom"].spec.arch == "arch/eyeriss" and runs["b1.main"].spec.arch == "arch/archon/main"
    # an unfused layer is the same run as a dense layer of the same shape (its problem, constraints and settings)
    dense = {r.layer: r for r in plan.runs(partial, "mobilenet", "cifar10", "dense")}
    same_shape = [name for name, r in dense.items() if r.spec.problem == runs["b3.decom"].spec.problem]
    assert all(dense[name].key == runs["b3.decom"].key for name in same_shape)


def test_opt_in_and_config_errors():
    assert "hybrid" in accelerators.names() and "hybrid" not in accelerators.default_sweep()
    assert (
        wfconfig.validate({"sweep": [{"network": "mobilenet", "dataset": "cifar10"}]})["accelerators"]
        == accelerators.default_sweep()
    )
    with pytest.raises(wfconfig.ConfigError, match=r"test.yaml: field hybrid.fused_blocks\[0\]: 99 is not a block"):
        _config(hybrid={"fused_blocks": [99]})
    with pytest.raises(wfconfig.ConfigError, match="field hybrid.fused_blocks: the archon preset reuses main runs"):
        _config(hybrid={"fused_blocks": [1]}, archon={"preset": "paper"})


def test_res_columns_include_hybrid_only_when_it_is_evaluated():
    import pandas as pd

    from analysis.schema import LAYER_COLUMNS, RES_COLUMNS, res_columns
    from analysis.tables import accelerator_totals, res_table

    assert "hybrid_e" not in RES_COLUMNS  # registering the opt-in plug-in changes no default table
    base = {
        "network": "mobilenet",
        "dataset": "cifar10",
        "engine": "embedded",
        "part": "head",
        "block": None,
        "layer": "head.conv1",
        "role": "layer",
        "phase": "layer",
        "cycles": 10,
        "macs": 5,
        "utilisation": 1.0,
    }
    rows = pd.DataFrame(
        [
            {**base, "accelerator": "dense", "energy_uJ": 1.5},
            {**base, "accelerator": "hybrid", "energy_uJ": 2.5},
            {
                **base,
                "accelerator": "hybrid",
                "part": "body",
                "block": 1,
                "layer": "b1.overhead",
                "role": "overhead",
                "phase": "overhead",
                "energy_uJ": 0.25,
                "cycles": 0,
            },
        ],
        columns=LAYER_COLUMNS,
    )
    res = res_table(rows)
    assert list(res.columns) == res_columns({"hybrid"}) and list(res.columns[:-2]) != RES_COLUMNS[:-2]
    assert accelerator_totals(res, "hybrid") == (2.75, 10.0)
    assert list(res_table(rows[rows["accelerator"] == "dense"]).columns) == RES_COLUMNS
