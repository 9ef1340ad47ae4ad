"""Fusion knobs: presets.yaml loads, the paper preset carries each network's quirks, the default preset uses one
value everywhere, overrides apply, and bad input names the file and the field."""

from __future__ import annotations

import re

import pytest
import yaml

from fusion.params import KNOBS, PRESETS_YAML, FusionParams, FusionParamsError, load_params, presets

NETS = [
    ("mobilenet", "cifar10"),
    ("mobilenet", "cifar100"),
    ("mnasnet", "cifar10"),
    ("mnasnet", "cifar100"),
    ("fusionet", "cifar10"),
    ("fusionet", "cifar100"),
    ("shufflenet", "cifar10"),
]


def test_presets_listed_and_complete():
    assert presets() == ["default", "paper"]
    spec = yaml.safe_load(PRESETS_YAML.read_text())
    for name, body in spec["presets"].items():
        assert set(body) - {"per_network"} == set(KNOBS), name


def test_default_preset_equals_dataclass_defaults():
    assert load_params("default") == FusionParams(preset="default")


@pytest.mark.parametrize(
    "network,dataset,adders,action_adders,decoder,formula",
    [
        ("mobilenet", "cifar10", 24, 24, 24, "A"),
        ("mobilenet", "cifar100", 20, 6, 16, "A"),
        ("mnasnet", "cifar10", 24, 24, 16, "A"),
        ("mnasnet", "cifar100", 20, 20, 16, "A"),
        ("fusionet", "cifar10", 24, 24, 16, "B"),
        ("fusionet", "cifar100", 24, 24, 16, "B"),
        ("shufflenet", "cifar10", 24, 6, 16, "B"),
    ],
)
def test_paper_quirks_per_network(network, dataset, adders, action_adders, decoder, formula):
    p = load_params("paper", network, dataset)
    assert (p.adders, p.action_adders, p.binary_decoder_factor) == (adders, action_adders, decoder)
    assert p.pred_formula == p.overhead_counts == formula
    assert p.main_reuse == (3, 6, 7, 10)
    assert p.pred_dram_scale == pytest.approx(128 / 18 if formula == "A" else 8)
    assert p.fusion_unit_activity == (1.0 if formula == "A" else 0.5)
    assert p.pred_buffer_extra_reads == (0 if formula == "A" else 1)
    assert (p.kernel_taps, p.dw_mac_divisor, p.index_factor) == (9, 9, 1.6)
    assert p.weight_traffic_removed == pytest.approx(7 / 8)
    assert p.sign_write_pJ == 8.0


@pytest.mark.parametrize("network,dataset", NETS)
def test_default_uses_one_value_everywhere(network, dataset):
    p = load_params("default", network, dataset)
    assert p == load_params("default")  # no per-network deltas
    assert p.adders == p.action_adders == p.adders_per_pe * p.lanes_per_adder == 24
    assert (p.pred_formula, p.overhead_counts, p.main_reuse) == ("A", "A", ())
    assert (p.kernel_taps, p.dw_mac_divisor) == (None, None)
    assert p.fused_weight_pJ == pytest.approx(128 * (16 + 10) / 16)


def test_overrides_and_derived_values():
    p = load_params("default", "mobilenet", "cifar10", {"adders_per_pe": 4, "pred_act_bits": [2, 8]})
    assert p.adders == 16 and p.action_adders == 16
    assert p.overrides == {"adders_per_pe": 4, "pred_act_bits": [2, 8]}
    assert p.pred_act_bits == (2, 8)
    p = load_params("paper", "mobilenet", "cifar10", {"pred_dram_scale": "64/9"})
    assert p.pred_dram_scale == pytest.approx(128 / 18)


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"adders": 3}, "field overrides.adders: unknown fusion knob"),
        ({"cycle_rounding": "round"}, "field overrides.cycle_rounding: 'round' is not one of floor, ceil"),
        ({"adders_per_pe": 0}, "field overrides.adders_per_pe: must be >= 1"),
        ({"adders_per_pe": 2.5}, "field overrides.adders_per_pe: must be an integer"),
        ({"prune_factor": 3}, "field overrides.prune_factor: a kept fraction must be <= 1"),
        ({"dw_fix_pred_levels": "glb"}, "field overrides.dw_fix_pred_levels: must be 'chip', 'all' or a list"),
        ({"pred_dram_scale": "1/0"}, "field overrides.pred_dram_scale: '1/0' is not a number"),
        ({"main_reuse": [1]}, "field overrides.main_reuse[0]: must be >= 2"),
        ({"count_pred_glb": "yes"}, "field overrides.count_pred_glb: must be true or false"),
    ],
)
def test_bad_overrides(overrides, message):
    with pytest.raises(FusionParamsError, match=re.escape(message)):
        load_params("default", "mobilenet", "cifar10", overrides)


def test_bad_files(tmp_path):
    with pytest.raises(FusionParamsError, match="no preset 'fast'"):
        load_params("fast")
    bad = tmp_path / "p.yaml"
    bad.write_text("presets: [1, 2]\n")
    with pytest.raises(FusionParamsError, match=f"{bad}: field presets: missing or not a mapping"):
        load_params("default", path=bad)
    spec = yaml.safe_load(PRESETS_YAML.read_text())
    del spec["presets"]["default"]["f_pes"]
    bad.write_text(yaml.safe_dump(spec))
    with pytest.raises(FusionParamsError, match=f"{bad}: field presets.default: missing f_pes"):
        load_params("default", path=bad)
    spec["presets"]["paper"]["per_network"]["mobilenet"] = {"f_pe": 3}
    bad.write_text(yaml.safe_dump(spec))
    with pytest.raises(FusionParamsError, match=r"field presets.paper.per_network.mobilenet.f_pe: unknown fusion knob"):
        load_params("paper", "mobilenet", "cifar10", path=bad)
    with pytest.raises(FusionParamsError, match="presets file not found"):
        load_params("default", path=tmp_path / "missing.yaml")


def test_workflow_settings_name_preset_overrides_and_run_form():
    from accelerators.archon import fusion_params
    from workloads.zoo import load_network

    net = load_network("mobilenet", "cifar100", "fused")
    settings = {"archon": {"preset": "paper", "overrides": {"f_pes": 32}}, "problem": {"depthwise": "coupled"}}
    p = fusion_params(net, settings)
    assert (p.depthwise_form, p.adders, p.action_adders, p.f_pes) == ("coupled", 20, 6, 32)
