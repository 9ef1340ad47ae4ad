"""Per-(layer, option) cost tables for design-space search: computed once, cheap to evaluate per choice vector.

    table = CostTable.build(network, {"b1.decom": [LayerChoice(...), ...], ...}, stats=runs)
    totals = table.evaluate(genes)          # genes: int (n_layers,) or (population, n_layers) option indices
    totals["mult_energy_pJ"], totals["E_W"], totals["energy_pJ"], ...   # float or (population,) arrays

Every cost column of costs.scores is additive over layers, so a design's total is a sum of table entries picked
by its genes (one fancy-indexing gather per objective; a population of any size in one call). `energy_pJ` is the
fast-mode precision-scaled energy of each layer's run x its repeat count (only when `stats` are given; a layer
without a run contributes NaN). Layers without options keep the default LayerChoice() as their only option.
`CostTable.from_genes` builds the option lists as the cross product of per-gene value lists.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engines.stats import LayerStats

from .choices import DEFAULT_CHOICE, LayerChoice
from .layer_table import option_table
from .precision import scaled_total_pJ
from .scores import DEFAULT_SETTINGS, CostSettings, layer_scores

OBJECTIVES = (
    "mult_energy_pJ",
    "mult_area_um2",
    "error_proxy",
    "E_W",
    "micronet_params",
    "micronet_ops",
    "micronet_score_imagenet",
    "micronet_score_cifar100",
    "bitstream_power",
    "bitstream_area",
    "bitstream_energy",
)


@dataclass(frozen=True)
class CostTable:
    layers: tuple[str, ...]
    options: tuple[tuple[LayerChoice, ...], ...]  # per layer, its candidate choices
    values: Mapping[str, np.ndarray]  # objective -> (n_layers, max options), NaN-padded

    @classmethod
    def build(
        cls,
        network: Any,
        options: Mapping[str, Sequence[LayerChoice]],
        settings: CostSettings = DEFAULT_SETTINGS,
        stats: Mapping[str, LayerStats] | None = None,
    ) -> CostTable:
        layers = list(network.layers() if hasattr(network, "layers") else network)
        names = tuple(layer.name for layer in layers)
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise KeyError(f"options for unknown layer(s) {', '.join(unknown)}")
        per_layer = tuple(tuple(options.get(name, [LayerChoice()])) for name in names)
        table = option_table(layers, dict(zip(names, per_layer, strict=True)))
        mac = None
        if stats:
            mac = table["layer"].map(lambda n: stats[n].mac_energy_pJ / stats[n].macs if n in stats else np.nan)
            mac = mac.fillna(settings.mac_energy_pJ)
        scores = layer_scores(table, settings, mac)
        width = max(len(opts) for opts in per_layer)
        values = {}
        for objective in OBJECTIVES:
            grid = np.full((len(names), width), np.nan)
            grid[table["position"].to_numpy(), table["option"].to_numpy()] = scores[objective].to_numpy()
            values[objective] = grid
        if stats:
            grid = np.full((len(names), width), np.nan)
            for i, (name, opts) in enumerate(zip(names, per_layer, strict=True)):
                run = stats.get(name)
                if run is not None:
                    repeat = int(run.meta.get("repeat", 1))
                    grid[i, : len(opts)] = [repeat * scaled_total_pJ(run, c, settings.precision) for c in opts]
            values["energy_pJ"] = grid
        return cls(names, per_layer, values)

    @classmethod
    def from_genes(
        cls,
        network: Any,
        genes: Mapping[str, Sequence[Any]],
        layers: Sequence[str] | None = None,
        base: LayerChoice = DEFAULT_CHOICE,
        **kwargs: Any,
    ) -> CostTable:
        """Options = the cross product of `genes` (LayerChoice field -> values) applied to `base`, for `layers`
        (default: all). Combinations that are not valid choices (an 8x8 circuit with 16-bit operands) are left out."""
        names = layers or [layer.name for layer in network.layers()]
        keys = list(genes)
        combos = []
        for values in itertools.product(*(genes[k] for k in keys)):
            try:
                combos.append(base.with_(**dict(zip(keys, values, strict=True))))
            except ValueError:
                continue
        return cls.build(network, {name: combos for name in names}, **kwargs)

    @property
    def n_options(self) -> np.ndarray:
        return np.array([len(opts) for opts in self.options])

    def evaluate(self, genes: np.ndarray | Sequence[int]) -> dict[str, np.ndarray]:
        """Totals per objective for one gene vector (n_layers,) or a population (pop, n_layers)."""
        genes = np.asarray(genes, dtype=np.int64)
        if genes.shape[-1] != len(self.layers):
            raise ValueError(f"genes have {genes.shape[-1]} entries, the table {len(self.layers)} layers")
        if (genes < 0).any() or (genes >= self.n_options).any():
            raise ValueError(f"gene out of range: layer option counts are {self.n_options.tolist()}")
        rows = np.arange(len(self.layers))
        return {name: grid[rows, genes].sum(axis=-1) for name, grid in self.values.items()}

    def choices(self, genes: Sequence[int]) -> dict[str, LayerChoice]:
        """The choice vector a gene vector stands for (for an accuracy evaluator or a workflow config)."""
        return {name: opts[int(g)] for name, opts, g in zip(self.layers, self.options, genes, strict=True)}
