"""A search space (YAML): the network, the accelerator, per-layer genes, fusion genes, objectives, constraints, the
accuracy evaluator and the NSGA-II settings. Every field is checked; errors name the file and the field.

    network: mobilenet            # a zoo network, or `digits` (the costs.digits CNN; no accelerator)
    dataset: cifar10
    accelerator: dense            # dense | archon | hybrid | any plug-in without prepared artifacts | null (no runs)
    base: {weight_bits: 8, input_bits: 8, output_bits: 8, psum_bits: 24, multiplier: exact}
    genes:                        # per layer: fnmatch pattern -> {field: [values]}; applied in order, a later match
      "*": {multiplier: [exact, mul8u_2AC, mul8u_ZFB]}       # replaces the lists of the fields it names
      "b*.conv": {weight_bits: [8, 6]}
      "b*.pred_*": {}             # {} or null: no genes (the base choice; hybrid's predictions have their own model)
    multipliers: {}               # optional user multipliers, as in a choices file (costs/README.md)
    fusion: {blocks: all, default: fused}   # hybrid only: blocks with a fusion gene; the others' fixed state
    objectives: [mult_energy, error_proxy]
    constraints: {accuracy_drop: 0.01}      # metric -> upper bound (accuracy: lower bound)
    evaluator: proxy              # proxy | digits | package.module:function
    algorithm: {pop_size: 40, generations: 30, seed: 0, crossover_prob: 0.9, crossover_eta: 15,
                mutation_eta: 20, seed_reference: true}

The first value of every gene list is the reference design's (option 0 everywhere: e.g. all-exact).
Gene fields: weight_bits, input_bits, output_bits, psum_bits, multiplier, density, bitstream_length.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costs.choices import FIELDS, ChoicesError, parse_choices
from specs.io import read_yaml

# metric -> (unit or description, needs runs, needs an accuracy evaluator)
METRICS: dict[str, tuple[str, bool, bool]] = {
    "energy": ("uJ, the accelerator's energy at the chosen precision (fast mode)", True, False),
    "cycles": ("cycles", True, False),
    "edp": ("uJ x cycles", True, False),
    "area": ("um^2, one of each distinct multiplier (costs.columns)", False, False),
    "mult_energy": ("uJ, multiply energy (cost-models.md 2)", False, False),
    "micronet_imagenet": ("MicroNet score, ImageNet reference", False, False),
    "micronet_cifar100": ("MicroNet score, CIFAR-100 reference", False, False),
    "E_W": ("partial-sum energy model (cost-models.md 4)", False, False),
    "error_proxy": ("sum of MACs x MRE of the layers' multipliers", False, False),
    "bitstream_energy": ("relative units (cost-models.md 5)", False, False),
    "accuracy": ("fraction, from the evaluator (maximised)", False, True),
    "accuracy_drop": ("reference accuracy - accuracy", False, True),
}
MAXIMISED = ("accuracy",)
TOP_KEYS = (
    "network",
    "dataset",
    "accelerator",
    "base",
    "genes",
    "multipliers",
    "fusion",
    "objectives",
    "constraints",
    "evaluator",
    "algorithm",
    "name",
)
ALGORITHM_DEFAULTS: dict[str, Any] = {
    "pop_size": 40,
    "generations": 30,
    "seed": 0,
    "crossover_prob": 0.9,
    "crossover_eta": 15.0,
    "mutation_eta": 20.0,
    "seed_reference": True,
}
DIGITS = "digits"


class SpaceError(ValueError):
    """A search space that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Space:
    name: str
    network: str
    dataset: str
    accelerator: str | None
    base: Mapping[str, Any]  # resolved LayerChoice fields (multipliers as Multiplier objects)
    genes: tuple[tuple[str, Mapping[str, tuple[Any, ...]]], ...]  # (pattern, {field: resolved values})
    multipliers: Mapping[str, Any]  # the `multipliers:` section as written (for exported choices files)
    fusion_blocks: Any  # "all" | "none" | list of block indices (hybrid)
    fusion_default: bool  # state of blocks without a gene
    objectives: tuple[str, ...]
    constraints: Mapping[str, float]
    evaluator: str
    algorithm: Mapping[str, Any]
    source: str = "<space>"
    base_dir: Path = field(default_factory=Path)

    def fields_for(self, layer: str) -> dict[str, tuple[Any, ...]]:
        """{field: values} of one layer: the base value for fields no pattern gives a list for."""
        values: dict[str, tuple[Any, ...]] = {k: (v,) for k, v in self.base.items()}
        for pattern, fields in self.genes:
            if fnmatch.fnmatchcase(layer, pattern):
                if not fields:
                    values = {k: (v,) for k, v in self.base.items()}
                values.update(fields)
        return values

    @property
    def needs_accuracy(self) -> bool:
        return any(METRICS[m][2] for m in (*self.objectives, *self.constraints))

    @property
    def needs_runs(self) -> bool:
        return any(METRICS[m][1] for m in (*self.objectives, *self.constraints))

    def error(self, at: str, message: str) -> SpaceError:
        return SpaceError(f"{self.source}: field {at}: {message}")


