"""Keras model -> `Network` (TensorFlow / Keras are imported by the caller's model, never at package import).

What becomes a layer (in the model's layer order, nested models flattened):
  Conv2D            conv (k x k) | pointwise (1x1) | grouped-conv / grouped-pointwise (groups > 1)
                    | depthwise (groups == C == filters)
  DepthwiseConv2D   depthwise (depth_multiplier 1) | grouped-conv with groups = C (depth_multiplier > 1)
  SeparableConv2D   its depthwise part then its pointwise part (`<name>_dw`, `<name>_pw`)
  Dense             fc (P, Q from the output shape: 1 x 1 after pooling / flattening)
P and Q come from each layer's output shape, R and S from its kernel, the stride from its strides (padding,
pooling, normalisation, activations and element-wise layers carry no MACs and are skipped). Other layers with
weights, dilated or non-square-stride convolutions are refused with a clear error.

Head / body / tail rule. The body is the run of bottleneck blocks; a block is
    [expand 1x1] -> depthwise k x k -> [SE pair] -> project 1x1
where expand is a (grouped) 1x1 producing the depthwise layer's channels, project a (grouped) 1x1 reading them,
and the optional squeeze-and-excite pair two 1x1 / fc layers at 1 x 1 output (mid -> r -> mid) between them.
Blocks are matched greedily from the first layer on. Everything before the first block is the head, everything
after the last block the tail; a layer between two blocks that fits no block is an error. A model without any
block is all head. Roles: decom (expand), conv (depthwise), se_reduce / se_expand, comp (project).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .layer import Layer, LayerError
from .network import Block, Network

# Layers with weights that carry no MACs worth modelling (per-channel scale / shift).
WEIGHTED_BUT_SKIPPED = ("BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization", "PReLU")


class KerasImportError(ValueError):
    """A Keras model (or one of its layers) that cannot be imported; the message names the layer."""


@dataclass(frozen=True)
class KerasParts:
    """A model split by the head / body / tail rule, its layers still named after the Keras layers."""

    model: str  # the Keras model's name
    head: list[Layer]
    blocks: list[list[tuple[str, Layer]]]  # per block: (role, layer) in order
    tail: list[Layer]
    input_size: int
    input_channels: int
    num_classes: int  # the last layer's outputs


def split_model(model: Any) -> KerasParts:
    """Convert the model's layers and split them into head, bottleneck blocks and tail (module docstring)."""
    import keras

    layers = [layer for k_layer in _flatten(model, keras) for layer in _convert(k_layer, keras)]
    if not layers:
        raise KerasImportError(f"model {model.name!r}: no Conv2D, DepthwiseConv2D, SeparableConv2D or Dense layers")
    head, blocks, tail = _split(layers)
    size, channels = _input_geometry(model)
    return KerasParts(model.name, head, blocks, tail, size, channels, layers[-1].M)


def from_keras(model: Any, name: str = "keras", dataset: str = "custom") -> Network:
    """The model as a `Network` (variant "baseline"; see the module docstring for the rule)."""
    parts = split_model(model)
    head = tuple(layer.with_(name=f"head.{layer.name}", part="head") for layer in parts.head)
    tail = tuple(layer.with_(name=f"tail.{layer.name}", part="tail") for layer in parts.tail)
    blocks = tuple(_block(i + 1, members) for i, members in enumerate(parts.blocks))
    try:
        return Network(
            name,
            dataset,
            "baseline",
            parts.num_classes,
            head,
            blocks,
            tail,
            input_size=parts.input_size,
            input_channels=parts.input_channels,
        )
    except ValueError as exc:
        raise KerasImportError(f"model {model.name!r}: {exc}") from None


# ----------------------------------------------------------------------------------------- layer conversion


def _flatten(model: Any, keras: Any) -> list:
    out = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out.extend(_flatten(layer, keras))
        else:
            out.append(layer)
    return out


def _shape(layer: Any, which: str) -> tuple:
    try:
        return tuple(getattr(layer, which).shape)
    except (AttributeError, ValueError) as exc:
        raise KerasImportError(
            f"layer {layer.name!r}: cannot read its {which} shape ({exc}); build the model with "
            "keras.Input and call every layer once"
        ) from None


def _spatial(layer: Any, shape: tuple) -> tuple[int, int, int]:
    """(width, height, channels) of a conv layer's input/output shape."""
    if len(shape) != 4:
        raise KerasImportError(f"layer {layer.name!r}: expected a 4-D (batch, H, W, C) tensor, got shape {shape}")
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        _, c, h, w = shape
    else:
        _, h, w, c = shape
    if None in (h, w, c):
        raise KerasImportError(
            f"layer {layer.name!r}: unknown spatial size {shape}; give the model a fixed input shape"
        )
    return int(w), int(h), int(c)


def _stride(layer: Any) -> int:
    sh, sw = layer.strides
    if sh != sw:
        raise KerasImportError(
            f"layer {layer.name!r}: strides {layer.strides} differ per axis (fuseloop layers have one stride)"
        )
    if tuple(getattr(layer, "dilation_rate", (1, 1))) != (1, 1):
        raise KerasImportError(f"layer {layer.name!r}: dilation_rate {layer.dilation_rate} is not supported")
    return int(sh)


def _make(
    name: str, kind: str, R: int, S: int, P: int, Q: int, C: int, M: int, stride: int = 1, groups: int = 1
) -> Layer:
    try:
        return Layer(name, kind, R, S, P, Q, C, M, stride=stride, groups=groups)
    except LayerError as exc:
        raise KerasImportError(str(exc)) from None


