"""Pruned Keras models: build a zoo network as a Keras model, save it as `.h5`, read `.h5` / `.keras` models back and
match their kernels to a network's layers. TensorFlow / Keras are imported only inside the functions that need them.

Topology (baseline variants; weights are what matters here, the model is built and saved, never trained):
  head / tail   a chain; a global average pooling before an fc layer that follows a feature map
  inverted-residual block   1x1 expand (ReLU) -> depthwise k x k (ReLU) -> [squeeze-and-excite: GAP -> Dense
                (ReLU) -> Dense (sigmoid) -> scale] -> 1x1 project (linear) -> + block input when in == out, stride 1
  shuffle-span block (ShuffleNet units re-cut, see workloads/networks/shufflenet.yaml)   decom = the unit's second
                grouped 1x1, joined with the unit's input: added when widths match, else concatenated after a
                3x3 stride-2 average pooling of the input (stride-2 units); comp = the next unit's first grouped 1x1
                -> channel shuffle; conv = its depthwise layer. A shuffle-span body's first tail 1x1 closes the
                last unit.
  A (grouped) 1x1 layer directly followed by a depthwise layer is followed by a channel shuffle when grouped.
Grouped 1x1 layers are Conv2D(groups=G); depthwise layers DepthwiseConv2D; fc layers Dense. No batch normalisation.
Keras layer names are the network layer names with '.' replaced by '_'.

Matching (`match_kernels`): the model's weighted layers (Conv2D, DepthwiseConv2D, SeparableConv2D as depthwise then
pointwise, Dense; nested models flattened; normalisation layers ignored) are paired with the network's layers by
order, and each kernel must have one of the layer's Keras kernel shapes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from specs.io import atomic_path
from workloads.layer import Layer
from workloads.network import Network

from .kernels import keras_kernel_shapes
from .pruning import pruned_weights

MODEL_SUFFIXES = (".h5", ".keras")
SHORTCUT_POOL = 3  # kernel of the average pooling on a stride-2 ShuffleNet unit's shortcut (ShuffleNet v1)


class ModelError(ValueError):
    """A model file that cannot be used; the one-line message names the file (and the layer)."""


def keras_name(layer_name: str) -> str:
    return layer_name.replace(".", "_")


# ----------------------------------------------------------------------------------------- building


def build_model(network: Network) -> Any:
    """`network` (a baseline variant) as an untrained Keras functional model."""
    import keras

    if network.variant != "baseline":
        raise ModelError(f"network {network.key}: Keras models are built for baseline variants only")
    return _Builder(network, keras).model()


class _Builder:
    def __init__(self, network: Network, keras: Any) -> None:
        self.net, self.keras, self.L = network, keras, keras.layers
        self.unit_in: Any | None = None  # input of the current ShuffleNet-style unit (shuffle-span)
        self.order = network.layers()

    def model(self) -> Any:
        inp = self.keras.Input((self.net.input_size, self.net.input_size, self.net.input_channels), name="image")
        x = inp
        for layer in self.net.head:
            x = self.layer(x, layer, activation="relu")
        span = False
        for block in self.net.blocks:
            roles = [layer.role for layer in block.layers]
            span = roles.index("comp") < roles.index("conv")
            x = self.shuffle_span(x, block) if span else self.inverted(x, block)
        for i, layer in enumerate(self.net.tail):
            if i == 0 and span and layer.kind in ("pointwise", "grouped-pointwise"):
                x = self.close_unit(x, layer, self.net.tail[1].C if len(self.net.tail) > 1 else layer.M)
            else:
                x = self.layer(x, layer, activation="relu" if i < len(self.net.tail) - 1 else None)
        return self.keras.Model(inp, x, name=f"{self.net.name}_{self.net.dataset}")

    def next_of(self, layer: Layer) -> Layer | None:
        i = self.order.index(layer)
        return self.order[i + 1] if i + 1 < len(self.order) else None

    def layer(self, x: Any, layer: Layer, activation: str | None) -> Any:
        L, name = self.L, keras_name(layer.name)
        if layer.kind == "fc":
            if len(x.shape) == 4:
                x = L.GlobalAveragePooling2D(name=f"{name}_pool")(x)
            return L.Dense(layer.M, activation=activation, use_bias=False, name=name)(x)
        if layer.kind == "depthwise":
            y = L.DepthwiseConv2D(
                layer.S, strides=layer.stride, padding="same", activation=activation, use_bias=False, name=name
            )(x)
        else:
            nxt = self.next_of(layer)
            if nxt is not None and nxt.kind == "depthwise":
                self.unit_in = x
            y = L.Conv2D(
                layer.M,
                layer.S,
                strides=layer.stride,
                padding="same",
                groups=layer.groups,
                activation=activation,
                use_bias=False,
                name=name,
            )(x)
            if layer.groups > 1 and nxt is not None and nxt.kind == "depthwise":
                y = self.shuffle(y, layer.groups, name)
        if tuple(y.shape[1:]) != (layer.Q, layer.P, layer.M):
            raise ModelError(
                f"network {self.net.key}: layer {layer.name} builds {tuple(y.shape[1:])}, "
                f"expected {(layer.Q, layer.P, layer.M)}"
            )
        return y

    def shuffle(self, x: Any, groups: int, name: str) -> Any:
        L = self.L
        h, w, c = x.shape[1:]
        x = L.Reshape((h, w, groups, c // groups), name=f"{name}_shuffle_split")(x)
        x = L.Permute((1, 2, 4, 3), name=f"{name}_shuffle_swap")(x)
        return L.Reshape((h, w, c), name=f"{name}_shuffle")(x)

    def inverted(self, x: Any, block) -> Any:
        L, y = self.L, x
        for layer in block.layers:
            if layer.role == "se_reduce":
                scale = self.layer(y, layer, activation="relu")
            elif layer.role == "se_expand":
                scale = self.layer(scale, layer, activation="sigmoid")
                scale = L.Reshape((1, 1, layer.M), name=f"{keras_name(layer.name)}_reshape")(scale)
                y = L.Multiply(name=f"b{block.index}_se_scale")([y, scale])
            else:
                y = self.layer(y, layer, activation=None if layer.role == "comp" else "relu")
        if block.residual:
            y = L.Add(name=f"b{block.index}_add")([x, y])
        return y

    def close_unit(self, x: Any, layer: Layer, width: int) -> Any:
        """The second grouped 1x1 of a ShuffleNet unit, joined with the unit's input into `width` channels."""
        L, name = self.L, keras_name(layer.name)
        y = self.layer(x, layer, activation=None)
        shortcut = self.unit_in
        if shortcut is None:
            raise ModelError(
                f"network {self.net.key}: layer {layer.name} closes a unit that no 1x1 before a depthwise layer opened"
            )
        if shortcut.shape[1] != y.shape[1]:
            shortcut = L.AveragePooling2D(
                SHORTCUT_POOL, strides=shortcut.shape[1] // y.shape[1], padding="same", name=f"{name}_shortcut_pool"
            )(shortcut)
        if layer.M == width:
            y = L.Add(name=f"{name}_add")([shortcut, y])
        elif layer.M + shortcut.shape[-1] == width:
            y = L.Concatenate(name=f"{name}_concat")([y, shortcut])
        else:
            raise ModelError(
                f"network {self.net.key}: layer {layer.name} ({layer.M} channels) and its unit's input "
                f"({shortcut.shape[-1]}) cannot make the {width} channels that follow"
            )
        self.unit_in = None
        return L.ReLU(name=f"{name}_relu")(y)

    def shuffle_span(self, x: Any, block) -> Any:
        for layer in block.layers:
            if layer.role == "decom":
                x = self.close_unit(x, layer, block.mid_ch)
            else:
                x = self.layer(x, layer, activation="relu" if layer.role == "comp" else None)
        return x


