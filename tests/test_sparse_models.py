"""Pruned models: magnitude pruning and seeded weights (NumPy), Keras models of the zoo networks (built, saved as
.h5 / .keras, read back, matched to the network), clear errors for bad files, the weights cache, the workflow step."""

from __future__ import annotations

import numpy as np
import pytest

import accelerators
from sparsity.models import (
    ModelError,
    build_model,
    generated_model_path,
    load_pruned_weights,
    match_kernels,
    network_weights,
    read_kernels,
    save_pruned_model,
)
from sparsity.params import load_params
from sparsity.pruning import density, magnitude_prune, pruned_weights
from workloads.zoo import load_network, network_names

TARGETS = load_params("default").target_sparsity


# ----------------------------------------------------------------------------------------- NumPy only


def test_magnitude_prune_by_hand():
    kernel = np.array([0.5, -0.1, 0.3, -0.7, 0.2])
    assert magnitude_prune(kernel, 0.4).tolist() == [0.5, 0.0, 0.3, -0.7, 0.0]  # round(2.0) smallest |w| gone
    assert magnitude_prune(np.ones(4), 0.5).tolist() == [0.0, 0.0, 1.0, 1.0]  # ties: first positions go first
    assert magnitude_prune(kernel, 0.0).tolist() == kernel.tolist()
    assert not magnitude_prune(kernel, 1.0).any()
    with pytest.raises(ValueError, match="sparsity must be in"):
        magnitude_prune(kernel, 1.2)


def test_pruned_weights_are_seeded_and_hit_their_targets():
    net = load_network("mobilenet", "cifar10")
    a, b, c = (pruned_weights(net, TARGETS, seed) for seed in (0, 0, 1))
    assert list(a) == [layer.name for layer in net.layers()]
    assert all(a[k].tobytes() == b[k].tobytes() for k in a)  # same seed: byte-identical
    assert any(a[k].tobytes() != c[k].tobytes() for k in a)
    for layer in net.layers():
        kernel = a[layer.name]
        assert np.count_nonzero(kernel) == kernel.size - round(TARGETS[layer.kind] * kernel.size), layer.name
    assert density(a["b1.decom"]) == pytest.approx(0.2, abs=1e-3)
    assert density(a["b1.conv"]) == pytest.approx(0.3, abs=1e-3)


# ----------------------------------------------------------------------------------------- Keras


@pytest.mark.tensorflow
@pytest.mark.slow
def test_mobilenet_model_round_trip(tmp_path):
    net = load_network("mobilenet", "cifar10")
    weights = pruned_weights(net, TARGETS, 0)
    first = save_pruned_model(net, weights, tmp_path / "a.h5")
    second = save_pruned_model(net, weights, tmp_path / "b.h5")
    assert first.read_bytes() == second.read_bytes()  # same seed -> byte-identical .h5
    back = load_pruned_weights(first, net)
    assert list(back) == list(weights) and all(back[k].tobytes() == weights[k].tobytes() for k in weights)
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed


@pytest.mark.tensorflow
@pytest.mark.slow
@pytest.mark.parametrize("name", network_names())
def test_zoo_models_have_the_network_layers(name):
    """The built model, read back by the independent Keras importer, has the network's layers (kind and shape),
    and its kernels match the network in order."""
    import keras

    from workloads.keras_import import from_keras

    net = load_network(name, "cifar10")
    model = build_model(net)

    def shape(layers):
        return [(la.kind, la.C, la.M, la.R, la.S, la.P, la.Q, la.stride, la.groups) for la in layers]

    assert shape(from_keras(model).layers()) == shape(net.layers())
    kernels = [
        (layer.name, keras.ops.convert_to_numpy(layer.kernel)) for layer in model.layers if hasattr(layer, "kernel")
    ]
    assert list(match_kernels(net, kernels, "<model>")) == [layer.name for layer in net.layers()]


