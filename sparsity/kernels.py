"""Keras kernels -> weight tensors in Timeloop problem order W[R, S, C, M].

Keras layouts: Conv2D (kh, kw, in, out); grouped Conv2D (kh, kw, in/G, out) with output channel o in group
o // (out/G); DepthwiseConv2D (kh, kw, channels, 1) (a Conv2D with groups = channels has (kh, kw, 1, channels));
Dense (in, out). Timeloop's R is the filter WIDTH (it pairs with the output width P in the Inputs projection) and S
the height, so W[r, s, c, m] = kernel[s, r, c, m]. (The reference indexed tensor[R, S, ...] with R as kh: the same
thing transposed; it only matters for non-symmetric patterns.)

A depthwise layer is one problem with C = 1 and M = channels in both of Timeloop's forms (the paper's CNN-Layer
C=1 and the coupled Depthwise-Layer without C). A grouped layer is either one problem per group (C/G -> M/G,
repeated G times; group g holds output channels g*M/G ... (g+1)*M/G - 1) or, in the paper's grouped-conv form, one
problem C/G -> M whose weight tensor is the whole grouped kernel.
"""

from __future__ import annotations

import numpy as np

from workloads.layer import Layer

WEIGHT_DIMS = ("R", "S", "C", "M")


class KernelError(ValueError):
    """A kernel that does not fit its layer or its mapping; the message names the layer."""


def keras_kernel_shapes(layer: Layer) -> list[tuple[int, ...]]:
    """The Keras kernel shapes that hold `layer`'s weights (kernel height first)."""
    kh, kw, C, M, G = layer.S, layer.R, layer.C, layer.M, layer.groups
    if layer.kind == "depthwise":
        return [(kh, kw, C, 1), (kh, kw, 1, C)]
    if layer.kind == "fc":
        return [(C, M), (1, 1, C, M)]
    return [(kh, kw, C // G, M)]


def problem_tensor(layer: Layer, kernel: np.ndarray) -> np.ndarray:
    """The whole layer's weights as W[R, S, C/G, M] (depthwise: C/G = 1, M = channels)."""
    shape = tuple(kernel.shape)
    allowed = keras_kernel_shapes(layer)
    if shape not in allowed:
        raise KernelError(
            f"layer {layer.name}: kernel shape {shape} does not fit a {layer.kind} layer "
            f"C={layer.C} M={layer.M} {layer.S}x{layer.R} groups={layer.groups} "
            f"(expected {' or '.join(map(str, allowed))})"
        )
    if kernel.ndim == 2:
        kernel = kernel.reshape(1, 1, *shape)
    if layer.kind == "depthwise" and kernel.shape[3] == 1 and layer.C != 1:
        kernel = kernel.transpose(0, 1, 3, 2)
    return np.ascontiguousarray(kernel.transpose(1, 0, 2, 3))


def split_problems(layer: Layer, tensor: np.ndarray, bounds: dict[str, int]) -> list[np.ndarray]:
    """The per-problem weight tensors for a mapping with dimension `bounds` (one, or one per group)."""
    want = tuple(bounds.get(d, 1) for d in WEIGHT_DIMS)
    if tensor.shape == want:
        return [tensor]
    R, S, C, M = tensor.shape
    G = layer.groups
    if G > 1 and (R, S, C) == want[:3] and want[3] * G == M:
        return [tensor[..., g * want[3] : (g + 1) * want[3]] for g in range(G)]
    groups = f" nor {G} groups of it" if G > 1 else ""
    raise KernelError(
        f"layer {layer.name}: weights R,S,C,M = {tensor.shape} do not fit the mapping's R,S,C,M = {want}"
        f"{groups} (a dense run of another layer?)"
    )
