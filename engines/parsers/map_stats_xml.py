"""Timeloop's `timeloop-mapper.map+stats.xml` (a Boost XML serialization archive), where present.

Only what Timeloop's serialize() functions write for the engine's topology is read: per buffer level its
`level_name` and `stats_` arrays (one `item` per data space: partition_size, utilized_capacity, reads,
updates, fills, energy), and for the arithmetic level `energy_`, `cycles_`, `maccs_`, `utilized_instances_`.
No real archive ships with the reference data; the structure follows Timeloop's (2021) sources
(model/buffer.hpp, model/arithmetic.hpp, workload/per-data-space.hpp) and is tested on a sample built from them.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from .errors import ParseError

TENSOR_FIELDS = ("partition_size", "utilized_capacity", "reads", "updates", "fills", "energy")


def _items(node: ET.Element | None) -> list[float]:
    if node is None:
        return []
    return [float(item.text) for item in node.iter("item") if item.text and item.text.strip()]


def _text(node: ET.Element, tag: str) -> str | None:
    found = node.find(f".//{tag}")
    if found is None:
        return None
    if found.text and found.text.strip():
        return found.text.strip()
    for child in found.iter():
        if child.text and child.text.strip():
            return child.text.strip()
    return None


def parse_map_stats_xml(path: str | Path) -> dict:
    """{"levels": [{"name", "tensors": [{field: value}]} ...], "arithmetic": {...}} in archive order."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise ParseError(f"{path}: not a readable XML archive: {exc}") from None
    if root.tag != "boost_serialization":
        raise ParseError(f"{path}: not a Boost serialization archive (root <{root.tag}>)")
    levels, arithmetic = [], None
    for px in root.iter("px"):
        stats = px.find("stats_")
        if stats is not None and stats.find("reads") is not None:
            columns = {f: _items(stats.find(f)) for f in TENSOR_FIELDS}
            count = max((len(v) for v in columns.values()), default=0)
            tensors = [{f: columns[f][i] if i < len(columns[f]) else 0.0 for f in TENSOR_FIELDS} for i in range(count)]
            levels.append({"name": _text(px, "level_name") or f"level{len(levels)}", "tensors": tensors})
        elif px.find("maccs_") is not None:
            arithmetic = {key: float(_text(px, key) or 0) for key in ("energy_", "cycles_", "maccs_", "utilized_instances_")}
            arithmetic["name"] = _text(px, "level_name")
    if not levels and arithmetic is None:
        raise ParseError(f"{path}: no serialized topology levels found")
    return {"levels": levels, "arithmetic": arithmetic}
