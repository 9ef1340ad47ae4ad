"""Load and validate the workflow configuration (schema + semantic checks against the zoo)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

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


def _field_path(error) -> str:
    parts = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else (("." if parts else "") + str(part)))
    return "".join(parts) or "(top level)"


def validate(config: dict[str, Any], source: str = "<config>") -> dict[str, Any]:
    """Check `config` against schema.yaml and the network zoo; raise ConfigError naming the field."""
    import jsonschema

    schema = yaml.safe_load(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise ConfigError(f"{source}: field {_field_path(first)}: {first.message}")
    _check_sweep(config, source)
    return config


def _check_sweep(config: dict[str, Any], source: str) -> None:
    from workloads import zoo

    known = zoo.network_names()
    seen = set()
    for i, entry in enumerate(config["sweep"]):
        network, dataset = entry["network"], entry["dataset"]
        if network not in known:
            raise ConfigError(f"{source}: field sweep[{i}].network: unknown network {network!r} (known: {', '.join(known)})")
        if dataset not in zoo.datasets(network):
            raise ConfigError(
                f"{source}: field sweep[{i}].dataset: unknown dataset {dataset!r} for {network} "
                f"(known: {', '.join(zoo.datasets(network))})"
            )
        if (network, dataset) in seen:
            raise ConfigError(f"{source}: field sweep[{i}]: {network}/{dataset} is listed twice")
        seen.add((network, dataset))
    for key in config["sparse"].get("models", {}):
        if tuple(key.split("/", 1)) not in seen:
            raise ConfigError(f"{source}: field sparse.models.{key}: not a network/dataset pair of the sweep")


def load(path: str | Path = DEFAULT_CONFIG) -> dict[str, Any]:
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return validate(config, str(path))


def pairs(config: dict[str, Any]) -> list[Pair]:
    return [Pair(e["network"], e["dataset"]) for e in config["sweep"]]
