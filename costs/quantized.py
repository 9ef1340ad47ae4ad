"""Quantised inference of a Keras model in NumPy, each layer's products taken from its multiplier's table.

    qm = QuantizedModel(model, calibration_images)        # float calibration pass once
    qm.accuracy(x, y, choices)                            # choices: {fuseloop layer name: LayerChoice}

Per conv / dense layer with choice c (layers absent from `choices` get LayerChoice(): 16-bit, exact):
  inputs   per-tensor, symmetric: q_x = round(x / s_x) clipped to +-(2^input_bits - 1), s_x = max|x| over the
           calibration set / (2^input_bits - 1);
  weights  magnitude-pruned to c.density (layer-wide threshold), then per output channel:
           q_w = round(w / s_w[m]) clipped to +-(2^weight_bits - 1), s_w[m] = max|w[..., m]| / (2^weight_bits - 1);
  signs    sign-magnitude: b-bit magnitudes plus a sign bit; the unsigned 8x8 multiplier sees |q_x|, |q_w|
           (table[|q_x|, |q_w|]) and the product takes sign(q_x) sign(q_w). (tf-approximate's TF2 layer instead
           quantises affinely with min/max offsets, so its table sees offset operands; ALWANN's 8-bit networks
           likewise. The two agree for non-negative activations, not for weights.)
  psums    the accumulator holds psum_bits (signed): when the largest calibrated |sum| needs more bits, every
           product is shifted right (floor) by the excess before accumulation (a fixed-point register dropping
           LSBs), and the sum saturates at +-(2^(psum_bits-1) - 1);
  outputs  sum x 2^shift x s_x x s_w[m] + bias (biases at full precision; BatchNorm folded into the preceding
           layer where possible), then per-tensor symmetric rounding to output_bits, then the activation.
Activations travel between layers dequantised (floats), so additions, pooling and activations are exact.
Approximate multipliers need operands of at most 8 bits; the exact multiplier takes any width (exact products).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .choices import DEFAULT_CHOICE, LayerChoice
from .qgraph import Node, QuantizedGraphError, keras_nodes
from .qkernels import grouped_dot, pad_nhwc, patches, pool

BATCH = 256


@dataclass
class _Calibration:
    in_max: float  # max |input|
    acc_max: np.ndarray  # per output channel: max |sum of products| (before bias), float units
    out_max: float  # max |output| (after bias)


def _align(nodes: list[Node], network: Any) -> None:
    """Give each conv / dense node the fuseloop name of its layer (from_keras keeps the model's layer order)."""
    mults = [n for n in nodes if n.op in ("conv", "dense")]
    layers = network.layers()
    if len(mults) != len(layers):
        raise QuantizedGraphError(
            f"model has {len(mults)} conv/dense layers but its fuseloop network has {len(layers)}"
        )
    for node, layer in zip(mults, layers, strict=True):
        if node.params["kernel"].shape[-1] != layer.M:
            outputs = node.params["kernel"].shape[-1]
            raise QuantizedGraphError(
                f"layer {node.params['keras_name']!r}: {outputs} outputs, "
                f"but fuseloop layer {layer.name} has M={layer.M}"
            )
        node.layer = layer.name


def _grouped(x: np.ndarray, node: Node) -> tuple[np.ndarray, tuple[int, ...]]:
    """Operands as (rows, G, K) and the output's leading shape."""
    p = node.params
    if node.op == "dense":
        return x.reshape(-1, 1, x.shape[-1]), x.shape[:-1]
    kh, kw = p["kernel"].shape[:2]
    windows = patches(pad_nhwc(x, (kh, kw), p["stride"], p["padding"]), (kh, kw), p["stride"])
    n, P, Q = windows.shape[:3]
    g = p["groups"]
    grouped = windows.reshape(n, P, Q, kh, kw, g, -1).transpose(0, 1, 2, 5, 3, 4, 6).reshape(n * P * Q, g, -1)
    return grouped, (n, P, Q)


def _grouped_kernel(kernel: np.ndarray, groups: int) -> np.ndarray:
    """(kh, kw, Cg, M) or (C, M) -> (G, K, M / G)."""
    if kernel.ndim == 2:
        return kernel[None]
    kh, kw, cg, m = kernel.shape
    return kernel.reshape(kh, kw, cg, groups, m // groups).transpose(3, 0, 1, 2, 4).reshape(groups, kh * kw * cg, -1)


def _symmetric(values: np.ndarray, bound: np.ndarray | float, bits: int) -> tuple[np.ndarray, np.ndarray | float]:
    qmax = 2**bits - 1
    scale = np.where(np.asarray(bound) > 0, np.asarray(bound) / qmax, 1.0)
    return np.clip(np.rint(values / scale), -qmax, qmax), scale


def prune(kernel: np.ndarray, density: float) -> np.ndarray:
    """Keep the `density` fraction of weights with the largest magnitude (ties at the threshold kept)."""
    if density >= 1:
        return kernel
    keep = max(1, round(density * kernel.size))
    threshold = np.partition(np.abs(kernel).ravel(), kernel.size - keep)[kernel.size - keep]
    return np.where(np.abs(kernel) >= threshold, kernel, 0.0)


class QuantizedModel:
    def __init__(self, model: Any, calibration: np.ndarray) -> None:
        from workloads import from_keras

        self.nodes = keras_nodes(model)
        self.network = from_keras(model, name=model.name)
        _align(self.nodes, self.network)
        self._calibration: dict[str, _Calibration] = {}
        self._weights: dict[tuple[str, int, float], tuple[np.ndarray, np.ndarray]] = {}
        self._run(np.asarray(calibration, dtype=np.float64), None, calibrate=True)

    @property
    def layer_names(self) -> list[str]:
        return [n.layer for n in self.nodes if n.layer]

    def predict(self, x: np.ndarray, choices: Mapping[str, LayerChoice] | None = None) -> np.ndarray:
        """Model outputs; choices None = float inference (no quantisation)."""
        x = np.asarray(x, dtype=np.float64)
        parts = [
            self._run(x[i : i + BATCH], {} if choices is None else choices, float_mode=choices is None)
            for i in range(0, len(x), BATCH)
        ]
        return np.concatenate(parts)

    def accuracy(self, x: np.ndarray, labels: np.ndarray, choices: Mapping[str, LayerChoice] | None = None) -> float:
        return float(np.mean(self.predict(x, choices).argmax(axis=-1) == np.asarray(labels)))

    # ------------------------------------------------------------------------------------------------ graph walk
    def _run(
        self,
        x: np.ndarray,
        choices: Mapping[str, LayerChoice] | None,
        calibrate: bool = False,
        float_mode: bool = False,
    ) -> np.ndarray:
        values: dict[str, np.ndarray] = {}
        for node in self.nodes:
            args = [values[name] for name in node.inputs]
            if node.op == "input":
                values[node.name] = x
            elif node.op in ("conv", "dense"):
                if calibrate:
                    values[node.name] = self._calibrate(node, args[0])
                elif float_mode:
                    values[node.name] = self._float_layer(node, args[0])[0]
                else:
                    assert choices is not None
                    choice = choices.get(node.layer or "", DEFAULT_CHOICE)
                    values[node.name] = self._quantized_layer(node, args[0], choice)
            else:
                values[node.name] = _elementwise(node, args)
        return values[self.nodes[-1].name]

    def _float_layer(self, node: Node, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(output, sum before bias) in float."""
        operands, lead = _grouped(x, node)
        kernel = _grouped_kernel(node.params["kernel"], node.params.get("groups", 1))
        acc = np.einsum("rgk,gkm->rgm", operands, kernel).reshape(*lead, -1)
        return acc + node.params["bias"], acc

    def _calibrate(self, node: Node, x: np.ndarray) -> np.ndarray:
        out, acc = self._float_layer(node, x)
        axes = tuple(range(acc.ndim - 1))
        self._calibration[node.name] = _Calibration(
            float(np.abs(x).max()), np.abs(acc).max(axis=axes), float(np.abs(out).max())
        )
        return out

    def _quantized_weights(self, node: Node, bits: int, density: float) -> tuple[np.ndarray, np.ndarray]:
        key = (node.name, bits, density)
        if key not in self._weights:
            kernel = prune(node.params["kernel"], density)
            axes = tuple(range(kernel.ndim - 1))
            q, scale = _symmetric(kernel, np.abs(kernel).max(axis=axes), bits)
            self._weights[key] = (_grouped_kernel(q, node.params.get("groups", 1)).astype(np.int64), np.asarray(scale))
        return self._weights[key]

    def _quantized_layer(self, node: Node, x: np.ndarray, choice: LayerChoice) -> np.ndarray:
        calib = self._calibration[node.name]
        table = None
        if not choice.multiplier.is_exact:
            table = choice.multiplier.table()
            if table is None:
                raise QuantizedGraphError(
                    f"layer {node.layer}: multiplier {choice.multiplier.name} has no product "
                    "table; attach one under `multipliers:` (table: path/to/mult.bin)"
                )
        qx, sx = _symmetric(x, calib.in_max, choice.input_bits)
        qw, sw = self._quantized_weights(node, choice.weight_bits, choice.density)
        bound = float(np.max(calib.acc_max / (sx * np.maximum(sw, 1e-300)))) if calib.acc_max.size else 0.0
        needed = int(np.ceil(np.log2(bound + 1))) + 1
        shift = max(0, needed - choice.psum_bits)
        operands, lead = _grouped(qx, node)
        acc = grouped_dot(operands.astype(np.int64), qw, table, shift)
        limit = 2 ** (choice.psum_bits - 1) - 1
        acc = np.clip(acc, -limit, limit).reshape(*lead, -1)
        y = acc * (2.0**shift) * sx * sw + node.params["bias"]
        q, scale = _symmetric(y, calib.out_max, choice.output_bits)
        return q * scale


def _elementwise(node: Node, args: list[np.ndarray]) -> np.ndarray:
    x = args[0]
    p = node.params
    if node.op == "relu":
        y = np.maximum(x, 0.0)
        return y if p.get("max_value") is None else np.minimum(y, p["max_value"])
    if node.op == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if node.op == "affine":
        return x * p["scale"] + p["shift"]
    if node.op in ("maxpool", "avgpool"):
        return pool(x, p["size"], p["stride"], p["padding"], "max" if node.op == "maxpool" else "avg")
    if node.op == "gap":
        return x.mean(axis=(1, 2))
    if node.op == "gmp":
        return x.max(axis=(1, 2))
    if node.op == "reshape":
        return x.reshape(x.shape[0], *p["shape"])
    if node.op == "add":
        return np.sum(args, axis=0)
    if node.op == "pad":
        rows, cols = p["padding"]
        return np.pad(x, ((0, 0), rows, cols, (0, 0)))
    if node.op == "identity":
        return x
    raise QuantizedGraphError(f"node {node.name!r}: unknown op {node.op!r}")
