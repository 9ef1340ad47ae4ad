"""The optional cost and search steps of the workflow (config sections `costs` and `search`): which pairs get a cost
step, the files and settings each step reads, and their checks at workflow start. Without `costs.choices` and
`search.space` nothing here adds a step.

Cost step of a network/dataset: `<results>/<network>/<dataset>/costs.csv` (layers.csv + the cost columns of
costs.columns) and `costs_summary.csv` (one row per accelerator), from layers.csv, the runs of every row and the
choices file; the sweep's `<results>/costs_summary.csv` concatenates them; `<results>/plots/costs/` holds the plots.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import accelerators

from .config import ConfigError, Pair, pairs, subset

# ARCHON's prediction and overhead phases keep their energy: they have their own precision model (costs.columns).
KEEP_PHASES = ("prediction", "overhead")


# ---- costs ------------------------------------------------------------------------------------------------


def choices_for(config: dict[str, Any], pair: Pair) -> str | None:
    """The choices file of `pair` (None: no cost step for it)."""
    value = config["costs"]["choices"]
    if value is None or isinstance(value, str):
        return value
    return value.get(pair.key)


def cost_pairs(config: dict[str, Any]) -> list[Pair]:
    return [p for p in pairs(config) if choices_for(config, p) is not None]


def cost_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The cost models' settings (costs.scores.CostSettings.from_dict input)."""
    return {k: v for k, v in config["costs"].items() if k != "choices"}


def step_settings(config: dict[str, Any]) -> dict[str, Any]:
    """What a cost step reads: the cost settings and each accelerator's table settings (they name its network)."""
    keys = {key for name in config["accelerators"] for key in accelerators.get(name).table_reads}
    return {
        **subset(config, tuple(sorted(keys))),
        "costs": cost_settings(config),
        "accelerators": config["accelerators"],
    }


def evaluated_network(config: dict[str, Any], pair: Pair, accelerator: str):
    """The network whose layers an accelerator's rows name (its variant, or e.g. hybrid's mix of both forms)."""
    from .plan import network

    plugin = accelerators.get(accelerator)
    return plugin.evaluated_network(
        network(pair.network, pair.dataset, accelerator), subset(config, plugin.table_reads)
    )


def choice_files(path: str) -> list[str]:
    """The choices file and the multiplier tables it names (declared inputs of the cost steps)."""
    from costs import load_choices

    table = load_choices(path)
    used = list(table.multipliers.values())
    for fields in [table.defaults, *(f for _, f in table.rules)]:
        if "multiplier" in fields:
            used.append(fields["multiplier"])
    tables = sorted({str(m.table_path) for m in used if getattr(m, "table_path", None) is not None})
    return [path, *tables]


def check_costs(config: dict[str, Any], source: str) -> None:
    """Choices files load, name only the sweep's pairs and only layers the pair's accelerators evaluate; the
    settings are valid cost settings. Errors name the file and the field."""
    from costs import ChoicesError, load_choices
    from costs.scores import CostSettings

    value = config["costs"]["choices"]
    if value is None:
        return
    known = {p.key for p in pairs(config)}
    if isinstance(value, dict):
        for key in value:
            if key not in known:
                raise ConfigError(f"{source}: field costs.choices.{key}: not a network/dataset pair of the sweep")
    try:
        CostSettings.from_dict(cost_settings(config), source=f"{source}: field costs")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    for pair in cost_pairs(config):
        path = choices_for(config, pair)
        assert path is not None
        if not Path(path).is_file():
            field = "costs.choices" + (f".{pair.key}" if isinstance(value, dict) else "")
            raise ConfigError(f"{source}: field {field}: choices file {path} not found")
        try:
            table = load_choices(path)
            names: list[str] = []
            for name in config["accelerators"]:
                names += [layer.name for layer in evaluated_network(config, pair, name).layers()]
            table.resolve(list(dict.fromkeys(names)))  # strict: every pattern matches a layer of some accelerator
        except ChoicesError as exc:
            raise ConfigError(f"{exc} ({pair.key})") from None


# ---- search -----------------------------------------------------------------------------------------------


def search_space(config: dict[str, Any]):
    """The configured search space (dse.space.Space) or None."""
    path = config["search"]["space"]
    if path is None:
        return None
    from dse.space import load_space

    return load_space(path)


def check_search(config: dict[str, Any], source: str) -> None:
    path = config["search"]["space"]
    if path is None:
        return
    if not Path(path).is_file():
        raise ConfigError(f"{source}: field search.space: search space file {path} not found")
    try:
        search_space(config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def validate(config: dict[str, Any], source: str) -> None:
    check_costs(config, source)
    check_search(config, source)


@dataclass(frozen=True)
class SearchPlan:
    space: Any  # dse.space.Space
    path: str  # the space file
    runs: dict[str, Any]  # {key: workflows.plan.PlannedRun} of every run the search reads
    inputs: list[str]  # files the search step reads
    settings: dict[str, Any]  # config keys the search step reads
    out: str  # its output directory


def search_plan(config: dict[str, Any]) -> SearchPlan | None:
    """The search step's plan (its runs, inputs and settings), or None without `search.space`."""
    space = search_space(config)
    if space is None:
        return None
    from dse.inputs import planned_runs

    from .plan import run_settings, table_files

    runs = planned_runs(space, config)
    files = [
        config["search"]["space"],
        *sorted(str(space.base_dir / spec["table"]) for spec in space.multipliers.values() if "table" in spec),
    ]
    keys: list[str] = []
    if space.accelerator is not None:
        keys += accelerators.get(space.accelerator).table_reads  # also what its run options read
        files += table_files(space.accelerator)
    settings = run_settings(config)
    for key, value in subset(config, tuple(keys)).items():  # nested: table_reads name e.g. problem.depthwise
        settings[key] = {**settings[key], **value} if isinstance(value, dict) and key in settings else value
    settings["costs"] = cost_settings(config)
    results = config["results"]
    return SearchPlan(
        space,
        config["search"]["space"],
        {run.key: run for run in runs.values()},
        files + [f"{results}/runs/{key}/stats.json" for key in sorted({r.key for r in runs.values()})],
        settings,
        f"{results}/search/{space.name}",
    )
