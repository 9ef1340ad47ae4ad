"""The design model: integer genes -> metrics for a whole population at once, from tables computed once.

Genes. Each network layer whose space gives a field more than one value has one gene per such field (the index in
its value list); a layer's combination of gene values is one of its *options* (costs.LayerChoice). A block with a
fusion gene (hybrid) has one more gene: 0 = the space's default state (fusion.default), 1 = the other state.
The zero vector is the reference design (the first value of every list, the default fusion state).

Repair (`repair`): genes are clipped to their ranges; a combination that is not a valid choice (an 8x8 approximate
multiplier with wider operands) becomes the nearest valid one (fewest gene steps, ties: the first); the genes of a
layer that the design does not run (the unfused layers of a fused block and vice versa) are set to the reference
combination, so that one design has one gene vector.

Tables (built once): per (layer, option) every additive cost column of costs.scores (costs.table.CostTable), the
multiplier's area id, and the energy of the layer's accelerator rows at that option: row energy x fast-mode ratio
of the layer's run (rows of ARCHON's prediction and overhead phases keep their energy, as the workflow's cost step
does: workflows/costplan.KEEP_PHASES); per layer its rows' cycles; rows that are not layers (ARCHON's overhead) are
constants switched by their block's fusion state. A population's metric is a gather + masked sum per metric.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from costs.choices import FIELDS, LayerChoice
from costs.precision import scaled_total_pJ
from costs.scores import CostSettings
from costs.table import CostTable
from engines.stats import LayerStats

from .space import Space

PJ_PER_UJ = 1e6
TABLE_METRICS = {
    "mult_energy": ("mult_energy_pJ", 1 / PJ_PER_UJ),
    "error_proxy": ("error_proxy", 1.0),
    "E_W": ("E_W", 1.0),
    "micronet_imagenet": ("micronet_score_imagenet", 1.0),
    "micronet_cifar100": ("micronet_score_cifar100", 1.0),
    "bitstream_energy": ("bitstream_energy", 1.0),
}
FORMS = ("edge", "fused", "unfused")


@dataclass(frozen=True)
class DesignInputs:
    """What the model is built from: the network whose layers have options (for hybrid: both forms of every block),
    the form of each layer / row (edge: always run; fused / unfused: run when its block is / is not fused), the
    accelerator's rows for every form (layers.csv schema; None: no accelerator) and each layer's run."""

    network: Any
    forms: Mapping[str, tuple[str, int | None]]  # layer or row name -> (form, block)
    rows: pd.DataFrame | None = None
    stats: Mapping[str, LayerStats] = field(default_factory=dict)
    keep_phases: tuple[str, ...] = ("prediction", "overhead")
    blocks: tuple[int, ...] = ()  # block indices (hybrid)


@dataclass
class _LayerGenes:
    fields: tuple[str, ...]  # gene fields (more than one value)
    dims: tuple[int, ...]
    variables: np.ndarray  # gene (variable) indices, one per field
    option_of: np.ndarray  # combination -> option index (valid combinations only)
    repaired: np.ndarray  # combination -> nearest valid combination
    canonical: int  # the reference combination, repaired


class DesignModel:
    def __init__(
        self,
        space: Space,
        inputs: DesignInputs,
        settings: CostSettings | None = None,
        evaluator: Callable[[Mapping[str, LayerChoice]], float] | None = None,
        accuracy_jobs: int = 1,
    ) -> None:
        self.space, self.inputs, self.settings = space, inputs, settings or CostSettings()
        self.evaluator = evaluator
        self.accuracy_jobs = accuracy_jobs  # processes for the evaluator (forked: they inherit a loaded model)
        self._pool: Any = None
        layers = list(inputs.network.layers())
        self.layers = [layer.name for layer in layers]
        self.macs = np.array([layer.macs for layer in layers], dtype=float)
        self._build_options()
        self._build_fusion()
        self._build_tables()
        self.accuracy_cache: dict[bytes, float] = {}
        self.reference_accuracy = float("nan")
        if evaluator is not None:
            self.reference_accuracy = self._accuracy_of(self.reference())[0]

    # ---- layout ---------------------------------------------------------------------------------------------
    def _build_options(self) -> None:
        self.options: list[tuple[LayerChoice, ...]] = []
        self.genes: list[_LayerGenes | None] = []
        self.variable_names: list[str] = []
        upper: list[int] = []
        for name in self.layers:
            values = self.space.fields_for(name)
            fields = tuple(f for f in FIELDS if len(values[f]) > 1)
            dims = tuple(len(values[f]) for f in fields)
            combos: list[LayerChoice] = []
            option_of: list[int] = []
            for combo in itertools.product(*(range(d) for d in dims)):
                chosen = {f: values[f][0] for f in FIELDS}
                chosen.update({f: values[f][i] for f, i in zip(fields, combo, strict=True)})
                try:
                    choice = LayerChoice(**chosen)
                except ValueError:
                    option_of.append(-1)
                    continue
                option_of.append(len(combos))
                combos.append(choice)
            if not combos:
                raise self.space.error(f"genes (layer {name})", "no valid combination of its gene values")
            self.options.append(tuple(combos))
            if not fields:
                self.genes.append(None)
                continue
            grid = np.array(list(itertools.product(*(range(d) for d in dims))))
            valid = np.flatnonzero(np.array(option_of) >= 0)
            steps = np.abs(grid[:, None, :] - grid[None, valid, :]).sum(axis=2)
            repaired = valid[np.argmin(steps, axis=1)]  # argmin: the first of the nearest
            variables = np.arange(len(upper), len(upper) + len(fields))
            upper += [d - 1 for d in dims]
            self.variable_names += [f"{name}:{f}" for f in fields]
            self.genes.append(_LayerGenes(fields, dims, variables, np.array(option_of), repaired, int(repaired[0])))
        self._upper_layers = upper

    def _build_fusion(self) -> None:
        forms = self.inputs.forms
        self.blocks = tuple(self.inputs.blocks)
        chosen = self.space.fusion_blocks
        if chosen == "all":
            gene_blocks = list(self.blocks)
        elif chosen == "none":
            gene_blocks = []
        else:
            missing = sorted(set(chosen) - set(self.blocks))
            if missing:
                span = f"{self.blocks[0]}..{self.blocks[-1]}" if self.blocks else "-..-"
                raise self.space.error("fusion.blocks", f"block(s) {missing} not in the network (blocks {span})")
            gene_blocks = sorted(chosen)
        self.fusion_blocks = tuple(gene_blocks)
        start = len(self._upper_layers)
        self.fusion_variables = np.arange(start, start + len(gene_blocks))
        self.variable_names += [f"b{k}:fused" for k in gene_blocks]
        self.upper = np.array(self._upper_layers + [1] * len(gene_blocks), dtype=np.int64)
        self.n_var = len(self.upper)
        # per layer: its block's column in the fused matrix and its form
        self._block_col = {k: i for i, k in enumerate(self.blocks)}
        self.layer_form = [forms.get(name, ("edge", None)) for name in self.layers]

    def _build_tables(self) -> None:
        space, inputs = self.space, self.inputs
        options = dict(zip(self.layers, self.options, strict=True))
        table = CostTable.build(inputs.network, options, self.settings, inputs.stats or None)
        self.table = table
        n, width = len(self.layers), max(len(o) for o in self.options)
        self.grids = {metric: table.values[column] * scale for metric, (column, scale) in TABLE_METRICS.items()}
        # multiplier area ids: one of each distinct (multiplier, area) counts (costs.columns summary)
        ids: dict[tuple[str, float], int] = {}
        self.mult_id = np.full((n, width), -1, dtype=np.int64)
        area = table.values["mult_area_um2"]
        for i, opts in enumerate(self.options):
            for j, choice in enumerate(opts):
                key = (choice.multiplier.name, float(area[i, j]))
                self.mult_id[i, j] = ids.setdefault(key, len(ids))
        self.mult_names = [name for name, _ in ids]
        self.mult_area = np.array([a for _, a in ids], dtype=float)
        # accelerator rows: energy per (layer, option), cycles per layer, constant rows
        self.energy = np.zeros((n, width))
        self.cycles = np.zeros(n)
        const: list[tuple[float, float, str, int | None]] = []
        self.has_runs = inputs.rows is not None
        if inputs.rows is not None:
            index = {name: i for i, name in enumerate(self.layers)}
            for row in inputs.rows.itertuples():
                energy_pJ = float(row.energy_uJ) * PJ_PER_UJ
                position = index.get(str(row.layer))
                if position is None:
                    form, block = inputs.forms.get(str(row.layer), ("edge", None))
                    const.append((energy_pJ, float(row.cycles), form, block))
                    continue
                i = position
                self.cycles[i] += float(row.cycles)
                run = inputs.stats.get(row.layer)
                for j, choice in enumerate(self.options[i]):
                    if row.phase in inputs.keep_phases:
                        ratio = 1.0
                    elif run is None or not run.total_energy_pJ:
                        raise space.error("accelerator", f"layer {row.layer} has no run to scale")
                    else:
                        ratio = scaled_total_pJ(run, choice, self.settings.precision) / run.total_energy_pJ
                    self.energy[i, j] += energy_pJ * ratio
        self.const_energy = np.array([c[0] for c in const])
        self.const_cycles = np.array([c[1] for c in const])
        self.const_form = [(c[2], c[3]) for c in const]

    # ---- genes ----------------------------------------------------------------------------------------------
    def reference(self) -> np.ndarray:
        return self.repair(np.zeros((1, self.n_var), dtype=np.int64))

    def fused(self, genes: np.ndarray) -> np.ndarray:
        """(pop, n_blocks) bool: each block's fusion state."""
        genes = np.atleast_2d(genes)
        default = self.space.fusion_default
        out = np.full((len(genes), len(self.blocks)), default, dtype=bool)
        for var, block in zip(self.fusion_variables, self.fusion_blocks, strict=True):
            out[:, self._block_col[block]] = (genes[:, var] == 1) != default
        return out

    def _active(self, forms: Sequence[tuple[str, int | None]], fused: np.ndarray) -> np.ndarray:
        out = np.ones((len(fused), len(forms)), dtype=bool)
        for i, (form, block) in enumerate(forms):
            if form == "edge" or block is None or block not in self._block_col:
                continue
            state = fused[:, self._block_col[block]]
            out[:, i] = state if form == "fused" else ~state
        return out

    def active(self, genes: np.ndarray) -> np.ndarray:
        """(pop, n_layers) bool: the layers each design runs."""
        return self._active(self.layer_form, self.fused(genes))

    def repair(self, genes: np.ndarray) -> np.ndarray:
        genes = np.clip(np.rint(np.atleast_2d(genes)).astype(np.int64), 0, self.upper)
        active = self.active(genes)
        for i, g in enumerate(self.genes):
            if g is None:
                continue
            combo = np.ravel_multi_index(tuple(genes[:, g.variables].T), g.dims)
            combo = np.where(active[:, i], g.repaired[combo], g.canonical)
            genes[:, g.variables] = np.stack(np.unravel_index(combo, g.dims), axis=1)
        return genes

    def option_indices(self, genes: np.ndarray) -> np.ndarray:
        """(pop, n_layers) option index of every layer (genes must be repaired)."""
        genes = np.atleast_2d(genes)
        out = np.zeros((len(genes), len(self.layers)), dtype=np.int64)
        for i, g in enumerate(self.genes):
            if g is not None:
                out[:, i] = g.option_of[np.ravel_multi_index(tuple(genes[:, g.variables].T), g.dims)]
        return out

    def design(self, genes: np.ndarray) -> tuple[tuple[int, ...], dict[str, LayerChoice]]:
        """(fused block indices, {layer: choice} of the layers the design runs) of one repaired gene vector."""
        genes = np.atleast_2d(genes)[:1]
        fused = self.fused(genes)[0]
        active, opts = self.active(genes)[0], self.option_indices(genes)[0]
        choices = {name: self.options[i][opts[i]] for i, name in enumerate(self.layers) if active[i]}
        return tuple(k for k, on in zip(self.blocks, fused, strict=True) if on), choices

    # ---- evaluation -----------------------------------------------------------------------------------------
    def evaluate(self, genes: np.ndarray, accuracy: bool = True) -> dict[str, np.ndarray]:
        """Every metric (dse.space.METRICS) of a population of repaired gene vectors (accuracy False: NaN accuracy,
        no evaluator call)."""
        genes = np.atleast_2d(genes)
        pop, rows = len(genes), np.arange(len(self.layers))
        fused = self.fused(genes)
        active = self._active(self.layer_form, fused)
        opts = self.option_indices(genes)
        out = {metric: np.where(active, grid[rows, opts], 0.0).sum(axis=1) for metric, grid in self.grids.items()}
        out["mre_weighted_pct"] = 100 * out["error_proxy"] / (active * self.macs).sum(axis=1)
        present = np.zeros((pop, len(self.mult_area) + 1), dtype=bool)
        present[np.arange(pop)[:, None], np.where(active, self.mult_id[rows, opts], len(self.mult_area))] = True
        out["area"] = present[:, :-1].astype(float) @ self.mult_area
        if self.has_runs:
            const_active = self._active(self.const_form, fused)
            out["energy"] = (
                np.where(active, self.energy[rows, opts], 0.0).sum(axis=1) + const_active @ self.const_energy
            ) / PJ_PER_UJ
            out["cycles"] = (active * self.cycles).sum(axis=1) + const_active @ self.const_cycles
            out["edp"] = out["energy"] * out["cycles"]
        else:
            out["energy"] = out["cycles"] = out["edp"] = np.full(pop, np.nan)
        if accuracy and self.evaluator is not None and (self.space.needs_accuracy or pop == 1):
            out["accuracy"] = self._accuracy_of(genes)
            out["accuracy_drop"] = self.reference_accuracy - out["accuracy"]
        else:
            out["accuracy"] = out["accuracy_drop"] = np.full(pop, np.nan)
        return out

    def _accuracy_of(self, genes: np.ndarray) -> np.ndarray:
        assert self.evaluator is not None
        keys = [row.astype(np.int16).tobytes() for row in genes]  # repaired genes: one vector per design
        todo = {key: row for key, row in zip(keys, genes, strict=True) if key not in self.accuracy_cache}
        designs = [self.design(row)[1] for row in todo.values()]
        if self.accuracy_jobs > 1 and len(designs) > 1:
            if self._pool is None:
                import multiprocessing

                self._pool = multiprocessing.get_context("fork").Pool(self.accuracy_jobs)
            values = self._pool.map(self.evaluator, designs)
        else:
            values = [self.evaluator(design) for design in designs]
        self.accuracy_cache.update(zip(todo, map(float, values), strict=True))
        return np.array([self.accuracy_cache[key] for key in keys])

    def __getstate__(self) -> dict[str, Any]:  # a checkpoint holds the model, not its worker processes
        state = dict(self.__dict__)
        state["_pool"] = None
        return state

    # ---- description ----------------------------------------------------------------------------------------
    def gene_columns(self, genes: np.ndarray) -> pd.DataFrame:
        """Readable genes: one column per (layer, gene field) (empty where the design does not run the layer) and
        `fused_blocks` (hybrid)."""
        genes = np.atleast_2d(genes)
        active, opts = self.active(genes), self.option_indices(genes)
        data: dict[str, list[Any]] = {}
        for i, g in enumerate(self.genes):
            if g is None:
                continue
            for f in g.fields:
                data[f"{self.layers[i]}:{f}"] = [
                    _plain(getattr(self.options[i][opts[p, i]], f)) if active[p, i] else "" for p in range(len(genes))
                ]
        if self.fusion_blocks:
            data["fused_blocks"] = [
                " ".join(str(k) for k, on in zip(self.blocks, row, strict=True) if on) for row in self.fused(genes)
            ]
        return pd.DataFrame(data, index=range(len(genes)))


def _plain(value: Any) -> Any:
    return getattr(value, "name", value)
