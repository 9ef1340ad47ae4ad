"""Workloads: the layer model, the network zoo, Keras import and Timeloop problem rendering.

Importing this package is cheap: TensorFlow is imported only when `from_keras` is called,
Jinja2 only when a problem is rendered.
"""

from .layer import KINDS, PARTS, ROLES, Layer, LayerError
from .network import VARIANTS, Block, Network
from .zoo import ZooError, datasets, load_network, network_names, variants


def from_keras(model, name: str = "keras", dataset: str = "custom") -> Network:
    """Import a Keras model as a `Network` (see workloads.keras_import for the head/body/tail rule)."""
    from .keras_import import from_keras as _from_keras

    return _from_keras(model, name=name, dataset=dataset)


__all__ = [
    "Layer",
    "LayerError",
    "KINDS",
    "PARTS",
    "ROLES",
    "Block",
    "Network",
    "VARIANTS",
    "ZooError",
    "network_names",
    "datasets",
    "variants",
    "load_network",
    "from_keras",
]
