"""Golden tests of the published scores: partial-sum energy E_W (NTHU HW2), MicroNet, bitstream circuit cost,
and the multiply energy of a layer table."""

import pytest

from costs.bitstream import bitstream_costs
from costs.choices import LayerChoice
from costs.layer_table import layer_table
from costs.micronet import micronet_counts, score
from costs.multipliers import library_multiplier
from costs.multiply import multiply_costs
from costs.psum import partial_sum_energy, psum_counts
from workloads import Layer


def lenet():
    """The LeNet-5-style CIFAR-10 net of the assignment: conv1 6x3x5x5 on 32x32 (-> 28x28), maxpool -> 14x14,
    conv2 16x6x5x5 (-> 10x10), maxpool -> 5x5, fc 400 -> 120 -> 84 -> 10 (pooling carries no MACs)."""
    return [
        Layer("head.conv1", "conv", 5, 5, 28, 28, 3, 6),
        Layer("head.conv2", "conv", 5, 5, 10, 10, 6, 16),
        Layer("tail.fc1", "fc", 1, 1, 1, 1, 400, 120, part="tail"),
        Layer("tail.fc2", "fc", 1, 1, 1, 1, 120, 84, part="tail"),
        Layer("tail.fc3", "fc", 1, 1, 1, 1, 84, 10, part="tail"),
    ]


def lenet_table(psum_bits, operand_bits=8):
    layers = lenet()
    widths = psum_bits if isinstance(psum_bits, (list, tuple)) else [psum_bits] * len(layers)
    return layer_table(
        layers,
        {
            layer.name: LayerChoice(operand_bits, operand_bits, operand_bits, w)
            for layer, w in zip(layers, widths, strict=True)
        },
    )


# ------------------------------------------------------------------------------------------------ E_W (§4)
def test_lenet_operation_counts():
    counts = psum_counts(lenet_table(18))
    assert counts["n_mul"].tolist() == [352_800, 240_000, 48_000, 10_080, 840]
    assert counts["n_mul"].sum() == 651_720
    # N_add = MACs + cross-channel adds (28*28*6*3 = 14,112; 10*10*16*6 = 9,600) + 10 bias adds of the last layer
    assert counts["n_add"].tolist() == [352_800 + 14_112, 240_000 + 9_600, 48_000, 10_080, 840 + 10]
    assert counts["n_add"].sum() == 675_442


@pytest.mark.parametrize(
    "widths, b_mul, golden",
    [
        (18, "psum", 223_315_236),
        (17, "psum", 199_829_594),
        ((18, 16, 17, 16, 17), "psum", 204_032_186),
        (18, 8, 53_868_036),
        (18, "operand", 53_868_036),  # 8-bit operands
    ],
)
def test_partial_sum_energy_golden(widths, b_mul, golden):
    assert partial_sum_energy(lenet_table(widths), b_mul=b_mul).sum() == golden


def test_partial_sum_settings_are_checked():
    with pytest.raises(ValueError, match="b_mul"):
        partial_sum_energy(lenet_table(18), b_mul="widest")
    with pytest.raises(ValueError, match="bias"):
        psum_counts(lenet_table(18), bias="first")
    # every layer's bias: + 28*28*6 + 10*10*16 + 120 + 84 (the last layer's 10 already counted)
    assert psum_counts(lenet_table(18), bias="all")["n_add"].sum() == 675_442 + 4_704 + 1_600 + 120 + 84


# ------------------------------------------------------------------------------------------------ MicroNet (§3)
def test_micronet_golden_scores():
    assert round(score(3e6, 500e6, "imagenet"), 3) == 0.862  # 3/6.9 + 500/1170
    assert round(score(0.3671e6, 61.25e6, "cifar100"), 4) == 0.0159  # 0.3671/36.5 + 61.25/10490


def two_layers():
    """conv 3x3, 2 -> 4 channels at 5x5 (a ReLU follows), then global average pooling and fc 4 -> 10."""
    return [Layer("head.conv", "conv", 3, 3, 5, 5, 2, 4), Layer("tail.fc", "fc", 1, 1, 1, 1, 4, 10, part="tail")]


def test_micronet_counts_by_hand():
    conv, fc = two_layers()
    table = layer_table(
        [conv, fc], {conv.name: LayerChoice(8, 8, 8, 32, density=0.5), fc.name: LayerChoice(32, 32, 32, 32)}
    )
    counts = micronet_counts(table)
    # conv params: 72 weights x 0.5 kept at 8/32 = 9, mask 72 x 1/32 = 2.25, 4 biases at 32/32 = 4 -> 15.25
    # conv ops: 1,800 MACs x 0.5 = 900 mults at 8/32 = 225, + ReLU on 100 outputs at 8/32 = 25 -> 250 mults;
    #           900 adds at 32/32
    assert counts.loc[0, "micronet_params"] == pytest.approx(15.25)
    assert counts.loc[0, "micronet_mults"] == pytest.approx(250)
    assert counts.loc[0, "micronet_adds"] == pytest.approx(900)
    # fc (32-bit, last layer: no ReLU): params 40 + 10 = 50; mults 40 + global pool 4 channels x 1 = 44;
    # adds 40 + pool 4 x (25 - 1) = 96 -> 136
    assert counts.loc[1, "micronet_params"] == pytest.approx(50)
    assert counts.loc[1, "micronet_ops"] == pytest.approx(44 + 136)
    # freebie: unquantised params and mults count at 16 bits, adds stay at 32
    free = micronet_counts(table, freebie=True)
    assert free.loc[1, "micronet_params"] == pytest.approx(25)
    assert free.loc[1, "micronet_mults"] == pytest.approx(22)
    assert free.loc[1, "micronet_adds"] == pytest.approx(136)
    assert free.loc[0, "micronet_params"] == pytest.approx(9 + 2.25 + 2)  # the 32-bit biases count 16 bits


