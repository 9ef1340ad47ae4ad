"""The shared data types: Layer validation, Mapping and LayerStats JSON round trips."""

import pytest

from engines import LayerStats, LevelMapping, LevelStats, Loop, Mapping, TensorStats
from workloads import Layer, LayerError


def test_layer_macs_and_weights():
    pw = Layer("b1.decom", "pointwise", 1, 1, 32, 32, 16, 96, part="body", block=1, role="decom")
    assert pw.macs == 32 * 32 * 16 * 96 == 1_572_864
    dw = Layer("b1.conv", "depthwise", 3, 3, 32, 32, 96, 96, groups=96, part="body", block=1, role="conv")
    assert dw.macs == 32 * 32 * 96 * 9 == 884_736
    assert dw.weights == 96 * 9
    gpw = Layer("g", "grouped-pointwise", 1, 1, 8, 8, 24, 72, groups=3)
    assert gpw.macs == 64 * 8 * 72
    assert Layer("s2", "conv", 3, 3, 16, 16, 8, 8, stride=2).input_side == 33


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(kind="dense"), "kind"),
        (dict(C=0), "C must be a positive integer"),
        (dict(kind="depthwise", groups=2), "C == M == groups"),
        (dict(kind="pointwise", R=3, S=3), "R=S=1"),
        (dict(groups=2), "only depthwise and grouped-pointwise"),
        (dict(part="body"), "needs a block index"),
    ],
)
def test_layer_rejects_bad_definitions(kwargs, message):
    base = dict(name="x", kind="conv", R=3, S=3, P=8, Q=8, C=4, M=4)
    base.update(kwargs)
    with pytest.raises(LayerError, match=message):
        Layer(**base)


def test_layer_stats_json_round_trip(tmp_path):
    mapping = Mapping(
        (
            LevelMapping("DRAM", (Loop("Q", 8),), ("Weights", "Inputs", "Outputs"), {"Weights": 1536}),
            LevelMapping("shared_glb", (Loop("P", 32), Loop("M", 2, "X"), Loop("Q", 4, "X")), ("Inputs", "Outputs")),
        )
    )
    stats = LayerStats(
        levels=[
            LevelStats("mac", 72, 64, 24576, arithmetic_energy_pJ=3460300.8),
            LevelStats("DRAM", 1, 1, 24576, {"Weights": TensorStats(196608.0, 1536, 1536, 1, reads=1536)}),
        ],
        cycles=24576,
        macs=1572864,
        utilization=0.89,
        total_energy_pJ=3656908.8,
        mapping=mapping,
        engine="test",
    )
    path = tmp_path / "stats.json"
    stats.to_json(path)
    back = LayerStats.from_json(path)
    assert back.to_dict() == stats.to_dict()
    assert back.energy("DRAM", "Weights") == 196608.0
    assert back.energy("DRAM", "Inputs") == 0.0
    assert back.mac_energy_pJ == 3460300.8
    assert back.mapping.factors("Q") == 32
    text = str(back.mapping).splitlines()
    assert text[:3] == ["DRAM [ Weights:1536 ] ", "-" * 21, "| for Q in [0:8)"]
    assert text[4] == "shared_glb [ ] "
    assert text[7] == "|     for M in [0:2) (Spatial-X)"