def _convert(layer: Any, keras: Any) -> list[Layer]:
    L = keras.layers
    if isinstance(layer, L.SeparableConv2D):
        P, Q, M = _spatial(layer, _shape(layer, "output"))
        _, _, C = _spatial(layer, _shape(layer, "input"))
        kh, kw = layer.kernel_size
        mult = layer.depth_multiplier
        kind = "depthwise" if mult == 1 else "grouped-conv"
        return [
            _make(f"{layer.name}_dw", kind, kw, kh, P, Q, C, C * mult, _stride(layer), C),
            _make(f"{layer.name}_pw", "pointwise", 1, 1, P, Q, C * mult, M),
        ]
    if isinstance(layer, L.DepthwiseConv2D):
        P, Q, M = _spatial(layer, _shape(layer, "output"))
        _, _, C = _spatial(layer, _shape(layer, "input"))
        kh, kw = layer.kernel_size
        kind = "depthwise" if layer.depth_multiplier == 1 else "grouped-conv"
        return [_make(layer.name, kind, kw, kh, P, Q, C, M, _stride(layer), C)]
    if isinstance(layer, L.Conv2D) and not isinstance(layer, L.Conv2DTranspose):
        P, Q, M = _spatial(layer, _shape(layer, "output"))
        _, _, C = _spatial(layer, _shape(layer, "input"))
        kh, kw = layer.kernel_size
        g = int(getattr(layer, "groups", 1))
        one = (kh, kw) == (1, 1)
        if g == 1:
            kind = "pointwise" if one else "conv"
        elif g == C == M:
            kind = "depthwise"
        else:
            kind = "grouped-pointwise" if one else "grouped-conv"
        return [_make(layer.name, kind, kw, kh, P, Q, C, M, _stride(layer), g)]
    if isinstance(layer, L.Dense):
        out, inp = _shape(layer, "output"), _shape(layer, "input")
        spatial = [int(d) for d in out[1:-1]]
        if len(spatial) > 2 or None in out[1:] or inp[-1] is None:
            raise KerasImportError(f"layer {layer.name!r}: Dense on a tensor of shape {inp} is not supported")
        P, Q = (list(reversed(spatial)) + [1, 1])[:2]
        return [_make(layer.name, "fc", 1, 1, P, Q, int(inp[-1]), int(out[-1]))]
    if layer.weights and type(layer).__name__ not in WEIGHTED_BUT_SKIPPED:
        raise KerasImportError(
            f"layer {layer.name!r} ({type(layer).__name__}) has weights but is not a Conv2D, "
            "DepthwiseConv2D, SeparableConv2D or Dense layer; fuseloop cannot import it"
        )
    return []


def _input_geometry(model: Any) -> tuple[int, int]:
    shape = tuple(model.inputs[0].shape) if getattr(model, "inputs", None) else ()
    if len(shape) == 4:
        _, h, w, c = shape
        if h != w or None in (h, c):
            raise KerasImportError(f"model {model.name!r}: input {shape} must be square with a fixed size")
        return int(h), int(c)
    if len(shape) == 2 and shape[1] is not None:
        return 1, int(shape[1])
    raise KerasImportError(f"model {model.name!r}: unsupported input shape {shape}")


# ----------------------------------------------------------------------------------------- head / body / tail


def _is_1x1(layer: Layer) -> bool:
    return layer.kind in ("pointwise", "grouped-pointwise")


def _match_block(layers: list[Layer], i: int) -> list[tuple[str, Layer]] | None:
    """The block starting at layers[i], as (role, layer) pairs, or None."""
    j, members = i, []
    if (
        j + 1 < len(layers)
        and _is_1x1(layers[j])
        and layers[j + 1].kind == "depthwise"
        and layers[j].M == layers[j + 1].C
    ):
        members.append(("decom", layers[j]))
        j += 1
    if j >= len(layers) or layers[j].kind != "depthwise":
        return None
    dw = layers[j]
    members.append(("conv", dw))
    j += 1
    rest = layers[j : j + 3]
    if (
        len(rest) == 3
        and all(layer.P == layer.Q == 1 for layer in rest[:2])
        and rest[0].C == dw.M
        and rest[1].M == dw.M
        and rest[0].M == rest[1].C
        and _is_1x1(rest[2])
        and rest[2].C == dw.M
        and all(layer.kind in ("fc", "pointwise") for layer in rest[:2])
    ):
        members += [("se_reduce", rest[0]), ("se_expand", rest[1])]
        j += 2
    if j < len(layers) and _is_1x1(layers[j]) and layers[j].C == dw.M:
        members.append(("comp", layers[j]))
        return members
    return None


def _split(layers: list[Layer]) -> tuple[list[Layer], list[list[tuple[str, Layer]]], list[Layer]]:
    blocks: list[list[tuple[str, Layer]]] = []
    starts: list[int] = []
    i = 0
    while i < len(layers):
        block = _match_block(layers, i)
        if block:
            blocks.append(block)
            starts.append(i)
            i += len(block)
        else:
            i += 1
    if not blocks:
        return layers, [], []
    first, last = starts[0], starts[-1] + len(blocks[-1])
    covered = {id(layer) for block in blocks for _, layer in block}
    for layer in layers[first:last]:
        if id(layer) not in covered:
            raise KerasImportError(
                f"layer {layer.name!r} sits between bottleneck blocks but fits no "
                "[expand 1x1] -> depthwise -> project 1x1 pattern"
            )
    return layers[:first], blocks, layers[last:]


def _block(k: int, members: list[tuple[str, Layer]]) -> Block:
    roles = dict(members)
    dw, proj = roles["conv"], roles["comp"]
    first = members[0][1]
    layers = tuple(layer.with_(name=f"b{k}.{role}", part="body", block=k, role=role) for role, layer in members)
    groups = roles["decom"].groups if "decom" in roles else proj.groups
    return Block(k, first.C, dw.C, proj.M, dw.P, dw.stride, dw.R, groups, layers)
