"""Built-in offline accuracy example: a small CNN trained on scikit-learn's `load_digits` (1,797 8x8 images,
10 classes), evaluated with 8-bit quantised inference and approximate multipliers.

    python -m costs.digits [--seed 0] [--multipliers exact drum6 drum4 mitchell trunc8] [--out digits.csv]
                           [--plot digits]

The network exercises the quantised path: Conv2D + BatchNorm + ReLU (head.conv1), a depthwise 3x3 + ReLU6 and a
1x1 projection forming one bottleneck block with a residual add (b1.conv, b1.comp), a strided Conv2D with ReLU,
max pooling, flatten and a Dense classifier (tail.conv2, tail.fc). Training is seeded and deterministic
(Keras seeds, TensorFlow op determinism); the split is a seeded 80/20 shuffle.

`evaluate(choices)` is the evaluator plug-in form (costs.evaluators): {layer name: LayerChoice} -> accuracy.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from .choices import LayerChoice
from .multipliers import library_multiplier

DEFAULT_MULTIPLIERS = ("exact", "drum6", "trunc8", "mitchell", "drum4", "trunc10", "bam_h6_v10", "drum3", "drum2")
EPOCHS = 25


def digits_split(seed: int = 0, test_fraction: float = 0.2) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test); images scaled to [0, 1], shape (n, 8, 8, 1)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[..., None]
    order = np.random.default_rng(seed).permutation(len(x))
    cut = round(len(x) * (1 - test_fraction))
    train, test = order[:cut], order[cut:]
    return x[train], data.target[train], x[test], data.target[test]


def build_model() -> Any:
    import keras
    from keras import layers as L

    inp = keras.Input((8, 8, 1), name="image")
    x = L.Conv2D(16, 3, padding="same", use_bias=False, name="conv1")(inp)
    x = L.BatchNormalization(name="bn1")(x)
    x = L.ReLU(name="relu1")(x)
    y = L.DepthwiseConv2D(3, padding="same", name="dw")(x)
    y = L.ReLU(6.0, name="relu6")(y)
    y = L.Conv2D(16, 1, name="project")(y)
    x = L.Add(name="residual")([x, y])
    x = L.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = L.MaxPooling2D(2, name="pool")(x)
    x = L.Flatten(name="flatten")(x)
    out = L.Dense(10, name="fc")(x)
    return keras.Model(inp, out, name="digits_cnn")


@lru_cache(maxsize=4)
def trained_model(seed: int = 0, epochs: int = EPOCHS) -> Any:
    """The CNN trained on the seed's training split (cached per process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    x_train, y_train, _, _ = digits_split(seed)
    model = build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0, shuffle=True)
    return model


@lru_cache(maxsize=4)
def quantized_digits(seed: int = 0) -> tuple[Any, np.ndarray, np.ndarray]:
    """(QuantizedModel calibrated on the training split, x_test, y_test)."""
    from .quantized import QuantizedModel

    x_train, _, x_test, y_test = digits_split(seed)
    return QuantizedModel(trained_model(seed), x_train), x_test, y_test


def evaluate(choices: Mapping[str, LayerChoice]) -> float:
    """Test accuracy of the seed-0 digits CNN under `choices` (the evaluator plug-in signature)."""
    model, x_test, y_test = quantized_digits(0)
    return model.accuracy(x_test, y_test, choices)


def uniform(layers: Sequence[str], multiplier: str, bits: int = 8, psum_bits: int = 32) -> dict[str, LayerChoice]:
    mult = library_multiplier(multiplier)
    return {name: LayerChoice(bits, bits, bits, psum_bits, mult) for name in layers}


def run(multipliers: Sequence[str] = DEFAULT_MULTIPLIERS, seed: int = 0, bits: int = 8) -> pd.DataFrame:
    """Accuracy per multiplier (every layer the same), with its error metrics and relative power; the first row
    is the float model."""
    model, x_test, y_test = quantized_digits(seed)
    rows: list[dict[str, Any]] = [{"multiplier": "float", "bits": 32, "accuracy": model.accuracy(x_test, y_test)}]
    for name in multipliers:
        mult = library_multiplier(name)
        metrics = mult.metrics()
        rows.append(
            {
                "multiplier": name,
                "bits": bits,
                "accuracy": model.accuracy(x_test, y_test, uniform(model.layer_names, name, bits)),
                "relative_power": mult.relative_power,
                "power_source": mult.power_source,
                "mre_pct": metrics.mre_pct if metrics else np.nan,
                "mae_pct": metrics.mae_pct if metrics else np.nan,
            }
        )
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m costs.digits", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bits", type=int, default=8, help="weight / input / output bits (default 8)")
    parser.add_argument("--multipliers", nargs="+", default=list(DEFAULT_MULTIPLIERS))
    parser.add_argument("--out", help="write the table as CSV")
    parser.add_argument("--plot", help="write accuracy vs relative multiply power as <PLOT>.png / .svg")
    args = parser.parse_args(argv)
    try:
        for name in args.multipliers:
            LayerChoice(args.bits, args.bits, args.bits, 32, library_multiplier(name))
    except ValueError as exc:  # MultiplierError is a ValueError
        parser.error(str(exc))
    start = time.perf_counter()
    table = run(args.multipliers, args.seed, args.bits)
    elapsed = time.perf_counter() - start
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"train + {len(args.multipliers)} quantised evaluations: {elapsed:.1f} s")
    if args.out:
        table.to_csv(args.out, index=False)
    if args.plot:
        from .plots import accuracy_vs_power

        for path in accuracy_vs_power(table, args.plot):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
