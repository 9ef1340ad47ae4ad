"""Accelergy v0.3 primitive classes priced with the hwcomponents model packages (pJ per action, um^2).

    class          model (hwcomponents package)                      actions (arguments)
    SRAM           hwcomponents_cacti.SRAM (CACTI 7)                  read, write (data_delta 0..1,
                                                                       address_delta 0..n_banks), idle
    regfile        width x AladdinRegister bits + depth x AladdinComparator(log2 depth)   same as SRAM
    DRAM           hwcomponents_cacti.LPDDR4 / LPDDR / DDR3 / HBM2..4 (pJ/bit x width)       read, write, idle
    intadder       hwcomponents_library.AladdinAdder                  add, idle
    intmultiplier  hwcomponents_library.AladdinMultiplier             mult_random, mult_reused, mult_gated, idle
    intmac         AladdinAdder + AladdinMultiplier                   mac_random, mac_reused, mac_gated, idle
    counter        hwcomponents_library.AladdinCounter                count, idle
    comparator     hwcomponents_library.AladdinComparator             compare, idle
    FIFO           datawidth x AladdinRegister bits + AladdinComparator(log2 depth)       push, pop, idle

How figures become Accelergy actions follows the Accelergy 0.3 plug-ins that produced the shipped 45 nm table
(arch/energy/accelergy-45nm-16bit.yaml), with hwcomponents supplying every figure:
  * SRAM (CACTI plug-in): E(address_delta a, data_delta d) = idle when a = d = 0, else
    idle x (n_banks - a) / n_banks + access x a / n_banks; idle = CACTI leakage x CACTI cycle time.
  * regfile and FIFO (Aladdin plug-in): a vector access of width registers, plus one log2(depth)-bit comparator
    per row (regfile) or one comparator (FIFO); data_delta 0 leaves the registers idle, address_delta 0 the
    comparators. Area: depth x width register bits plus the comparators.
  * intmac / intmultiplier (Aladdin plug-in): mac = add + multiply; reused = add + 0.85 x multiply;
    gated = add + idle multiplier; idle = both idle.
  * idle of a logic model = its leakage power x 1 ns, the clock of the Aladdin tables.
Primitive attributes as Accelergy names them: SRAM/regfile `width`, `depth`, `n_banks`, `n_rdwr_ports`
(+ `n_rd_ports`, `n_wr_ports`); DRAM `type`, `width`; logic `datawidth` (or `width`); FIFO `datawidth`, `depth`.
A class without a model here (e.g. `bitwise`: no hwcomponents package has a gate-energy model) is an error
naming the component and the class.
"""

from __future__ import annotations

import importlib.metadata
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from specs.components import SpecError

PJ = 1e12  # J -> pJ
UM2 = 1e12  # m^2 -> um^2
LOGIC_CYCLE_S = 1e-9  # clock of the Aladdin tables (global_cycle_period)
REUSED_MULTIPLY = 0.85  # Accelergy Aladdin plug-in: a reused operand costs 0.85 of a random multiply
PACKAGES = ("hwcomponents", "hwcomponents-cacti", "hwcomponents-library", "hwcomponents-neurosim")
STORAGE_ARGUMENTS = {"address_delta": "0..n_banks", "data_delta": "0..1"}
DRAM_TYPES = ("LPDDR4", "LPDDR", "DDR3", "HBM2", "HBM3", "HBM4")


class ModelMissing(SpecError):
    """The hwcomponents packages are not importable, or no model covers a class."""


@dataclass(frozen=True)
class Primitive:
    """A priced primitive: per-action energy (pJ) for each argument combination, area (um^2), provenance."""

    actions: dict[str, dict[str, str] | None]  # action -> argument ranges (None: no arguments)
    energy: Callable[[str, dict[str, int] | None], float]
    area_um2: float
    model: str


