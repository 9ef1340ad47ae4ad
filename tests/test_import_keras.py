"""`fuseloop import-keras`: a Keras model as a zoo network file (baseline = `from_keras`'s network exactly, fused =
ARCHON blocks by the same bottleneck rule), the errors for what a network file cannot hold, and the command."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from workflows.command import main
from workloads import from_keras, zoo
from workloads.keras_import import KerasImportError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras", reason="Keras / TensorFlow not installed (pip install tensorflow-cpu)")
from workloads.keras_network import PRED_BITS, PRUNE_FACTOR, check_name, network_file  # noqa: E402  (after the skip)

pytestmark = pytest.mark.tensorflow
KERNEL_LAYERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)


def tiny_model():
    """32x32x3 -> conv stem, a bottleneck without expansion (as MobileNetV2's first), an expanded stride-2 block
    with squeeze-and-excite (1x1 convolutions, 64 -> 6 -> 64), an expanded 5x5 residual block, 1x1 + GAP + Dense."""
    L = keras.layers
    x = inp = keras.Input((32, 32, 3), name="image")
    x = L.ReLU()(L.BatchNormalization(name="stem_bn")(L.Conv2D(16, 3, padding="same", use_bias=False, name="stem")(x)))
    y = L.ReLU()(L.DepthwiseConv2D(3, padding="same", use_bias=False, name="b1_dw")(x))
    x = L.Add()([x, L.Conv2D(16, 1, use_bias=False, name="b1_project")(y)])
    y = L.ReLU()(L.Conv2D(64, 1, use_bias=False, name="b2_expand")(x))
    y = L.ReLU()(L.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False, name="b2_dw")(y))
    s = L.GlobalAveragePooling2D(keepdims=True)(y)
    s = L.Conv2D(64, 1, activation="sigmoid", name="b2_se_expand")(
        L.Conv2D(6, 1, activation="relu", name="b2_se_reduce")(s)
    )
    y = L.Conv2D(24, 1, use_bias=False, name="b2_project")(L.Multiply()([y, s]))
    z = L.ReLU()(L.Conv2D(96, 1, use_bias=False, name="b3_expand")(y))
    z = L.ReLU()(L.DepthwiseConv2D(5, padding="same", use_bias=False, name="b3_dw")(z))
    x = L.Add()([y, L.Conv2D(24, 1, use_bias=False, name="b3_project")(z)])
    x = L.GlobalAveragePooling2D()(L.ReLU()(L.Conv2D(64, 1, use_bias=False, name="last_conv")(x)))
    return keras.Model(inp, L.Dense(10, name="classifier")(x), name="tinynet")


def prune(model, fraction: float, seed: int) -> dict[str, float]:
    """Give every kernel random weights and zero its `fraction` smallest; returns each layer's non-zero fraction."""
    rng = np.random.default_rng(seed)
    kept = {}
    for layer in model.layers:
        if isinstance(layer, KERNEL_LAYERS):
            weights = layer.get_weights()
            kernel = rng.normal(size=weights[0].shape).astype("float32")
            kernel[np.abs(kernel) < np.quantile(np.abs(kernel), fraction)] = 0
            layer.set_weights([kernel, *weights[1:]])
            kept[layer.name] = float(np.count_nonzero(kernel)) / kernel.size
    return kept


def load_text(tmp_path: Path, text: str, name: str, dataset: str, variant: str):
    path = tmp_path / variant / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)  # a new path per text: the zoo caches files by path
    path.write_text(text)
    return zoo.load_network_file(path, dataset, variant)


def shape(block) -> tuple:
    return (block.in_ch, block.mid_ch, block.out_ch, block.pixels, block.stride, block.kernel, block.groups)


