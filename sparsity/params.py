"""Parameters of the sparse Eyeriss accelerator, read from `arch/eyeriss/sparse.yaml` (presets, bounds, overrides).

Every number that shapes a sparse result is one of these (PARAMETERS documents each one). Presets:
`default` (the corrected model) and `paper` (reproduces the reference's formula, docs/method.md §5.3).

A preset may name *bounds* (`bounds: {name: parameter values}`): the default preset's `optimistic` bound is the
preset itself (perfect zero-skipping, no cost for finding the non-zero weights), its `conservative` bound also
charges the costs the optimistic one omits (index decoding, compressed-format pointers, idle PEs during load
imbalance; docs/model.md). The sparse accelerator computes every bound and reports their band.

Values read from an energy table (`mac_gating_ratio: ert`, an `index_decode` reference, `idle_pe: ert`) come from
the table `load_params` is given (the workflow gives the table its dense runs used: `energy_tables`), else from
the `ert` parameter's table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from accelerators.dense import BASE_ENERGY_MODES
from specs.records import read_presets

SPARSE_YAML = Path(__file__).resolve().parents[1] / "arch" / "eyeriss" / "sparse.yaml"
LAYER_KINDS = ("conv", "pointwise", "grouped-pointwise", "depthwise", "fc", "grouped-conv")
LAYER_PARTS = ("head", "body", "tail")

PARAMETERS: dict[str, str] = {
    "target_sparsity": "fraction of weights removed per layer kind when a pruned model is generated "
    "(magnitude, per layer)",
    "pe_level": "outermost storage level inside a PE; loops above it enumerate PEs and passes (null: derived)",
    "groups": "grouped layers: 'all' analyses every group and adds their cycles; 'first' analyses group 0 x G",
    "keep_bandwidth_slowdown": "multiply sparse cycles by the dense run's cycles / compute cycles when that is > 1",
    "cycle_scope": "{parts, kinds} of the layers whose cycles are sparse; others keep their dense cycles",
    "density": "'measured' (non-zero fraction of the layer's weights) or a fixed kept fraction in [0, 1]",
    "word_bits": "bits of one data word",
    "index_bits": "bits of the index stored with each kept weight",
    "index_model": "'kept': weight energy x d x (word+index)/word; 'pruned' (paper): x (1 - (1-d)(1 - index/word))",
    "weight_levels": "'all' or level names whose Weights energy is discounted",
    "operand_levels": "'pe' (every level inside a PE) or level names whose per-MAC operand accesses are discounted",
    "operand_tensors": "tensors (Inputs, Outputs) discounted at operand_levels",
    "operand_accesses": "'mac': only MAC-driven accesses (Inputs reads, Outputs reads+updates) scale by d; "
    "'all': the whole energy",
    "mac_gating_ratio": "energy of a skipped MAC relative to a performed one ('ert': mac_gated / mac_random of `ert`)",
    "ert": "energy reference table for mac_gating_ratio: 'ert' (path relative to the sparse YAML)",
    "base_energy": "'total' (full-precision topology energy) or 'summary' (Timeloop's 2-decimal uJ summary line)",
    "energy_scope": "{parts, kinds} of the layers whose energy is sparse; others keep their dense energy",
    "index_decode": "energy per performed MAC to decode its weight's index into an input address: pJ, or "
    "{component, action, arguments} of the energy table (e.g. the weights spad's zero-delta read: "
    "its address-generator add)",
    "pointer_bits": "bits of one compressed-format pointer (CSC: one per column of a problem copy's weights, a column "
    "being the M weights of one input channel and tap); pointers move with the weights at every "
    "weight level; 0: none",
    "idle_pe": "energy per idle PE-cycle of load imbalance (the slowest PE of a pass sets its length): pJ, or 'ert' "
    "= the idle actions of the MAC and every other component of a PE in the energy table",
}
COSTS = ("index_decode", "pointers", "idle_pe")  # the omitted costs of the optimistic bound (SparseParams.costs)


class SparseParamsError(ValueError):
    """Bad sparse parameters; the message names the file and the field."""


@dataclass(frozen=True)
class Scope:
    parts: tuple[str, ...]
    kinds: tuple[str, ...]

    def covers(self, part: str, kind: str) -> bool:
        return part in self.parts and kind in self.kinds


@dataclass(frozen=True)
class SparseParams:
    """One resolved parameter set (see PARAMETERS); `mac_gating_ratio` is always a number here."""

    preset: str
    target_sparsity: dict[str, float]
    pe_level: str | None
    groups: str
    keep_bandwidth_slowdown: bool
    cycle_scope: Scope
    density: str | float
    word_bits: int
    index_bits: int
    index_model: str
    weight_levels: str | tuple[str, ...]
    operand_levels: str | tuple[str, ...]
    operand_tensors: tuple[str, ...]
    operand_accesses: str
    mac_gating_ratio: float
    ert: str
    base_energy: str
    energy_scope: Scope
    index_decode_pJ: float = 0.0
    pointer_bits: int = 0
    idle_pe_pJ: float = 0.0
    bound: str | None = None  # the preset bound these values are (None: the preset as written)
    overrides: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def with_(self, **changes) -> SparseParams:
        return replace(self, **changes)


def presets(path: str | Path = SPARSE_YAML) -> list[str]:
    return list(_read(Path(path))["presets"])


def bounds(preset: str = "default", path: str | Path = SPARSE_YAML) -> list[str]:
    """The bounds `preset` names (empty: the preset is one value)."""
    path = Path(path)
    spec = _read(path)
    if preset not in spec["presets"]:
        raise SparseParamsError(f"{path}: field presets: no preset {preset!r} (known: {', '.join(spec['presets'])})")
    return list(spec["presets"][preset].get("bounds") or {})


def load_params(
    preset: str = "default",
    overrides: dict[str, Any] | None = None,
    path: str | Path = SPARSE_YAML,
    bound: str | None = None,
    energy_table=None,
) -> SparseParams:
    """The preset of `path` (with the values of its `bound`, if given), with single parameters replaced by
    `overrides` (named `overrides.<key>` in errors); table-derived values from `energy_table` (a specs.energy
    EnergyTable), else from the `ert` parameter's table."""
    path = Path(path)
    spec = _read(path)
    if preset not in spec["presets"]:
        raise SparseParamsError(f"{path}: field presets: no preset {preset!r} (known: {', '.join(spec['presets'])})")
    raw = dict(spec["presets"][preset])
    named = raw.pop("bounds", None) or {}
    where = {key: f"{path}: field presets.{preset}.{key}" for key in raw}
    missing = sorted(set(PARAMETERS) - set(raw))
    if missing:
        raise SparseParamsError(f"{path}: field presets.{preset}: missing {', '.join(missing)}")
    if bound is not None:
        if bound not in named:
            raise SparseParamsError(
                f"{path}: field presets.{preset}.bounds: no bound {bound!r} (known: {', '.join(named) or 'none'})"
            )
        for key, value in (named[bound] or {}).items():
            raw[key] = value
            where[key] = f"{path}: field presets.{preset}.bounds.{bound}.{key}"
    for key, value in (overrides or {}).items():
        if key not in PARAMETERS:
            raise SparseParamsError(f"field overrides.{key}: unknown sparse parameter (known: {', '.join(PARAMETERS)})")
        raw[key] = value
        where[key] = f"field overrides.{key} (over {path} preset {preset})"
    return _build(preset, raw, where, path, dict(overrides or {}), bound, energy_table)