# ----------------------------------------------------------------------------------------- saving / reading


def save_pruned_model(network: Network, weights: dict[str, np.ndarray], path: str | Path) -> Path:
    """Build `network`, set its kernels to `weights` ({layer name: Keras kernel}) and save it (atomically) as `.h5`."""
    path = Path(path)
    model = build_model(network)
    for layer in network.layers():
        model.get_layer(keras_name(layer.name)).set_weights([weights[layer.name]])
    with atomic_path(path, suffix=".tmp.h5") as tmp:
        model.save(tmp)
    return path


def read_kernels(path: str | Path) -> list[tuple[str, np.ndarray]]:
    """(Keras layer name, kernel) of every weighted layer of a `.h5` / `.keras` model, in model order."""
    path = Path(path)
    if path.suffix not in MODEL_SUFFIXES:
        raise ModelError(f"{path}: not a Keras model file (expected {' or '.join(MODEL_SUFFIXES)})")
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a bad file; all mean "cannot read it"
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelError(f"{path}: cannot read Keras model ({type(exc).__name__}: {message})") from None
    numpy = keras.ops.convert_to_numpy
    out = []
    for layer in _flatten(model, keras):
        if isinstance(layer, keras.layers.SeparableConv2D):
            out += [
                (f"{layer.name}_dw", numpy(layer.depthwise_kernel)),
                (f"{layer.name}_pw", numpy(layer.pointwise_kernel)),
            ]
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)):
            out.append((layer.name, numpy(layer.kernel)))
    return out


