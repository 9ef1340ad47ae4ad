"""An arch directory's energy and area tables in Accelergy's formats, per energy preset, cached by arch content.

    derive_tables("arch/eyeriss", "out/", "derived")  # -> (out/ERT.derived.yaml, out/ART.derived.yaml)

Presets:
  derived  every component priced with the hwcomponents packages (primitives.py), compound classes expanded
           (compound.py); any size, width or count the arch states.
  paper    the shipped 45 nm table (arch/energy/accelergy-45nm-16bit.yaml via estimation/paper.py): the paper's
           Accelergy figures, exact; refuses sizes it has no figures for.
The files are named ERT.<preset>.yaml / ART.<preset>.yaml so that they never replace a user's Accelergy ERT.yaml.
Each carries a `derivation:` record (check.py): the preset, the cache key and the class and attributes every
entry was computed for. The key hashes arch.yaml, components/*.yaml, the preset and the versions of the models
(the hwcomponents packages and MODEL_VERSION for `derived`; the shipped table and estimation/paper.py for `paper`); an
output whose record has the current key is left untouched, and a cache directory keeps earlier results.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import yaml

from specs.components import COMPONENTS_DIR, SpecError, arch_components, compound_classes
from specs.io import read_yaml, write_text
from specs.table_record import RECORD_KEY, check_tables, component_record, recorded

from . import paper
from .compound import Pricer
from .primitives import library_versions

PRESETS = ("derived", "paper")
MODEL_VERSION = "1"  # bump when primitives.py / compound.py change how figures are obtained
ENERGY_DECIMALS = 6  # pJ
AREA_DECIMALS = 3  # um^2
REPO = Path(__file__).resolve().parents[1]
CACHE_ENV = "FUSELOOP_TABLE_CACHE"


def table_names(preset: str) -> tuple[str, str]:
    return f"ERT.{preset}.yaml", f"ART.{preset}.yaml"


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fuseloop" / "tables"


def model_versions(preset: str) -> dict[str, str]:
    """What the figures of `preset` come from (part of the cache key)."""
    if preset == "derived":
        return {"estimation": MODEL_VERSION, **library_versions()}
    if preset == "paper":
        digest = hashlib.sha256(paper.TABLE.read_bytes() + Path(paper.__file__).read_bytes()).hexdigest()[:16]
        return {"table": f"{paper.TABLE.name}@{digest}"}
    raise SpecError(f"unknown energy preset {preset!r}; choose one of {', '.join(PRESETS)}")


def arch_key(arch_dir: Path, preset: str, versions: dict[str, str]) -> str:
    """sha256 over arch.yaml, components/*.yaml (names and bytes), the preset and the model versions."""
    digest = hashlib.sha256()
    files = [arch_dir / "arch.yaml", *sorted((arch_dir / COMPONENTS_DIR).glob("*.yaml"))]
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SpecError(f"{path}: cannot read: {exc.strerror or exc}") from None
        digest.update(f"{path.relative_to(arch_dir)}\0{len(data)}\0".encode() + data)
    digest.update(repr((preset, sorted(versions.items()))).encode())
    return digest.hexdigest()


def _derived_documents(arch_dir: Path) -> tuple[dict, dict, dict[str, str]]:
    pricer = Pricer(compound_classes(arch_dir))
    ert, art, models = [], [], {}
    for component in arch_components(arch_dir):
        where = f"{arch_dir / 'arch.yaml'}: component {component.name}"
        priced = pricer.component(component.cls, component.attributes, where)
        ert.append(
            {
                "name": component.name,
                "actions": [
                    {"name": action, "arguments": arguments, "energy": round(energy, ENERGY_DECIMALS)}
                    for action, arguments, energy in priced.actions
                ],
            }
        )
        art.append({"name": component.name, "area": round(priced.area_um2, AREA_DECIMALS)})
        models[component.name] = priced.model
    return {"ERT": {"version": 0.3, "tables": ert}}, {"ART": {"version": 0.3, "tables": art}}, models


def _paper_documents(arch_dir: Path) -> tuple[dict, dict, dict[str, str]]:
    try:
        ert, art = paper.tables_for(arch_dir)
    except paper.TableError as exc:
        raise SpecError(f"{exc} (the paper preset only knows the paper's sizes; use --preset derived)") from None
    return ert, art, {}


def documents(arch_dir: str | Path, preset: str) -> tuple[dict, dict]:
    """(ERT, ART) documents of `preset` for the arch in `arch_dir`, each with its `derivation` record."""
    arch_dir = Path(arch_dir)
    versions = model_versions(preset)
    ert, art, models = (_derived_documents if preset == "derived" else _paper_documents)(arch_dir)
    components = component_record(arch_dir)
    for name, model in models.items():
        components[name]["model"] = model
    record = {
        "preset": preset,
        "regenerate": f"python -m estimation ARCH_DIR --preset {preset}",
        "key": arch_key(arch_dir, preset, versions),
        "versions": versions,
        "components": components,
    }
    ert["ERT"][RECORD_KEY], art["ART"][RECORD_KEY] = record, record
    return ert, art


def _header(preset: str) -> str:
    source = {
        "derived": "the hwcomponents models (estimation/primitives.py)",
        "paper": "arch/energy/accelergy-45nm-16bit.yaml (the paper's Accelergy figures)",
    }[preset]
    return (
        f"# Generated by `python -m estimation ARCH_DIR --preset {preset}` from {source}; do not edit.\n"
        "# Accelergy format (pJ per action, um^2). `derivation` records what each entry was computed for.\n"
    )


def _recorded_key(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        record = recorded(read_yaml(path, "energy/area table"))
    except SpecError:
        return None
    return record.get("key") if record else None


def derive_tables(
    arch_dir: str | Path,
    out_dir: str | Path | None = None,
    preset: str = "derived",
    *,
    cache_dir: str | Path | None = None,
) -> tuple[Path, Path]:
    """Write `out_dir`/ERT.<preset>.yaml and ART.<preset>.yaml for the arch in `arch_dir` (out_dir defaults to
    arch_dir) and return their paths. Up-to-date outputs (same key) are left untouched; a result cached under
    `cache_dir` (default ~/.cache/fuseloop/tables, or $FUSELOOP_TABLE_CACHE) is copied instead of recomputed."""
    arch_dir = Path(arch_dir)
    if preset not in PRESETS:
        raise SpecError(f"unknown energy preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if not (arch_dir / "arch.yaml").is_file():
        raise SpecError(f"{arch_dir}: no arch.yaml in this architecture directory")
    out = Path(out_dir) if out_dir is not None else arch_dir
    ert_path, art_path = (out / name for name in table_names(preset))
    key = arch_key(arch_dir, preset, model_versions(preset))
    if _recorded_key(ert_path) == key and _recorded_key(art_path) == key:
        return ert_path, art_path
    cached = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached_ert, cached_art = (cached / key / name for name in table_names(preset))
    if _recorded_key(cached_ert) == key and _recorded_key(cached_art) == key:
        texts = [cached_ert.read_text(), cached_art.read_text()]
    else:
        ert, art = documents(arch_dir, preset)
        header = _header(preset)
        texts = [header + yaml.safe_dump(doc, sort_keys=False, width=120) for doc in (ert, art)]
        try:
            for path, text in zip((cached_ert, cached_art), texts, strict=True):
                write_text(path, text)
        except OSError:
            shutil.rmtree(cached / key, ignore_errors=True)  # an unwritable cache only costs recomputation
    for path, text in zip((ert_path, art_path), texts, strict=True):
        write_text(path, text)
    check_tables(arch_dir, ert_path, art_path)
    return ert_path, art_path
