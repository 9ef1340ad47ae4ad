"""Quantised inference with multiplier tables: agreement with Keras in float, bit-exact table vs matmul paths,
the effect of approximate multipliers, partial-sum width and pruning, errors naming the layer, the evaluator
plug-in, and the digits example (slow: trains a CNN)."""

import time

import numpy as np
import pytest

from costs.choices import LayerChoice, parse_choices
from costs.evaluators import EvaluatorError, load_evaluator
from costs.multipliers import library_multiplier
from costs.quantized import prune

tensorflow = pytest.mark.tensorflow


def mult(name):
    return library_multiplier(name)


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras", reason="Keras / TensorFlow not installed (pip install tensorflow-cpu)")


@pytest.fixture(scope="module")
def model(keras):
    """Conv+BN+ReLU, a depthwise/ReLU6/1x1 block with a residual add, a separable conv (a second block), a strided
    conv, pooling, global pooling and a dense layer, with seeded random weights and BatchNorm statistics."""
    from keras import layers as L

    keras.utils.set_random_seed(3)
    inp = keras.Input((9, 9, 2), name="image")
    x = L.Conv2D(8, 3, padding="same", use_bias=False, name="conv1")(inp)
    x = L.BatchNormalization(name="bn1")(x)
    x = L.ReLU(name="relu1")(x)
    y = L.DepthwiseConv2D(3, padding="same", name="dw")(x)
    y = L.ReLU(6.0, name="relu6")(y)
    y = L.Conv2D(8, 1, name="project")(y)
    x = L.Add(name="residual")([x, y])
    x = L.SeparableConv2D(16, 2, padding="same", activation="relu", name="sep")(x)
    x = L.Conv2D(12, 3, strides=2, padding="valid", activation="relu", name="conv2")(x)
    x = L.AveragePooling2D(2, padding="same", name="pool")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    out = L.Dense(5, name="fc")(x)
    m = keras.Model(inp, out, name="probe")
    rng = np.random.default_rng(0)
    m.get_layer("bn1").set_weights(
        [rng.uniform(0.5, 1.5, 8), rng.normal(0, 0.1, 8), rng.normal(0, 0.1, 8), rng.uniform(0.5, 1.5, 8)]
    )
    return m


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    return rng.uniform(0, 1, size=(64, 9, 9, 2)), rng.uniform(0, 1, size=(40, 9, 9, 2))


@pytest.fixture(scope="module")
def quantized(model, data):
    from costs.quantized import QuantizedModel

    return QuantizedModel(model, data[0])


def uniform(names, **kwargs):
    return {name: LayerChoice(**kwargs) for name in names}


@tensorflow
def test_layer_names_follow_from_keras(quantized):
    assert quantized.layer_names == ["head.conv1", "b1.conv", "b1.comp", "b2.conv", "b2.comp", "tail.conv2", "tail.fc"]


@tensorflow
def test_float_path_matches_keras(model, quantized, data):
    reference = model.predict(data[1], verbose=0)
    assert np.abs(quantized.predict(data[1]) - reference).max() < 1e-5


@tensorflow
def test_wide_exact_arithmetic_is_close_to_float(model, quantized, data):
    # on the calibration images no value exceeds its calibrated range (no clipping): only rounding remains
    reference = model.predict(data[0], verbose=0)
    wide = quantized.predict(
        data[0], uniform(quantized.layer_names, weight_bits=16, input_bits=16, output_bits=16, psum_bits=48)
    )
    eight = quantized.predict(
        data[0], uniform(quantized.layer_names, weight_bits=8, input_bits=8, output_bits=8, psum_bits=32)
    )
    scale = np.abs(reference).max()
    assert np.abs(wide - reference).max() < 1e-3 * scale
    assert 1e-3 * scale < np.abs(eight - reference).max() < 0.05 * scale


@tensorflow
def test_table_path_is_bit_exact_with_the_exact_multiplier(quantized, data):
    names = quantized.layer_names
    direct = quantized.predict(data[1], uniform(names, weight_bits=8, input_bits=8, output_bits=8, psum_bits=32))
    table = quantized.predict(
        data[1], uniform(names, weight_bits=8, input_bits=8, output_bits=8, psum_bits=32, multiplier=mult("mul8u_1JFF"))
    )
    assert np.array_equal(direct, table)


@tensorflow
def test_approximate_multipliers_and_narrow_psums_add_error(model, quantized, data):
    names = quantized.layer_names
    reference = model.predict(data[1], verbose=0)

    def error(**kwargs):
        base = {"weight_bits": 8, "input_bits": 8, "output_bits": 8, "psum_bits": 32}
        return np.abs(quantized.predict(data[1], uniform(names, **{**base, **kwargs})) - reference).mean()

    exact = error()
    assert error(multiplier=mult("drum6")) > exact
    assert error(multiplier=mult("drum3")) > error(multiplier=mult("drum6"))
    assert error(multiplier=mult("mul8u_199Z")) > 10 * exact  # all products 0: only biases remain
    assert error(psum_bits=12) > error(psum_bits=16) > exact
    # only one layer approximate: in between
    one = {
        **uniform(names, weight_bits=8, input_bits=8, output_bits=8, psum_bits=32),
        "tail.conv2": LayerChoice(8, 8, 8, 32, mult("drum3")),
    }
    assert exact < np.abs(quantized.predict(data[1], one) - reference).mean() < error(multiplier=mult("drum3"))


