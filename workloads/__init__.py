"""Workloads: the layer model, the network zoo, Keras import and Timeloop problem rendering."""
from .layer import KINDS, PARTS, ROLES, Layer, LayerError

__all__ = ["Layer", "LayerError", "KINDS", "PARTS", "ROLES"]
