"""Timeloop mapper settings (`mapper:` YAML): the one reader and writer, plus the artifact's settings table.

    read_mapper(path) -> MapperSettings           a mapper YAML (a `mapper:` section or bare keys); None = defaults
    parse_mapper_section(section, source)        the same from an already-loaded section
    mapper_document(...) -> dict                 a `{"mapper": {...}}` document fuseloop writes (live-status off)
    with_overrides(document, threads, overrides) the document with num-threads and config overrides applied
    artifact_mapper(name, network, dataset)      an entry of arch/mappers/mappers.yaml (the artifact's settings)

Keys left out take timeloop-mapper's defaults (applications/mapper/mapper.hpp, 2021): optimization-metrics [edp],
victory-condition 500, timeout 1000 (`heartbeat` is its older name). A single `optimization-metric` takes
precedence over `optimization-metrics`, as in Timeloop. `tie-break` is fuseloop's own key (which of several
equally good mappings the embedded mapper returns, engines/embedded/tiebreak.py; default `first`); it is left out
of the document Timeloop reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import SpecError
from .io import read_mapping

METRICS = ("delay", "energy", "edp", "last-level-accesses")
DEFAULT_METRICS = ("edp",)
DEFAULT_VICTORY_CONDITION = 500
DEFAULT_TIMEOUT = 1000
TIE_BREAKS = ("first", "weight-balance")  # engines/embedded/tiebreak.py
ARTIFACT_TABLE = Path(__file__).resolve().parents[1] / "arch" / "mappers" / "mappers.yaml"
# Config spelling (workflow `mapper` section, engine options) -> Timeloop's YAML key.
CONFIG_KEYS = {
    "timeout": "timeout",
    "victory_condition": "victory-condition",
    "optimization_metrics": "optimization-metrics",
}


@dataclass(frozen=True)
class MapperSettings:
    metrics: tuple[str, ...] = DEFAULT_METRICS
    victory_condition: int = DEFAULT_VICTORY_CONDITION
    timeout: int = DEFAULT_TIMEOUT
    tie_break: str = "first"
    section: dict[str, Any] = field(default_factory=dict, compare=False)  # every key as read


def check_metrics(metrics: Sequence[str], where: str = "optimization-metrics") -> tuple[str, ...]:
    if isinstance(metrics, str) or not metrics:
        raise SpecError(f"{where}: expected a non-empty list of metrics, got {metrics!r}")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise SpecError(f"{where}: unknown optimization metric(s) {unknown}; known: {', '.join(METRICS)}")
    return tuple(metrics)


def read_mapper(path: str | Path | None) -> MapperSettings:
    if path is None:
        return MapperSettings()
    data = read_mapping(path, "mapper settings")
    section = data.get("mapper", data)
    return parse_mapper_section(section, str(path))


def parse_mapper_section(section: Any, source: str) -> MapperSettings:
    if not isinstance(section, dict):
        raise SpecError(f"{source}: field mapper: expected a mapping")
    if section.get("optimization-metric") is not None:
        metrics: Any = [section["optimization-metric"]]
    else:
        metrics = section.get("optimization-metrics", list(DEFAULT_METRICS))
    metrics = check_metrics(metrics, f"{source}: field mapper.optimization-metrics")
    victory = _positive(section.get("victory-condition", DEFAULT_VICTORY_CONDITION), source, "victory-condition")
    timeout = _positive(section.get("heartbeat", section.get("timeout", DEFAULT_TIMEOUT)), source, "timeout")
    tie_break = section.get("tie-break", "first")
    if tie_break not in TIE_BREAKS:
        raise SpecError(f"{source}: field mapper.tie-break: {tie_break!r} is not one of {', '.join(TIE_BREAKS)}")
    return MapperSettings(metrics, victory, timeout, tie_break, dict(section))


def _positive(value: Any, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"{source}: field mapper.{key}: must be a positive integer, got {value!r}")
    return value


def mapper_document(
    timeout: int,
    victory_condition: int,
    metrics: Sequence[str] = ("delay", "energy"),
    algorithm: str = "random-pruned",
    max_permutations: int = 16,
    tie_break: str = "first",
) -> dict[str, dict[str, Any]]:
    """The mapper YAML document fuseloop writes for a run (live-status off; threads are set by the engine; the
    `tie-break` key only when it is not the default, so documents without one keep their text)."""
    if tie_break not in TIE_BREAKS:
        raise SpecError(f"mapper tie-break {tie_break!r} is not one of {', '.join(TIE_BREAKS)}")
    return {
        "mapper": {
            "algorithm": algorithm,
            "optimization-metrics": list(check_metrics(metrics)),
            "timeout": int(timeout),
            "victory-condition": int(victory_condition),
            "max-permutations-per-if-visit": int(max_permutations),
            "live-status": False,
            "num-threads": 1,
            **({"tie-break": tie_break} if tie_break != "first" else {}),
        }
    }


def with_overrides(
    document: dict[str, Any], threads: int, overrides: dict[str, Any] | None = None, source: str = "<mapper>"
) -> dict[str, Any]:
    """`document` with `live-status: false`, `num-threads: threads` and the non-None overrides (config spelling:
    timeout, victory_condition, optimization_metrics), without fuseloop's `tie-break`: the document Timeloop reads."""
    if not isinstance(document, dict) or not isinstance(document.get("mapper"), dict):
        raise SpecError(f"{source}: mapper settings need a top-level 'mapper:' mapping")
    if int(threads) < 1:
        raise SpecError(f"{source}: threads must be >= 1, got {threads}")
    section = dict(document["mapper"])
    for option, key in CONFIG_KEYS.items():
        value = (overrides or {}).get(option)
        if value is not None:
            section[key] = list(value) if key == "optimization-metrics" else int(value)
    section["live-status"] = False
    section["num-threads"] = int(threads)
    parse_mapper_section(section, source)  # the result must still be valid
    section.pop("tie-break", None)  # fuseloop's key: Timeloop returns whichever mapping its threads met first
    return {**document, "mapper": section}


@lru_cache(maxsize=4)
def _artifact_table(path: str) -> dict[str, Any]:
    return read_mapping(path, "mapper settings table")


def artifact_mapper(
    name: str, network: str | None = None, dataset: str | None = None, path: str | Path = ARTIFACT_TABLE
) -> dict[str, dict[str, Any]]:
    """`{"mapper": {...}}` for the named entry of the artifact's settings table, with its per-network
    `[timeout, victory-condition]` variant applied when one is listed for `network` (or `network/dataset`)."""
    table = _artifact_table(str(path))
    settings = table.get("settings") or {}
    if name not in settings:
        raise SpecError(f"{path}: field settings: no entry {name!r}; entries are {', '.join(settings)}")
    mapper = dict(settings[name])
    variants = (table.get("variants") or {}).get(name) or {}
    for key in (f"{network}/{dataset}", network):
        if key in variants:
            mapper["timeout"], mapper["victory-condition"] = (int(v) for v in variants[key])
            break
    return {"mapper": mapper}