def test_tiny_model_file_is_the_model_and_its_fused_variant(tmp_path):
    model = tiny_model()
    imported = network_file(model, "tinynet", "cifar10")
    baseline = load_text(tmp_path, imported.text, "tinynet", "cifar10", "baseline")
    expected = from_keras(model, "tinynet", "cifar10")
    assert baseline.layers() == expected.layers()  # names, kinds, shapes, strides, groups, parts, blocks, roles
    assert (
        [shape(b) for b in baseline.blocks]
        == [shape(b) for b in expected.blocks]
        == [(16, 16, 16, 32, 1, 3, 1), (16, 64, 24, 16, 2, 3, 1), (24, 96, 24, 16, 1, 5, 1)]
    )
    se_layers = [layer for layer in baseline.block(2).layers if layer.role.startswith("se")]
    assert [(layer.name, layer.kind, layer.C, layer.M) for layer in se_layers] == [
        ("b2.se_reduce", "pointwise", 64, 6),
        ("b2.se_expand", "pointwise", 6, 64),
    ]
    spec = yaml.safe_load(imported.text)["variants"]
    assert spec["baseline"]["body"]["no_decom"] == [1]
    assert spec["baseline"]["body"]["se"] == {"blocks": [2], "width": [6], "kind": "pointwise"}  # no ratio gives 6
    fused = load_text(tmp_path, imported.text, "tinynet", "cifar10", "fused")
    # block 1 has no expand 1x1: nothing to fuse, it runs as ordinary layers after the stem
    assert [layer.name for layer in fused.head] == ["head.stem", "head.b1_dw", "head.b1_project"]
    assert [(layer.kind, layer.C, layer.M, layer.P) for layer in fused.head[1:]] == [
        ("depthwise", 16, 16, 32),
        ("pointwise", 16, 16, 32),
    ]
    assert [shape(b) for b in fused.blocks] == [shape(b) for b in baseline.blocks[1:]]
    roles = [[layer.role for layer in b.layers] for b in fused.blocks]
    assert roles == [["pred_decom", "pred_conv", "main"]] * 2  # no SE
    assert [(b.pred_bits, b.prune_factor) for b in fused.blocks] == [(PRED_BITS, PRUNE_FACTOR)] * 2 == [(4, 0.013)] * 2
    main = fused.layer("b1.main")  # fused block 1 is the model's block 2
    assert (main.kind, main.R, main.C, main.M, main.P, main.stride) == ("conv", 3, 16, 24, 16, 2)
    tail_names = [layer.name for layer in fused.tail]
    assert tail_names == [layer.name for layer in baseline.tail] == ["tail.last_conv", "tail.classifier"]
    assert (imported.baseline_blocks, imported.fused_blocks, imported.unfused) == (3, 2, [1])
    knobs = network_file(model, "tinynet", "cifar10", pred_bits=2, prune_factor=0.05)
    fused = load_text(tmp_path / "knobs", knobs.text, "tinynet", "cifar10", "fused")
    assert [(b.pred_bits, b.prune_factor) for b in fused.blocks] == [(2, 0.05)] * 2


def test_keras_mobilenetv2_file(tmp_path):
    """Keras' own MobileNetV2 at 32x32: 17 blocks (the first without expansion), the body's maps down to 1x1."""
    model = keras.applications.MobileNetV2(input_shape=(32, 32, 3), weights=None, classes=10)
    imported = network_file(model, "mobilenetv2_keras", "cifar10")
    baseline = load_text(tmp_path, imported.text, "mobilenetv2_keras", "cifar10", "baseline")
    assert baseline.layers() == from_keras(model, "mobilenetv2_keras", "cifar10").layers()
    assert baseline.macs == 6_124_928 and len(baseline.blocks) == 17
    assert "in: [32, 16, 24x2, 32x3, 64x4, 96x3, 160x3]" in imported.text and "no_decom: [1]" in imported.text
    fused = load_text(tmp_path, imported.text, "mobilenetv2_keras", "cifar10", "fused")
    assert len(fused.blocks) == 16 and [layer.name for layer in fused.head] == [
        "head.Conv1",
        "head.expanded_conv_depthwise",
        "head.expanded_conv_project",
    ]
    assert fused.block(1).mid_ch == 96 and fused.layer("b16.main").M == 320


