"""A Keras model as a list of NumPy-ready nodes in execution order (TensorFlow is the caller's import).

Supported layers: InputLayer, Conv2D (strides, valid/same padding, groups), DepthwiseConv2D, SeparableConv2D,
Dense, ReLU (max_value: ReLU6; no negative slope or threshold), Activation / fused activations (linear, relu,
relu6, softmax), BatchNormalization (folded into a directly preceding Conv2D / DepthwiseConv2D / Dense with a linear
activation and no other consumer, else applied as a per-channel affine map), MaxPooling2D, AveragePooling2D,
GlobalAveragePooling2D, GlobalMaxPooling2D, Flatten, Reshape, Add, ZeroPadding2D, Dropout / identity-like
layers. Anything else, a shared layer or a multi-input model is an error naming the layer.

Each multiplying node (conv / dense) carries the fuseloop layer name `workloads.from_keras` gives that layer
(head.<name>, b<k>.<role>, tail.<name>), so a choices table keyed by network layer names applies to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

IDENTITY = ("Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "ActivityRegularization")
ACTIVATIONS = {"linear": None, "relu": ("relu", None), "relu6": ("relu", 6.0), "softmax": ("softmax", None)}


class QuantizedGraphError(ValueError):
    """A Keras model the quantised path cannot run; the message names the layer."""


@dataclass
class Node:
    """op: input | conv | dense | relu | softmax | affine | maxpool | avgpool | gap | gmp | flatten | reshape |
    add | pad | identity. params hold NumPy arrays and ints; layer is the fuseloop name of a conv / dense."""

    name: str
    op: str
    inputs: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    layer: str | None = None


def _inputs(layer: Any) -> list[str]:
    nodes = layer._inbound_nodes
    if len(nodes) > 1:
        raise QuantizedGraphError(f"layer {layer.name!r} is called {len(nodes)} times; shared layers are not supported")
    return [t._keras_history.operation.name for t in nodes[0].input_tensors] if nodes else []


def _activation(layer: Any) -> tuple[str, float | None] | None:
    name = getattr(getattr(layer, "activation", None), "__name__", "linear")
    if name not in ACTIVATIONS:
        raise QuantizedGraphError(
            f"layer {layer.name!r}: activation {name!r} is not supported ({', '.join(ACTIVATIONS)})"
        )
    return ACTIVATIONS[name]


def _weights(layer: Any) -> list[np.ndarray]:
    return [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]


def _conv(layer: Any, cls: str) -> dict[str, Any]:
    if tuple(getattr(layer, "dilation_rate", (1, 1))) != (1, 1):
        raise QuantizedGraphError(f"layer {layer.name!r}: dilation is not supported")
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise QuantizedGraphError(f"layer {layer.name!r}: only channels_last is supported")
    sh, sw = layer.strides
    if sh != sw:
        raise QuantizedGraphError(f"layer {layer.name!r}: strides {layer.strides} differ per axis")
    weights = _weights(layer)
    kernel = weights[0]
    if cls == "DepthwiseConv2D":  # (kh, kw, C, mult) -> grouped conv with groups = C, (kh, kw, 1, C*mult)
        kh, kw, c, mult = kernel.shape
        kernel, groups = kernel.reshape(kh, kw, 1, c * mult), c
    else:
        groups = int(getattr(layer, "groups", 1))
    bias = weights[1] if len(weights) > 1 else np.zeros(kernel.shape[-1])
    return {"kernel": kernel, "bias": bias, "stride": int(sh), "padding": layer.padding, "groups": groups}


def keras_nodes(model: Any) -> list[Node]:
    """The model's nodes in execution order, BatchNorm folded where possible (see the module docstring)."""
    import keras

    if len(getattr(model, "inputs", None) or []) != 1:
        raise QuantizedGraphError(f"model {model.name!r}: exactly one input is supported")
    input_name = model.inputs[0]._keras_history.operation.name
    nodes: list[Node] = [Node(input_name, "input", [])]
    for layer in model.layers:
        cls = type(layer).__name__
        if isinstance(layer, keras.Model):
            raise QuantizedGraphError(f"layer {layer.name!r}: nested models are not supported; flatten the model")
        if cls == "InputLayer":
            continue
        inputs = _inputs(layer)
        nodes.extend(_convert(layer, cls, inputs))
    return _fold_batchnorm(nodes)


