"""Load and validate the workflow configuration: the schema (workflows/config/schema.yaml plus every registered
accelerator's section and mapper kinds), defaults filled in, then semantic checks (the zoo, the accelerators' presets
and overrides, the engine options), all before any job runs. Errors name the file and the field."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import accelerators
from engines.base import EngineError, get_engine
from specs.io import read_mapping

CONFIG_DIR = Path(__file__).resolve().parent / "config"
DEFAULT_CONFIG = CONFIG_DIR / "default.yaml"
SCHEMA = CONFIG_DIR / "schema.yaml"


class ConfigError(ValueError):
    """A configuration that cannot be run; the message names the file and the field."""


@dataclass(frozen=True)
class Pair:
    network: str
    dataset: str

    @property
    def key(self) -> str:
        return f"{self.network}/{self.dataset}"


def schema() -> dict[str, Any]:
    """The full schema: the base file plus the registered accelerators' sections and mapper kinds."""
    full = read_mapping(SCHEMA, "config schema", ConfigError)
    props = full["properties"]
    props["accelerators"]["items"]["enum"] = list(accelerators.names())
    mapper = props["mapper"]
    mapper["additionalProperties"] = False
    owners: dict[str, str] = {}
    for plugin in accelerators.all_plugins():
        for kind, defaults in plugin.mapper_kinds.items():
            if kind in owners and mapper["properties"][kind]["default"] != defaults:
                raise ConfigError(
                    f"accelerators {owners[kind]} and {plugin.name} both declare mapper kind {kind!r} "
                    "with different defaults; give one of them its own kind"
                )
            owners.setdefault(kind, plugin.name)
            mapper["properties"][kind] = {
                "$ref": "#/$defs/search",
                "default": dict(defaults),
                "description": f"mapper settings of {owners[kind]}'s {kind} runs",
            }
        if plugin.section:
            props[plugin.section] = {**copy.deepcopy(plugin.section_schema), "default": {}}
    return full


def _field_path(error) -> str:
    parts: list[str] = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else (("." if parts else "") + str(part)))
    return "".join(parts) or "(top level)"


def fill_defaults(node: Any, spec: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A copy of `node` with every absent property that has a `default` in `spec` filled in, recursively."""
    if "$ref" in spec:
        spec = {**defs[spec["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in spec.items() if k != "$ref"}}
    if not isinstance(node, dict) or spec.get("type") != "object":
        return node
    out = dict(node)
    for key, sub in (spec.get("properties") or {}).items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if key in out:
            out[key] = fill_defaults(out[key], sub, defs)
    return out


def validate(config: dict[str, Any], source: str = "<config>") -> dict[str, Any]:
    """Check `config` and return it with defaults filled in; raise ConfigError naming the file and field."""
    import jsonschema

    full = schema()
    if not isinstance(config, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    config = fill_defaults(config, full, full.get("$defs", {}))
    config.setdefault("accelerators", accelerators.default_sweep())
    errors = sorted(jsonschema.Draft202012Validator(full).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(f"{source}: field {_field_path(errors[0])}: {errors[0].message}")
    _check_sweep(config, source)
    for name in config["accelerators"]:
        try:
            accelerators.get(name).validate(config, source)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    _check_archs(config)
    try:
        get_engine(config["engine"], **config["engine_options"])
    except EngineError as exc:
        raise ConfigError(f"{source}: field engine_options: {exc}") from None
    if config["energy_tables"] == "derived":
        _check_derivable(source)
    from . import costplan

    costplan.validate(config, source)
    return config


def _check_archs(config: dict[str, Any]) -> None:
    """Every arch the sweep's accelerators map on reads as an arch: a broken edit is named (file, level, attribute)
    before any job runs."""
    from specs.arch import load_arch
    from specs.errors import SpecError

    for path in sorted({path for name in config["accelerators"] for path in accelerators.get(name).arch_paths()}):
        try:
            load_arch(path)
        except SpecError as exc:
            raise ConfigError(str(exc)) from None


def _check_derivable(source: str) -> None:
    from estimation.primitives import library_versions

    try:
        library_versions()
    except ValueError as exc:
        raise ConfigError(
            f"{source}: field energy_tables: {exc}; or set energy_tables: paper (the shipped tables)"
        ) from None


def _check_sweep(config: dict[str, Any], source: str) -> None:
    from workloads import zoo

    known = zoo.network_names()
    seen = set()
    for i, entry in enumerate(config["sweep"]):
        network, dataset = entry["network"], entry["dataset"]
        if network not in known:
            raise ConfigError(
                f"{source}: field sweep[{i}].network: unknown network {network!r} (known: {', '.join(known)})"
            )
        if dataset not in zoo.datasets(network):
            raise ConfigError(
                f"{source}: field sweep[{i}].dataset: unknown dataset {dataset!r} for {network} "
                f"(known: {', '.join(zoo.datasets(network))})"
            )
        if (network, dataset) in seen:
            raise ConfigError(f"{source}: field sweep[{i}]: {network}/{dataset} is listed twice")
        seen.add((network, dataset))


def load(path: str | Path = DEFAULT_CONFIG) -> dict[str, Any]:
    path = Path(path)
    return validate(read_mapping(path, "config file", ConfigError), str(path))


def pairs(config: dict[str, Any]) -> list[Pair]:
    return [Pair(e["network"], e["dataset"]) for e in config["sweep"]]


def subset(config: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The nested sub-dict of `config` holding only the dotted `keys` (what one step may read)."""
    out: dict[str, Any] = {}
    for dotted in keys:
        node, target = config, out
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.get(part, {})
            target = target.setdefault(part, {})
        if parts[-1] in node:
            target[parts[-1]] = copy.deepcopy(node[parts[-1]])
    return out