def library_versions() -> dict[str, str]:
    """{package: version} of the installed hwcomponents packages; an error naming the missing ones."""
    versions, missing = {}, []
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            missing.append(package)
    if missing:
        raise ModelMissing(
            f"the derived energy tables need {', '.join(missing)} (Python >= 3.12): "
            "pip install -e '.[test]' in a Python 3.12 venv, then python -m estimation.install"
        )
    return versions


def tech_node_m(value: Any, where: str) -> float:
    """`45nm`, `45 nm`, 45 (nm) or 45e-9 (m) -> 4.5e-08."""
    text = str(value).strip().lower()
    match = re.fullmatch(r"([0-9.]+(?:e-?[0-9]+)?)\s*(nm|m)?", text)
    if not match:
        raise SpecError(f"{where}: technology {value!r} is not a size such as 45nm")
    number = float(match[1])
    if match[2] == "nm" or (match[2] is None and number >= 1):
        return number * 1e-9
    return number


def _int(attributes: dict, key: str, where: str, default: Any = None, minimum: int = 1) -> int:
    value = attributes.get(key, default)
    if value is None:
        raise SpecError(f"{where}: attribute {key!r} is required for this class")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{where}: attribute {key} = {value!r} is not a number") from None
    if not number.is_integer() or number < minimum:
        raise SpecError(f"{where}: attribute {key} = {value!r} must be a whole number >= {minimum}")
    return int(number)


def _bits(attributes: dict, where: str) -> int:
    """`datawidth` (Accelergy's name for logic) or `width` (what the compound classes pass); both must agree."""
    values = {key: _int(attributes, key, where) for key in ("datawidth", "width") if key in attributes}
    if not values:
        raise SpecError(f"{where}: attribute 'datawidth' (or 'width') is required for this class")
    if len(set(values.values())) > 1:
        raise SpecError(f"{where}: datawidth {values['datawidth']} and width {values['width']} disagree")
    return next(iter(values.values()))


def _address_bits(depth: int) -> int:
    return max(1, math.ceil(math.log2(depth)))


def _libraries():
    library_versions()
    import hwcomponents_cacti as cacti
    import hwcomponents_library as library

    return cacti, library


def _energy(action_cost: Any) -> float:
    return float(action_cost.energy) * PJ


def _leak_pj(model: Any, cycle_s: float) -> float:
    return float(model.leak_power) * cycle_s * PJ


def _storage_energy(access: dict[str, float], idle: float, n_banks: int) -> Callable:
    def energy(action: str, arguments: dict[str, int] | None) -> float:
        if action == "idle":
            return idle
        a = min((arguments or {}).get("address_delta", n_banks), n_banks)
        d = (arguments or {}).get("data_delta", 1)
        if a == 0 and d == 0:
            return idle
        return idle * (n_banks - a) / n_banks + access[action] * a / n_banks

    return energy


def sram(attributes: dict, tech: float, where: str) -> Primitive:
    cacti, _ = _libraries()
    width, depth = _int(attributes, "width", where), _int(attributes, "depth", where)
    n_banks = _int(attributes, "n_banks", where, default=1)
    ports = (
        sum(_int(attributes, key, where, default=0, minimum=0) for key in ("n_rdwr_ports", "n_rd_ports", "n_wr_ports"))
        or 1
    )
    try:
        model = cacti.SRAM(
            tech_node=tech, width=width, depth=depth, size=width * depth, n_rw_ports=ports, n_banks=n_banks
        )
        access = {"read": _energy(model.read()), "write": _energy(model.write())}
    except Exception as exc:  # noqa: BLE001  (hwcomponents-cacti raises a bare Exception when CACTI fails)
        raise SpecError(
            f"{where}: hwcomponents_cacti.SRAM failed: {str(exc).splitlines()[0]}"
            f"{_CACTI_HINT if 'CACTI failed' in str(exc) else ''}"
        ) from None
    idle = _leak_pj(model, float(model.cycle_period))
    return Primitive(
        {"read": STORAGE_ARGUMENTS, "write": STORAGE_ARGUMENTS, "idle": None},
        _storage_energy(access, idle, n_banks),
        float(model.area) * UM2,
        f"hwcomponents_cacti.SRAM(tech_node={tech:g}, width={width}, depth={depth}, "
        f"n_rw_ports={ports}, n_banks={n_banks})",
    )


