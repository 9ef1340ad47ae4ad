"""ARCHON overhead energy (docs/method.md §6.3): sparse fused weights from DRAM, prediction storage and the fusion
units.

Accelergy-style, without Accelergy: per block, action counts of the components of arch/archon/overhead
(`action_counts`), written in Accelergy's action_counts.yaml format on request (`write_action_counts`) so a user
with Accelergy can cross-check; every count x its per-action energy from the overhead ERT (`estimate_energy`,
Accelergy's energy_estimation); then

    overhead = weight_DRAM + pred_DRAM [+ pred_glb] + binary_decoder
               + f_pes x (prediction_buffer + adders + bit_masks_and + mux_ + mux [+ adder_fifo])

weight_DRAM: kept fused weights (in/G)(mid/G) x taps x out x prune_factor, each costing `fused_weight_pJ`
(DRAM energy of the weight and its index), re-fetched once per main tile of f_pes output pixels.
pred_DRAM:   the pred_glb energy x pred_dram_scale (the prediction masks' DRAM-cost proxy).

Action counts per block (cycles = the block's main cycles, A = action_adders, K = binary_decoder_factor,
act = fusion_unit_activity, taps = kernel taps, tiles = ceil(pix^2 / f_pes)):

    component                   counts 'A'                                counts 'B'
    pred_glb write (= read)     ceil(mid pix^2 / glb_bits) x 2            ceil((mid + in) pix^2 / glb_bits)
    binary_decoder process      ceil(cycles K A)                          same
    PE prediction_buffer write  ceil(mid / buf_bits) x tiles x taps       ceil((mid + in) / buf_bits) x tiles
    PE prediction_buffer read   A cycles + extra_reads                    same
    PE adders add, bit_masks_and, mux_ process   ceil(act A cycles);  mux process ceil(act 2 A cycles)
    PE adder_fifo push = pop    ceil(adder_fifo_ops_per_add x adds)  (0 in both presets: no counts)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from specs.energy import EnergyTable, load_ert, strip_ranges
from specs.io import read_yaml
from workloads.network import Block

from .params import FusionParams
from .runs import FusionError

CHIP = "fusion_chip"
STORAGE_ARGUMENTS = (("address_delta", 1), ("data_delta", 1))  # sequential addresses, changing data
TERMS = ("weight_DRAM", "pred_DRAM", "pred_glb", "binary_decoder", "pred_buffer", "zero_replace_flag",
         "zero_replacing", "adders", "masks_AND", "adder_fifo")
PER_PE_TERM = {"prediction_buffer": "pred_buffer", "adders": "adders", "bit_masks_and": "masks_AND",
               "mux_": "zero_replace_flag", "mux": "zero_replacing", "adder_fifo": "adder_fifo"}

Key = tuple[str, str, tuple[tuple[str, Any], ...]]  # (component instance name, action, arguments)


@dataclass(frozen=True)
class ActionCount:
    component: str  # short name: pred_glb, binary_decoder, prediction_buffer, adders, ...
    action: str
    count: int
    arguments: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class OverheadCounts:
    """One block's action counts: chip-level components once, per-PE components for each of `pes` PEs."""

    block: int
    pes: int
    chip: tuple[ActionCount, ...]
    per_pe: tuple[ActionCount, ...]

    def by_instance(self) -> dict[Key, int]:
        """{(instance name, action, arguments): count}, as Accelergy sees them (PE[0] .. PE[pes-1])."""
        out: dict[Key, int] = {}
        for item in self.chip:
            out[(f"{CHIP}.{item.component}", item.action, item.arguments)] = item.count
        for pe in range(self.pes):
            for item in self.per_pe:
                out[(f"{CHIP}.PE[{pe}].{item.component}", item.action, item.arguments)] = item.count
        return out


@dataclass(frozen=True)
class OverheadCost:
    """The block's overhead energy (pJ) with its terms (the reference's fusion_overhead.csv columns, pJ)."""

    energy_pJ: float
    terms: dict[str, float]
    counts: OverheadCounts = field(compare=False)


# ----------------------------------------------------------------------------------------- counts

def action_counts(block: Block, main_cycles: int, params: FusionParams) -> OverheadCounts:
    """The overhead action counts of `block` whose fused main convolution takes `main_cycles` cycles."""
    pix2 = block.pixels * block.pixels
    tiles = math.ceil(pix2 / params.f_pes)
    A = params.action_adders
    act = params.fusion_unit_activity
    if params.overhead_counts == "A":
        glb = math.ceil(block.mid_ch * pix2 / params.pred_glb_write_bits) * 2
        buffer_writes = math.ceil(block.mid_ch / params.pred_buffer_bits_per_write) * tiles * params.taps(block)
    else:
        channels = block.mid_ch + block.in_ch
        glb = math.ceil(channels * pix2 / params.pred_glb_write_bits)
        buffer_writes = math.ceil(channels / params.pred_buffer_bits_per_write) * tiles
    adds = math.ceil(act * A * main_cycles)
    chip = (
        ActionCount("pred_glb", "write", glb, STORAGE_ARGUMENTS),
        ActionCount("pred_glb", "read", glb, STORAGE_ARGUMENTS),
        ActionCount("binary_decoder", "process", math.ceil(main_cycles * params.binary_decoder_factor * A)),
    )
    per_pe = [
        ActionCount("prediction_buffer", "write", buffer_writes, STORAGE_ARGUMENTS),
        ActionCount("prediction_buffer", "read", A * main_cycles + params.pred_buffer_extra_reads, STORAGE_ARGUMENTS),
        ActionCount("adders", "add", adds),
        ActionCount("bit_masks_and", "process", adds),
        ActionCount("mux_", "process", adds),
        ActionCount("mux", "process", math.ceil(act * 2 * A * main_cycles)),
    ]
    fifo = math.ceil(params.adder_fifo_ops_per_add * adds)
    if fifo:
        per_pe += [ActionCount("adder_fifo", "push", fifo), ActionCount("adder_fifo", "pop", fifo)]
    return OverheadCounts(block.index, params.f_pes, chip, tuple(per_pe))


