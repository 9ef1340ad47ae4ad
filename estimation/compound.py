"""Price an arch component: a primitive directly (primitives.py), a compound class (components/*.yaml) by
expanding it as Accelergy v0.3 does.

A compound action's energy, for each combination of its arguments, is the sum over the subcomponent actions it
lists of (instances named) x (repeat) x the subcomponent's energy for that action and its evaluated arguments;
e.g. smartbuffer_SRAM read(address_delta, data_delta) = storage read(address_delta, data_delta) + one
address_generators[1] add + one address_generators[0] idle. Its area is the sum of its subcomponents' areas
times their instance counts. Subcomponent attributes are expressions over the compound's attributes
(`width: memory_width`, `width: log(memory_depth)`); subcomponents may be compound classes themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from specs.components import SpecError, argument_ranges, evaluate, instance_range

from . import primitives


@dataclass(frozen=True)
class Priced:
    """Energy per action (pJ, argument combination as Accelergy lists it) and area (um^2) of one component."""

    actions: list[tuple[str, dict[str, int] | None, float]]
    area_um2: float
    model: str


@dataclass(frozen=True)
class _Unit:
    """A priced class instance: actions with argument ranges, energy function, area."""

    actions: dict[str, dict[str, Any] | None]
    energy: Callable[[str, dict[str, int] | None], float]
    area_um2: float
    model: str


class Pricer:
    """Prices components of one arch directory; primitives with equal attributes are priced once."""

    def __init__(self, classes: dict[str, dict]):
        self.classes = classes
        self._primitives: dict[tuple, _Unit] = {}

    def component(self, cls: str, attributes: dict[str, Any], where: str) -> Priced:
        unit = self._unit(cls, attributes, where, ())
        rows = []
        for action, ranges in unit.actions.items():
            for arguments in argument_ranges(
                ranges,
                attributes if cls in self.classes else {"n_banks": attributes.get("n_banks", 1), **attributes},
                f"{where}: action {action}",
            ):
                rows.append((action, arguments, unit.energy(action, arguments)))
        return Priced(rows, unit.area_um2, unit.model)

    def _unit(self, cls: str, attributes: dict[str, Any], where: str, stack: tuple[str, ...]) -> _Unit:
        if cls in self.classes:
            if cls in stack:
                raise SpecError(f"{where}: compound class {cls!r} contains itself ({' -> '.join(stack + (cls,))})")
            return self._compound(self.classes[cls], attributes, where, stack + (cls,))
        key = (cls, tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in self._primitives:
            primitive = primitives.price(cls, attributes, where)
            self._primitives[key] = _Unit(primitive.actions, primitive.energy, primitive.area_um2, primitive.model)
        return self._primitives[key]

    def _compound(self, spec: dict, attributes: dict[str, Any], where: str, stack: tuple[str, ...]) -> _Unit:
        source = f"{spec.get('_source', 'components/')}: class {spec['name']}"
        attributes = {**(spec.get("attributes") or {}), **attributes}
        subunits: dict[str, tuple[_Unit, int, int]] = {}
        for i, sub in enumerate(spec.get("subcomponents") or []):
            if not isinstance(sub, dict) or "name" not in sub or "class" not in sub:
                raise SpecError(f"{source}: subcomponents[{i}] needs a 'name' and a 'class'")
            base, lo, hi = instance_range(str(sub["name"]), source)
            sub_where = f"{where} ({spec['name']}.{base}, class {sub['class']})"
            sub_attributes = {
                key: evaluate(value, attributes, f"{source}: {base}.{key}")
                for key, value in (sub.get("attributes") or {}).items()
            }
            subunits[base] = (self._unit(str(sub["class"]), sub_attributes, sub_where, stack), lo, hi)
        actions = {}
        for i, action in enumerate(spec.get("actions") or []):
            if not isinstance(action, dict) or "name" not in action:
                raise SpecError(f"{source}: actions[{i}] needs a 'name'")
            actions[str(action["name"])] = action
        if not actions:
            raise SpecError(f"{source}: defines no actions")
        for action in actions.values():  # fail early on calls to undefined subcomponents or actions
            for call in action.get("subcomponents") or []:
                self._calls(call, subunits, source, action["name"])

        def energy(name: str, arguments: dict[str, int] | None) -> float:
            bindings = {**attributes, **(arguments or {})}
            total = 0.0
            for call in actions[name].get("subcomponents") or []:
                unit, count, sub_actions = self._calls(call, subunits, source, name)
                for sub_action in sub_actions:
                    where = f"{source}: action {name} -> {call['name']}.{sub_action['name']}"
                    sub_arguments = {
                        key: evaluate(value, bindings, where)
                        for key, value in (sub_action.get("arguments") or {}).items()
                    } or None
                    repeat = evaluate(sub_action.get("repeat", 1), bindings, where)
                    total += count * float(repeat) * unit.energy(str(sub_action["name"]), sub_arguments)
            return total

        area = sum(unit.area_um2 * (hi - lo + 1) for unit, lo, hi in subunits.values())
        models = "; ".join(f"{base}[{hi - lo + 1}]: {unit.model}" for base, (unit, lo, hi) in subunits.items())
        return _Unit(
            {name: action.get("arguments") for name, action in actions.items()},
            energy,
            area,
            f"{spec['name']} = {models}",
        )

    @staticmethod
    def _calls(
        call: dict, subunits: dict[str, tuple[_Unit, int, int]], source: str, action: str
    ) -> tuple[_Unit, int, list[dict]]:
        if not isinstance(call, dict) or "name" not in call:
            raise SpecError(f"{source}: action {action}: a subcomponent entry needs a 'name'")
        base, lo, hi = instance_range(str(call["name"]), f"{source}: action {action}")
        if base not in subunits:
            raise SpecError(
                f"{source}: action {action} calls {call['name']!r}, which is not a subcomponent ({', '.join(subunits)})"
            )
        unit, first, last = subunits[base]
        if lo < first or hi > last:
            raise SpecError(f"{source}: action {action} calls {call['name']!r}, outside {base}[{first}..{last}]")
        calls = call.get("actions") or []
        for sub_action in calls:
            if not isinstance(sub_action, dict) or sub_action.get("name") not in unit.actions:
                name = sub_action.get("name") if isinstance(sub_action, dict) else sub_action
                raise SpecError(
                    f"{source}: action {action} calls {base} action {name!r}, which its class does "
                    f"not define (actions: {', '.join(unit.actions)})"
                )
        return unit, hi - lo + 1, calls
