"""NSGA-II (pymoo) over a DesignModel's integer genes, with an archive of every design evaluated, progress per
generation and a checkpoint to resume from.

Operators (as the ALWANN reproduction, cost-models.md 2): integer random sampling (the reference design, all
zeros, is put in the first population: `algorithm.seed_reference`), simulated binary crossover and polynomial
mutation on the genes as reals, rounded (pymoo's RoundingRepair), then the model's repair (dse/model.py); duplicate
designs are eliminated. Everything random comes from the algorithm's generator seeded with `algorithm.seed`, so a
run is deterministic, and a resumed run (the pickled algorithm holds that generator) continues exactly as an
uninterrupted one.

The reported front is the non-dominated set of every feasible design evaluated (the archive), not only of the last
population.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.problem import Problem
from pymoo.core.repair import Repair
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.operators.sampling.rnd import IntegerRandomSampling

from .model import DesignModel
from .pareto import non_dominated
from .space import MAXIMISED

CHECKPOINT = "checkpoint.pkl"


@dataclass
class Archive:
    """Every distinct design evaluated: genes (n, n_var) and metrics {name: (n,)}; `front_cache` holds the front of
    the first `front_upto` designs (the front of a union is the front of the old front plus the new designs)."""

    index: dict[bytes, int] = field(default_factory=dict)
    genes: list[np.ndarray] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)
    front_cache: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    front_upto: int = 0

    def add(self, genes: np.ndarray, metrics: dict[str, np.ndarray]) -> None:
        for p, row in enumerate(genes):
            key = row.astype(np.int16).tobytes()
            if key not in self.index:
                self.index[key] = len(self.genes)
                self.genes.append(row.copy())
                for name, values in metrics.items():
                    self.values.setdefault(name, []).append(float(values[p]))

    def __len__(self) -> int:
        return len(self.genes)

    def gene_matrix(self) -> np.ndarray:
        return np.array(self.genes, dtype=np.int64)

    def metric(self, name: str) -> np.ndarray:
        return np.array(self.values[name])

    def record(self, i: int) -> dict[str, float]:
        return {name: values[i] for name, values in self.values.items()}


def objective_matrix(model: DesignModel, metrics: dict[str, np.ndarray]) -> np.ndarray:
    """(n, n_obj), every column minimised (maximised metrics negated)."""
    return np.column_stack([-metrics[o] if o in MAXIMISED else metrics[o] for o in model.space.objectives])


def constraint_matrix(model: DesignModel, metrics: dict[str, np.ndarray]) -> np.ndarray:
    """(n, n_constr), feasible where <= 0 (accuracy: a lower bound, the others upper bounds)."""
    cols = [
        bound - metrics[m] if m in MAXIMISED else metrics[m] - bound for m, bound in model.space.constraints.items()
    ]
    return np.column_stack(cols) if cols else np.zeros((len(next(iter(metrics.values()))), 0))


def front(model: DesignModel, archive: Archive) -> np.ndarray:
    """Archive indices of the feasible non-dominated designs (updated incrementally)."""
    if not len(archive):
        return np.zeros(0, dtype=np.int64)
    new = np.arange(archive.front_upto, len(archive))
    metrics = {name: np.asarray(values)[new] for name, values in archive.values.items()}
    new = new[(constraint_matrix(model, metrics) <= 0).all(axis=1)]
    candidates = np.concatenate([archive.front_cache, new])
    F = objective_matrix(model, {name: archive.metric(name)[candidates] for name in model.space.objectives})
    archive.front_cache = np.sort(candidates[non_dominated(F)])
    archive.front_upto = len(archive)
    return archive.front_cache


class SearchProblem(Problem):
    """The model as a pymoo problem; every evaluated design goes to the archive."""

    def __init__(self, model: DesignModel, archive: Archive) -> None:
        super().__init__(
            n_var=model.n_var,
            n_obj=len(model.space.objectives),
            n_ieq_constr=len(model.space.constraints),
            xl=0,
            xu=model.upper,
            vtype=int,
        )
        self.model, self.archive = model, archive
        self.evaluations = 0
        self.eval_seconds = 0.0

    def _evaluate(self, X, out, *args, **kwargs):
        start = time.perf_counter()
        genes = self.model.repair(X)
        metrics = self.model.evaluate(genes)
        self.archive.add(genes, metrics)
        out["F"] = objective_matrix(self.model, metrics)
        if self.model.space.constraints:
            out["G"] = constraint_matrix(self.model, metrics)
        self.evaluations += len(genes)
        self.eval_seconds += time.perf_counter() - start


class ModelRepair(Repair):
    def __init__(self, model: DesignModel) -> None:
        super().__init__()
        self.model = model

    def _do(self, problem, X, **kwargs):
        return self.model.repair(X)


class ReferenceSampling(IntegerRandomSampling):
    """Integer random sampling with the reference design (all zeros) as the first individual."""

    def __init__(self, include_reference: bool) -> None:
        super().__init__()
        self.include_reference = include_reference

    def _do(self, problem, n_samples, *args, **kwargs):
        X = super()._do(problem, n_samples, *args, **kwargs)
        if self.include_reference:
            X[0] = 0
        return X


def _algorithm(model: DesignModel) -> NSGA2:
    settings = model.space.algorithm
    return NSGA2(
        pop_size=settings["pop_size"],
        sampling=ReferenceSampling(settings["seed_reference"]),
        crossover=SBX(
            prob=settings["crossover_prob"], eta=settings["crossover_eta"], vtype=float, repair=RoundingRepair()
        ),
        mutation=PM(eta=settings["mutation_eta"], vtype=float, repair=RoundingRepair()),
        repair=ModelRepair(model),
        eliminate_duplicates=True,
    )


@dataclass
class SearchState:
    """What a checkpoint holds: the pymoo algorithm (population, generator), the archive and the timing."""

    fingerprint: str
    algorithm: Any
    archive: Archive
    progress: list[dict[str, Any]] = field(default_factory=list)


def fingerprint(model: DesignModel, extra: str = "") -> str:
    """Changes whenever the space, the tables or the algorithm settings other than `generations` do (a checkpoint of
    another search is not resumed; raising `generations` continues a finished one)."""
    algorithm = sorted((k, v) for k, v in model.space.algorithm.items() if k != "generations")  # more: continue
    h = hashlib.sha256(
        repr(
            (
                model.space.source,
                model.layers,
                model.upper.tolist(),
                model.space.objectives,
                sorted(model.space.constraints.items()),
                algorithm,
                model.space.evaluator,
                extra,
            )
        ).encode()
    )
    for name in sorted(model.grids):
        h.update(np.nan_to_num(model.grids[name]).tobytes())
    h.update(model.energy.tobytes())
    h.update(model.cycles.tobytes())
    return h.hexdigest()


def run_search(
    model: DesignModel,
    checkpoint: Path | None = None,
    generations: int | None = None,
    log: Callable[[str], None] = print,
    resume: bool = True,
    extra_fingerprint: str = "",
) -> SearchState:
    """Run (or resume) NSGA-II for `generations` (default: the space's) generations in all."""
    from pymoo.termination import get_termination

    total = generations or model.space.algorithm["generations"]
    key = fingerprint(model, extra_fingerprint)
    state = _load(checkpoint, key, log) if resume and checkpoint else None
    if state is None:
        archive = Archive()
        algorithm = _algorithm(model)
        algorithm.setup(
            SearchProblem(model, archive),
            termination=get_termination("n_gen", total),
            seed=model.space.algorithm["seed"],
            verbose=False,
        )
        state = SearchState(key, algorithm, archive)
    else:
        state.algorithm.termination = get_termination("n_gen", total)
        log(f"resumed from {checkpoint} at generation {state.algorithm.n_gen - 1 if state.algorithm.n_gen else 0}")
    algorithm, archive = state.algorithm, state.archive
    while algorithm.has_next():
        start, before = time.perf_counter(), len(archive)
        algorithm.next()
        elapsed = time.perf_counter() - start
        problem = algorithm.problem
        entry = _progress(
            model,
            archive,
            algorithm.n_gen - 1,
            total,
            len(archive) - before,
            elapsed,
            problem.evaluations,
            problem.eval_seconds,
        )
        state.progress.append(entry)
        log(_progress_line(model, entry))
        if checkpoint is not None:
            _save(checkpoint, state)
    return state


def _progress(
    model: DesignModel,
    archive: Archive,
    generation: int,
    total: int,
    new: int,
    seconds: float,
    evaluations: int,
    eval_seconds: float,
) -> dict[str, Any]:
    idx = front(model, archive)
    entry: dict[str, Any] = {
        "generation": generation,
        "generations": total,
        "evaluated": len(archive),
        "new_designs": new,
        "seconds": seconds,
        "evaluations_per_s": new / seconds if seconds else float("nan"),
        "model_evaluations_per_s": evaluations / eval_seconds if eval_seconds else float("nan"),
        "front_size": len(idx),
    }
    for name in model.space.objectives:
        values = archive.metric(name)[idx] if len(idx) else np.array([np.nan])
        entry[f"best_{name}"] = float(values.max() if name in MAXIMISED else values.min())
    return entry


def _progress_line(model: DesignModel, e: dict[str, Any]) -> str:
    best = ", ".join(f"{name} {e[f'best_{name}']:.5g}" for name in model.space.objectives)
    return (
        f"generation {e['generation']}/{e['generations']}: {e['evaluated']} designs evaluated "
        f"(+{e['new_designs']}, {e['evaluations_per_s']:.0f}/s in the loop, {e['model_evaluations_per_s']:.0f}/s "
        f"in the model), front {e['front_size']}; best {best}"
    )


def _save(path: Path, state: SearchState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def _load(path: Path, key: str, log: Callable[[str], None]) -> SearchState | None:
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as handle:
            state = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError) as exc:  # start again
        log(f"{path}: cannot resume ({type(exc).__name__}: {exc}); starting a new search")
        return None
    if not isinstance(state, SearchState) or state.fingerprint != key:
        log(f"{path}: a checkpoint of another search (space, tables or settings changed); starting a new search")
        return None
    return state
