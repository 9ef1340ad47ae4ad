"""ARCHON overhead energy (docs/method.md §6.3, docs/model.md): the sparse fused weights, the prediction masks'
storage and the fusion units.

Accelergy-style, without Accelergy: per block, action counts of the components of arch/archon/overhead
(`action_counts`), written in Accelergy's action_counts.yaml format on request (`write_action_counts`) so a user
with Accelergy can cross-check; every count x its per-action energy from the overhead ERT (`estimate_energy`,
Accelergy's energy_estimation); then

    overhead = weight_DRAM + weight_GLB + pred_DRAM + pred_glb + binary_decoder
               + f_pes x (prediction_buffer + adders + bit_masks_and + mux_ + mux [+ adder_fifo])

Fused weights: the kept weights (in/G)(mid/G) x taps x out x prune_factor, each kept_weight_words datapath words
with its index (`fused_weight_cost`):
  weight_refetch mapping (default): per main-run copy (G for a grouped coupled main run), with S = its kept-weight
      words, t = the main mapping's weight passes, F = the global-buffer words the main run leaves free and the
      run's own energies per word e_DRAM, e_GLB: R = min(S, F) words stay in the buffer when that saves energy
      (e_DRAM + e_GLB + t e_GLB < t e_DRAM, i.e. t >= 2), else R = 0;
          weight_DRAM = (R + (S - R) t) e_DRAM        weight_GLB = R (1 + t) e_GLB   (one write, t reads)
  weight_refetch tiles / paper: weight_DRAM = kept x fused_weight_pJ x tiles (paper: pix^2 / f_pes).
Prediction masks (`mask_storage`):
  capacity (default): bits = the prediction layers' outputs x sign_bits; R = min(bits, pred_glb capacity) is
      written to and read from pred_glb once (its write/read counts below: ceil(R / row bits) each; pred_glb
      energy counted when count_pred_glb), the rest spills: pred_DRAM = 2 (bits - R) x e_DRAM / DRAM word bits.
  proxy (the reference): pred_glb counts by formula A/B, pred_DRAM = that energy x pred_dram_scale (the
      prediction layers themselves charge the DRAM sign writes, fusion/predictions.py).

Action counts per block (cycles = the block's main cycles, A = action_adders, K = binary_decoder_factor,
act = fusion_unit_activity, taps = kernel taps, tiles = the main convolution's output tiles, fusion.main.main_tiles):

    component                   counts 'A'                                counts 'B'
    pred_glb write (= read)     ceil(mid pix^2 / glb_bits) x 2            ceil((mid + in) pix^2 / glb_bits)
                                (mask_storage capacity: ceil(resident mask bits / glb_bits), either formula)
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

from .main import MainCost, MainRun, main_tiles
from .params import FusionParams
from .runs import FusionError

CHIP = "fusion_chip"
STORAGE_ARGUMENTS = (("address_delta", 1), ("data_delta", 1))  # sequential addresses, changing data
TERMS = (
    "weight_DRAM",
    "weight_GLB",
    "pred_DRAM",
    "pred_glb",
    "binary_decoder",
    "pred_buffer",
    "zero_replace_flag",
    "zero_replacing",
    "adders",
    "masks_AND",
    "adder_fifo",
)
PER_PE_TERM = {
    "prediction_buffer": "pred_buffer",
    "adders": "adders",
    "bit_masks_and": "masks_AND",
    "mux_": "zero_replace_flag",
    "mux": "zero_replacing",
    "adder_fifo": "adder_fifo",
}

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
    """The block's overhead energy (pJ) with its terms (the reference's fusion_overhead.csv columns and weight_GLB,
    pJ) and the quantities the fused-weight and mask models derived (`facts`, JSON-ready)."""

    energy_pJ: float
    terms: dict[str, float]
    counts: OverheadCounts = field(compare=False)
    facts: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class MaskStorage:
    """Where a block's prediction masks live (mask_storage capacity)."""

    bits: int  # every mask bit of the block's prediction layers
    capacity_bits: int  # pred_glb
    resident_bits: int  # written to and read from pred_glb
    spilled_bits: int  # written to and read from DRAM
    spill_pJ: float


@dataclass(frozen=True)
class FusedWeights:
    """How the block's kept fused weights move (all main-run copies)."""

    kept: float  # kept fused weights
    words: float  # their datapath words with indices
    resident_words: float  # of them kept in the global buffer
    passes: float  # times each non-resident word is read from DRAM
    dram_pJ: float
    glb_pJ: float


# ----------------------------------------------------------------------------------------- counts


def action_counts(
    block: Block, main_cycles: int, params: FusionParams, resident_mask_bits: int | None = None
) -> OverheadCounts:
    """The overhead action counts of `block` whose fused main convolution takes `main_cycles` cycles; with
    `resident_mask_bits` (mask_storage capacity) pred_glb is written and read once per row of resident masks."""
    pix2 = block.pixels * block.pixels
    tiles = main_tiles(block.pixels, params.f_pes)
    A = params.action_adders
    act = params.fusion_unit_activity
    if params.overhead_counts == "A":
        glb = math.ceil(block.mid_ch * pix2 / params.pred_glb_write_bits) * 2
        buffer_writes = math.ceil(block.mid_ch / params.pred_buffer_bits_per_write) * tiles * params.taps(block)
    else:
        channels = block.mid_ch + block.in_ch
        glb = math.ceil(channels * pix2 / params.pred_glb_write_bits)
        buffer_writes = math.ceil(channels / params.pred_buffer_bits_per_write) * tiles
    if resident_mask_bits is not None:
        glb = math.ceil(resident_mask_bits / params.pred_glb_write_bits)
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
    """DRAM energy of the sparse fused weights (with indices), re-fetched once per main tile (weight_refetch tiles
    or paper: the closed forms, at dram_energy_pJ)."""
    pix2 = block.pixels * block.pixels
    refetch = pix2 / params.f_pes if params.weight_refetch == "paper" else main_tiles(block.pixels, params.f_pes)
    return fused_weights(block, params) * params.fused_weight_pJ * refetch


