"""Timeloop `stats.txt` -> `LayerStats`, parsed by key (never by line offset).

Two layouts are understood:

* the 2021 layout of the reference runs (`MACCs = N`, a `pJ/MACC` breakdown,
  `Utilization: 0.89`, a `Total topology energy: X pJ` trailer, MAPPING
  sections inside each level);
* the newer layout (Timeloop v3.x and later: `Computes = N` or
  `Actual Computes = N`, an `fJ/Compute` breakdown, `Utilization: 89.00%` on
  recent versions, an `Operational Intensity Stats` section, no topology
  trailer, zero-energy levels and networks hidden by default, sparse-module
  key names such as `Actual scalar reads (per-instance)`).

Levels keep Timeloop's numbering: a level a newer Timeloop hid (no accesses, no
energy) is filled in as an empty `LevelStats` with that name and
`instances == cycles == 0` (unknown), and listed in `meta["hidden_levels"]`.

Numbers: a tensor's `energy_pJ` is Timeloop's per-data-space level energy,
i.e. `Energy (total)` plus its `Temporal Reduction Energy (total)` and
`Address Generation Energy (total)` (zero in every reference run), so the level
energies add up as in Timeloop's own totals. `total_energy_pJ` is
`Total topology energy` when printed (full precision), otherwise the sum of the
level and network energies; the 2-decimal `Energy: X uJ` summary only goes to
`meta["energy_summary_uJ"]`. Network energies stay out of the levels (they are
in `meta["network_energy_pJ"]` and inside the total).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..stats import LayerStats, LevelStats, TensorStats
from .errors import ParseError
from .source import first_number, read_source

WHAT = "Timeloop stats.txt"

LEVEL_RE = re.compile(r"^Level (\d+)\s*$")
NETWORK_RE = re.compile(r"^Network (\d+)\s*$")
NAME_RE = re.compile(r"^=== (.+) ===$")
TENSOR_HEADER_RE = re.compile(r"^([^\s:]+):$")
COUNT_RE = re.compile(r"^(MACCs|Computes|Actual Computes|Algorithmic Computes) = (\d+)$")
UNIT_RE = re.compile(r"^(pJ/MACC|fJ/Compute|fJ/Algorithmic-Compute)$")
BREAKDOWN_RE = re.compile(r"^\s+(.+?)\s*= (\S+)\s*$")
TRAILER_RE = re.compile(r"^(Total topology energy|Total topology area|Max topology cycles): (\S+)")
SECTION_MARKERS = ("Networks", "Operational Intensity Stats", "Summary Stats", "Buffer and Arithmetic Levels")

# Per-data-space keys; the first name found wins (dense layout first, then sparse-module names).
TENSOR_KEYS = {
    "partition_size": ("Partition size",),
    "utilized_capacity": ("Utilized capacity", "Max utilized data storage capacity"),
    "utilized_instances": ("Utilized instances (max)",),
    "reads": ("Scalar reads (per-instance)", "Actual scalar reads (per-instance)"),
    "updates": ("Scalar updates (per-instance)", "Actual scalar updates (per-instance)"),
    "fills": ("Scalar fills (per-instance)", "Actual scalar fills (per-instance)"),
}
TENSOR_ENERGY_KEY = "Energy (total)"
TENSOR_EXTRA_ENERGY_KEYS = ("Temporal Reduction Energy (total)", "Address Generation Energy (total)")
NETWORK_ENERGY_KEYS = ("Energy (total)", "Link transfer energy (total)", "Spatial Reduction Energy (total)")
FJ_PER_PJ = 1000.0


@dataclass
class _Block:
    """The raw key/value text of one `Level n` block."""

    level_id: int
    name: str = ""
    specs: dict[str, str] = field(default_factory=dict)
    stats: dict[str, str] = field(default_factory=dict)
    tensors: dict[str, dict[str, str]] = field(default_factory=dict)
    loops: list[str] = field(default_factory=list)


def parse_stats(path_or_text: str | Path) -> LayerStats:
    """Parse a Timeloop stats.txt (2021 or newer layout) given as a path or as its text."""
    text, source = read_source(path_or_text, WHAT)
    chunks, trailer = _split(text.splitlines())
    if not any(kind == "level" for kind, _, _ in chunks):
        raise ParseError(f"{source}: no 'Level <n>' block found (not a {WHAT}, or truncated before the levels)")
    blocks = [_parse_level(int(key), body, source) for kind, key, body in chunks if kind == "level"]
    ids = [b.level_id for b in blocks]
    if ids[0] != 0:
        raise ParseError(f"{source}: Level 0 (the arithmetic level) is missing")
    if ids != sorted(set(ids)):
        raise ParseError(f"{source}: level numbers out of order or repeated: {ids}")
    levels = [_arithmetic_level(blocks[0], source)] + [_storage_level(b, source) for b in blocks[1:]]
    hidden = _hidden_levels(ids, chunks, source)
    for level_id, name in hidden.items():
        levels.insert(level_id, LevelStats(name=name, instances=0, utilized_instances=0, cycles=0))
    networks = dict(_parse_network(key, body, source) for kind, key, body in chunks if kind == "network")
    summary = [body for kind, _, body in chunks if kind == "summary"]
    if not summary:
        raise ParseError(f"{source}: missing 'Summary Stats' section (file truncated?)")
    totals = _parse_summary(summary[-1], source)

    if "Total topology energy" in trailer:
        total = first_number(trailer["Total topology energy"], source, "Total topology energy")
        total_from = "Total topology energy"
    else:
        total = sum(lvl.energy_pJ for lvl in levels) + sum(networks.values())
        total_from = "sum of level and network energies"
    meta = {
        "source": source,
        "layout": "timeloop-2021" if totals["count_key"] == "MACCs" else "timeloop-v3+",
        "total_energy_from": total_from,
        "energy_summary_uJ": totals["energy_uJ"],
        "network_energy_pJ": networks,
        "energy_per_compute_pJ": totals["per_compute_pJ"],
    }
    if hidden:
        meta["hidden_levels"] = sorted(hidden)
    if "Max topology cycles" in trailer:
        meta["max_topology_cycles"] = first_number(trailer["Max topology cycles"], source, "Max topology cycles", int)
    if "Total topology area" in trailer:
        meta["area_um2"] = first_number(trailer["Total topology area"], source, "Total topology area")
    if "algorithmic_computes" in totals:
        meta["algorithmic_computes"] = totals["algorithmic_computes"]
    return LayerStats(
        levels=levels,
        cycles=totals["cycles"],
        macs=totals["computes"],
        utilization=totals["utilization"],
        total_energy_pJ=total,
        engine="timeloop",
        meta=meta,
    )


# ---- splitting --------------------------------------------------------------


def _split(lines: list[str]) -> tuple[list[tuple[str, str, list[str]]], dict[str, str]]:
    """Top-level chunks: ("level", n, body), ("network", n, body), ("summary", "", body) and ("other", marker,
    body); and the trailer lines {key: value} (the last one of a key wins)."""
    chunks: list[tuple[str, str, list[str]]] = []
    trailers: dict[str, str] = {}
    body: list[str] | None = None
    for line in lines:
        match = LEVEL_RE.match(line) or NETWORK_RE.match(line)
        trailer = TRAILER_RE.match(line)
        if match:
            body = []
            chunks.append(("level" if line.startswith("Level") else "network", match.group(1), body))
        elif trailer:
            trailers[trailer.group(1)] = line.split(":", 1)[1].strip()
            body = None
        elif line.rstrip() in SECTION_MARKERS:
            body = []
            chunks.append(("summary" if line.startswith("Summary") else "other", line.rstrip(), body))
        elif body is not None:
            body.append(line)
    return chunks, trailers


def _hidden_levels(ids: list[int], chunks: list, source: str) -> dict[int, str]:
    """{level id: name} of levels a newer Timeloop did not print (no accesses, no energy).

    Their names come from the `Operational Intensity Stats` section, which lists
    every storage level (Level n+1 = storage level n)."""
    missing = sorted(set(range(ids[-1] + 1)) - set(ids))
    if not missing:
        return {}
    storage = [
        name.group(1)
        for kind, key, body in chunks
        if kind == "other" and key == "Operational Intensity Stats"
        for line in body
        if (name := NAME_RE.match(line.strip()))
    ]
    if len(storage) != ids[-1]:
        raise ParseError(
            f"{source}: Level numbers skip {missing} and no 'Operational Intensity Stats' "
            "section names the hidden levels"
        )
    return {level_id: storage[level_id - 1] for level_id in missing}


def _parse_level(level_id: int, body: list[str], source: str) -> _Block:
    block = _Block(level_id)
    section = ""
    tensor: dict[str, str] | None = None
    for line in body:
        text = line.strip()
        if not text or set(text) == {"-"}:
            continue
        name = NAME_RE.match(text)
        if name and not block.name:
            block.name = name.group(1).strip()
        elif text in ("SPECS", "MAPPING", "STATS"):
            section, tensor = text, None
        elif section == "MAPPING":
            if text.startswith("for "):
                block.loops.append(text)
        elif section == "STATS" and (header := TENSOR_HEADER_RE.match(text)):
            tensor = block.tensors.setdefault(header.group(1), {})
        elif ":" in text and section in ("SPECS", "STATS"):
            key, _, value = text.partition(":")
            target = block.specs if section == "SPECS" else tensor if tensor is not None else block.stats
            target.setdefault(key.strip(), value.strip())
    if not block.name:
        raise ParseError(f"{source}: Level {level_id}: missing '=== <name> ===' line")
    if "STATS" not in {line.strip() for line in body}:
        raise ParseError(f"{source}: Level {level_id} ({block.name}): missing STATS section (file truncated?)")
    return block


# ---- levels -----------------------------------------------------------------


def _where(block: _Block) -> str:
    return f"Level {block.level_id} ({block.name})"


def _require(table: dict[str, str], keys: tuple[str, ...], source: str, where: str) -> str:
    for key in keys:
        if key in table:
            return table[key]
    raise ParseError(f"{source}: {where}: missing '{keys[0]}'")


def _instances(block: _Block, source: str) -> int:
    return first_number(
        _require(block.specs, ("Instances",), source, _where(block) + " SPECS"),
        source,
        _where(block) + " Instances",
        int,
    )


def _arithmetic_level(block: _Block, source: str) -> LevelStats:
    where = _where(block) + " STATS"

    def stat(keys: tuple[str, ...]) -> tuple[str, str, str]:
        """(value, source, field) of the first of `keys` in the block's STATS: first_number's arguments."""
        return _require(block.stats, keys, source, where), source, f"{where} {keys[0]}"

    return LevelStats(
        name=block.name,
        instances=_instances(block, source),
        utilized_instances=first_number(*stat(("Utilized instances", "Utilized instances (max)")), int),
        cycles=first_number(*stat(("Cycles",)), int),
        arithmetic_energy_pJ=first_number(*stat(("Energy (total)",))),
    )


def _storage_level(block: _Block, source: str) -> LevelStats:
    where = _where(block)
    tensors = {name: _tensor(values, source, f"{where} {name}") for name, values in block.tensors.items()}
    cycles = first_number(_require(block.stats, ("Cycles",), source, where + " STATS"), source, where + " Cycles", int)
    utilized = max((t.utilized_instances for t in tensors.values()), default=0)
    return LevelStats(
        name=block.name,
        instances=_instances(block, source),
        utilized_instances=utilized,
        cycles=cycles,
        tensors=tensors,
    )


def _tensor(values: dict[str, str], source: str, where: str) -> TensorStats:
    counts = {
        attr: first_number(_require(values, keys, source, where), source, f"{where} {keys[0]}", int)
        for attr, keys in TENSOR_KEYS.items()
    }
    energy = first_number(_require(values, (TENSOR_ENERGY_KEY,), source, where), source, f"{where} {TENSOR_ENERGY_KEY}")
    energy += sum(
        first_number(values[key], source, f"{where} {key}") for key in TENSOR_EXTRA_ENERGY_KEYS if key in values
    )
    per_access = first_number(
        _require(values, ("Energy (per-scalar-access)",), source, where), source, f"{where} Energy (per-scalar-access)"
    )
    return TensorStats(energy_pJ=energy, energy_per_access_pJ=per_access, **counts)


# ---- networks and summary -----------------------------------------------------


def _parse_network(network_id: str, body: list[str], source: str) -> tuple[str, float]:
    """(name, energy pJ) of one `Network n` block: the sum of its per-data-space energy totals."""
    name = next((line.strip() for line in body if line.strip() and set(line.strip()) != {"-"}), "")
    if not name:
        raise ParseError(f"{source}: Network {network_id}: missing its name line")
    energy = 0.0
    for line in body:
        key, sep, value = line.strip().partition(":")
        if sep and key.strip() in NETWORK_ENERGY_KEYS:
            energy += first_number(value, source, f"Network {network_id} ({name}) {key.strip()}")
    return name, energy


def _parse_summary(body: list[str], source: str) -> dict:
    values: dict[str, str] = {}
    counts: dict[str, int] = {}
    breakdowns: dict[str, dict[str, float]] = {}
    unit: str | None = None
    for line in body:
        text = line.strip()
        count = COUNT_RE.match(text)
        if count:
            counts[count.group(1)] = int(count.group(2))
            unit = None
        elif UNIT_RE.match(text):
            unit = text
            breakdowns[unit] = {}
        elif unit and (breakdown := BREAKDOWN_RE.match(line)):
            name, value = breakdown.groups()
            breakdowns[unit][name] = first_number(value, source, f"Summary Stats {unit} {name}")
        elif ":" in text and line == line.lstrip():
            key, _, value = text.partition(":")
            values.setdefault(key.strip(), value.strip())
            unit = None
    where = "Summary Stats"
    for key in ("Utilization", "Cycles", "Energy"):
        if key not in values:
            raise ParseError(f"{source}: {where}: missing '{key}:' (file truncated?)")
    count_key = next((k for k in ("MACCs", "Computes", "Actual Computes") if k in counts), None)
    if count_key is None:
        raise ParseError(f"{source}: {where}: missing 'MACCs = N' / 'Computes = N' (file truncated?)")
    utilization = first_number(values["Utilization"], source, f"{where} Utilization")
    if values["Utilization"].rstrip().endswith("%"):
        utilization /= 100.0
    if "pJ/MACC" in breakdowns:
        per_compute = breakdowns["pJ/MACC"]
    else:
        per_compute = {k: v / FJ_PER_PJ for k, v in breakdowns.get("fJ/Compute", {}).items()}
    result = {
        "utilization": utilization,
        "cycles": first_number(values["Cycles"], source, f"{where} Cycles", int),
        "energy_uJ": first_number(values["Energy"], source, f"{where} Energy"),
        "count_key": count_key,
        "computes": counts[count_key],
        "per_compute_pJ": per_compute,
    }
    if "Algorithmic Computes" in counts:
        result["algorithmic_computes"] = counts["Algorithmic Computes"]
    return result
