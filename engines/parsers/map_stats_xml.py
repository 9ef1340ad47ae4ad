"""Timeloop's `timeloop-mapper.map+stats.xml` / `timeloop-model.map+stats.xml` -> `LayerStats` (partial).

The file is a Boost XML serialization archive (`<boost_serialization
signature="serialization::archive" ...>`) holding, in this order, `engine`,
`mapping` and `a` (the application). What Timeloop (2021 sources) serializes,
and so what this parser can read:

* `engine/topology_/levels_`: one `item/px` per level in Timeloop numbering.
  The arithmetic level has `specs_` (`LevelSpecs/level_name`, `instances`),
  `energy_` (total pJ), `area_`, `cycles_`, `utilized_instances_`, `maccs_`.
  A buffer level has `subnest_` (its loops, innermost first: `dimension` id,
  `start`, `end`, `stride`, `spacetime_dimension` 0/1/2 = time/X/Y), `specs_`
  and `stats_` (per-data-space arrays `keep`, `partition_size`,
  `utilized_capacity`, `utilized_instances`, `utilized_clusters`, `reads`,
  `updates`, `fills`, `energy_per_access`, `energy` (per instance),
  `temporal_reduction_energy`, `addr_gen_energy`, plus `cycles`).
* `engine/topology_/networks_`: name -> network with per-instance energies only
  (a network's utilized instances are not serialized, so network energy is not
  added to the total; it is reported in `meta["network_energy_per_instance_pJ"]`).
* `mapping/datatype_bypass_nest`: per data space a bitset string of kept levels
  (read into `meta["keep_bits"]`); the loop nest itself is not serialized, the
  mapping is rebuilt from the buffer levels' subnests.
* `a/workload_/bounds_`: the problem dimension sizes by dimension id.

Dimension and data-space names are not in the archive: pass the problem YAML
(`problem=`) to name them from its shape, otherwise dimensions are called
`dim<id>` and three data spaces Weights/Inputs/Outputs. Objects stored by
reference only (Boost `class_id_reference` without content) are not resolved.
No real archive ships with the reference data; this parser was written from
Timeloop's serialize() functions and is tested on a hand-made sample built
from them (tests/data/parsers/map_stats_synthetic.xml).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from specs.errors import SpecError
from specs.problem import read_problem

from ..mapping import LevelMapping, Loop, Mapping
from ..stats import LayerStats, LevelStats, TensorStats
from .errors import ParseError

DEFAULT_DATA_SPACES = ("Weights", "Inputs", "Outputs")
SPACETIME = {0: None, 1: "X", 2: "Y"}
NETWORK_ENERGY_ARRAYS = ("energy", "link_transfer_energy", "spatial_reduction_energy")


def parse_map_stats_xml(path: str | Path, problem: str | Path | None = None) -> LayerStats:
    """Read a map+stats.xml archive; `problem` (a Timeloop problem YAML) names dimensions and data spaces."""
    path = Path(path)
    source = str(path)
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise ParseError(f"{path}: no such file (expected a Timeloop map+stats.xml)") from None
    except (OSError, ET.ParseError) as exc:
        raise ParseError(f"{path}: not a readable XML file: {exc}") from None
    if root.tag != "boost_serialization" or root.get("signature") != "serialization::archive":
        raise ParseError(f"{path}: not a Boost serialization archive (root <{root.tag}>)")
    levels_node = _find(root, "engine/topology_/levels_", source)
    dims, data_spaces = _names(problem, source)

    levels: list[LevelStats] = []
    subnests: list[list[Loop]] = []
    keeps: list[tuple[str, ...]] = []
    tiles: list[dict[str, int]] = []
    items = levels_node.findall("item")
    if not items:
        raise ParseError(f"{path}: engine/topology_/levels_ has no levels")
    for i, item in enumerate(items):
        px = item.find("px")
        where = f"engine/topology_/levels_/item[{i}]"
        if px is None or len(px) == 0:
            raise ParseError(f"{path}: {where}: level stored by reference only (not supported)")
        if px.find("maccs_") is not None:
            if i != 0:
                raise ParseError(f"{path}: {where}: arithmetic level is not level 0")
            levels.append(_arithmetic(px, source, where))
        elif px.find("stats_") is not None:
            level, loops, keep, tile = _buffer(px, source, where, dims, data_spaces)
            levels.append(level)
            subnests.append(loops)
            keeps.append(keep)
            tiles.append(tile)
        else:
            raise ParseError(f"{path}: {where}: neither an arithmetic level (maccs_) nor a buffer level (stats_)")
    if levels[0].tensors or not levels[0].name:
        raise ParseError(f"{path}: level 0 is not an arithmetic level")

    mapping = Mapping(
        tuple(
            LevelMapping(lvl.name, tuple(loops), keep, tile)
            for lvl, loops, keep, tile in reversed(list(zip(levels[1:], subnests, keeps, tiles, strict=True)))
        )
    )
    arithmetic = levels[0]
    macs = int(_number(_px_text(items[0], "maccs_", source, "level 0"), source, "maccs_"))
    cycles = max(level.cycles for level in levels)
    meta: dict = {
        "source": source,
        "layout": "map+stats.xml",
        "total_energy_from": "sum of level energies (network energies not serialized in full)",
        "network_energy_per_instance_pJ": _networks(root, source),
    }
    bounds = _array(root.find("a/workload_"), "bounds_", source, "a/workload_", optional=True)
    if bounds:
        meta["bounds"] = {dims(i): int(b) for i, b in enumerate(bounds)}
    keep_bits = root.find("mapping/datatype_bypass_nest")
    if keep_bits is not None:
        meta["keep_bits"] = {
            data_spaces(i): (item.findtext("bits") or "").strip() for i, item in enumerate(keep_bits.findall("item"))
        }
    return LayerStats(
        levels=levels,
        cycles=cycles,
        macs=macs,
        utilization=macs / arithmetic.instances / cycles if arithmetic.instances and cycles else 0.0,
        total_energy_pJ=sum(level.energy_pJ for level in levels),
        mapping=mapping,
        engine="timeloop",
        meta=meta,
    )


# ---- helpers --------------------------------------------------------------------------


def _find(node: ET.Element, path: str, source: str) -> ET.Element:
    found = node.find(path)
    if found is None:
        raise ParseError(f"{source}: missing <{path}> (not a Timeloop map+stats.xml, or truncated)")
    return found


def _px_text(item: ET.Element, tag: str, source: str, where: str) -> str:
    text = item.findtext(f"px/{tag}")
    if text is None:
        raise ParseError(f"{source}: {where}: missing <{tag}>")
    return text


def _number(text: str | None, source: str, where: str) -> float:
    try:
        return float((text or "").strip())
    except ValueError:
        raise ParseError(f"{source}: {where}: expected a number, found {text!r}") from None


def _scalar(node: ET.Element, tag: str, source: str, where: str) -> float:
    """A plain value (`<cycles_>16</cycles_>`) or a specified Timeloop Attribute
    (`<instances><t_>4</t_></instances>`)."""
    child = node.find(tag)
    if child is None:
        raise ParseError(f"{source}: {where}: missing <{tag}>")
    text = child.findtext("t_") if child.find("t_") is not None else child.text
    return _number(text, source, f"{where}/{tag}")


def _array(node: ET.Element | None, tag: str, source: str, where: str, optional: bool = False) -> list[str]:
    """Items of a serialized PerDataSpace / PerProblemDimension array (`<tag><PerDataSpace><item>..`)."""
    child = None if node is None else node.find(tag)
    if child is None:
        if optional:
            return []
        raise ParseError(f"{source}: {where}: missing <{tag}>")
    holder = next(iter(child), None)
    return [(item.text or "").strip() for item in (holder if holder is not None else child).findall("item")]


def _level_name(px: ET.Element, source: str, where: str) -> str:
    name = px.findtext("specs_/LevelSpecs/level_name") or px.findtext("specs_/name/t_")
    if not name:
        raise ParseError(f"{source}: {where}: missing specs_/LevelSpecs/level_name")
    return name.strip()


def _arithmetic(px: ET.Element, source: str, where: str) -> LevelStats:
    specs = _find(px, "specs_", source)
    return LevelStats(
        name=_level_name(px, source, where),
        instances=int(_scalar(specs, "instances", source, where + "/specs_")),
        utilized_instances=int(_scalar(px, "utilized_instances_", source, where)),
        cycles=int(_scalar(px, "cycles_", source, where)),
        arithmetic_energy_pJ=_scalar(px, "energy_", source, where),
    )


def _buffer(px: ET.Element, source: str, where: str, dims, data_spaces):
    name = _level_name(px, source, where)
    where = f"{where} ({name})"
    specs = _find(px, "specs_", source)
    stats = _find(px, "stats_", source)  # the caller checked it is there
    arrays = {
        key: _array(stats, key, source, where + "/stats_")
        for key in (
            "keep",
            "partition_size",
            "utilized_capacity",
            "utilized_instances",
            "utilized_clusters",
            "reads",
            "updates",
            "fills",
            "energy_per_access",
            "energy",
            "temporal_reduction_energy",
            "addr_gen_energy",
        )
    }
    count = len(arrays["keep"])
    if any(len(values) != count for values in arrays.values()):
        raise ParseError(f"{source}: {where}/stats_: per-data-space arrays differ in length")
    num = lambda key, pv: _number(arrays[key][pv], source, f"{where}/stats_/{key}")  # noqa: E731
    tensors: dict[str, TensorStats] = {}
    for pv in range(count):
        if arrays["keep"][pv] not in ("1", "true"):
            continue
        energy = (num("energy", pv) + num("temporal_reduction_energy", pv)) * num("utilized_instances", pv) + num(
            "addr_gen_energy", pv
        ) * num("utilized_clusters", pv)
        tensors[data_spaces(pv)] = TensorStats(
            energy_pJ=energy,
            partition_size=int(num("partition_size", pv)),
            utilized_capacity=int(num("utilized_capacity", pv)),
            utilized_instances=int(num("utilized_instances", pv)),
            reads=int(num("reads", pv)),
            updates=int(num("updates", pv)),
            fills=int(num("fills", pv)),
            energy_per_access_pJ=num("energy_per_access", pv),
        )
    level = LevelStats(
        name=name,
        instances=int(_scalar(specs, "instances", source, where + "/specs_")),
        utilized_instances=max((t.utilized_instances for t in tensors.values()), default=0),
        cycles=int(_scalar(stats, "cycles", source, where + "/stats_")),
        tensors=tensors,
    )
    loops = []
    subnest = px.find("subnest_")
    for loop in reversed(subnest.findall("item") if subnest is not None else []):  # stored innermost first
        start, end, stride = (
            int(_number(loop.findtext(k), source, f"{where}/subnest_/{k}")) for k in ("start", "end", "stride")
        )
        bound = -(-(end - start) // max(stride, 1))
        if bound > 1:
            axis = int(_number(loop.findtext("spacetime_dimension"), source, f"{where}/subnest_/spacetime_dimension"))
            loops.append(
                Loop(
                    dims(int(_number(loop.findtext("dimension"), source, f"{where}/subnest_/dimension"))),
                    bound,
                    SPACETIME.get(axis),
                )
            )
    keep = tuple(tensors)
    tile = {tensor: t.utilized_capacity for tensor, t in tensors.items()}
    return level, loops, keep, tile


def _networks(root: ET.Element, source: str) -> dict[str, float]:
    networks = root.find("engine/topology_/networks_")
    result: dict[str, float] = {}
    for item in networks.findall("item") if networks is not None else []:
        name = (item.findtext("first") or "").strip()
        stats = item.find("second/px/stats_")
        if stats is None:
            continue
        result[name] = sum(
            _number(v, source, f"networks_/{name}/{key}")
            for key in NETWORK_ENERGY_ARRAYS
            for v in _array(stats, key, source, name, optional=True)
        )
    return result


def _names(problem: str | Path | None, source: str):
    """(dimension id -> name, data-space id -> name) from a problem YAML's shape, or defaults."""
    if problem is None:
        return (lambda i: f"dim{i}"), (lambda i: DEFAULT_DATA_SPACES[i] if i < len(DEFAULT_DATA_SPACES) else f"ds{i}")
    try:
        shape = read_problem(Path(problem)).shape
    except SpecError as exc:
        raise ParseError(f"cannot read the problem's dimensions/data-spaces to name {source}: {exc}") from None
    dims, spaces = list(shape.dimensions), list(shape.tensor_names)

    def dim(i: int) -> str:
        if not 0 <= i < len(dims):
            raise ParseError(f"{source}: dimension id {i} not in {problem} (dimensions {dims})")
        return dims[i]

    def space(i: int) -> str:
        if not 0 <= i < len(spaces):
            raise ParseError(f"{source}: data-space id {i} not in {problem} (data-spaces {spaces})")
        return spaces[i]

    return dim, space