def fused_weight_cost(block: Block, params: FusionParams, main: MainCost | None = None) -> FusedWeights:
    """The kept fused weights' DRAM and global-buffer energy (module docstring): from the main run's capacity,
    mapping and energies (weight_refetch mapping) or the closed forms."""
    kept = fused_weights(block, params)
    words = kept * params.kept_weight_words
    if params.weight_refetch != "mapping":
        pix2 = block.pixels * block.pixels
        passes = pix2 / params.f_pes if params.weight_refetch == "paper" else main_tiles(block.pixels, params.f_pes)
        return FusedWeights(kept, words, 0.0, passes, weight_dram_pJ(block, params), 0.0)
    run = _run(block, main, "weight_refetch: mapping")
    copies = main.copies if main is not None else 1
    size, t = words / copies, run.weight_passes
    pays = run.dram_word_pJ + (1 + t) * run.glb_word_pJ < t * run.dram_word_pJ
    resident = min(size, run.glb_free_words) if pays else 0.0
    dram = (resident + (size - resident) * t) * run.dram_word_pJ * copies
    glb = resident * (1 + t) * run.glb_word_pJ * copies
    return FusedWeights(kept, words, resident * copies, t, dram, glb)


def mask_bits(block: Block, params: FusionParams) -> int:
    """Bits of the block's prediction masks: every output of its prediction layers x sign_bits."""
    return (
        sum(layer.N * layer.P * layer.Q * layer.M for layer in block.layers if layer.role.startswith("pred_"))
        * params.sign_bits
    )


@lru_cache(maxsize=8)
def pred_glb_capacity_bits(arch_dir: Path) -> int:
    """memory_depth x memory_width of pred_glb in the overhead arch."""
    from specs.components import arch_components

    for component in arch_components(arch_dir):
        if strip_ranges(component.name).split(".")[-1] == "pred_glb":
            try:
                return int(component.attributes["memory_depth"]) * int(component.attributes["memory_width"])
            except (KeyError, TypeError, ValueError):
                break
    raise FusionError(
        f"{arch_dir / 'arch.yaml'}: no pred_glb with memory_depth and memory_width (or set the knob pred_glb_bits)"
    )


def mask_storage(block: Block, params: FusionParams, main: MainCost | None = None) -> MaskStorage:
    """Masks resident in pred_glb up to its capacity, the rest spilled to DRAM (one write and one read per bit at
    the main run's DRAM energy per bit)."""
    run = _run(block, main, "mask_storage: capacity")
    bits = mask_bits(block, params)
    capacity = params.pred_glb_bits or pred_glb_capacity_bits(params.overhead_arch_dir)
    resident = min(bits, capacity)
    spilled = bits - resident
    return MaskStorage(bits, capacity, resident, spilled, 2 * spilled * run.dram_word_pJ / run.dram_word_bits)


def _run(block: Block, main: MainCost | None, knob: str) -> MainRun:
    if main is None or main.run is None:
        raise FusionError(
            f"block {block.index}: {knob} needs the block's main run (its mapping, capacity and energies); none given"
        )
    return main.run


def overhead_cost(
    block: Block, main: MainCost | int, params: FusionParams, ert: EnergyTable | None = None
) -> OverheadCost:
    """The overhead of `block` (pJ) given its main phase (a MainCost; or only its cycles for the closed forms)."""
    main_cost = main if isinstance(main, MainCost) else None
    cycles = main.cycles if isinstance(main, MainCost) else int(main)
    masks = mask_storage(block, params, main_cost) if params.mask_storage == "capacity" else None
    counts = action_counts(block, cycles, params, masks.resident_bits if masks else None)
    energies = estimate_energy(counts.by_instance(), ert or overhead_ert(str(params.ert_path)))
    terms = dict.fromkeys(TERMS, 0.0)
    for name, energy in energies.items():
        short = strip_ranges(name).split(".")[-1]
        if short == "pred_glb":
            if masks is None:
                terms["pred_DRAM"] += energy * params.pred_dram_scale
            if params.count_pred_glb:
                terms["pred_glb"] += energy
        elif short == "binary_decoder":
            terms["binary_decoder"] += energy
        else:
            terms[PER_PE_TERM[short]] += energy
    weights = fused_weight_cost(block, params, main_cost)
    terms["weight_DRAM"], terms["weight_GLB"] = weights.dram_pJ, weights.glb_pJ
    facts: dict[str, float] = {
        "fused_weights": weights.kept,
        "fused_weight_words": weights.words,
        "resident_weight_words": weights.resident_words,
        "weight_passes": weights.passes,
    }
    if masks is not None:
        terms["pred_DRAM"] = masks.spill_pJ
        facts.update(
            {
                "mask_bits": masks.bits,
                "pred_glb_bits": masks.capacity_bits,
                "resident_mask_bits": masks.resident_bits,
                "spilled_mask_bits": masks.spilled_bits,
            }
        )
    if main_cost is not None and main_cost.run is not None:
        facts.update({f"main_{key}": value for key, value in main_cost.run.to_dict().items()})
    return OverheadCost(sum(terms.values()), terms, counts, facts)
