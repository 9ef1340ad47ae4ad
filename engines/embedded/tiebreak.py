"""Which of several equally good mappings the embedded mapper returns (mapper YAML key `tie-break`).

Mappings tie when every optimization metric is equal (1e-9 relative, `search.TIE_RTOL`). Such mappings can still
differ in what a later model reads from them: the sparse accelerator lays each layer's pruned weights onto its
dense mapping and a processing pass lasts as long as its busiest PE (sparsity/imbalance.py), so on MobileNetV2
b7.conv two dense mappings of identical cycles and energy give 6,304 and 8,672 sparse cycles.

  first           the first tied mapping the search evaluated (Timeloop's behaviour: its result is whichever
                  mapping its threads met first);
  weight-balance  the tied mapping with the smallest expected sparse cycles under independent pruning at density
                  BALANCE_DENSITY (`expected_sparse_cycles`), then the smallest mapping text, so the choice does not
                  depend on the order in which the search met the ties. What the mapper knows is the loop nest, not
                  the pruned weights, so the expectation stands in for them: per weight-distinct pass, the busiest
                  of the PEs holding distinct weights, each PE's count being Binomial(k, d) for its k weights per
                  pass. It rewards more weights per PE per pass (an imbalance of about sqrt(k) against a mean of k)
                  and fewer PEs with distinct weights. The density only weights imbalance against the mean; on
                  MobileNetV2's dense runs d = 0.2, 0.3 and 0.5 pick the same mappings.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from math import prod
from typing import Any

from specs.mapper import TIE_BREAKS

from ..base import EngineError
from ..mapping import Mapping
from ..stats import LayerStats
from .problem import Problem

BALANCE_DENSITY = 0.25  # between the default sparse preset's generated densities (0.2 for 1x1, 0.3 for k x k)
WEIGHTS = "Weights"


def tie_break_key(name: str, problem: Problem) -> Callable[[LayerStats], Any] | None:
    """The key `Search` minimises among tied mappings for tie-break `name` (None: the first found)."""
    if name == "first":
        return None
    if name != "weight-balance":
        raise EngineError(f"unknown tie-break {name!r}; known: {', '.join(TIE_BREAKS)}")
    if WEIGHTS not in problem.tensor_names:
        return lambda stats: str(stats.mapping)
    weight_dims = frozenset(problem.dims[d] for d in problem.data_space(WEIGHTS).dims_used())

    def key(stats: LayerStats) -> tuple[float, str]:
        assert stats.mapping is not None, "the search's stats carry their mapping"
        return expected_sparse_cycles(stats.mapping, weight_dims, pe_level(stats)), str(stats.mapping)

    return key


def pe_level(stats: LayerStats) -> str | None:
    """The outermost mapped level with one instance per MAC (sparsity.imbalance.derive_pe_level's rule), or None."""
    assert stats.mapping is not None
    per_pe = {lvl.name for lvl in stats.levels[1:] if lvl.instances == stats.levels[0].instances}
    return next((lvl.level for lvl in stats.mapping.levels if lvl.level in per_pe), None)


def pass_structure(mapping: Mapping, weight_dims: frozenset[str], pe_level: str | None) -> tuple[int, int, int, int]:
    """(weight-distinct passes, PEs holding distinct weights, weights per PE per pass, repetitions) of the nest cut
    at `pe_level` (None: all loops inside one PE): loops above it over weight dimensions make the passes (temporal)
    and the weight-distinct PEs (spatial); loops at and below it over weight dimensions the weights per pass; the
    temporal loops over other dimensions repeat identical work."""
    names = [lvl.level for lvl in mapping.levels]
    cut = names.index(pe_level) if pe_level in names else 0
    outer = [loop for lvl in mapping.levels[:cut] for loop in lvl.loops]
    inner = [loop for lvl in mapping.levels[cut:] for loop in lvl.loops]
    passes = prod(loop.bound for loop in outer if not loop.spatial and loop.dim in weight_dims)
    pes = prod(loop.bound for loop in outer if loop.spatial and loop.dim in weight_dims)
    per_pass = prod(loop.bound for loop in inner if loop.dim in weight_dims)
    repeats = prod(loop.bound for loop in outer + inner if not loop.spatial and loop.dim not in weight_dims)
    return passes, pes, per_pass, repeats


def expected_sparse_cycles(
    mapping: Mapping, weight_dims: frozenset[str], pe_level: str | None, density: float = BALANCE_DENSITY
) -> float:
    """Expected cycles of the mapping's passes when every weight is kept independently with probability `density`
    and a PE skips the zero ones: repetitions x passes x E[max over PEs of Binomial(weights per pass, density)]."""
    passes, pes, per_pass, repeats = pass_structure(mapping, weight_dims, pe_level)
    return repeats * passes * expected_max_binomial(pes, per_pass, density)


@cache
def expected_max_binomial(n: int, k: int, d: float) -> float:
    """E[max of n independent Binomial(k, d)] = sum over x < k of 1 - F(x)^n (probabilities in log space)."""
    if d <= 0.0 or d >= 1.0:
        return float(k) if d >= 1.0 else 0.0
    total, cdf = 0.0, 0.0
    log_d, log_rest = math.log(d), math.log1p(-d)
    for x in range(k):
        cdf += math.exp(
            math.lgamma(k + 1) - math.lgamma(x + 1) - math.lgamma(k - x + 1) + x * log_d + (k - x) * log_rest
        )
        total += 1.0 - min(cdf, 1.0) ** n
    return total
