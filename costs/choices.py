"""Per-layer choices: bit widths, multiplier, pruning density and bitstream length, from a YAML table.

    # choices.yaml
    defaults:                      # network-wide; every field optional (built-in defaults below)
      weight_bits: 8
      input_bits: 8
      output_bits: 8
      psum_bits: 24
      multiplier: exact
    layers:                        # per-layer overrides, applied in file order (a later match wins)
      head.conv1: {multiplier: mul8u_2AC}
      "b*.conv": {weight_bits: 6, multiplier: drum6}     # glob patterns (fnmatch) over layer names
      tail.*: {multiplier: exact}
    multipliers:                   # optional: product tables and measured costs for multipliers
      mul8u_2AC: {table: tables/mul8u_2AC.bin}           # attach a tf-approximate table to a library circuit
      my_mult: {table: my_mult.bin, relative_power: 0.62, relative_area: 0.55}

Layer names are the zoo's (`head.<name>`, `b<k>.<role>`, `tail.<name>`); `workloads.from_keras` names its
layers the same way. Fields (built-in default = fuseloop's 16-bit reference architecture, unchanged costs):
  weight_bits, input_bits, output_bits, psum_bits   int 1..32 (default 16)
  multiplier        exact | mul8u_<ID> | trunc<k> | bam_h<h>_v<v> | mitchell | drum<k> | table:<path> | a
                    `multipliers:` name (costs/multipliers.py); approximate ones are 8x8: weight and input <= 8 bits
  density           fraction of weights kept after pruning, (0, 1] (default 1)
  bitstream_length  cycles N of a stochastic bitstream, >= 1 (default 1024)
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from specs.io import read_yaml

from .multipliers import TABLE_PREFIX, Multiplier, MultiplierError, library_multiplier, table_multiplier

BIT_FIELDS = ("weight_bits", "input_bits", "output_bits", "psum_bits")
FIELDS = BIT_FIELDS + ("multiplier", "density", "bitstream_length")
TOP_KEYS = ("defaults", "layers", "multipliers")
MULTIPLIER_KEYS = ("table", "relative_power", "relative_area")
APPROX_OPERAND_BITS = 8  # every approximate multiplier here is an 8x8 circuit


class ChoicesError(ValueError):
    """A choices table that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class LayerChoice:
    """The resolved choices of one layer (hashable: usable as a cache key)."""

    weight_bits: int = 16
    input_bits: int = 16
    output_bits: int = 16
    psum_bits: int = 16
    multiplier: Multiplier = field(default_factory=lambda: library_multiplier("exact"))
    density: float = 1.0
    bitstream_length: int = 1024

    def __post_init__(self) -> None:
        if not self.multiplier.is_exact and self.mul_bits > APPROX_OPERAND_BITS:
            raise ValueError(
                f"multiplier {self.multiplier.name} is an 8x8 circuit but weight_bits={self.weight_bits}, "
                f"input_bits={self.input_bits} (both must be <= 8)"
            )

    @property
    def mul_bits(self) -> int:
        """Operand width of the multiplier: max(weight, input)."""
        return max(self.weight_bits, self.input_bits)

    def with_(self, **changes: Any) -> LayerChoice:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["multiplier"] = self.multiplier.name
        return data


DEFAULT_CHOICE = LayerChoice()


@runtime_checkable
class _HasLayers(Protocol):
    """A Network, or anything else that lists its layers."""

    def layers(self) -> Iterable[Any]: ...


class _Where:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, field_name: str, message: str) -> ChoicesError:
        return ChoicesError(f"{self.source}: field {field_name}: {message}")


@dataclass(frozen=True)
class ChoiceTable:
    """Defaults plus ordered (pattern, fields) overrides; `multipliers` holds the resolved user definitions."""

    defaults: Mapping[str, Any] = field(default_factory=dict)
    rules: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    multipliers: Mapping[str, Multiplier] = field(default_factory=dict)
    source: str = "<choices>"

    def for_layer(self, name: str) -> LayerChoice:
        values = dict(self.defaults)
        for pattern, fields in self.rules:
            if fnmatch.fnmatchcase(name, pattern):
                values.update(fields)
        try:
            return LayerChoice(**values)
        except ValueError as exc:
            raise ChoicesError(f"{self.source}: layer {name}: {exc}") from None

    def resolve(self, layers: _HasLayers | Iterable[Any], strict: bool = True) -> dict[str, LayerChoice]:
        """{layer name: LayerChoice} for a Network (its `.layers()`) or any iterable of layers / names.
        strict: a `layers:` pattern that matches no layer is an error (a typo would otherwise go unnoticed)."""
        items = layers.layers() if isinstance(layers, _HasLayers) else layers
        names = [getattr(layer, "name", layer) for layer in items]
        if strict:
            for pattern, _ in self.rules:
                if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
                    shown = ", ".join(names[:6]) + (f", ... ({len(names)} layers)" if len(names) > 6 else "")
                    raise _Where(self.source).error(f"layers.{pattern}", f"matches no layer (layers: {shown})")
        return {name: self.for_layer(name) for name in names}

    def with_layer(self, pattern: str, **fields: Any) -> ChoiceTable:
        """A copy with one more override (given as resolved values, e.g. multiplier=library_multiplier('drum4'))."""
        return replace(self, rules=self.rules + ((pattern, dict(fields)),))

    def to_dict(self) -> dict[str, Any]:
        """Canonical plain form (multipliers by name): a stable settings value for the workflow."""

        def plain(fields: Mapping[str, Any]) -> dict[str, Any]:
            return {k: (v.name if isinstance(v, Multiplier) else v) for k, v in fields.items()}

        out: dict[str, Any] = {"defaults": plain(self.defaults), "layers": {p: plain(f) for p, f in self.rules}}
        if self.multipliers:
            out["multipliers"] = {}
            for name, m in self.multipliers.items():
                user = m.power_source == "user"  # published / estimated costs come back from the library
                entry = {
                    "table": str(m.table_path) if m.table_path else None,
                    "relative_power": m.relative_power if user else None,
                    "relative_area": m.relative_area if user else None,
                }
                out["multipliers"][name] = {k: v for k, v in entry.items() if v is not None}
        return out