_CACTI_HINT = " (if CACTI cannot run on this machine, rebuild it: python -m estimation.install)"


def regfile(attributes: dict, tech: float, where: str) -> Primitive:
    _, library = _libraries()
    width, depth = _int(attributes, "width", where), _int(attributes, "depth", where)
    register = library.AladdinRegister(tech_node=tech, width=width)
    comparator = library.AladdinComparator(tech_node=tech, width=_address_bits(depth))
    reg_access, reg_idle = _energy(register.read()), _leak_pj(register, LOGIC_CYCLE_S)
    cmp_access, cmp_idle = _energy(comparator.compare()), _leak_pj(comparator, LOGIC_CYCLE_S)

    def energy(action: str, arguments: dict[str, int] | None) -> float:
        if action == "idle":
            return reg_idle + depth * cmp_idle
        a, d = (arguments or {}).get("address_delta", 1), (arguments or {}).get("data_delta", 1)
        return (reg_access if d else reg_idle) + depth * (cmp_access if a else cmp_idle)

    area = (depth * float(register.area) + depth * float(comparator.area)) * UM2
    return Primitive(
        {"read": STORAGE_ARGUMENTS, "write": STORAGE_ARGUMENTS, "idle": None},
        energy,
        area,
        f"{width}-bit AladdinRegister x {depth} rows + {depth} x {_address_bits(depth)}-bit "
        f"AladdinComparator (tech_node={tech:g})",
    )


def fifo(attributes: dict, tech: float, where: str) -> Primitive:
    _, library = _libraries()
    width, depth = _bits(attributes, where), _int(attributes, "depth", where)
    register = library.AladdinRegister(tech_node=tech, width=width)
    comparator = library.AladdinComparator(tech_node=tech, width=_address_bits(depth))
    access = _energy(register.read()) + _energy(comparator.compare())
    idle = _leak_pj(register, LOGIC_CYCLE_S) + _leak_pj(comparator, LOGIC_CYCLE_S)
    area = (depth * float(register.area) + float(comparator.area)) * UM2
    return Primitive(
        {"push": None, "pop": None, "idle": None},
        lambda action, _arguments: idle if action == "idle" else access,
        area,
        f"{width}-bit AladdinRegister x {depth} + {_address_bits(depth)}-bit AladdinComparator (tech_node={tech:g})",
    )


def dram(attributes: dict, tech: float, where: str) -> Primitive:
    cacti, _ = _libraries()
    kind, width = str(attributes.get("type", "LPDDR4")), _int(attributes, "width", where, default=64)
    if kind not in DRAM_TYPES:
        raise SpecError(f"{where}: DRAM type {kind!r} has no hwcomponents model (types: {', '.join(DRAM_TYPES)})")
    try:
        model = getattr(cacti, kind)(width=width)
    except (AssertionError, ValueError) as exc:
        raise SpecError(f"{where}: hwcomponents_cacti.{kind}(width={width}): {exc}") from None
    access = {"read": _energy(model.read()), "write": _energy(model.write()), "idle": 0.0}
    return Primitive(
        {"read": None, "write": None, "idle": None},
        lambda action, _arguments: access[action],
        float(model.area) * UM2,
        f"hwcomponents_cacti.{kind}(width={width})",
    )


def _logic(model: Any, actions: dict[str, float], description: str) -> Primitive:
    table = {**actions, "idle": _leak_pj(model, LOGIC_CYCLE_S)}
    return Primitive(
        {name: None for name in table}, lambda action, _arguments: table[action], float(model.area) * UM2, description
    )