# ------------------------------------------------------------------------------------------------ bitstream (§5)
def bitstream_pair():
    """conv 3x3, 2 -> 4 at 5x5 with density 0.5 (72 weights, 36 kept), fc 100 -> 10 with density 0.25
    (1,000 weights, 250 kept); bitstreams of 1,000 and 2,000 cycles."""
    layers = [Layer("head.conv", "conv", 3, 3, 5, 5, 2, 4), Layer("tail.fc", "fc", 1, 1, 1, 1, 100, 10, part="tail")]
    choices = {
        "head.conv": LayerChoice(density=0.5, bitstream_length=1000),
        "tail.fc": LayerChoice(density=0.25, bitstream_length=2000),
    }
    return layer_table(layers, choices)


def test_bitstream_two_layers_by_hand():
    costs = bitstream_costs(bitstream_pair())  # corrected LFSR count, calibrated coefficients
    # conv: dot products (0.2624 x 36 + 1.5944 x 4) x 25 pixels = 395.6; LFSRs 10.89 x (36 + 4 biases) = 435.6
    # fc:   0.2624 x 250 + 1.5944 x 10 = 81.544; LFSRs 10.89 x (250 + 10) = 2,831.4
    assert costs["bitstream_power"].tolist() == pytest.approx([831.2, 2912.944])
    # areas: (14.717 x 36 + 56.324 x 4) x 25 + 354.31 x 40 = 18,877.7 + 14,172.4;
    #        14.717 x 250 + 56.324 x 10 + 354.31 x 260 = 4,242.49 + 92,120.6
    assert costs["bitstream_area"].tolist() == pytest.approx([33_050.1, 96_363.09])
    # energy = power x length: 831.2 x 1,000 + 2,912.944 x 2,000
    assert costs["bitstream_energy"].sum() == pytest.approx(6_657_088)


def test_bitstream_as_published_and_placeholder():
    published = bitstream_costs(bitstream_pair(), lfsr_mode="as_published")
    # LFSRs charged for the zero weights: 36 (conv) and 750 (fc)
    assert published["bitstream_power"].tolist() == pytest.approx([395.6 + 10.89 * 36, 81.544 + 10.89 * 750])
    placeholder = bitstream_costs(bitstream_pair(), coefficients="placeholder")
    # dp 2n, lfsr 10n: conv 2 x 36 x 25 + 10 x 40 = 2,200; fc 2 x 250 + 10 x 260 = 3,100
    assert placeholder["bitstream_power"].tolist() == pytest.approx([2200, 3100])
    with pytest.raises(ValueError, match="lfsr_mode"):
        bitstream_costs(bitstream_pair(), lfsr_mode="fixed")


# ------------------------------------------------------------------------------------------------ multiply (§2)
def test_multiply_energy_and_area():
    conv = Layer("head.conv", "conv", 3, 3, 5, 5, 2, 4)  # 1,800 MACs
    choices = {
        "exact16": LayerChoice(),
        "exact8": LayerChoice(8, 8, 8, 24),
        "2AC": LayerChoice(8, 8, 8, 24, library_multiplier("mul8u_2AC")),
    }
    rows = {k: multiply_costs(layer_table([conv], {conv.name: c})).iloc[0] for k, c in choices.items()}
    share = 0.8 / 0.86  # Horowitz 45 nm: 16-bit mult 0.2 x 4 pJ, add 0.03 x 2 pJ
    assert rows["exact16"]["mult_energy_pJ"] == pytest.approx(1800 * 2.2 * share)
    assert rows["exact8"]["mult_energy_pJ"] == pytest.approx(1800 * 2.2 * share / 4)
    assert rows["2AC"]["mult_energy_pJ"] == pytest.approx(1800 * 2.2 * share / 4 * 0.311 / 0.391)
    assert rows["exact8"]["mult_area_um2"] == pytest.approx(709.6)
    assert rows["exact16"]["mult_area_um2"] == pytest.approx(4 * 709.6)
    assert rows["2AC"]["mult_area_um2"] == pytest.approx(508.3)
    assert rows["2AC"]["error_proxy"] == pytest.approx(1800 * 0.0125)  # MACs x MRE 1.25 %
    assert rows["exact8"]["error_proxy"] == 0
