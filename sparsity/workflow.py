"""What the workflow calls (workflows/steps.py): the pruned weights of a network, and one layer's sparse result.

`settings` is the workflow config: `settings["sparse"]` = {preset, seed, models, overrides} and, for a layer,
`settings["problem"]["depthwise"]` (the depthwise problem form of the dense runs).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engines.stats import LayerStats

from .evaluate import SparseEvaluationError, evaluate_layer
from .models import network_weights
from .params import load_params

VARIANT = "baseline"  # the sparse accelerator evaluates the baseline networks


def _network(network: str, dataset: str):
    from workloads.zoo import load_network

    return load_network(network, dataset, VARIANT)


def write_weights(network: str, dataset: str, sparse_settings: dict, out: Path) -> None:
    """{layer name: pruned Keras kernel} of `network`/`dataset` as an .npz at `out` (written atomically).

    The model is the config's `models["<network>/<dataset>"]` when given, else a generated one cached as .h5 next
    to `out`."""
    out = Path(out)
    params = load_params(sparse_settings.get("preset", "default"), sparse_settings.get("overrides"))
    net = _network(network, dataset)
    model = (sparse_settings.get("models") or {}).get(f"{network}/{dataset}")
    weights = network_weights(net, params.target_sparsity, int(sparse_settings.get("seed", 0)), model=model,
                              cache_dir=out.parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            np.savez(handle, **weights)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def load_layer_weights(path: Path, layer: str) -> np.ndarray:
    with np.load(path) as archive:
        if layer not in archive.files:
            raise SparseEvaluationError(f"{path}: no weights for layer {layer!r}")
        return archive[layer]


def evaluate_layer_files(network: str, dataset: str, layer: str, dense: Path, weights: Path, settings: dict) -> dict:
    """The SparseResult (as a dict) of one layer from its dense stats.json and the network's weights.npz."""
    from workflows.layer_rows import (
        paper_depthwise_fix_channels,
        paper_depthwise_input_fix_pJ,
    )

    params = load_params(settings["sparse"].get("preset", "default"), settings["sparse"].get("overrides"))
    net = _network(network, dataset)
    target = net.layer(layer)
    stats = LayerStats.from_json(Path(dense))
    extra = 0.0
    if settings["problem"]["depthwise"] == "paper" and target.kind == "depthwise":
        rule = settings["problem"].get("depthwise_fix_channels", "layer")
        extra = paper_depthwise_input_fix_pJ(stats, paper_depthwise_fix_channels(net, target, rule))
    return evaluate_layer(target, stats, load_layer_weights(Path(weights), layer), params, extra_dense_pJ=extra).to_dict()