def _convert(layer: Any, cls: str, inputs: list[str]) -> list[Node]:
    name = layer.name
    if cls in ("Conv2D", "DepthwiseConv2D", "Dense"):
        act = _activation(layer)
        if cls == "Dense":
            kernel, *rest = _weights(layer)
            op, params = "dense", {"kernel": kernel, "bias": rest[0] if rest else np.zeros(kernel.shape[-1])}
        else:
            op, params = "conv", _conv(layer, cls)
        params["keras_name"] = name
        if act is None:
            return [Node(name, op, inputs, params)]
        linear = f"{name}/linear"
        return [Node(linear, op, inputs, params), Node(name, act[0], [linear], {"max_value": act[1]})]
    if cls == "SeparableConv2D":  # its depthwise part, then its pointwise part (as workloads.from_keras splits it)
        act = _activation(layer)
        depthwise, pointwise, *rest = _weights(layer)
        kh, kw, c, mult = depthwise.shape
        common = {"stride": int(layer.strides[0]), "padding": layer.padding}
        if tuple(layer.strides) != (layer.strides[0],) * 2 or tuple(layer.dilation_rate) != (1, 1):
            raise QuantizedGraphError(f"layer {name!r}: non-square strides or dilation are not supported")
        dw = Node(
            f"{name}/dw",
            "conv",
            inputs,
            {
                "kernel": depthwise.reshape(kh, kw, 1, c * mult),
                "bias": np.zeros(c * mult),
                "groups": c,
                **common,
                "keras_name": f"{name}_dw",
            },
        )
        pw_name = name if act is None else f"{name}/linear"
        bias = rest[0] if rest else np.zeros(pointwise.shape[-1])
        pw = Node(
            pw_name,
            "conv",
            [dw.name],
            {
                "kernel": pointwise,
                "bias": bias,
                "groups": 1,
                "stride": 1,
                "padding": "valid",
                "keras_name": f"{name}_pw",
            },
        )
        return [dw, pw] + ([] if act is None else [Node(name, act[0], [pw_name], {"max_value": act[1]})])
    if cls == "ReLU":
        if float(layer.negative_slope) != 0 or float(layer.threshold) != 0:
            raise QuantizedGraphError(f"layer {name!r}: ReLU with a negative slope or threshold is not supported")
        return [Node(name, "relu", inputs, {"max_value": None if layer.max_value is None else float(layer.max_value)})]
    if cls == "Activation":
        act = _activation(layer)
        if act is None:
            return [Node(name, "identity", inputs)]
        return [Node(name, act[0], inputs, {"max_value": act[1]})]
    if cls == "Softmax":
        return [Node(name, "softmax", inputs)]
    if cls == "BatchNormalization":
        gamma, beta, mean, var = _bn_weights(layer)
        scale = gamma / np.sqrt(var + layer.epsilon)
        return [Node(name, "affine", inputs, {"scale": scale, "shift": beta - mean * scale})]
    if cls in ("MaxPooling2D", "AveragePooling2D"):
        pooling: dict[str, Any] = {
            "size": tuple(layer.pool_size),
            "stride": tuple(layer.strides),
            "padding": layer.padding,
        }
        return [Node(name, "maxpool" if cls.startswith("Max") else "avgpool", inputs, pooling)]
    if cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        if getattr(layer, "keepdims", False):
            raise QuantizedGraphError(f"layer {name!r}: keepdims=True is not supported")
        return [Node(name, "gap" if "Average" in cls else "gmp", inputs)]
    if cls in ("Flatten", "Reshape"):
        shape = (-1,) if cls == "Flatten" else tuple(layer.target_shape)
        return [Node(name, "reshape", inputs, {"shape": shape})]
    if cls == "Add":
        return [Node(name, "add", inputs)]
    if cls == "ZeroPadding2D":
        return [Node(name, "pad", inputs, {"padding": tuple(tuple(p) for p in layer.padding)})]
    if cls in IDENTITY:
        return [Node(name, "identity", inputs)]
    raise QuantizedGraphError(f"layer {name!r} ({cls}) is not supported by the quantised inference path")


def _bn_weights(layer: Any) -> tuple[np.ndarray, ...]:
    def value(variable: Any, default: np.ndarray) -> np.ndarray:
        return default if variable is None else np.asarray(variable.numpy(), dtype=np.float64)

    mean = value(layer.moving_mean, np.zeros(0))
    var = value(layer.moving_variance, np.ones_like(mean))
    return value(layer.gamma, np.ones_like(mean)), value(layer.beta, np.zeros_like(mean)), mean, var


def _fold_batchnorm(nodes: list[Node]) -> list[Node]:
    """Fold an affine (BatchNorm) node into the conv / dense node it directly follows, when that node has no
    activation of its own and no other consumer."""
    consumers: dict[str, int] = {}
    for node in nodes:
        for name in node.inputs:
            consumers[name] = consumers.get(name, 0) + 1
    by_name = {node.name: node for node in nodes}
    out: list[Node] = []
    renamed: dict[str, str] = {}
    for node in nodes:
        node.inputs = [renamed.get(name, name) for name in node.inputs]
        source = by_name.get(node.inputs[0]) if node.op == "affine" and len(node.inputs) == 1 else None
        if source is not None and source.op in ("conv", "dense") and consumers.get(source.name) == 1:
            scale, shift = node.params["scale"], node.params["shift"]
            source.params["kernel"] = source.params["kernel"] * scale
            source.params["bias"] = source.params["bias"] * scale + shift
            renamed[node.name] = source.name
            continue
        out.append(node)
    return out