def load_choices(path: str | Path) -> ChoiceTable:
    path = Path(path)
    data = read_yaml(path, "choices table", ChoicesError)
    return parse_choices(data if data is not None else {}, source=str(path), base_dir=path.parent)


def parse_choices(data: Any, source: str = "<choices>", base_dir: str | Path = ".") -> ChoiceTable:
    """A ChoiceTable from the YAML's data (e.g. an inline `choices:` section of a workflow config)."""
    where, base = _Where(source), Path(base_dir)
    if not isinstance(data, dict):
        raise where.error("(top level)", f"expected a mapping with {', '.join(TOP_KEYS)}, got {type(data).__name__}")
    _no_unknown(data, TOP_KEYS, where, "(top level)")
    multipliers = _user_multipliers(data.get("multipliers") or {}, where, base)
    defaults = _fields(data.get("defaults") or {}, where, "defaults", multipliers, base)
    layers = data.get("layers") or {}
    if not isinstance(layers, dict):
        raise where.error("layers", f"expected a mapping of layer name or pattern -> fields, got {layers!r}")
    rules = tuple((str(p), _fields(f, where, f"layers.{p}", multipliers, base)) for p, f in layers.items())
    table = ChoiceTable(defaults, rules, multipliers, source)
    table.for_layer("")  # the defaults alone must be a valid choice
    return table


def _no_unknown(data: dict, allowed: tuple[str, ...], where: _Where, field_name: str) -> None:
    unknown = sorted(str(k) for k in set(data) - set(allowed))
    if unknown:
        raise where.error(field_name, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})")


def _fields(data: Any, where: _Where, at: str, multipliers: Mapping[str, Multiplier], base: Path) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise where.error(at, f"expected a mapping of {', '.join(FIELDS)}, got {data!r}")
    _no_unknown(data, FIELDS, where, at)
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{at}.{key}"
        if key in BIT_FIELDS or key == "bitstream_length":
            low, high = (1, 32) if key in BIT_FIELDS else (1, 10**9)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise where.error(name, f"expected an integer in {low}..{high}, got {value!r}")
        elif key == "density":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 1:
                raise where.error(name, f"expected a fraction of weights kept in (0, 1], got {value!r}")
            value = float(value)
        else:
            value = _multiplier(value, where, name, multipliers, base)
        out[key] = value
    return out


def _multiplier(value: Any, where: _Where, at: str, user: Mapping[str, Multiplier], base: Path) -> Multiplier:
    if not isinstance(value, str):
        raise where.error(at, f"expected a multiplier name, got {value!r}")
    if value in user:
        return user[value]
    try:
        if value.startswith(TABLE_PREFIX):  # named by the resolved path, so to_dict() round-trips from "."
            path = base / value[len(TABLE_PREFIX) :]
            return table_multiplier(path, name=f"{TABLE_PREFIX}{path}")
        return library_multiplier(value)
    except (MultiplierError, ValueError) as exc:
        raise where.error(at, str(exc)) from None


def _user_multipliers(data: Any, where: _Where, base: Path) -> dict[str, Multiplier]:
    if not isinstance(data, dict):
        raise where.error("multipliers", f"expected a mapping of name -> {{{', '.join(MULTIPLIER_KEYS)}}}")
    out: dict[str, Multiplier] = {}
    for name, spec in data.items():
        at = f"multipliers.{name}"
        if not isinstance(spec, dict):
            raise where.error(at, f"expected a mapping with {', '.join(MULTIPLIER_KEYS)}, got {spec!r}")
        _no_unknown(spec, MULTIPLIER_KEYS, where, at)
        costs = {}
        for key in ("relative_power", "relative_area"):
            value = spec.get(key)
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
                raise where.error(f"{at}.{key}", f"expected a non-negative number, got {value!r}")
            costs[key] = None if value is None else float(value)
        try:
            library = library_multiplier(str(name))
        except MultiplierError:
            library = None
        if "table" not in spec:
            if library is None:
                raise where.error(f"{at}.table", "a new multiplier needs a product table (tf-approximate .bin)")
            power, area = costs["relative_power"], costs["relative_area"]
            out[str(name)] = replace(
                library,
                power_source="user" if power is not None else library.power_source,
                relative_power=library.relative_power if power is None else power,
                relative_area=library.relative_area if area is None else area,
            )
            continue
        try:
            out[str(name)] = table_multiplier(base / str(spec["table"]), name=str(name), base=library, **costs)
        except MultiplierError as exc:
            raise where.error(f"{at}.table", str(exc)) from None
    return out