def _flatten(model: Any, keras: Any) -> list:
    out = []
    for layer in model.layers:
        out.extend(_flatten(layer, keras) if isinstance(layer, keras.Model) else [layer])
    return out


def match_kernels(network: Network, kernels: list[tuple[str, np.ndarray]], source: str | Path) -> dict[str, np.ndarray]:
    """{network layer name: kernel}, pairing by order and checking each kernel shape."""
    layers = network.layers()
    for i, layer in enumerate(layers):
        if i >= len(kernels):
            raise ModelError(
                f"{source}: the model has {len(kernels)} weighted layers, network {network.key} has "
                f"{len(layers)}; first unmatched network layer: {layer.name}"
            )
        name, kernel = kernels[i]
        if tuple(kernel.shape) not in keras_kernel_shapes(layer):
            raise ModelError(
                f"{source}: model layer {i} {name!r} has kernel shape {tuple(kernel.shape)}, "
                f"network layer {layer.name} needs {' or '.join(map(str, keras_kernel_shapes(layer)))}"
            )
    if len(kernels) > len(layers):
        raise ModelError(
            f"{source}: the model has {len(kernels)} weighted layers, network {network.key} has "
            f"{len(layers)}; first extra model layer: {kernels[len(layers)][0]!r}"
        )
    return {layer.name: kernel for layer, (_, kernel) in zip(layers, kernels, strict=True)}


def load_pruned_weights(path: str | Path, network: Network) -> dict[str, np.ndarray]:
    """The kernels of the model at `path`, keyed by `network`'s layer names."""
    return match_kernels(network, read_kernels(path), path)


# ----------------------------------------------------------------------------------------- generated models


def generated_model_path(network: Network, target_sparsity: dict[str, float], seed: int, cache_dir: str | Path) -> Path:
    """Cache file of a generated model: network, dataset, seed and a digest of the targets and layer shapes."""
    shapes = [[layer.name, layer.kind, layer.C, layer.M, layer.R, layer.groups] for layer in network.layers()]
    key = json.dumps({"targets": sorted(target_sparsity.items()), "seed": seed, "layers": shapes})
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return Path(cache_dir) / f"{network.name}-{network.dataset}-seed{seed}-{digest}.h5"


def network_weights(
    network: Network,
    target_sparsity: dict[str, float],
    seed: int = 0,
    model: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> dict[str, np.ndarray]:
    """Pruned kernels for `network`: from the user's `model` when given, else a generated magnitude-pruned model,
    saved as `.h5` under `cache_dir` (reused when present) and read back; without `cache_dir` the generated weights
    are returned directly (no TensorFlow needed)."""
    if model is not None:
        return load_pruned_weights(model, network)
    if cache_dir is None:
        return pruned_weights(network, target_sparsity, seed)
    path = generated_model_path(network, target_sparsity, seed, cache_dir)
    if not path.is_file():
        save_pruned_model(network, pruned_weights(network, target_sparsity, seed), path)
    return load_pruned_weights(path, network)
