"""Mapper runs as content: a `RunSpec` holds everything that determines a run's result, its `key` is a digest of it,
and `execute` maps it once, with an optional run cache shared across results directories.

What the key covers: the engine (name, version, options including the seed), the architecture (arch.yaml, its
component classes and the energy/area tables it uses, by content), the problem, the constraints and the mapper
settings (as the YAML texts the engine reads). Identical runs (the same body layer of a CIFAR-10 and a CIFAR-100
network, repeated blocks of one network) therefore share a key and are mapped once. Not covered: the thread count
(the embedded engine is deterministic; real Timeloop's search varies run to run anyway) and the version of an
external Timeloop binary (clear the cache after upgrading it).

Cache entries are directories `<cache>/<key[:2]>/<key>/` written to a temporary directory and renamed into place, so
a reader sees a whole entry or none, and two processes that map the same key concurrently both succeed (the second
rename finds the entry present and is dropped).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from specs.energy import USER_TABLES, EnergyTable, find_area_table, find_energy_table, load_ert
from specs.errors import SpecError
from specs.io import atomic_dir

from .mapping import Mapping
from .stats import LayerStats

STATS_FILE = "stats.json"
INPUT_FILES = {"problem": "problem.yaml", "constraints": "constraints.yaml", "mapper": "mapper.yaml"}
SPEC_FILE = "run.json"
# bump when the embedded model or mapper changes what a run returns (2: the issue-15 mapper)
ENGINE_VERSIONS = {"embedded": "2"}


@dataclass(frozen=True)
class RunSpec:
    arch: str  # architecture directory (repository-relative when inside the repository)
    problem: str  # problem YAML text
    constraints: str  # constraints YAML text
    mapper: str  # mapper settings YAML text
    engine: str = "embedded"
    engine_options: dict[str, Any] = field(default_factory=dict)
    tables: str = "paper"  # energy/area tables: paper (shipped next to the arch) | derived (estimation/, per arch)
    mapping: str = ""  # a fixed mapping (engines.mapping.Mapping as JSON) to evaluate instead of searching

    def key(self, root: Path | None = None) -> str:
        """Digest of everything that determines the result (architecture files by content)."""
        payload = {
            **asdict(self),
            "arch": arch_digest(str(self.arch_path(root)), self.tables),
            "engine_version": ENGINE_VERSIONS.get(self.engine, "external"),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def arch_path(self, root: Path | None = None) -> Path:
        path = Path(self.arch)
        return path if path.is_absolute() or root is None else root / path

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        return cls(**json.loads(text))


def arch_files(arch: Path, tables: str = "paper") -> list[Path]:
    """The files of an architecture directory a run reads: arch.yaml, components/*.yaml and the energy and area
    tables in use (not constraint templates, which reach a run rendered, nor other accelerators' parameter files).
    With derived tables, the tables are a function of the other files (and of the model versions, in the key), so
    only a user's own Accelergy tables are listed."""
    files = [arch / "arch.yaml", *sorted((arch / "components").glob("*.yaml"))]
    if tables == "derived":
        return files + [arch / name for name in USER_TABLES if (arch / name).is_file()]
    try:
        files.append(find_energy_table(arch))
    except SpecError:
        pass  # a real-Timeloop run may let Accelergy compute the table
    area = find_area_table(arch)
    return files + ([area] if area is not None else [])


@cache
def _digest(arch: str, tables: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for path in arch_files(Path(arch), tables):
        digest.update(path.relative_to(arch).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    if tables == "derived":
        from estimation.tables import model_versions

        digest.update(json.dumps(model_versions("derived"), sort_keys=True).encode())
    return digest.hexdigest()


def arch_digest(arch: str, tables: str = "paper") -> str:
    """Content digest of an architecture directory's run files (cached on their sizes and modification times)."""
    files = arch_files(Path(arch), tables)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise SpecError(f"{arch}: architecture file(s) missing: {', '.join(missing)}")
    return _digest(arch, tables, tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files))


def arch_id(arch: Path, tables: str) -> str:
    """A directory name for an arch's copy with derived tables: its path and content digest."""
    return f"{'-'.join(Path(arch).parts[-2:])}-{arch_digest(str(arch), tables)[:16]}"


@cache
def run_energy_table(arch: str, tables: str = "paper") -> EnergyTable:
    """The energy table the runs of arch directory `arch` read with `energy_tables: tables`: a user's Accelergy
    ERT.yaml beside it, else the shipped table (paper) or the one derived from its sizes (derived: estimation/,
    cached by arch content). For post-processing that prices actions the runs do not report (idle, zero-delta)."""
    path = Path(arch)
    if tables == "paper" or (path / "ERT.yaml").is_file():
        return load_ert(find_energy_table(path))
    from estimation import derive_tables

    with tempfile.TemporaryDirectory() as tmp:
        ert, _ = derive_tables(path, tmp, tables)
        return load_ert(ert)


def write_arch_with_tables(arch: Path, out: Path, preset: str = "derived") -> tuple[Path, Path]:
    """`out`: a copy of the arch directory's run files with its ERT/ART of `preset` (estimation/); written as a
    whole (a temporary directory renamed into place). Returns the tables' paths."""
    from estimation import derive_tables

    with atomic_dir(out) as work:
        for path in arch_files(arch, preset):
            (work / path.relative_to(arch)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, work / path.relative_to(arch))
        if not (arch / "ERT.yaml").is_file():  # a user's Accelergy table wins; nothing to derive
            derive_tables(arch, work, preset)
    return out / f"ERT.{preset}.yaml", out / f"ART.{preset}.yaml"


def write_inputs(spec: RunSpec, directory: Path) -> dict[str, Path]:
    """The run's input files in `directory` (what the engine reads, and what a user inspects)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, file_name in INPUT_FILES.items():
        paths[name] = directory / file_name
        paths[name].write_text(getattr(spec, name))
    (directory / SPEC_FILE).write_text(spec.to_json() + "\n")
    return paths


def execute(
    spec: RunSpec,
    out_dir: Path,
    threads: int = 1,
    cache: Path | None = None,
    root: Path | None = None,
    arch_dir: Path | None = None,
) -> tuple[LayerStats, bool]:
    """Map `spec` into `out_dir` (inputs, stats.json, the engine's outputs); (stats, True when taken from `cache`).

    `arch_dir`: where the engine reads the architecture (a copy with derived tables, `write_arch_with_tables`);
    default the spec's own arch directory. `out_dir` is replaced as a whole (written next to it, then renamed)."""
    from .base import get_engine

    key = spec.key(root)
    cached = cache / key[:2] / key if cache is not None else None
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as work:
        if cached is not None and (cached / STATS_FILE).is_file():
            shutil.copytree(cached, work, dirs_exist_ok=True)
            hit = True
        else:
            inputs = write_inputs(spec, work)
            engine = get_engine(spec.engine, **spec.engine_options)
            arch = arch_dir or spec.arch_path(root)
            if spec.mapping:
                stats = engine.model(arch, inputs["problem"], Mapping.from_dict(json.loads(spec.mapping)), outdir=work)
            else:
                stats = engine.evaluate(
                    arch, inputs["problem"], [inputs["constraints"]], inputs["mapper"], outdir=work, threads=threads
                )
            prefix = str(work) + os.sep  # paths inside the run directory are stored relative to it
            stats.meta = {
                k: v[len(prefix) :] if isinstance(v, str) and v.startswith(prefix) else v for k, v in stats.meta.items()
            }
            stats.meta.update({"run_key": key, "arch": spec.arch})
            (work / STATS_FILE).write_text(stats.to_json() + "\n")
            hit = False
    if cached is not None and not hit:
        store(out_dir, cached)
    return LayerStats.from_json(out_dir / STATS_FILE), hit


def store(run_dir: Path, entry: Path) -> None:
    """Copy a finished run directory into the cache as `entry` (atomically; an existing entry is kept)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    try:
        shutil.copytree(run_dir, tmp, dirs_exist_ok=True)
        try:
            os.rename(tmp, entry)
        except OSError:
            if not (entry / STATS_FILE).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def clear_cache(cache: Path) -> int:
    """Delete every entry of a run cache; returns how many there were."""
    entries = [p for p in Path(cache).glob("*/*") if (p / STATS_FILE).is_file()]
    for entry in entries:
        shutil.rmtree(entry)
    return len(entries)
