"""ARCHON's fused main convolution (docs/method.md §6.2): the run's energy minus its DRAM weight traffic, and its
cycles, plus what the fused-weight and mask models of the overhead need from the run (`MainRun`).

The fused k x k convolution (in/G -> out) runs on arch/archon/main, whose weights stream from DRAM straight to
the MACs (the global buffer bypasses them, so the run has no on-chip weight energy). Those sparse fused weights
are charged in the overhead (fusion/overhead.py), so the run's outermost level Weights energy is removed here. A
grouped main run in the coupled form is one group x G.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from engines.stats import LayerStats, LevelStats
from workloads.layer import Layer

from .params import REPO_ROOT, FusionParams
from .runs import FusionError, base_energy_pJ, chip_levels, outer, repeat, tensor_pJ

MAIN_ARCH = REPO_ROOT / "arch" / "archon" / "main"


def main_tile_side(pixels: int, pes_per_side: int = 8) -> int:
    """The output tile side of the fused main convolution along a map dimension: the PE array's side (8: one output
    pixel per PE of the 8 x 8 array) when it divides the map, else the largest divisor of the map below it (a 4 x 4
    map runs as one 4 x 4 tile on 16 of the 64 PEs; a 14 x 14 map as 7 x 7 tiles)."""
    return max(d for d in range(1, min(pes_per_side, pixels) + 1) if pixels % d == 0)


def main_tiles(pixels: int, f_pes: int) -> int:
    """Output tiles of the main convolution of a pixels x pixels map on a square array of `f_pes` PEs:
    (pixels / main_tile_side)^2, the mapping's tile count; ceil(pixels^2 / f_pes), the paper's, for an array that is
    not square. The two agree on maps that are at most the array's side or a multiple of it (every zoo network)."""
    side = math.isqrt(f_pes)
    if side * side != f_pes:
        return math.ceil(pixels * pixels / f_pes)
    return (pixels // main_tile_side(pixels, side)) ** 2


@dataclass(frozen=True)
class MainRun:
    """Facts of one main-run copy the overhead's fused-weight and mask models use (docs/model.md).

    weight_passes   how often the main mapping streams its whole weight tensor: DRAM Weights reads / the Weights
                    partition there (= the mapping's output tiles when nothing below DRAM keeps weights, as on
                    arch/archon/main with the main constraints: the P and Q loops above the 8 x 8 PE array)
    glb_free_words  global-buffer words the run leaves free: capacity - the utilized Inputs and Outputs tiles
    dram_word_pJ    the run's DRAM energy per word access (Timeloop's vector access energy / block size)
    glb_word_pJ     the same for the global buffer
    dram_word_bits  bits of a DRAM word
    """

    weight_passes: float
    glb_free_words: int
    dram_word_pJ: float
    glb_word_pJ: float
    dram_word_bits: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class MainCost:
    """Energy (pJ) and cycles of a block's fused main convolution."""

    energy_pJ: float
    cycles: int
    dram_weights_pJ: float  # removed from the run's energy (whole layer)
    copies: int = 1  # problem copies the layer is made of (G for a grouped main run in the coupled form)
    run: MainRun | None = None  # set when the overhead model needs it (weight_refetch mapping, mask_storage capacity)


def main_cost(layer: Layer, stats: LayerStats, params: FusionParams) -> MainCost:
    if layer.role != "main":
        raise FusionError(f"layer {layer.name}: role {layer.role!r} is not the fused main convolution ('main')")
    copies = repeat(layer, params)
    dram_weights = tensor_pJ([outer(stats)], "Weights")
    energy = (base_energy_pJ(stats, params) - dram_weights) * copies
    needed = params.weight_refetch == "mapping" or params.mask_storage == "capacity"
    run = main_run(layer, stats) if needed else None
    return MainCost(energy, stats.cycles * copies, dram_weights * copies, copies, run)


def main_run(layer: Layer, stats: LayerStats) -> MainRun:
    """The `MainRun` facts of one main-run copy (its arch: the stats meta `arch`, else arch/archon/main)."""
    dram = outer(stats)
    weights = dram.tensors.get("Weights")
    if weights is None or weights.partition_size <= 0:
        raise FusionError(f"layer {layer.name}: the main run keeps no Weights partition at {dram.name}")
    source = stats.meta.get("arch")
    arch = REPO_ROOT / source if source else MAIN_ARCH
    glb = [lvl for lvl in chip_levels(stats) if lvl is not dram]
    if glb:
        buffer = glb[-1]
        used = sum(t.utilized_capacity for name, t in buffer.tensors.items() if name != "Weights")
        free = max(0, _capacity(arch, buffer.name) - used)
        glb_pJ = _word_pJ(buffer, layer)
    else:
        free, glb_pJ = 0, 0.0
    return MainRun(
        weights.reads / weights.partition_size, free, _word_pJ(dram, layer), glb_pJ, _word_bits(arch, dram.name)
    )


def _word_pJ(level: LevelStats, layer: Layer) -> float:
    """Energy per word access the run was charged at `level` (from its most-accessed tensor)."""
    accessed = [t for t in level.tensors.values() if t.reads + t.updates + t.fills]
    if not accessed:
        raise FusionError(f"layer {layer.name}: the main run has no accesses at {level.name} to price a word by")
    busiest = max(accessed, key=lambda t: t.reads + t.updates + t.fills)
    return busiest.energy_per_access_pJ


@cache
def _storage(arch: Path, level: str):
    from specs.arch import load_arch

    spec = load_arch(arch)
    return spec.storage[spec.storage_index(level)]


def _capacity(arch: Path, level: str) -> int:
    size = _storage(arch, level).effective_size
    if size is None:
        raise FusionError(f"{arch}: level {level} has no capacity")
    return size


def _word_bits(arch: Path, level: str) -> int:
    return _storage(arch, level).word_bits