# ----------------------------------------------------------------------------------------- Accelergy files

def write_action_counts(counts: OverheadCounts, path: str | Path) -> Path:
    """Write `counts` as Accelergy's action_counts.yaml (version 0.2) for arch/archon/overhead."""
    local = []
    grouped: dict[str, list[dict]] = {}
    for (name, action, arguments), count in counts.by_instance().items():
        entry: dict[str, Any] = {"name": action}
        if arguments:
            entry["arguments"] = dict(arguments)
        entry["counts"] = int(count)
        grouped.setdefault(name, []).append(entry)
    for name, entries in grouped.items():
        local.append({"name": name, "action_counts": entries})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump({"action_counts": {"version": 0.2, "local": local}}, Dumper=dumper, sort_keys=False))
    return path


def read_action_counts(path: str | Path) -> dict[Key, int]:
    """{(component instance, action, arguments): count} of an Accelergy action_counts.yaml (zero counts dropped)."""
    path = Path(path)
    data = read_yaml(path, "action counts", FusionError)
    local = (data or {}).get("action_counts", {}).get("local") if isinstance(data, dict) else None
    if not isinstance(local, list):
        raise FusionError(f"{path}: field action_counts.local: missing or not a list")
    out: dict[Key, int] = {}
    for i, component in enumerate(local):
        name = component.get("name") if isinstance(component, dict) else None
        if not isinstance(name, str) or not isinstance(component.get("action_counts"), list):
            raise FusionError(f"{path}: field action_counts.local[{i}]: needs a name and an action_counts list")
        for j, entry in enumerate(component["action_counts"]):
            where = f"{path}: field action_counts.local[{i}].action_counts[{j}]"
            if not isinstance(entry, dict) or "name" not in entry or not isinstance(entry.get("counts"), int):
                raise FusionError(f"{where}: needs a name and integer counts")
            if entry["counts"]:
                arguments = tuple(sorted((entry.get("arguments") or {}).items()))
                out[(name, entry["name"], arguments)] = entry["counts"]
    return out


@lru_cache(maxsize=8)
def overhead_ert(path: str) -> EnergyTable:
    return load_ert(path)


def estimate_energy(counts: dict[Key, int], ert: EnergyTable) -> dict[str, float]:
    """Accelergy's energy estimation: {component instance: pJ} = sum of count x per-action energy."""
    energies: dict[str, float] = {}
    for (name, action, arguments), count in counts.items():
        try:
            per_action = ert.energy(strip_ranges(name), action, **dict(arguments))
        except KeyError as exc:
            raise FusionError(f"{ert.source}: no energy for {name} {action} {dict(arguments)}: {exc.args[0]}") from None
        energies[name] = energies.get(name, 0.0) + count * per_action
    return energies


# ----------------------------------------------------------------------------------------- energy

def fused_weights(block: Block, params: FusionParams) -> float:
    """Kept fused weights of `block`: (in/G)(mid/G) x taps x out x prune_factor."""
    G = block.groups
    return (block.in_ch / G) * (block.mid_ch / G) * params.taps(block) * block.out_ch * params.prune(block)


def weight_dram_pJ(block: Block, params: FusionParams) -> float:
    """DRAM energy of the sparse fused weights (with indices), re-fetched once per main tile."""
    pix2 = block.pixels * block.pixels
    refetch = pix2 / params.f_pes if params.weight_refetch == "paper" else math.ceil(pix2 / params.f_pes)
    return fused_weights(block, params) * params.fused_weight_pJ * refetch


def overhead_cost(block: Block, main_cycles: int, params: FusionParams,
                  ert: EnergyTable | None = None) -> OverheadCost:
    """The overhead of `block` (pJ) given its main-phase cycles."""
    counts = action_counts(block, main_cycles, params)
    energies = estimate_energy(counts.by_instance(), ert or overhead_ert(str(params.ert_path)))
    terms = dict.fromkeys(TERMS, 0.0)
    for name, energy in energies.items():
        short = strip_ranges(name).split(".")[-1]
        if short == "pred_glb":
            terms["pred_DRAM"] += energy * params.pred_dram_scale
            if params.count_pred_glb:
                terms["pred_glb"] += energy
        elif short == "binary_decoder":
            terms["binary_decoder"] += energy
        else:
            terms[PER_PE_TERM[short]] += energy
    terms["weight_DRAM"] = weight_dram_pJ(block, params)
    return OverheadCost(sum(terms.values()), terms, counts)