# ----------------------------------------------------------------------------------------- validation


def _read(path: Path) -> dict:
    spec = read_presets(path, SparseParamsError, "parameters")
    for name, body in spec["presets"].items():
        unknown = sorted(set(body) - set(PARAMETERS) - {"bounds"})
        if unknown:
            raise SparseParamsError(f"{path}: field presets.{name}.{unknown[0]}: unknown parameter")
        named = body.get("bounds") or {}
        if not isinstance(named, dict):
            raise SparseParamsError(f"{path}: field presets.{name}.bounds: expected a mapping of bound name -> values")
        for bound, values in named.items():
            if not isinstance(values, dict) and values is not None:
                raise SparseParamsError(f"{path}: field presets.{name}.bounds.{bound}: expected a mapping")
            unknown = sorted(set(values or {}) - set(PARAMETERS))
            if unknown:
                raise SparseParamsError(f"{path}: field presets.{name}.bounds.{bound}.{unknown[0]}: unknown parameter")
    return spec


def _fraction(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise SparseParamsError(f"{where}: must be a number in [0, 1], got {value!r}")
    return float(value)


def _choice(value: Any, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise SparseParamsError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value


def _int(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SparseParamsError(f"{where}: must be an integer >= {minimum}, got {value!r}")
    return value


def _names(value: Any, keyword: str, where: str) -> str | tuple[str, ...]:
    if value == keyword:
        return keyword
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SparseParamsError(f"{where}: must be {keyword!r} or a list of level names, got {value!r}")
    return tuple(value)


def _scope(value: Any, where: str) -> Scope:
    if not isinstance(value, dict) or set(value) != {"parts", "kinds"}:
        raise SparseParamsError(f"{where}: must be a mapping with exactly the keys parts and kinds, got {value!r}")
    parts, kinds = value["parts"], value["kinds"]
    for items, known, key in ((parts, LAYER_PARTS, "parts"), (kinds, LAYER_KINDS, "kinds")):
        if not isinstance(items, list) or any(x not in known for x in items):
            raise SparseParamsError(f"{where}.{key}: must be a list of {', '.join(known)}, got {items!r}")
    return Scope(tuple(parts), tuple(kinds))


def _table(ert: str, where: str, path: Path, energy_table):
    """The energy table table-derived values come from: `energy_table` when given, else the `ert` parameter's."""
    if energy_table is not None:
        return energy_table
    from specs.energy import find_energy_table, load_ert

    table_path = (path.parent / ert).resolve()
    try:
        if table_path.is_dir():
            table_path = find_energy_table(table_path)
        return load_ert(table_path)
    except (KeyError, ValueError) as exc:
        raise SparseParamsError(f"{where}: {table_path}: cannot read an energy table ({exc})") from None


def _gating_ratio(value: Any, table: Callable[[], Any], where: str) -> float:
    if value != "ert":
        return _fraction(value, where)
    ert = table()
    try:
        return ert.energy("mac", "mac_gated") / ert.energy("mac", "mac_random")
    except (KeyError, ValueError, ZeroDivisionError) as exc:
        raise SparseParamsError(
            f"{where}: {ert.source}: no usable mac mac_gated / mac_random energies ({exc})"
        ) from None


def _energy(value: Any, table: Callable[[], Any], where: str) -> float:
    """pJ, or {component, action, arguments} looked up in the energy table."""
    if isinstance(value, dict):
        if (
            set(value) - {"component", "action", "arguments"}
            or not isinstance(value.get("component"), str)
            or not isinstance(value.get("action"), str)
            or not isinstance(value.get("arguments") or {}, dict)
        ):
            raise SparseParamsError(f"{where}: a table reference is {{component, action, arguments}}, got {value!r}")
        ert = table()
        try:
            return float(ert.energy(value["component"], value["action"], **(value.get("arguments") or {})))
        except (KeyError, ValueError) as exc:
            raise SparseParamsError(f"{where}: {ert.source}: {exc}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise SparseParamsError(f"{where}: must be a number of pJ >= 0 or a table reference, got {value!r}")
    return float(value)


def _idle_pe(value: Any, table: Callable[[], Any], where: str) -> float:
    """pJ, or 'ert': the idle actions of every component that sits beside the MAC in a PE."""
    if value != "ert":
        return _energy(value, table, where)
    from specs.energy import short_name, strip_ranges

    ert = table()
    macs = [name for name in ert.names() if short_name(name) == "mac"]
    if len(macs) != 1 or "." not in strip_ranges(macs[0]):
        raise SparseParamsError(f"{where}: {ert.source}: needs exactly one component 'mac' inside a PE, got {macs}")
    pe = macs[0].rsplit(".", 1)[0] + "."
    try:
        return sum(ert.max_energy(name, "idle") for name in ert.names() if name.startswith(pe))
    except KeyError as exc:
        raise SparseParamsError(f"{where}: {ert.source}: {exc}") from None


def _build(
    preset: str, raw: dict, where: dict, path: Path, overrides: dict, bound: str | None = None, energy_table=None
) -> SparseParams:
    targets = raw["target_sparsity"]
    if not isinstance(targets, dict) or set(targets) != set(LAYER_KINDS):
        raise SparseParamsError(
            f"{where['target_sparsity']}: must map every layer kind ({', '.join(LAYER_KINDS)}) "
            f"to a removed fraction, got {targets!r}"
        )
    targets = {k: _fraction(v, f"{where['target_sparsity']}.{k}") for k, v in targets.items()}
    pe_level = raw["pe_level"]
    if pe_level is not None and not isinstance(pe_level, str):
        raise SparseParamsError(f"{where['pe_level']}: must be a level name or null, got {pe_level!r}")
    density = raw["density"] if raw["density"] == "measured" else _fraction(raw["density"], where["density"])
    if not isinstance(raw["keep_bandwidth_slowdown"], bool):
        raise SparseParamsError(f"{where['keep_bandwidth_slowdown']}: must be true or false")
    tensors = raw["operand_tensors"]
    if not isinstance(tensors, list) or any(t not in ("Inputs", "Outputs") for t in tensors):
        raise SparseParamsError(f"{where['operand_tensors']}: must be a list of Inputs, Outputs, got {tensors!r}")
    if not isinstance(raw["ert"], str):
        raise SparseParamsError(f"{where['ert']}: must be a path, got {raw['ert']!r}")
    loaded: list = []

    def table():  # read on first use only
        if not loaded:
            loaded.append(_table(raw["ert"], where["ert"], path, energy_table))
        return loaded[0]

    return SparseParams(
        preset=preset,
        target_sparsity=targets,
        pe_level=pe_level,
        groups=_choice(raw["groups"], ("all", "first"), where["groups"]),
        keep_bandwidth_slowdown=raw["keep_bandwidth_slowdown"],
        cycle_scope=_scope(raw["cycle_scope"], where["cycle_scope"]),
        density=density,
        word_bits=_int(raw["word_bits"], where["word_bits"], 1),
        index_bits=_int(raw["index_bits"], where["index_bits"], 0),
        index_model=_choice(raw["index_model"], ("kept", "pruned"), where["index_model"]),
        weight_levels=_names(raw["weight_levels"], "all", where["weight_levels"]),
        operand_levels=_names(raw["operand_levels"], "pe", where["operand_levels"]),
        operand_tensors=tuple(tensors),
        operand_accesses=_choice(raw["operand_accesses"], ("mac", "all"), where["operand_accesses"]),
        mac_gating_ratio=_gating_ratio(raw["mac_gating_ratio"], table, where["mac_gating_ratio"]),
        ert=raw["ert"],
        base_energy=_choice(raw["base_energy"], BASE_ENERGY_MODES, where["base_energy"]),
        energy_scope=_scope(raw["energy_scope"], where["energy_scope"]),
        index_decode_pJ=_energy(raw["index_decode"], table, where["index_decode"]),
        pointer_bits=_int(raw["pointer_bits"], where["pointer_bits"], 0),
        idle_pe_pJ=_idle_pe(raw["idle_pe"], table, where["idle_pe"]),
        bound=bound,
        overrides=overrides,
    )
