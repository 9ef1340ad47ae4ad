"""Which architecture, constraint template and mapper settings each layer run uses.

dense:  every layer on arch/eyeriss with its one constraint template;
archon: `main` on arch/archon/main, everything else (prediction layers, head/tail layers) on
        arch/archon/predictions with a per-network, per-role profile (arch/archon/predictions/constraints/profiles.yaml).
Mapper settings: `depthwise` for k x k layers (conv, depthwise, the paper's dw mapper), `pointwise` for 1x1 and FC,
`main` for the fused main convolution.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

ARCH_ROOT = Path(__file__).resolve().parents[1] / "arch"
EYERISS = ARCH_ROOT / "eyeriss"
PREDICTIONS = ARCH_ROOT / "archon" / "predictions"
MAIN = ARCH_ROOT / "archon" / "main"


class RecipeError(ValueError):
    pass


@dataclass(frozen=True)
class Recipe:
    arch: Path
    constraints_template: Path
    mapper_kind: str  # pointwise | depthwise | main
    constraint_params: dict = field(default_factory=dict)


def mapper_kind(layer) -> str:
    if layer.role == "main":
        return "main"
    return "depthwise" if layer.R * layer.S > 1 else "pointwise"


@lru_cache(maxsize=None)
def storage_words(arch: Path, level: str) -> int:
    """Capacity in words of one storage level of an arch (e.g. the main arch's ifmap_spad: 12)."""
    from engines.embedded.arch import load_arch

    spec = load_arch(arch)
    return spec.storage[spec.storage_index(level)].size


@lru_cache(maxsize=None)
def prediction_profiles() -> dict:
    return yaml.safe_load((PREDICTIONS / "constraints" / "profiles.yaml").read_text())


def _profile(network: str, layer, instance: dict) -> dict:
    profiles = prediction_profiles()
    if layer.part == "body":
        try:
            raw = profiles["predictions"][network][layer.role]
        except KeyError:
            raise RecipeError(f"{PREDICTIONS / 'constraints' / 'profiles.yaml'}: no profile predictions.{network}."
                              f"{layer.role} (layer {layer.name})") from None
    else:
        raw = profiles["edge_fc" if layer.kind == "fc" else "edge"]
    return {key: str(value).format(**instance) for key, value in raw.items()}


def recipe(accelerator: str, network, layer, problem, settings: dict | None = None) -> Recipe:
    """The run recipe of one layer (`network` is the workloads.Network, `problem` its workloads Problem)."""
    kind = mapper_kind(layer)
    if accelerator in ("dense", "sparse"):
        return Recipe(EYERISS, EYERISS / "constraints" / "layer.yaml.j2", kind)
    if accelerator != "archon":
        raise RecipeError(f"unknown accelerator {accelerator!r}")
    instance = dict(problem.instance)
    if layer.role == "main":
        params = {"C": instance["C"], "M": instance["M"], "R": instance["R"], "S": instance["S"],
                  "spatial_x": 8, "spatial_y": 8, "ifmap_words": storage_words(MAIN, "ifmap_spad")}
        return Recipe(MAIN, MAIN / "constraints" / "main.yaml.j2", kind, params)
    params = _profile(network.name, layer, instance)
    return Recipe(prediction_arch(network, layer, settings), PREDICTIONS / "constraints" / "layer.yaml.j2", kind, params)


def prediction_arch(network, layer, settings: dict | None) -> Path:
    """The arch a layer of the fused network runs on in prediction mode: the ARCHON preset's `prediction_arch`
    for body prediction layers (the paper preset: the artifact's older 128 KiB GLB for MobileNetV2 and
    ShuffleNet), arch/archon/predictions for head and tail layers."""
    if layer.part != "body" or not settings or "archon" not in settings:
        return PREDICTIONS
    from fusion.workflow import params_for

    return params_for(network, settings).prediction_arch_dir


def mapper_yaml(mapper_settings: dict, kind: str) -> str:
    """Timeloop mapper settings for one run kind (live-status off; threads are set by the engine)."""
    search = mapper_settings[kind]
    spec = {
        "mapper": {
            "algorithm": "random-pruned",
            "optimization-metrics": list(mapper_settings.get("optimization_metrics", ["delay", "energy"])),
            "timeout": int(search["timeout"]),
            "victory-condition": int(search["victory_condition"]),
            "max-permutations-per-if-visit": 16,
            "live-status": False,
            "num-threads": 1,
        }
    }
    return yaml.safe_dump(spec, sort_keys=False)
