"""A search end to end: the model from the space and a workflow config (runs read from, or mapped into,
`<results>/runs/`), NSGA-II with a checkpoint in the output directory, the outputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .inputs import design_inputs, ensure_runs, evaluator_for, load_runs, planned_runs
from .model import DesignModel
from .nsga import CHECKPOINT, SearchState, run_search
from .outputs import write_outputs
from .space import Space


def cost_settings(config: dict[str, Any]):
    from costs.scores import CostSettings

    return CostSettings.from_dict(
        {k: v for k, v in (config.get("costs") or {}).items() if k != "choices"}, source="config costs"
    )


def build_model(
    space: Space,
    config: dict[str, Any],
    results: Path,
    map_missing: bool = False,
    jobs: int = 1,
    log: Callable[[str], None] = print,
) -> tuple[DesignModel, str]:
    """(model, digest of its runs' keys) for `space` under the workflow `config`."""
    runs = planned_runs(space, config)
    stats = ensure_runs(runs, results, jobs, log=log) if map_missing else load_runs(runs, results)
    model = DesignModel(
        space, design_inputs(space, config, stats), cost_settings(config), evaluator_for(space), accuracy_jobs=jobs
    )
    return model, " ".join(sorted({run.key for run in runs.values()}))


def search(
    space: Space,
    config: dict[str, Any],
    results: Path,
    out: Path,
    generations: int | None = None,
    resume: bool = True,
    map_missing: bool = False,
    jobs: int = 1,
    log: Callable[[str], None] = print,
) -> tuple[DesignModel, SearchState, dict[str, Path]]:
    model, keys = build_model(space, config, results, map_missing, jobs, log)
    log(
        f"{space.name}: {model.n_var} genes over {len(model.layers)} layers"
        + (f" and {len(model.fusion_blocks)} fusion blocks" if model.fusion_blocks else "")
        + f"; objectives {', '.join(space.objectives)}"
    )
    state = run_search(model, Path(out) / CHECKPOINT, generations, log, resume, extra_fingerprint=keys)
    return model, state, write_outputs(model, state, Path(out))