def test_grouped_model_with_a_ratio_se(tmp_path):
    from test_keras_import import small_grouped_model

    model = small_grouped_model()  # grouped stem, a SeparableConv2D (no expansion), a grouped SE block 24 -> 48 -> 24
    imported = network_file(model, "small", "toy")
    assert (
        load_text(tmp_path, imported.text, "small", "toy", "baseline").layers()
        == from_keras(model, "small", "toy").layers()
    )
    assert "se: {blocks: [2], ratio: 0.25, of: in, kind: pointwise}" in imported.text  # 6 = int(24 * 0.25)
    fused = load_text(tmp_path, imported.text, "small", "toy", "fused")
    main = fused.layer("b1.main")
    assert (main.kind, main.C, main.M, main.groups, main.R) == ("grouped-conv", 24, 24, 4, 5)
    assert [layer.name for layer in fused.head] == ["head.stem", "head.sep_dw", "head.sep_pw"]


def layers_of(*specs):
    L = keras.layers
    x = inp = keras.Input((16, 16, 8))
    for build in specs:
        x = build(L)(x)
    return keras.Model(inp, x, name="bad")


def expand(m, name, **kw):
    return lambda L: L.Conv2D(m, 1, name=name, **kw)


def dw(name, **kw):
    return lambda L: L.DepthwiseConv2D(3, padding="same", name=name, **kw)


BLOCK = [expand(32, "e1"), dw("d1"), expand(8, "p1")]


@pytest.mark.parametrize(
    "specs, message",
    [
        (
            [lambda L: L.Conv2D(8, 3, name="valid_conv"), *BLOCK],
            (
                r"model 'bad': layer 'valid_conv' reads a 14x14 map \(output side x stride\) with 8 channels, "
                r"but the input gives 16x16 with 8; a network file chains 'same'-padded layers"
            ),
        ),
        (
            [*BLOCK, lambda L: L.MaxPooling2D(name="pool"), *[expand(32, "e2"), dw("d2"), expand(8, "p2")]],
            (
                r"model 'bad': layer 'e2' reads a 8x8 map \(output side x stride\) with 8 channels, "
                r"but layer 'p1' gives 16x16 with 8; a network file chains 'same'-padded layers, "
                r"each reading what the previous one produced \(no 'valid' padding, pooling or "
                r"concatenation between them\)"
            ),
        ),
        (
            [*BLOCK, dw("lonely"), expand(8, "lonely_p"), expand(32, "e3"), dw("d3"), expand(8, "p3")],
            (
                r"model 'bad': layer 'lonely' \(block 2\) is a depthwise layer without an expand 1x1 "
                r"before it, between expanded blocks"
            ),
        ),
        ([lambda L: L.Conv2D(8, (3, 1), padding="same", name="tall"), *BLOCK], r"layer 'tall' has a 3x1 kernel"),
        (
            [expand(32, "e4", groups=4), dw("d4"), expand(8, "p4", groups=2)],
            r"layer 'e4' has groups=4 but 'p4' groups=2; a block's 1x1 layers share one group count",
        ),
        ([expand(32, "e5", strides=2), dw("d5"), expand(8, "p5")], r"layer 'e5' \(block 1\): a strided 1x1 layer"),
        (
            [lambda L: L.Conv2D(8, 3, padding="same", name="c1"), lambda L: L.Conv2D(8, 3, padding="same", name="c2")],
            r"model 'bad': no bottleneck block",
        ),
        (
            [dw("d6"), expand(8, "p6")],
            r"model 'bad': no bottleneck block has an expand 1x1; ARCHON has nothing to fuse",
        ),
    ],
)
def test_what_a_network_file_cannot_hold_names_the_layer(specs, message):
    with pytest.raises(KerasImportError, match=message):
        network_file(layers_of(*specs), "bad")