@tensorflow
def test_pruning_density(quantized, data):
    kernel = np.arange(1, 11, dtype=float).reshape(2, 5) * np.array([1, -1, 1, -1, 1])
    kept = prune(kernel, 0.3)
    assert np.count_nonzero(kept) == 3 and set(np.abs(kept[kept != 0])) == {8, 9, 10}
    names = quantized.layer_names
    dense = quantized.predict(data[1], uniform(names, weight_bits=8, input_bits=8))
    pruned = quantized.predict(data[1], uniform(names, weight_bits=8, input_bits=8, density=0.3))
    assert not np.allclose(dense, pruned)


@tensorflow
def test_choices_table_applies_by_network_names(quantized, data):
    table = parse_choices(
        {
            "defaults": {"weight_bits": 8, "input_bits": 8, "output_bits": 8, "psum_bits": 32},
            "layers": {"tail.*": {"multiplier": "drum4"}},
        }
    )
    resolved = table.resolve(quantized.network)
    by_hand = {
        **uniform(quantized.layer_names, weight_bits=8, input_bits=8, output_bits=8, psum_bits=32),
        **{n: LayerChoice(8, 8, 8, 32, mult("drum4")) for n in quantized.layer_names if n.startswith("tail.")},
    }
    assert np.array_equal(quantized.predict(data[1], resolved), quantized.predict(data[1], by_hand))


@tensorflow
def test_errors_name_the_layer(keras, quantized, data):
    from keras import layers as L

    from costs.qgraph import QuantizedGraphError
    from costs.quantized import QuantizedModel

    with pytest.raises(QuantizedGraphError, match="layer head.conv1: multiplier mul8u_2AC has no product table"):
        quantized.predict(data[1], {"head.conv1": LayerChoice(8, 8, 8, 32, mult("mul8u_2AC"))})
    inp = keras.Input((4, 4, 1))
    out = L.Dense(3)(L.Flatten()(L.LeakyReLU(name="leaky")(L.Conv2D(2, 3, name="c")(inp))))
    with pytest.raises(QuantizedGraphError, match="layer 'leaky' \\(LeakyReLU\\) is not supported"):
        QuantizedModel(keras.Model(inp, out), np.zeros((1, 4, 4, 1)))


@tensorflow
def test_sequential_models(keras):
    from keras import layers as L

    from costs.quantized import QuantizedModel

    keras.utils.set_random_seed(5)
    seq = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            L.Conv2D(4, 3, activation="relu", name="c"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(3, activation="softmax", name="d"),
        ]
    )
    x = np.random.default_rng(2).uniform(size=(10, 6, 6, 1))
    qm = QuantizedModel(seq, x)
    assert qm.layer_names == ["head.c", "head.d"]
    assert np.abs(qm.predict(x) - seq.predict(x, verbose=0)).max() < 1e-6


def test_evaluator_plug_in():
    from costs import digits

    assert load_evaluator("digits") is digits.evaluate
    assert load_evaluator("costs.digits:evaluate") is digits.evaluate
    with pytest.raises(EvaluatorError, match="expected 'package.module:function'"):
        load_evaluator("costs.digits")
    with pytest.raises(EvaluatorError, match="cannot import no_such_module"):
        load_evaluator("no_such_module:f")
    with pytest.raises(EvaluatorError, match="has no function 'nope'"):
        load_evaluator("costs.digits:nope")


@tensorflow
@pytest.mark.slow
def test_digits_example_is_deterministic_and_fast(keras):
    from costs import digits

    start = time.perf_counter()
    table = digits.run(["exact", "drum6", "drum4", "mitchell", "drum2"], seed=0)
    elapsed = time.perf_counter() - start
    accuracy = dict(zip(table["multiplier"], table["accuracy"], strict=True))
    assert accuracy["float"] > 0.95 and accuracy["exact"] > 0.95
    assert accuracy["drum2"] < accuracy["exact"]  # 2 kept bits per operand: visibly worse
    assert len(table) == 6 and table["accuracy"].between(0, 1).all()
    assert elapsed < 60, f"training + 5 evaluations took {elapsed:.1f} s"
    # the same seed trains the same network: identical weights, identical accuracy through the evaluator
    again = digits.trained_model.__wrapped__(0)
    for a, b in zip(digits.trained_model(0).get_weights(), again.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert digits.evaluate(digits.uniform(digits.quantized_digits(0)[0].layer_names, "drum4")) == accuracy["drum4"]
