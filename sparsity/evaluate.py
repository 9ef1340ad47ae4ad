"""`evaluate_layer`: one layer on the sparse Eyeriss, from its dense run and its pruned weights.

Cycles come from `imbalance.analyse` on the dense mapping, energy from `energy.sparse_energy` on the dense
LayerStats. A layer outside `cycle_scope` / `energy_scope` keeps its dense cycles / energy.

Grouped layers whose run is ONE group repeated G times: with `groups: all` every group's weights are analysed on the
shared mapping and, since the G copies run one after another on the whole array, their cycles and MACs add up (the
reference analysed group 0 and multiplied by G: `groups: first`). The energy of a copy is linear in d, so the layer's
energy is G x the copy energy at the layer's density. Whole-layer numbers (x repeat) are reported unless named
per-pass / per-copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

import numpy as np

from engines.stats import LayerStats
from specs.records import JsonRecord
from workloads.layer import Layer

from .energy import base_energy_pJ, omitted_costs, sparse_energy
from .imbalance import analyse, derive_pe_level
from .kernels import WEIGHT_DIMS, problem_tensor, split_problems
from .params import SparseParams


class SparseEvaluationError(ValueError):
    """A layer / dense run / weights combination that cannot be evaluated; the message names the layer."""


@dataclass
class SparseResult(JsonRecord):
    """One layer on the sparse accelerator (whole layer: all groups)."""

    layer: str
    energy_pJ: float
    cycles: int
    balanced_cycles: int  # ceil(sparse_macs / pes): perfectly balanced lower bound
    dense_macs: int
    sparse_macs: int
    density: float  # measured non-zero fraction of the layer's weights
    energy_density: float  # the density the energy model used (measured or the fixed parameter)
    dense_energy_pJ: float  # dense base energy of the layer (total or summary, + extra), all copies
    dense_cycles: int  # compute cycles of the dense mapping (passes x MACs per pass), all copies
    dense_run_cycles: int  # the dense run's reported cycles, all copies
    imbalance_cycles: int  # sum over passes of the slowest PE, all copies (before any bandwidth slowdown)
    pes: int
    passes: int  # per copy
    macs_per_pass: int
    repeat: int  # identical problem copies the layer is made of (groups)
    groups_analysed: int
    pe_level: str
    utilisation: float  # sparse MACs / (cycles x PE instances)
    sparse_energy: bool  # energy from the sparse model (False: outside energy_scope)
    sparse_cycles: bool  # cycles from the imbalance analysis (False: outside cycle_scope)
    preset: str
    savings_pJ: dict[str, float] = field(default_factory=dict)  # per 'level/tensor', all copies
    costs_pJ: dict[str, float] = field(default_factory=dict)  # costs of finding the non-zero weights, all copies
    bound: str | None = None  # the parameters' bound (sparsity/params.py)


def evaluate_layer(
    layer: Layer, dense_stats: LayerStats, weights: np.ndarray, params: SparseParams, extra_dense_pJ: float = 0.0
) -> SparseResult:
    """`layer` with pruned Keras kernel `weights`, re-costed from its dense run `dense_stats` (with mapping).

    extra_dense_pJ: dense energy per problem copy that is not in the stats (e.g. the paper-form depthwise input fix);
    it is part of the base and never discounted.
    """
    mapping = dense_stats.mapping
    if mapping is None:
        raise SparseEvaluationError(f"layer {layer.name}: the dense run has no mapping (the loop nest is needed)")
    try:
        tensor = problem_tensor(layer, np.asarray(weights))
        problems = split_problems(layer, tensor, {d: mapping.factors(d) for d in WEIGHT_DIMS})
    except ValueError as exc:
        raise SparseEvaluationError(str(exc)) from None
    repeat = len(problems)
    meta_repeat = int(dense_stats.meta.get("repeat", repeat))
    if meta_repeat != repeat:
        raise SparseEvaluationError(
            f"layer {layer.name}: the dense run is repeated {meta_repeat} times but its "
            f"mapping fits {repeat} copies of the weights"
        )
    pe_level = params.pe_level or derive_pe_level(mapping, dense_stats)
    analysed = problems if params.groups == "all" else problems[:1]
    parts = [analyse(mapping, w, pe_level) for w in analysed]
    scale = repeat // len(analysed)
    first = parts[0]
    dense_macs = sum(p.dense_macs for p in parts) * scale
    if dense_macs != layer.macs:
        raise SparseEvaluationError(
            f"layer {layer.name}: the mapping covers {dense_macs} MACs, "
            f"the layer has {layer.macs} (a dense run of another layer?)"
        )
    sparse_macs = sum(p.sparse_macs for p in parts) * scale
    imbalance_cycles = sum(p.cycles for p in parts) * scale
    dense_cycles = first.dense_cycles * repeat
    run_cycles = dense_stats.cycles * repeat
    slowdown = max(1.0, run_cycles / dense_cycles) if params.keep_bandwidth_slowdown else 1.0
    cycle_sparse = params.cycle_scope.covers(layer.part, layer.kind)
    cycles = ceil(imbalance_cycles * slowdown) if cycle_sparse else run_cycles

    measured = float(np.count_nonzero(tensor)) / tensor.size
    d = measured if params.density == "measured" else float(params.density)
    energy_sparse = params.energy_scope.covers(layer.part, layer.kind)
    costs: dict[str, float] = {}
    if energy_sparse:
        copy = sparse_energy(dense_stats, d, params, pe_level, extra_dense_pJ)
        energy, base, savings = copy.energy_pJ, copy.base_pJ, copy.savings_pJ
        idle = imbalance_cycles * first.pes - sparse_macs if cycle_sparse else 0
        costs = omitted_costs(dense_stats, params, sparse_macs, idle, mapping.factors("M"))
        costs["pointers"] *= repeat
    else:
        base = base_energy_pJ(dense_stats, params) + extra_dense_pJ
        energy, savings = base, {}
    return SparseResult(
        layer=layer.name,
        energy_pJ=energy * repeat + sum(costs.values()),
        cycles=cycles,
        balanced_cycles=ceil(sparse_macs / first.pes),
        dense_macs=dense_macs,
        sparse_macs=sparse_macs,
        density=measured,
        energy_density=d,
        dense_energy_pJ=base * repeat,
        dense_cycles=dense_cycles,
        dense_run_cycles=run_cycles,
        imbalance_cycles=imbalance_cycles,
        pes=first.pes,
        passes=first.passes,
        macs_per_pass=first.macs_per_pass,
        repeat=repeat,
        groups_analysed=len(analysed),
        pe_level=pe_level,
        utilisation=sparse_macs / (cycles * dense_stats.levels[0].instances) if cycles else 0.0,
        sparse_energy=energy_sparse,
        sparse_cycles=cycle_sparse,
        preset=params.preset,
        savings_pJ={k: v * repeat for k, v in savings.items()},
        costs_pJ=costs,
        bound=params.bound,
    )
