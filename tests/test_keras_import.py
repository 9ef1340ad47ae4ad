"""Keras import: layer conversion, head/body/tail split, MACs, and errors (needs TensorFlow / Keras)."""

from __future__ import annotations

import os
from math import ceil, prod

import pytest

from workloads import from_keras
from workloads.problem import problems_for

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # silence TensorFlow's start-up banner
keras = pytest.importorskip("keras", reason="Keras / TensorFlow not installed (pip install tensorflow-cpu)")

pytestmark = pytest.mark.tensorflow

# MobileNetV2 (Sandler et al. 2018, Table 2; width 1.0): expansion t, channels c, repeats n, first stride s.
MOBILENETV2_TABLE = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def mobilenetv2_expected(size: int, classes: int) -> list[tuple]:
    """(name, kind, R, P, C, M, stride, groups) of every MobileNetV2 layer, from the paper's table ('same' padding)."""
    side = ceil(size / 2)
    rows = [("head.Conv1", "conv", 3, side, 3, 32, 2, 1)]
    c_in, k = 32, 0
    for t, c, n, s in MOBILENETV2_TABLE:
        for i in range(n):
            k += 1
            stride, mid = (s if i == 0 else 1), c_in * t
            if t != 1:
                rows.append((f"b{k}.decom", "pointwise", 1, side, c_in, mid, 1, 1))
            side = ceil(side / stride)
            rows.append((f"b{k}.conv", "depthwise", 3, side, mid, mid, stride, mid))
            rows.append((f"b{k}.comp", "pointwise", 1, side, mid, c, 1, 1))
            c_in = c
    rows += [
        ("tail.Conv_1", "pointwise", 1, side, 320, 1280, 1, 1),
        ("tail.predictions", "fc", 1, 1, 1280, classes, 1, 1),
    ]
    return rows


