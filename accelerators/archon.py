"""archon: ARCHON, the predictive layer-fusion accelerator of the ICS'21 paper (the fusion package is its model).

It evaluates the fused network variant. Runs: every prediction layer and every head/tail layer on
arch/archon/predictions (constraint parameters per network and role: arch/archon/predictions/constraints/
profiles.yaml), each block's fused main convolution on arch/archon/main. Rows: per block the two predictions, the
main convolution and the fusion-unit overhead (fusion.evaluate_blocks); head/tail layers as ordinary layers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engines.stats import LayerStats
from fusion.main import main_tile_side
from specs.arch import load_arch
from specs.constraints import render_constraints
from specs.io import read_mapping
from workloads.layer import Layer
from workloads.network import Block, Network
from workloads.problem import problems_for

from .base import (
    REPO_ROOT,
    Accelerator,
    AcceleratorError,
    LayerRun,
    ResColumns,
    TableResult,
    row,
    setting,
    settings_error,
)
from .dense import mapper_kind

if TYPE_CHECKING:
    from fusion.block import BlockResult

PREDICTIONS = REPO_ROOT / "arch" / "archon" / "predictions"
MAIN = REPO_ROOT / "arch" / "archon" / "main"
MAIN_TILE = 8  # the main arch's PE array is 8 x 8: one output pixel per PE (docs/method.md §3.2)
PROFILES = PREDICTIONS / "constraints" / "profiles.yaml"
PRESETS_FILE = "fusion/presets.yaml"
OVERHEAD_DIR = "arch/archon/overhead"


@cache
def storage_words(arch: Path, level: str) -> int:
    """Capacity in words of one storage level of an arch (e.g. the main arch's ifmap_spad: 12)."""
    spec = load_arch(arch)
    size = spec.storage[spec.storage_index(level)].size
    if size is None:
        raise AcceleratorError(f"{arch}: level {level} has no capacity")
    return size


@cache
def prediction_profiles() -> dict[str, Any]:
    return read_mapping(PROFILES, "constraint profiles", AcceleratorError)


def _profile(network: str, layer: Layer, instance: Mapping[str, int]) -> dict[str, str]:
    profiles = prediction_profiles()
    if layer.part == "body":
        key = network if network in profiles["predictions"] else "default"  # e.g. networks imported from Keras
        try:
            raw = profiles["predictions"][key][layer.role]
        except KeyError:
            raise AcceleratorError(
                f"{PROFILES}: no profile predictions.{key}.{layer.role} (layer {layer.name} of {network})"
            ) from None
    else:
        raw = profiles["edge_fc" if layer.kind == "fc" else "edge"]
    return {key: str(value).format(**instance) for key, value in raw.items()}


def archon_run(network: Network, layer: Layer, depthwise_form: str, prediction_arch: Path = PREDICTIONS) -> LayerRun:
    """A layer of the fused network: `main` on the main arch; prediction layers on `prediction_arch` (the paper
    preset: the artifact's older 128 KiB predictions GLB for MobileNetV2 and ShuffleNet); head/tail layers on
    arch/archon/predictions."""
    (problem,) = problems_for(layer, depthwise_form)
    instance = dict(problem.instance)
    if layer.role == "main":
        params = {
            "C": instance["C"],
            "M": instance["M"],
            "R": instance["R"],
            "S": instance["S"],
            "spatial_x": main_tile_side(instance["P"], MAIN_TILE),
            "spatial_y": main_tile_side(instance["Q"], MAIN_TILE),
            "ifmap_words": storage_words(MAIN, "ifmap_spad"),
        }
        text = render_constraints(MAIN / "constraints" / "main.yaml.j2", problem.dimensions, **params)
        return LayerRun(layer.name, layer, problem, MAIN, text, "main")
    profile = _profile(network.name, layer, instance)
    text = render_constraints(PREDICTIONS / "constraints" / "layer.yaml.j2", problem.dimensions, **profile)
    arch = prediction_arch if layer.part == "body" else PREDICTIONS
    return LayerRun(layer.name, layer, problem, arch, text, mapper_kind(layer))


def fusion_params(network: Network, settings: Mapping[str, Any]):
    """The fusion knobs for `network` (the preset, its per-network deltas and the overrides); the depthwise form is
    a fact about the runs (problem.depthwise), not a model choice."""
    from fusion.params import load_params

    archon = setting(settings, "archon")
    params = load_params(archon.get("preset", "default"), network.name, network.dataset, archon.get("overrides"))
    return params.with_(depthwise_form=setting(settings, "problem.depthwise"))


class Archon(Accelerator):
    name = "archon"
    description = "ARCHON predictive layer fusion (ICS'21): ReLU-sign predictions, fused main conv, fusion unit"
    variant = "fused"
    arch_dirs = ("arch/archon/predictions", "arch/archon/main", "arch/archon/predictions-128KiB")
    mapper_kinds = {"main": {"timeout": 5000, "victory_condition": 400}}
    section = "archon"
    section_schema = {
        "type": "object",
        "additionalProperties": False,
        "description": "ARCHON's post-processing (fusion/params.py documents every knob)",
        "properties": {
            "preset": {
                "type": "string",
                "default": "default",
                "description": "default (the corrected model) | paper (reproduces the artifact)",
            },
            "overrides": {"type": "object", "default": {}, "description": "single knobs over the preset"},
        },
    }
    columns = ResColumns(
        energy=("pred_decom_e", "pred_conv_e", "main_e", "overhead_e"),
        cycles=("pred_decom_c", "pred_conv_c", "main_c"),
        body={
            "pred_decom": ("pred_decom_e", "pred_decom_c"),
            "pred_conv": ("pred_conv_e", "pred_conv_c"),
            "pred_comp": ("pred_conv_e", "pred_conv_c"),  # ShuffleNet predicts its 2nd 1x1 instead
            "main": ("main_e", "main_c"),
            "overhead": ("overhead_e", None),
            "se_reduce": ("main_e", "main_c"),
            "se_expand": ("main_e", "main_c"),
        },
        edge=("main_e", "main_c"),
    )
    table_reads = ("engine", "problem.depthwise", "archon.preset", "archon.overrides")
    table_files = (PRESETS_FILE, OVERHEAD_DIR)

    def run_options(self, network: Network, settings: dict[str, Any]) -> dict[str, Any]:
        return {"prediction_arch": fusion_params(network, settings).prediction_arch}

    def runs(self, network: Network, settings: dict[str, Any]) -> list[LayerRun]:
        form = setting(settings, "problem.depthwise")
        arch = Path((settings.get("options") or {}).get("prediction_arch") or PREDICTIONS)
        arch = arch if arch.is_absolute() else REPO_ROOT / arch
        return [archon_run(network, layer, form, arch) for layer in network.layers()]

    def validate(self, settings: dict[str, Any], source: str) -> None:
        from fusion.params import FusionParamsError, load_params, presets

        archon = settings.get("archon") or {}
        if archon.get("preset", "default") not in presets():
            raise AcceleratorError(
                f"{source}: field archon.preset: {archon.get('preset')!r} is not one of {', '.join(presets())}"
            )
        try:
            load_params(archon.get("preset", "default"), overrides=archon.get("overrides"))
        except FusionParamsError as exc:
            raise settings_error(exc, source, "archon") from None

    def table(
        self, network: Network, stats: Mapping[str, LayerStats], artifacts: Mapping[str, Path], settings: dict[str, Any]
    ) -> TableResult:
        from fusion.block import evaluate_blocks

        params, engine = fusion_params(network, settings), setting(settings, "engine")
        rows = []
        for layer in network.head:
            rows.append(edge_row(network, self.name, engine, layer, stats[layer.name], params))
        details: dict[str, Any] = {}
        for block, result in zip(network.blocks, evaluate_blocks(network.blocks, stats, params), strict=True):
            rows += fused_block_rows(network, self.name, engine, block, result, stats)
            details[f"b{block.index}"] = result.to_dict()
        for layer in network.tail:
            rows.append(edge_row(network, self.name, engine, layer, stats[layer.name], params))
        return TableResult(rows, details)


def fused_block_rows(
    network: Network, accelerator: str, engine: str, block: Block, result: BlockResult, stats: Mapping[str, LayerStats]
) -> list[dict]:
    """A fused block's layers.csv rows: its two predictions, the main convolution and the fusion overhead."""
    decom, second, main = block.layer("pred_decom"), block.layer(result.second_role), block.layer("main")
    main_stats = stats.get(f"b{result.main_from}.main") or stats[main.name]
    return [
        row(
            network,
            accelerator,
            engine,
            decom,
            decom.role,
            "prediction",
            result.pred_decom_e,
            result.pred_decom_c,
            decom.macs,
            stats[decom.name].utilization,
        ),
        row(
            network,
            accelerator,
            engine,
            second,
            second.role,
            "prediction",
            result.pred_conv_e,
            result.pred_conv_c,
            second.macs,
            stats[second.name].utilization,
        ),
        row(
            network,
            accelerator,
            engine,
            main,
            "main",
            "main",
            result.main_e,
            result.main_c,
            main.macs,
            main_stats.utilization,
        ),
        row(
            network,
            accelerator,
            engine,
            main,
            "overhead",
            "overhead",
            result.overhead_e,
            0,
            0,
            math.nan,
            name=f"b{block.index}.overhead",
        ),
    ]


def edge_row(network: Network, accelerator: str, engine: str, layer: Layer, stats: LayerStats, params) -> dict:
    """A head or tail layer of the fused network: an ordinary layer on the predictions arch."""
    from fusion.block import evaluate_edge_layer

    result = evaluate_edge_layer(layer, stats, params)
    return row(
        network,
        accelerator,
        engine,
        layer,
        layer.role,
        "layer",
        result.energy_pJ,
        result.cycles,
        layer.macs,
        stats.utilization,
    )