@pytest.mark.parametrize("name", ["", "my net", "../evil", "a.b", "a/b", "-x", "x" * 65, "tiny;rm"])
def test_names_must_be_file_name_safe(name):
    with pytest.raises(KerasImportError, match="use 1-64 letters, digits, '_' or '-'"):
        check_name(name)
    assert check_name("My_net-2") == "My_net-2"


# ---- the command ----------------------------------------------------------------------------------------------


def test_command_writes_the_network_and_a_config(tmp_path, capsys):
    model = tiny_model()
    kept = prune(model, 0.7, seed=0)
    path = tmp_path / "tiny.keras"
    model.save(path)
    out, config = tmp_path / "networks", tmp_path / "tiny.yaml"
    args = [
        "import-keras",
        str(path),
        "--name",
        "tinynet",
        "--dataset",
        "cifar10",
        "--out",
        str(out),
        "--config",
        str(config),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert (
        f"wrote {(out / 'tinynet.yaml').resolve()} (tinynet/cifar10): baseline 13 layers, 3 blocks; "
        "fused 2 ARCHON blocks (pred_bits 4, prune_factor 0.013); model block(s) 1 (no expand 1x1) run unfused"
        in printed
    )
    sizes = {layer.name: layer.get_weights()[0].size for layer in model.layers if isinstance(layer, KERNEL_LAYERS)}
    overall = sum(kept[n] * sizes[n] for n in sizes) / sum(sizes.values())
    assert f"13 kernels match the baseline's layers; non-zero fraction {overall:.4f}" in printed
    assert "note: the workflow reads networks from workloads/networks/" in printed
    net = zoo.load_network_file(out / "tinynet.yaml", "cifar10", "baseline")
    assert net.layers() == from_keras(model, "tinynet", "cifar10").layers()
    assert yaml.safe_load(config.read_text()) == {
        "sweep": [{"network": "tinynet", "dataset": "cifar10"}],
        "sparse": {"models": {"tinynet/cifar10": str(path.resolve())}},
    }
    # an existing file is kept unless --force; --force replaces only files import-keras wrote
    assert main(args) == 1
    assert f"{out / 'tinynet.yaml'} exists; choose another --name or replace it with --force" in capsys.readouterr().err
    assert main(args + ["--force", "--pred-bits", "2"]) == 0
    assert "pred_bits: 2" in (out / "tinynet.yaml").read_text()
    (out / "mobilenet.yaml").write_text((zoo.NETWORKS_DIR / "mobilenet.yaml").read_text())
    assert main(["import-keras", str(path), "--name", "mobilenet", "--out", str(out), "--force"]) == 1
    assert "mobilenet.yaml was not written by fuseloop import-keras; not replacing it" in capsys.readouterr().err


def test_command_errors_are_one_line(tmp_path, capsys):
    assert main(["import-keras", str(tmp_path / "x.h5"), "--name", "bad name"]) == 1
    assert capsys.readouterr().err == (
        "fuseloop import-keras: error: network name 'bad name': use 1-64 letters, "
        "digits, '_' or '-', starting with a letter or digit (it names a file and "
        "results directories)\n"
    )
    assert main(["import-keras", str(tmp_path / "x.h5"), "--name", "x", "--dataset", "c/10"]) == 1
    assert "dataset name 'c/10'" in capsys.readouterr().err
    assert main(["import-keras", str(tmp_path / "x.h5"), "--name", "x", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"fuseloop import-keras: error: {tmp_path / 'x.h5'}: model file not found\n"
    (tmp_path / "x.txt").write_text("")
    assert main(["import-keras", str(tmp_path / "x.txt"), "--name", "x", "--out", str(tmp_path)]) == 1
    assert "x.txt: not a Keras model file (expected .h5 or .keras)" in capsys.readouterr().err
    (tmp_path / "x.h5").write_bytes(b"not hdf5")
    assert main(["import-keras", str(tmp_path / "x.h5"), "--name", "x", "--out", str(tmp_path)]) == 1
    assert "x.h5: cannot read Keras model" in capsys.readouterr().err
    assert not (tmp_path / "x.yaml").exists()