@pytest.mark.tensorflow
def test_residuals_and_units_in_the_topology():
    import keras

    mobilenet = build_model(load_network("mobilenet", "cifar10"))
    adds = [keras_layer.name for keras_layer in mobilenet.layers if isinstance(keras_layer, keras.layers.Add)]
    assert adds == [f"b{k}_add" for k in (2, 4, 5, 7, 8, 9, 11, 12, 14, 15)]  # in == out and stride 1
    shuffle = build_model(load_network("shufflenet", "cifar10"))
    concats = [keras_layer.name for keras_layer in shuffle.layers if isinstance(keras_layer, keras.layers.Concatenate)]
    assert concats == ["b1_decom_concat", "b5_decom_concat", "b13_decom_concat"]
    assert shuffle.get_layer("b5_decom_concat").output.shape[1:] == (16, 16, 480)
    assert shuffle.get_layer("tail_PW1_add").output.shape[1:] == (8, 8, 960)


@pytest.mark.tensorflow
def test_keras_format_and_user_model(tmp_path):
    import keras

    net = load_network("mobilenet", "cifar10")
    weights = pruned_weights(net, TARGETS, 3)
    model = build_model(net)
    for layer in net.layers():
        model.get_layer(layer.name.replace(".", "_")).set_weights([weights[layer.name]])
    model.save(tmp_path / "user.keras")
    got = network_weights(net, TARGETS, seed=0, model=tmp_path / "user.keras", cache_dir=tmp_path / "cache")
    assert all(got[k].tobytes() == weights[k].tobytes() for k in weights)
    assert not (tmp_path / "cache").exists()  # a user model is never replaced by a generated one
    assert isinstance(keras.models.load_model(tmp_path / "user.keras"), keras.Model)


@pytest.mark.tensorflow
def test_bad_model_files(tmp_path):
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"\x89HDF\r\n not really a model")
    with pytest.raises(ModelError, match=rf"^{corrupt}: cannot read Keras model \(\w+") as info:
        read_kernels(corrupt)
    assert "\n" not in str(info.value)
    with pytest.raises(ModelError, match=r"missing.h5: model file not found"):
        read_kernels(tmp_path / "missing.h5")
    with pytest.raises(ModelError, match=r"model.onnx: not a Keras model file \(expected .h5 or .keras\)"):
        read_kernels(tmp_path / "model.onnx")


@pytest.mark.tensorflow
def test_models_of_another_network_are_refused(tmp_path):
    import keras

    mobilenet = load_network("mobilenet", "cifar10")
    path = save_pruned_model(mobilenet, pruned_weights(mobilenet, TARGETS, 0), tmp_path / "mobilenet.h5")
    with pytest.raises(
        ModelError,
        match=rf"^{path}: model layer 1 'head_PW1' has kernel shape \(1, 1, 32, 32\), "
        r"network layer head.DW1 needs \(3, 3, 32, 1\) or \(3, 3, 1, 32\)$",
    ):
        load_pruned_weights(path, load_network("mnasnet", "cifar10"))  # mnasnet's head has no PW1
    inp = keras.Input((32, 32, 3))
    short = keras.Model(inp, keras.layers.Conv2D(32, 3, padding="same", use_bias=False)(inp))
    short.save(tmp_path / "short.h5")
    with pytest.raises(
        ModelError,
        match=r"short.h5: the model has 1 weighted layers, "
        r"network mobilenet/cifar10/baseline has 54; "
        r"first unmatched network layer: head.PW1",
    ):
        load_pruned_weights(tmp_path / "short.h5", mobilenet)


@pytest.mark.tensorflow
@pytest.mark.slow
def test_generated_model_cache_and_workflow_step(tmp_path):
    net = load_network("shufflenet", "cifar10")
    first = network_weights(net, TARGETS, seed=5, cache_dir=tmp_path)
    path = generated_model_path(net, TARGETS, 5, tmp_path)
    assert path.is_file() and path.name.startswith("shufflenet-cifar10-seed5-")
    stamp = path.stat().st_mtime_ns
    again = network_weights(net, TARGETS, seed=5, cache_dir=tmp_path)
    assert path.stat().st_mtime_ns == stamp and all(first[k].tobytes() == again[k].tobytes() for k in first)
    assert generated_model_path(net, {**TARGETS, "fc": 0.5}, 5, tmp_path) != path
    out = tmp_path / "model" / "weights.npz"
    accelerators.get("sparse").prepare(
        "weights.npz", net, {"sparse": {"preset": "default", "seed": 5, "models": {}, "overrides": {}}}, out
    )
    with np.load(out) as archive:
        assert archive.files == [layer.name for layer in net.layers()]
        assert all(archive[k].tobytes() == first[k].tobytes() for k in first)