def load_space(path: str | Path) -> Space:
    path = Path(path)
    data = read_yaml(path, "search space", SpaceError)
    return parse_space(data, str(path), path.parent)


def parse_space(data: Any, source: str = "<space>", base_dir: str | Path = ".") -> Space:
    def error(at: str, message: str) -> SpaceError:
        return SpaceError(f"{source}: field {at}: {message}")

    if not isinstance(data, dict):
        raise error("(top level)", "expected a mapping")
    unknown = sorted(set(map(str, data)) - set(TOP_KEYS))
    if unknown:
        raise error("(top level)", f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(TOP_KEYS)})")
    for key in ("network", "objectives"):
        if key not in data:
            raise error(key, "required")
    network, dataset = str(data["network"]), str(data.get("dataset", DIGITS if data["network"] == DIGITS else ""))
    accelerator = data.get("accelerator")
    _check_network(network, dataset, accelerator, error)

    # base and genes through the choices parser (one definition of valid fields and multiplier names)
    multipliers = data.get("multipliers") or {}
    base_raw = data.get("base") or {}
    try:
        base_table = parse_choices({"defaults": base_raw, "multipliers": multipliers}, source, base_dir)
    except ChoicesError as exc:
        raise SpaceError(str(exc).replace("field defaults", "field base")) from None
    base = {k: getattr(base_table.for_layer(""), k) for k in FIELDS}
    genes = []
    raw_genes = data.get("genes") or {}
    if not isinstance(raw_genes, dict):
        raise error("genes", "expected a mapping of layer pattern -> {field: [values]}")
    for pattern, fields in raw_genes.items():
        genes.append((str(pattern), _gene_lists(fields, f"genes.{pattern}", multipliers, source, base_dir, error)))

    fusion = data.get("fusion") or {}
    if fusion and accelerator != "hybrid":
        raise error("fusion", "fusion genes need accelerator: hybrid")
    if not isinstance(fusion, dict) or set(fusion) - {"blocks", "default"}:
        raise error("fusion", "expected {blocks: all | none | [indices], default: fused | unfused}")
    blocks = fusion.get("blocks", "none")
    if blocks not in ("all", "none") and not (
        isinstance(blocks, list) and all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in blocks)
    ):
        raise error("fusion.blocks", f"expected all, none or a list of block indices, got {blocks!r}")
    default = fusion.get("default", "fused")
    if default not in ("fused", "unfused"):
        raise error("fusion.default", f"expected fused or unfused, got {default!r}")

    objectives = data["objectives"]
    if not isinstance(objectives, list) or len(objectives) < 1 or len(set(objectives)) != len(objectives):
        raise error("objectives", "expected a list of distinct metric names")
    for i, name in enumerate(objectives):
        if name not in METRICS:
            raise error(f"objectives[{i}]", f"unknown metric {name!r} (known: {', '.join(METRICS)})")
    constraints = data.get("constraints") or {}
    if not isinstance(constraints, dict):
        raise error("constraints", "expected a mapping of metric -> bound")
    for name, bound in constraints.items():
        if name not in METRICS:
            raise error(f"constraints.{name}", f"unknown metric (known: {', '.join(METRICS)})")
        if not isinstance(bound, (int, float)) or isinstance(bound, bool):
            raise error(f"constraints.{name}", f"expected a number, got {bound!r}")
    evaluator = str(data.get("evaluator", DIGITS if network == DIGITS else "proxy"))
    needs = [m for m in (*objectives, *constraints) if METRICS[m][2]]
    if needs and evaluator == "proxy":
        raise error(
            "evaluator",
            f"{needs[0]} needs an accuracy evaluator (digits or package.module:function); "
            f"the proxy gives error_proxy only",
        )
    runs = [m for m in (*objectives, *constraints) if METRICS[m][1]]
    if runs and accelerator is None:
        raise error("accelerator", f"{runs[0]} needs an accelerator's runs")
    algorithm = {**ALGORITHM_DEFAULTS, **(data.get("algorithm") or {})}
    for key, value in algorithm.items():
        if key not in ALGORITHM_DEFAULTS:
            raise error(f"algorithm.{key}", f"unknown setting (known: {', '.join(ALGORITHM_DEFAULTS)})")
        expected = type(ALGORITHM_DEFAULTS[key])
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = algorithm[key] = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise error(f"algorithm.{key}", f"expected {expected.__name__}, got {value!r}")
    for key in ("pop_size", "generations"):
        if algorithm[key] < (4 if key == "pop_size" else 1):
            raise error(f"algorithm.{key}", f"too small: {algorithm[key]}")
    name = str(data.get("name") or Path(source).stem)
    return Space(
        name,
        network,
        dataset,
        accelerator,
        base,
        tuple(genes),
        multipliers,
        blocks,
        default == "fused",
        tuple(objectives),
        {k: float(v) for k, v in constraints.items()},
        evaluator,
        algorithm,
        source,
        Path(base_dir),
    )


