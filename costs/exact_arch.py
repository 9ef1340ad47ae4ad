"""Per-layer precision, exact mode: render a copy of an arch directory with the layer's word widths (capacities in
words change, so the best mapping may too) and re-map the layer on it.

Each storage level gets one word width: the widest tensor it keeps under the fast-mode rule (costs/precision.py).
A level's physical row (word-bits x block-size bits) is kept: block-size becomes row // w words of w bits, so a
16-bit spad holds 2 words of 8 bits per row and a 64-bit global-buffer row 8. When w does not divide the row
(or exceeds it), the row is resized to block-size x w bits (`memory_width` / `width` follow) and the level's
energy and area table entries scale by new row / old row. The MAC's `datawidth` becomes max(weight, input) bits
and its entries scale by PrecisionModel.mac_factor. So a w-bit access costs w / row of a row access, as in fast
mode; after re-mapping, each tensor narrower than its level's width is rescaled by its own width (fast mode
against the rendered widths), so the two modes differ only by the mapping (and ceil per block).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engines.stats import LayerStats
from specs.arch import COMPUTE_CLASS_KEYS, STORAGE_CLASS_KEYS, find_arch_file, load_arch
from specs.energy import ART_FILE_NAMES, ERT_FILE_NAMES
from specs.energy import short_name as component_base_name
from specs.io import read_mapping
from specs.table_record import RECORD_KEY, component_record

from .choices import LayerChoice
from .precision import DEFAULT_MODEL, PrecisionModel, scale_stats, tensor_widths

WORD_KEYS = ("word-bits", "word_width", "datawidth")
BLOCK_KEYS = ("block-size", "n_words")


@dataclass(frozen=True)
class RenderedArch:
    path: Path
    level_bits: dict[str, int]  # storage level -> word bits rendered
    mac_bits: int
    scale: dict[str, float]  # component -> factor applied to its energy / area entries


def level_widths(stats: LayerStats, choice: LayerChoice) -> dict[str, int]:
    """Word width per storage level: the widest tensor the level keeps in this run (levels keeping none: absent)."""
    return {level: max(widths.values()) for level, widths in tensor_widths(stats, choice).items() if widths}


def _first(attrs: Mapping[str, Any], keys: Sequence[str], default: int) -> int:
    return next((int(attrs[k]) for k in keys if attrs.get(k) is not None), default)


def _components(root: dict) -> list[tuple[dict, dict]]:
    """(component dict, inherited attributes) for every component of a hierarchical or flattened spec."""
    out: list[tuple[dict, dict]] = []
    if "local" in root and "subtree" not in root:
        return [(comp, {}) for comp in root["local"]]
    node: dict = root
    inherited: dict = {}
    while node.get("subtree"):
        node = node["subtree"][0]
        inherited = {**inherited, **(node.get("attributes") or {})}
        out.extend((comp, inherited) for comp in node.get("local") or [])
    return out


def _render_storage(comp: dict, inherited: dict, bits: int) -> float:
    attrs = comp.setdefault("attributes", {})
    effective = {**inherited, **attrs}
    word, block = _first(effective, WORD_KEYS, 16), _first(effective, BLOCK_KEYS, 1)
    row = word * block
    new_block = max(1, row // bits)
    new_row = new_block * bits
    for key in WORD_KEYS[1:] + BLOCK_KEYS[1:]:
        attrs.pop(key, None)
    attrs["word-bits"], attrs["block-size"] = bits, new_block
    for key in ("memory_width", "width"):
        if effective.get(key) is not None and new_row != row:
            attrs[key] = int(effective[key]) * new_row // row
    if effective.get("entries") is not None:
        attrs["entries"] = int(effective["entries"]) // block * new_block
    return new_row / row


def write_precision_arch(
    arch_dir: str | Path, out_dir: str | Path, level_bits: Mapping[str, int], mac_bits: int, mac_factor: float
) -> RenderedArch:
    """Copy `arch_dir` to `out_dir` with the given storage word widths, MAC datawidth and MAC energy factor."""
    source, out = Path(arch_dir), Path(out_dir)
    arch_file = find_arch_file(source)
    shutil.copytree(source if source.is_dir() else source.parent, out, dirs_exist_ok=True)
    data = read_mapping(arch_file, "architecture YAML")
    scale: dict[str, float] = {}
    for comp, inherited in _components(data["architecture"]):
        name, cls = component_base_name(comp["name"]), str(comp["class"])
        if any(key in cls for key in STORAGE_CLASS_KEYS):
            if name in level_bits:
                scale[name] = _render_storage(comp, inherited, int(level_bits[name]))
        elif any(key in cls for key in COMPUTE_CLASS_KEYS):
            comp.setdefault("attributes", {})["datawidth"] = int(mac_bits)
            comp["attributes"].pop("word-bits", None)
            scale[name] = mac_factor
    header = f"# Rendered by costs.exact_arch from {arch_file} (word widths {dict(level_bits)}, MAC {mac_bits} bits)\n"
    (out / arch_file.name).write_text(header + yaml.safe_dump(data, sort_keys=False))
    for name in ERT_FILE_NAMES:
        _scale_table(out / name, "ERT", "actions", scale, out)
    for name in ART_FILE_NAMES:
        _scale_table(out / name, "ART", "area", scale, out)
    load_arch(out)  # the rendered spec must parse
    return RenderedArch(out, dict(level_bits), int(mac_bits), scale)


def _scale_table(path: Path, section: str, key: str, scale: Mapping[str, float], arch_dir: Path) -> None:
    """Scale a table's entries; a generated table's derivation record then describes the rendered arch."""
    if not path.is_file():
        return
    data = read_mapping(path, f"{section} table")
    record = data[section].get(RECORD_KEY)
    if isinstance(record, dict):
        record.update(
            preset=f"{record.get('preset')} scaled to the rendered word widths (costs.exact_arch)",
            components=component_record(arch_dir),
        )
    for entry in data[section]["tables"]:
        factor = scale.get(component_base_name(entry["name"]))
        if factor is None:
            continue
        if key == "area":
            entry["area"] = float(entry["area"]) * factor
        else:
            for action in entry["actions"] or []:
                action["energy"] = float(action["energy"]) * factor
    path.write_text(f"# Scaled by costs.exact_arch: {dict(scale)}\n" + yaml.safe_dump(data, sort_keys=False))


def exact_mode(
    arch_dir: str | Path,
    problem: str | Path,
    constraints: Sequence[str | Path],
    mapper: str | Path,
    choice: LayerChoice,
    baseline: LayerStats,
    workdir: str | Path,
    engine: str = "embedded",
    model: PrecisionModel = DEFAULT_MODEL,
) -> LayerStats:
    """Render the arch for `choice` (level widths from the baseline run's kept tensors and reduction level),
    re-map the layer on it with `engine`, and rescale each tensor narrower than its level to its own width."""
    from engines import get_engine

    bits = level_widths(baseline, choice)
    rendered = write_precision_arch(arch_dir, Path(workdir) / "arch", bits, choice.mul_bits, model.mac_factor(choice))
    stats = get_engine(engine).evaluate(rendered.path, problem, list(constraints), mapper)
    widths = tensor_widths(stats, choice)
    reference = {level.name: bits.get(level.name, model.reference_bits) for level in stats.levels[1:]}
    result = scale_stats(stats, widths, reference, 1.0)
    result.meta["precision"]["mode"] = "exact"
    result.meta["precision"]["level_bits"] = bits
    return result
