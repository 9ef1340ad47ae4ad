"""Seeded weights and magnitude pruning (NumPy only; no TensorFlow).

Each layer gets Glorot-uniform weights from its own generator `numpy.random.default_rng([seed, i])` (i = the
layer's position in the network), in its Keras kernel layout, then loses the round(sparsity x size) weights of
smallest magnitude (ties broken by flat position, so the result is fully deterministic: same seed and targets ->
byte-identical arrays). `target_sparsity` maps each layer kind to its removed fraction.

Note: the pattern of magnitude-pruned random weights is uniformly random; a trained and pruned model is usually
more structured (whole channels thinned), which changes the imbalance. Give a real model for real patterns.
"""

from __future__ import annotations

import numpy as np

from workloads.layer import Layer
from workloads.network import Network

from .kernels import keras_kernel_shapes


def magnitude_prune(kernel: np.ndarray, sparsity: float) -> np.ndarray:
    """A copy of `kernel` with the round(sparsity x size) smallest-magnitude weights set to zero."""
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    flat = kernel.ravel().copy()
    removed = int(round(sparsity * flat.size))
    order = np.argsort(np.abs(flat), kind="stable")
    flat[order[:removed]] = 0
    return flat.reshape(kernel.shape)


def keras_kernel_shape(layer: Layer) -> tuple[int, ...]:
    """The kernel shape of the Keras layer fuseloop builds for `layer` (Conv2D / DepthwiseConv2D / Dense)."""
    return keras_kernel_shapes(layer)[0]


def glorot_kernel(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Glorot-uniform weights with Keras' fan convention (receptive field x in / x out channels)."""
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    fan_in, fan_out = receptive * shape[-2], receptive * shape[-1]
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def pruned_weights(network: Network, target_sparsity: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """{layer name: pruned Keras kernel} for every layer of `network`."""
    out = {}
    for i, layer in enumerate(network.layers()):
        if layer.kind not in target_sparsity:
            raise KeyError(f"no target sparsity for layer kind {layer.kind!r} (layer {layer.name})")
        rng = np.random.default_rng([seed, i])
        out[layer.name] = magnitude_prune(glorot_kernel(keras_kernel_shape(layer), rng), target_sparsity[layer.kind])
    return out


def density(kernel: np.ndarray) -> float:
    """Non-zero fraction of a kernel."""
    return float(np.count_nonzero(kernel)) / kernel.size if kernel.size else 0.0
