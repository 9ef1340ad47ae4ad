"""hybrid: ARCHON with fusion chosen per block (issue 19's fusion genes). Opt-in: not in the default sweep.

It evaluates the fused network variant. Each block listed in `hybrid.fused_blocks` runs as on ARCHON (its two
predictions, the fused main convolution and the fusion-unit overhead; accelerators/archon.py); every other block
runs *unfused*: as the dense layers the fused block stands for, on the dense Eyeriss arch (accelerators/dense.py
rules). Head and tail layers run as on ARCHON. So `fused_blocks: all` gives ARCHON's rows exactly, and every run is
one that ARCHON or the dense plug-in would map for the same shape (content keys deduplicate them).

"This block unfused" (the fused variant's block k with in / mid / out channels, output side pix, stride s, kernel
k and groups G, as in workloads/zoo.py's fused expansion), named after the baseline roles:
  predict: conv (MobileNetV2, MnasNet, FusioNet)  b<k>.decom 1x1 in -> mid (G) at pix*s, b<k>.conv depthwise k x k
                                                  on mid, stride s, at pix, b<k>.comp 1x1 mid -> out (G) at pix
  predict: comp (ShuffleNet)                      b<k>.decom 1x1 in -> mid (G) at pix*s, b<k>.comp 1x1 mid -> out
                                                  (G) at pix*s, b<k>.conv depthwise k x k on out, stride s, at pix
i.e. the layers ARCHON predicts (same shapes as its prediction layers) plus the remaining layer of the bottleneck.
These are not the baseline variant's blocks (the zoo's baseline and fused networks have different channel and
block counts); they are the fused network computed without fusion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from engines.stats import LayerStats
from specs.constraints import render_constraints
from workloads.layer import Layer
from workloads.network import Block, Network
from workloads.problem import problems_for

from . import dense
from .archon import (
    OVERHEAD_DIR,
    PREDICTIONS,
    PRESETS_FILE,
    Archon,
    archon_run,
    edge_row,
    fused_block_rows,
    fusion_params,
)
from .base import REPO_ROOT, Accelerator, AcceleratorError, LayerRun, ResColumns, TableResult, row, setting

ARCHON = Archon()

UNFUSED_ROLES = ("decom", "conv", "comp")
ALL, NONE = "all", "none"
ROLES = ("decom", "conv", "comp", "pred_decom", "pred_conv", "pred_comp", "main", "se_reduce", "se_expand")


def unfused_layers(block: Block) -> tuple[Layer, ...]:
    """The dense layers a fused block stands for (see the module docstring)."""
    k, pix, s, g, kern = block.index, block.pixels, block.stride, block.groups, block.kernel
    kind = "pointwise" if g == 1 else "grouped-pointwise"

    def one_by_one(role: str, c: int, m: int, side: int) -> Layer:
        return Layer(f"b{k}.{role}", kind, 1, 1, side, side, c, m, groups=g, part="body", block=k, role=role)

    def depthwise(ch: int) -> Layer:
        return Layer(
            f"b{k}.conv",
            "depthwise",
            kern,
            kern,
            pix,
            pix,
            ch,
            ch,
            stride=s,
            groups=ch,
            part="body",
            block=k,
            role="conv",
        )

    roles = {layer.role for layer in block.layers}
    if roles - {"pred_decom", "pred_conv", "pred_comp", "main"}:
        raise AcceleratorError(
            f"block {k}: hybrid handles fused blocks of predictions and main only, got {sorted(roles)}"
        )
    decom = one_by_one("decom", block.in_ch, block.mid_ch, pix * s)
    if "pred_conv" in roles:
        return decom, depthwise(block.mid_ch), one_by_one("comp", block.mid_ch, block.out_ch, pix)
    return decom, one_by_one("comp", block.mid_ch, block.out_ch, pix * s), depthwise(block.out_ch)


def fused_mask(network: Network, value: Any, where: str = "hybrid.fused_blocks") -> tuple[bool, ...]:
    """Per block (in order): fused? `value`: "all", "none" or a list of 1-based block indices."""
    n = len(network.blocks)
    if value == ALL:
        return (True,) * n
    if value == NONE:
        return (False,) * n
    if not isinstance(value, (list, tuple)):
        raise AcceleratorError(f"field {where}: expected all, none or a list of block indices, got {value!r}")
    for i, k in enumerate(value):
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= n:
            raise AcceleratorError(
                f"field {where}[{i}]: {k!r} is not a block of {network.name}/{network.dataset} "
                f"(fused variant: blocks 1..{n})"
            )
    chosen = set(value)
    return tuple(b.index in chosen for b in network.blocks)


def hybrid_network(network: Network, mask: tuple[bool, ...]) -> Network:
    """The fused variant with every block whose mask is False replaced by its unfused layers."""
    blocks = tuple(
        block if fused else replace(block, layers=unfused_layers(block), pred_bits=None, prune_factor=None)
        for block, fused in zip(network.blocks, mask, strict=True)
    )
    return replace(network, blocks=blocks)


def superset_network(network: Network) -> Network:
    """Every block holding both its fused and its unfused layers (the runs and options of a fusion search)."""
    blocks = tuple(replace(block, layers=block.layers + unfused_layers(block)) for block in network.blocks)
    return replace(network, blocks=blocks)


class Hybrid(Accelerator):
    name = "hybrid"
    description = "ARCHON with fusion per block: fused blocks as on ARCHON, the others as dense layers on Eyeriss"
    variant = "fused"
    arch_dirs = ("arch/archon/predictions", "arch/archon/main", "arch/eyeriss")
    in_default_sweep = False
    section = "hybrid"
    section_schema = {
        "type": "object",
        "additionalProperties": False,
        "description": "the hybrid accelerator (accelerators/hybrid.py): which blocks of the fused variant are fused",
        "properties": {
            "fused_blocks": {
                "default": ALL,
                "description": "all | none | a list of 1-based block indices of the fused variant run fused "
                "(the others run as their dense layers on the Eyeriss arch)",
                "oneOf": [
                    {"type": "string", "enum": [ALL, NONE]},
                    {"type": "array", "uniqueItems": True, "items": {"type": "integer", "minimum": 1}},
                ],
            }
        },
    }
    columns = ResColumns(
        energy=("hybrid_e",),
        cycles=("hybrid_c",),
        body={**{role: ("hybrid_e", "hybrid_c") for role in ROLES}, "overhead": ("hybrid_e", None)},
        edge=("hybrid_e", "hybrid_c"),
    )
    table_reads = ("engine", "problem.depthwise", "archon.preset", "archon.overrides", "hybrid.fused_blocks")
    table_files = (PRESETS_FILE, OVERHEAD_DIR)

    # ---- the network and its runs ---------------------------------------------------------------------------
    def mask(self, network: Network, settings: Mapping[str, Any]) -> tuple[bool, ...]:
        return fused_mask(network, setting(settings, "hybrid.fused_blocks"))

    def evaluated_network(self, network: Network, settings: Mapping[str, Any]) -> Network:
        return hybrid_network(network, self.mask(network, settings))

    def run_options(self, network: Network, settings: dict[str, Any]) -> dict[str, Any]:
        """ARCHON's (the prediction arch) plus the fused blocks: they decide which runs a design needs."""
        mask = fused_mask(network, (settings.get("hybrid") or {}).get("fused_blocks", ALL))
        return {
            **ARCHON.run_options(network, settings),
            "fused_blocks": [b.index for b, on in zip(network.blocks, mask, strict=True) if on],
        }

    def runs(self, network: Network, settings: dict[str, Any]) -> list[LayerRun]:
        options = settings.get("options") or {}
        mask = fused_mask(network, options.get("fused_blocks", ALL))
        return self.runs_for(network, settings, mask)

    def runs_for(self, network: Network, settings: Mapping[str, Any], mask: tuple[bool, ...] | None) -> list[LayerRun]:
        """Runs of the design `mask` (None: the superset, both forms of every block)."""
        form = setting(settings, "problem.depthwise")
        prediction = Path((settings.get("options") or {}).get("prediction_arch") or PREDICTIONS)
        prediction = prediction if prediction.is_absolute() else REPO_ROOT / prediction
        net = superset_network(network) if mask is None else hybrid_network(network, mask)
        template = dense.EYERISS / "constraints" / "layer.yaml.j2"
        out = []
        for layer in net.layers():
            if layer.role in UNFUSED_ROLES:
                (problem,) = problems_for(layer, form)
                out.append(
                    LayerRun(
                        layer.name,
                        layer,
                        problem,
                        dense.EYERISS,
                        render_constraints(template, problem.dimensions),
                        dense.mapper_kind(layer),
                        dense.TIE_BREAK,
                    )
                )
            else:
                out.append(archon_run(network, layer, form, prediction))
        return out

    # ---- settings -------------------------------------------------------------------------------------------
    def validate(self, settings: dict[str, Any], source: str) -> None:
        from workloads import zoo

        value = (settings.get("hybrid") or {}).get("fused_blocks", ALL)
        for entry in settings.get("sweep", []):
            network = zoo.load_network(entry["network"], entry["dataset"], self.variant)
            try:
                mask = fused_mask(network, value)
                for block, fused in zip(network.blocks, mask, strict=True):
                    if not fused:
                        unfused_layers(block)
            except AcceleratorError as exc:
                raise AcceleratorError(f"{source}: {exc}") from None
            if not all(mask):
                params = fusion_params(
                    network,
                    {
                        "archon": settings.get("archon") or {},
                        "problem": settings.get("problem") or {"depthwise": "coupled"},
                    },
                )
                if params.main_reuse:
                    raise AcceleratorError(
                        f"{source}: field hybrid.fused_blocks: the archon preset reuses main runs "
                        f"across blocks (main_reuse {list(params.main_reuse)}); unfused blocks "
                        f"need archon.preset default or archon.overrides.main_reuse: []"
                    )

    # ---- rows -----------------------------------------------------------------------------------------------
    def table(
        self, network: Network, stats: Mapping[str, LayerStats], artifacts: Mapping[str, Any], settings: dict[str, Any]
    ) -> TableResult:
        return self.table_for(network, stats, settings, self.mask(network, settings))

    def table_for(
        self, network: Network, stats: Mapping[str, LayerStats], settings: Mapping[str, Any], mask: tuple[bool, ...]
    ) -> TableResult:
        """Rows of the design `mask` (the fused variant `network` with its blocks fused or not)."""
        from fusion.block import evaluate_blocks

        params, engine = fusion_params(network, settings), setting(settings, "engine")
        form = setting(settings, "problem.depthwise")

        def edge(layer: Layer) -> dict[str, Any]:
            return edge_row(network, self.name, engine, layer, stats[layer.name], params)

        fused = [block for block, on in zip(network.blocks, mask, strict=True) if on]
        results = {r.block: r for r in evaluate_blocks(fused, stats, params)} if fused else {}
        rows = [edge(layer) for layer in network.head]
        details: dict[str, Any] = {}
        for block, on in zip(network.blocks, mask, strict=True):
            if on:
                result = results[block.index]
                rows += fused_block_rows(network, self.name, engine, block, result, stats)
                details[f"b{block.index}"] = {"fused": True, **result.to_dict()}
                continue
            details[f"b{block.index}"] = {"fused": False}
            for layer in unfused_layers(block):
                energy, cycles = dense.layer_cost(layer, stats[layer.name], form)
                rows.append(
                    row(
                        network,
                        self.name,
                        engine,
                        layer,
                        layer.role,
                        "layer",
                        energy,
                        cycles,
                        layer.macs,
                        stats[layer.name].utilization,
                    )
                )
        rows += [edge(layer) for layer in network.tail]
        return TableResult(rows, details)
