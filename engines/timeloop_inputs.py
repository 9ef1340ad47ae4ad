"""Input files for real Timeloop (2021 v0.3 YAML conventions): architecture file list, the effective
mapper settings, and a `Mapping` written as a Timeloop mapping YAML for `timeloop-model`.

Mapping YAML (read by Timeloop's mapping parser, `mapping:` at the top level): for every storage level a
`temporal` directive and, for every level with a spatial fan-out, a `spatial` directive, each with
`factors` for *all* problem dimensions and a `permutation` of all dimensions written innermost loop first;
a spatial directive's `split` is the number of leading permutation entries that go to the X axis. A
`bypass` directive per level lists the data spaces kept (`keep`) and bypassed (`bypass`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from specs.arch import load_arch
from specs.energy import find_area_table, find_energy_table
from specs.errors import SpecError
from specs.io import read_mapping
from specs.mapper import with_overrides
from specs.problem import read_problem

from .base import EngineError, PathLike
from .mapping import Loop, Mapping

ARCH_FILE = "arch.yaml"
COMPONENTS_DIR = "components"


def arch_input_files(arch: PathLike, use_energy_tables: bool = True) -> list[Path]:
    """Files describing an architecture, in the order they are passed to Timeloop: the arch YAML,
    `components/*.yaml` (sorted), then the energy table (an Accelergy `ERT.yaml`, else fuseloop's
    `ERT.fuseloop.yaml`) and the area table (`ART.yaml`, else `ART.fuseloop.yaml`) when `use_energy_tables`."""
    path = Path(arch)
    if path.is_file():
        arch_file, directory = path, path.parent
    elif path.is_dir():
        arch_file, directory = path / ARCH_FILE, path
        if not arch_file.is_file():
            raise EngineError(f"{path}: no {ARCH_FILE} in this architecture directory")
    else:
        raise EngineError(f"{path}: architecture path does not exist")
    files = [arch_file] + sorted((directory / COMPONENTS_DIR).glob("*.yaml"))
    if use_energy_tables:
        try:
            files.append(find_energy_table(directory))
        except SpecError:
            pass  # no table: Timeloop runs Accelergy on the arch itself
        art = find_area_table(directory)
        files += [art] if art is not None else []
    return [f.resolve() for f in files]


def effective_mapper(mapper: PathLike, threads: int, overrides: dict[str, Any] | None = None) -> dict:
    """The mapper YAML document with `live-status: false`, `num-threads: threads` and the non-None
    overrides (keys in config spelling: timeout, victory_condition, optimization_metrics)."""
    return with_overrides(read_mapping(mapper, "mapper settings"), threads, overrides, str(mapper))


def problem_shape(problem: PathLike) -> tuple[list[str], list[str]]:
    """(dimension names, data-space names) of a Timeloop problem YAML, in the shape's order."""
    shape = read_problem(Path(problem)).shape
    return list(shape.dimensions), list(shape.tensor_names)


def fanout_levels(arch: PathLike) -> set[str] | None:
    """Storage levels with a spatial fan-out (fewer instances than the level below), or None when the
    architecture cannot be read here."""
    try:
        spec = load_arch(arch)
    except SpecError:
        return None
    below = spec.arithmetic.instances
    levels = set()
    for level in spec.storage:  # innermost first
        if level.instances < below:
            levels.add(level.name)
        below = level.instances
    return levels


def _factors(loops: Sequence[Loop], dims: Sequence[str], level: str) -> dict[str, int]:
    factors = {d: 1 for d in dims}
    for loop in loops:
        if loop.dim not in factors:
            raise EngineError(f"mapping level {level}: dimension {loop.dim!r} is not a problem dimension {list(dims)}")
        if factors[loop.dim] != 1:
            raise EngineError(
                f"mapping level {level}: two {'spatial' if loop.spatial else 'temporal'} loops over "
                f"{loop.dim}; Timeloop allows one per dimension and level"
            )
        factors[loop.dim] = loop.bound
    return factors


def _directive(target: str, kind: str, inner_first: list[str], loops: Sequence[Loop], dims: Sequence[str]) -> dict:
    factors = _factors(loops, dims, target)
    permutation = inner_first + [d for d in dims if d not in inner_first]
    return {
        "target": target,
        "type": kind,
        "factors": " ".join(f"{d}={factors[d]}" for d in dims),
        "permutation": "".join(permutation),
    }


def mapping_directives(
    mapping: Mapping, dims: Sequence[str], data_spaces: Sequence[str], spatial_levels: set[str] | None = None
) -> list[dict]:
    """Timeloop mapping directives for `mapping` (levels outermost first, loops in map.txt order)."""
    if any(len(d) != 1 for d in dims):
        raise EngineError(f"Timeloop permutations need one-letter dimension names, got {list(dims)}")
    directives: list[dict] = []
    for level in mapping.levels:
        temporal = level.temporal()
        directives.append(_directive(level.level, "temporal", [x.dim for x in reversed(temporal)], temporal, dims))
        x_loops, y_loops = level.spatial("X"), level.spatial("Y")
        if x_loops or y_loops or (spatial_levels is not None and level.level in spatial_levels):
            spatial = _directive(
                level.level,
                "spatial",
                [x.dim for x in reversed(x_loops)] + [y.dim for y in reversed(y_loops)],
                x_loops + y_loops,
                dims,
            )
            spatial["split"] = len(x_loops)
            directives.append(spatial)
        unknown = [t for t in level.keep if t not in data_spaces]
        if unknown:
            raise EngineError(f"mapping level {level.level}: keeps {unknown}, not data spaces {list(data_spaces)}")
        directives.append(
            {
                "target": level.level,
                "type": "bypass",
                "keep": list(level.keep),
                "bypass": [t for t in data_spaces if t not in level.keep],
            }
        )
    return directives


def mapping_to_yaml(
    mapping: Mapping,
    problem_dims: Sequence[str],
    data_spaces: Sequence[str] = ("Weights", "Inputs", "Outputs"),
    spatial_levels: set[str] | None = None,
) -> str:
    """A `Mapping` as a Timeloop v0.3 mapping YAML (`mapping:` list of directives).

    `spatial_levels` names the levels with a spatial fan-out in the architecture: each gets a spatial
    directive even without spatial loops (Timeloop requires one per fan-out level); when None only levels
    with spatial loops get one."""
    return yaml.safe_dump(
        {"mapping": mapping_directives(mapping, problem_dims, data_spaces, spatial_levels)}, sort_keys=False
    )