def keras_macs(model) -> int:
    """MACs from Keras' own kernels: kernel size x output pixels per Conv/Dense layer."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)):
            out = layer.output.shape
            pixels = prod(out[1:-1]) if len(out) > 2 else 1
            total += prod(layer.kernel.shape) * pixels
    return total


def test_keras_mobilenetv2():
    model = keras.applications.MobileNetV2(input_shape=(32, 32, 3), weights=None, classes=10)
    net = from_keras(model, name="mobilenetv2", dataset="cifar10")
    assert (net.name, net.dataset, net.variant, net.num_classes, net.input_size, net.input_channels) == (
        "mobilenetv2",
        "cifar10",
        "baseline",
        10,
        32,
        3,
    )
    got = [
        (layer.name, layer.kind, layer.R, layer.P, layer.C, layer.M, layer.stride, layer.groups)
        for layer in net.layers()
    ]
    assert got == mobilenetv2_expected(32, 10)
    assert len(net.layers()) == 53 and all(layer.P == layer.Q and layer.R == layer.S for layer in net.layers())
    # block split: the stem conv is the head, 17 bottlenecks (the first without expansion), Conv_1 + FC the tail
    assert [layer.name for layer in net.head] == ["head.Conv1"]
    assert [layer.name for layer in net.tail] == ["tail.Conv_1", "tail.predictions"]
    assert len(net.blocks) == 17
    assert [layer.role for layer in net.block(1).layers] == ["conv", "comp"]
    assert all([layer.role for layer in b.layers] == ["decom", "conv", "comp"] for b in net.blocks[1:])
    b2 = net.block(2)
    assert (b2.in_ch, b2.mid_ch, b2.out_ch, b2.pixels, b2.stride, b2.kernel, b2.groups, b2.residual) == (
        16,
        96,
        24,
        8,
        2,
        3,
        1,
        False,
    )
    assert [b.index for b in net.blocks if b.residual] == [3, 5, 6, 8, 9, 10, 12, 13, 15, 16]
    expected_macs = sum(R * R * P * P * (C // g) * M for _, _, R, P, C, M, _, g in mobilenetv2_expected(32, 10))
    assert net.macs == expected_macs == keras_macs(model) == 6_124_928
    for layer in net.layers():
        assert sum(p.total_macs for p in problems_for(layer)) == layer.macs


def small_grouped_model():
    """stem grouped 3x3 conv, a separable conv (block without expansion), an SE bottleneck with grouped 1x1s."""
    L = keras.layers
    x = inp = keras.Input((16, 16, 12))
    x = L.Conv2D(24, 3, strides=2, padding="same", groups=3, name="stem")(x)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.SeparableConv2D(24, 3, padding="same", name="sep")(x)
    y = L.Conv2D(48, 1, groups=4, name="expand")(x)
    y = L.ReLU()(y)
    y = L.DepthwiseConv2D(5, padding="same", name="dw")(y)
    s = L.GlobalAveragePooling2D(keepdims=True)(y)
    s = L.Conv2D(6, 1, activation="relu", name="se_down")(s)
    s = L.Conv2D(48, 1, activation="sigmoid", name="se_up")(s)
    y = L.Multiply()([y, s])
    y = L.Conv2D(24, 1, groups=4, name="project")(y)
    x = L.Add()([x, y])
    x = L.GlobalAveragePooling2D()(x)
    out = L.Dense(5, name="classifier")(x)
    return keras.Model(inp, out, name="small")


def test_small_model_with_grouped_conv_and_se():
    model = small_grouped_model()
    net = from_keras(model, name="small", dataset="toy")
    got = [
        (layer.name, layer.kind, layer.R, layer.P, layer.C, layer.M, layer.stride, layer.groups)
        for layer in net.layers()
    ]
    assert got == [
        ("head.stem", "grouped-conv", 3, 8, 12, 24, 2, 3),
        ("b1.conv", "depthwise", 3, 8, 24, 24, 1, 24),  # SeparableConv2D: depthwise part ...
        ("b1.comp", "pointwise", 1, 8, 24, 24, 1, 1),  # ... and pointwise part
        ("b2.decom", "grouped-pointwise", 1, 8, 24, 48, 1, 4),
        ("b2.conv", "depthwise", 5, 8, 48, 48, 1, 48),
        ("b2.se_reduce", "pointwise", 1, 1, 48, 6, 1, 1),
        ("b2.se_expand", "pointwise", 1, 1, 6, 48, 1, 1),
        ("b2.comp", "grouped-pointwise", 1, 8, 48, 24, 1, 4),
        ("tail.classifier", "fc", 1, 1, 24, 5, 1, 1),
    ]
    assert (net.num_classes, net.input_size, net.input_channels) == (5, 16, 12)
    assert [b.residual for b in net.blocks] == [True, True]
    assert net.block(2).groups == 4 and net.block(2).mid_ch == 48
    stem = net.layer("head.stem")
    assert stem.macs == 8 * 8 * 24 * (12 // 3) * 9 == prod(model.get_layer("stem").kernel.shape) * 64
    (group,) = problems_for(stem)  # one group of three
    assert (group.bounds["C"], group.bounds["M"], group.repeat) == (4, 8, 3)
    sep = model.get_layer("sep")
    assert net.block(1).layers[0].macs + net.block(1).layers[1].macs == 64 * (
        prod(sep.depthwise_kernel.shape) + prod(sep.pointwise_kernel.shape)
    )
    assert net.macs == keras_macs(model) + 64 * prod(sep.depthwise_kernel.shape) + 64 * prod(sep.pointwise_kernel.shape)


def test_dense_only_model_is_all_head():
    L = keras.layers
    model = keras.Sequential(
        [keras.Input((20,)), L.Dense(64, activation="relu"), L.Dropout(0.1), L.Dense(32), L.Dense(3, name="out")],
        name="mlp",
    )
    net = from_keras(model, name="mlp")
    assert net.blocks == () and net.tail == ()
    assert [(layer.kind, layer.P, layer.Q, layer.C, layer.M) for layer in net.head] == [
        ("fc", 1, 1, 20, 64),
        ("fc", 1, 1, 64, 32),
        ("fc", 1, 1, 32, 3),
    ]
    assert net.macs == 20 * 64 + 64 * 32 + 32 * 3 == keras_macs(model)
    assert (net.num_classes, net.input_size, net.input_channels, net.dataset) == (3, 1, 20, "custom")


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda L: [keras.Input((16, 3)), L.Conv1D(4, 3, name="c1d")],
            r"layer 'c1d' \(Conv1D\) has weights but is not",
        ),
        (
            lambda L: [keras.Input((8, 8, 3)), L.Conv2D(4, 3, dilation_rate=2, name="dil")],
            r"layer 'dil': dilation_rate",
        ),
        (
            lambda L: [keras.Input((8, 8, 3)), L.Conv2D(4, 3, strides=(1, 2), name="rect")],
            r"layer 'rect': strides \(1, 2\) differ",
        ),
        (
            lambda L: [keras.Input((8, 8, 3)), L.Flatten()],
            r"no Conv2D, DepthwiseConv2D, SeparableConv2D or Dense layers",
        ),
        (
            lambda L: [
                keras.Input((8, 8, 3)),
                L.DepthwiseConv2D(3, padding="same"),
                L.Conv2D(3, 1),
                L.Conv2D(5, 3, padding="same", name="stray"),
                L.DepthwiseConv2D(3, padding="same"),
                L.Conv2D(5, 1),
            ],
            r"layer 'stray' sits between bottleneck blocks",
        ),
        (lambda L: [keras.Input((8, 6, 3)), L.Conv2D(4, 3)], r"input \(None, 8, 6, 3\) must be square"),
    ],
)
def test_import_errors_name_the_layer(build, message):
    from workloads.keras_import import KerasImportError

    model = keras.Sequential(build(keras.layers), name="bad")
    with pytest.raises(KerasImportError, match=message):
        from_keras(model)