def intadder(attributes: dict, tech: float, where: str) -> Primitive:
    _, library = _libraries()
    bits = _bits(attributes, where)
    model = library.AladdinAdder(tech_node=tech, width=bits)
    return _logic(model, {"add": _energy(model.add())}, f"hwcomponents_library.AladdinAdder(width={bits})")


def counter(attributes: dict, tech: float, where: str) -> Primitive:
    _, library = _libraries()
    bits = _bits(attributes, where)
    model = library.AladdinCounter(tech_node=tech, width=bits)
    return _logic(model, {"count": _energy(model.count())}, f"hwcomponents_library.AladdinCounter(width={bits})")


def comparator(attributes: dict, tech: float, where: str) -> Primitive:
    _, library = _libraries()
    bits = _bits(attributes, where)
    model = library.AladdinComparator(tech_node=tech, width=bits)
    return _logic(model, {"compare": _energy(model.compare())}, f"hwcomponents_library.AladdinComparator(width={bits})")


def intmultiplier(attributes: dict, tech: float, where: str) -> Primitive:
    _, library = _libraries()
    bits = _bits(attributes, where)
    model = library.AladdinMultiplier(tech_node=tech, width=bits)
    multiply, idle = _energy(model.multiply()), _leak_pj(model, LOGIC_CYCLE_S)
    table = {"mult_random": multiply, "mult_reused": REUSED_MULTIPLY * multiply, "mult_gated": idle, "idle": idle}
    return Primitive(
        {name: None for name in table},
        lambda action, _arguments: table[action],
        float(model.area) * UM2,
        f"hwcomponents_library.AladdinMultiplier(width={bits})",
    )


def intmac(attributes: dict, tech: float, where: str) -> Primitive:
    _, library = _libraries()
    bits = _bits(attributes, where)
    adder_bits = _int(attributes, "adder_width", where, default=bits)
    multiplier_bits = _int(attributes, "multiplier_width", where, default=bits)
    adder = library.AladdinAdder(tech_node=tech, width=adder_bits)
    multiplier = library.AladdinMultiplier(tech_node=tech, width=multiplier_bits)
    add, multiply = _energy(adder.add()), _energy(multiplier.multiply())
    add_idle, multiply_idle = _leak_pj(adder, LOGIC_CYCLE_S), _leak_pj(multiplier, LOGIC_CYCLE_S)
    table = {
        "mac_random": add + multiply,
        "mac_reused": add + REUSED_MULTIPLY * multiply,
        "mac_gated": add + multiply_idle,
        "idle": add_idle + multiply_idle,
    }
    return Primitive(
        {name: None for name in table},
        lambda action, _arguments: table[action],
        (float(adder.area) + float(multiplier.area)) * UM2,
        f"hwcomponents_library.AladdinAdder(width={adder_bits}) + AladdinMultiplier(width={multiplier_bits})",
    )


MODELS: dict[str, Callable[[dict, float, str], Primitive]] = {
    "SRAM": sram,
    "regfile": regfile,
    "DRAM": dram,
    "intadder": intadder,
    "intmac": intmac,
    "intmultiplier": intmultiplier,
    "counter": counter,
    "comparator": comparator,
    "FIFO": fifo,
}


def price(cls: str, attributes: dict, where: str) -> Primitive:
    """The priced primitive of class `cls` with `attributes`; an error naming `where` and the class if no model
    covers it or its attributes are unusable."""
    if cls not in MODELS:
        raise ModelMissing(
            f"{where}: class {cls!r} has no hwcomponents model (covered: {', '.join(MODELS)}, and "
            "compound classes from components/*.yaml); give its figures in an Accelergy ERT.yaml "
            "beside arch.yaml (it takes precedence over generated tables)"
        )
    tech = tech_node_m(attributes.get("technology", "45nm"), where)
    try:
        return MODELS[cls](attributes, tech, where)
    except AssertionError as exc:  # hwcomponents' range checks (e.g. tech node out of range)
        raise SpecError(f"{where}: the {cls} model refuses these attributes: {exc}") from None
