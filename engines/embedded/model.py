"""The embedded analytical model: arch + energy table + problem + mapping -> `LayerStats`.

Buffer semantics follow Timeloop's (2021) buffer model:

* read-only tensor: reads = content accesses, updates = 0;
* read-write tensor: updates = content accesses and reads = content accesses -
  partition size (the first write of each element needs no read: so the backing
  store of Outputs shows 0 reads, while its child still counts those words as fills);
* energy per tensor = ceil((reads + updates + fills) / block size) x vector access
  energy, shared by the utilized instances of each cluster;
* bandwidth throttling: per-instance read (write = updates + fills) words per
  compute cycle above the level's bandwidth slow that level down; the layer takes
  the slowest level's cycles.

Networks are Timeloop's legacy networks without wire/router energies, so they add 0 pJ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from math import ceil

from specs.arch import ArchSpec, StorageSpec

from ..base import EngineError
from ..mapping import Mapping
from ..stats import LayerStats, LevelStats, TensorStats
from .analysis import fast_analysis
from .energy import EnergyTable
from .nest import Nest, build_nest
from .problem import Problem
from .tiles import NestStats, TileStats

Analysis = Callable[[Problem, Nest], NestStats]


def evaluate_mapping(
    arch: ArchSpec, energy: EnergyTable, problem: Problem, mapping: Mapping, analysis: Analysis | None = None
) -> LayerStats:
    """Evaluate one mapping; raises `EngineError` if it does not fit the hardware."""
    nest = build_nest(arch, problem, mapping)
    stats = (analysis or fast_analysis)(problem, nest)
    return stats_to_layer(arch, energy, problem, mapping, nest, stats)


def stats_to_layer(
    arch: ArchSpec, energy: EnergyTable, problem: Problem, mapping: Mapping, nest: Nest, stats: NestStats
) -> LayerStats:
    compute_cycles = stats.compute_cycles
    arith = arch.arithmetic
    if stats.mac_instances > arith.instances:
        raise EngineError(
            f"level {arith.name!r}: mapping uses {stats.mac_instances} arithmetic units, "
            f"the architecture has {arith.instances}"
        )
    maccs = stats.mac_instances * compute_cycles
    mac_energy = maccs * energy.energy(arith.name)
    for k, ds in enumerate(problem.data_spaces):
        if not ds.read_write:
            mac_energy *= problem.density(k)
    levels = [
        LevelStats(arith.name, arith.instances, stats.mac_instances, compute_cycles, arithmetic_energy_pJ=mac_energy)
    ]
    for i, spec in enumerate(arch.storage):
        levels.append(_storage_level(spec, energy, problem, nest.keep[i], stats.tiles[i], compute_cycles))
    cycles = max(level.cycles for level in levels)
    total = sum(level.energy_pJ for level in levels)
    return LayerStats(
        levels=levels,
        cycles=cycles,
        macs=maccs,
        utilization=maccs / arith.instances / cycles if cycles else 0.0,
        total_energy_pJ=total,
        mapping=_with_tiles(mapping, arch, problem, stats),
        engine="embedded",
        meta={"compute_cycles": compute_cycles, "problem": problem.name},
    )


def _storage_level(
    spec: StorageSpec,
    energy: EnergyTable,
    problem: Problem,
    keep: tuple[bool, ...],
    tiles: list[TileStats],
    compute_cycles: int,
) -> LevelStats:
    names = problem.tensor_names
    used = sum(tile.size for tile in tiles)
    capacity = spec.effective_size
    if capacity is not None and used > capacity:
        detail = ", ".join(f"{n}:{t.size}" for n, t in zip(names, tiles, strict=True) if t.size)
        raise EngineError(f"level {spec.name!r}: mapped tiles ({detail}) use {used} words, capacity is {capacity}")
    if capacity is not None and spec.min_utilization and used < capacity * spec.min_utilization:
        raise EngineError(
            f"level {spec.name!r}: mapped tiles use {used} words, below the minimum "
            f"utilization {spec.min_utilization} of {capacity}"
        )
    for name, tile in zip(names, tiles, strict=True):
        if tile.instances > spec.instances:
            raise EngineError(
                f"level {spec.name!r}, tensor {name}: mapping uses {tile.instances} instances, "
                f"the architecture has {spec.instances}"
            )
    vector_energy = energy.energy(spec.name) / spec.cluster_size
    clusters = spec.instances // spec.cluster_size
    tensors: dict[str, TensorStats] = {}
    reads_per_tensor: list[int] = []
    writes_per_tensor: list[int] = []
    for k, (name, tile) in enumerate(zip(names, tiles, strict=True)):
        if problem.data_spaces[k].read_write:
            reads, updates = tile.content_accesses - tile.partition_size, tile.content_accesses
        else:
            reads, updates = tile.content_accesses, 0
        fills = tile.fills
        reads_per_tensor.append(reads)
        writes_per_tensor.append(updates + fills)
        if not keep[k]:
            continue
        accesses = reads + updates + fills
        energy_per_instance = 0.0
        if tile.instances > 0:
            cluster_utilization = tile.instances / min(tile.instances, clusters)
            energy_per_instance = ceil(accesses / spec.block_size) * vector_energy / cluster_utilization
        tensors[name] = TensorStats(
            energy_pJ=energy_per_instance * tile.instances,
            partition_size=tile.partition_size,
            utilized_capacity=tile.size,
            utilized_instances=tile.instances,
            reads=reads,
            updates=updates,
            fills=fills,
            energy_per_access_pJ=energy_per_instance / accesses if accesses else 0.0,
        )
    slowdown = bandwidth_slowdown(spec, reads_per_tensor, writes_per_tensor, compute_cycles)
    cycles = ceil(compute_cycles / slowdown)
    utilized = max((t.utilized_instances for t in tensors.values()), default=0)
    return LevelStats(spec.name, spec.instances, utilized, cycles, tensors)


def _with_tiles(mapping: Mapping, arch: ArchSpec, problem: Problem, stats: NestStats) -> Mapping:
    """The input mapping with each level's tile sizes filled in (map.txt's header numbers)."""
    levels = []
    for lvl in mapping.levels:
        i = arch.storage_index(lvl.level)
        tile = {name: stats.tiles[i][k].size for k, name in enumerate(problem.tensor_names) if name in lvl.keep}
        levels.append(replace(lvl, tile=tile))
    return Mapping(tuple(levels))


def bandwidth_slowdown(spec: StorageSpec, reads: list[int], writes: list[int], compute_cycles: int) -> float:
    """Throttling factor (<= 1) of one level given per-instance reads/writes of each tensor
    over `compute_cycles` (same floating-point steps as Timeloop, so the cycle ceil matches)."""
    slowdown = 1.0
    if not compute_cycles:
        return slowdown
    read_demand = sum(r / compute_cycles for r in reads)
    write_demand = sum(w / compute_cycles for w in writes)
    if spec.read_bandwidth is not None and spec.read_bandwidth < read_demand:
        slowdown = min(slowdown, spec.read_bandwidth / read_demand)
    if spec.write_bandwidth is not None and spec.write_bandwidth < write_demand:
        slowdown = min(slowdown, spec.write_bandwidth / write_demand)
    return slowdown