def _check_network(network: str, dataset: str, accelerator: Any, error) -> None:
    if network == DIGITS:
        if accelerator is not None:
            raise error("accelerator", "the digits network has no accelerator runs (accelerator: null)")
        return
    from workloads import zoo

    if network not in zoo.network_names():
        raise error("network", f"unknown network {network!r} (known: {', '.join(zoo.network_names())}, {DIGITS})")
    if dataset not in zoo.datasets(network):
        raise error("dataset", f"unknown dataset {dataset!r} for {network} (known: {', '.join(zoo.datasets(network))})")
    if accelerator is None:
        return
    import accelerators

    if accelerator not in accelerators.names():
        raise error(
            "accelerator", f"unknown accelerator {accelerator!r} (registered: {', '.join(accelerators.names())})"
        )
    if accelerators.get(accelerator).artifacts:
        raise error("accelerator", f"{accelerator} needs prepared artifacts; the search supports accelerators without")


def _gene_lists(
    fields: Any, at: str, multipliers: Mapping[str, Any], source: str, base_dir: str | Path, error
) -> dict[str, tuple[Any, ...]]:
    if fields is None:
        return {}
    if not isinstance(fields, dict):
        raise error(at, f"expected a mapping of field -> [values], got {fields!r}")
    out: dict[str, tuple[Any, ...]] = {}
    for key, values in fields.items():
        if key not in FIELDS:
            raise error(f"{at}.{key}", f"unknown field (fields: {', '.join(FIELDS)})")
        if not isinstance(values, list) or not values:
            raise error(f"{at}.{key}", f"expected a non-empty list of values, got {values!r}")
        resolved = []
        for i, value in enumerate(values):
            try:  # each value checked by the choices parser, as a one-field layer rule
                table = parse_choices({"layers": {"_": {key: value}}, "multipliers": multipliers}, source, base_dir)
            except ChoicesError as exc:
                message = str(exc).split(f": field layers._.{key}: ", 1)[-1]
                raise error(f"{at}.{key}[{i}]", message) from None
            resolved.append(table.rules[0][1][key])
        if len(set(resolved)) != len(resolved):
            raise error(f"{at}.{key}", "values repeat")
        out[str(key)] = tuple(resolved)
    return out


def gene_value_name(value: Any) -> Any:
    """A gene value as written in CSVs and YAML (multipliers by name)."""
    return getattr(value, "name", value)


def plain_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: gene_value_name(v) for k, v in fields.items()}


def describe(space: Space) -> str:
    return (
        f"{space.name}: {space.network}/{space.dataset} on {space.accelerator or 'no accelerator'}, "
        f"objectives {', '.join(space.objectives)}"
        + (f", constraints {dict(space.constraints)}" if space.constraints else "")
    )
