"""`LayerStats`: what every engine returns for one layer (energies in pJ).

Levels are kept in Timeloop's numbering: index 0 is the arithmetic level
(the MACs), then storage levels from the innermost to the outermost (DRAM),
exactly as `stats.txt` lists them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .mapping import Mapping

TENSORS = ("Weights", "Inputs", "Outputs")


@dataclass
class TensorStats:
    """One tensor at one storage level. Access counts are per instance, as Timeloop prints them."""

    energy_pJ: float  # total over all instances
    partition_size: int = 0
    utilized_capacity: int = 0
    utilized_instances: int = 0
    reads: int = 0
    updates: int = 0
    fills: int = 0
    energy_per_access_pJ: float = 0.0

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> TensorStats:
        return cls(**data)


@dataclass
class LevelStats:
    """One level. For the arithmetic level `tensors` is empty and `energy_pJ` is the MAC energy."""

    name: str
    instances: int = 1
    utilized_instances: int = 0
    cycles: int = 0
    tensors: dict[str, TensorStats] = field(default_factory=dict)
    arithmetic_energy_pJ: float = 0.0  # only for the arithmetic level

    @property
    def energy_pJ(self) -> float:
        return self.arithmetic_energy_pJ + sum(t.energy_pJ for t in self.tensors.values())

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "instances": self.instances,
            "utilized_instances": self.utilized_instances,
            "cycles": self.cycles,
            "arithmetic_energy_pJ": self.arithmetic_energy_pJ,
            "tensors": {k: v.to_dict() for k, v in self.tensors.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> LevelStats:
        return cls(
            name=data["name"],
            instances=data.get("instances", 1),
            utilized_instances=data.get("utilized_instances", 0),
            cycles=data.get("cycles", 0),
            arithmetic_energy_pJ=data.get("arithmetic_energy_pJ", 0.0),
            tensors={k: TensorStats.from_dict(v) for k, v in data.get("tensors", {}).items()},
        )


@dataclass
class LayerStats:
    """Result of evaluating one Timeloop problem on one architecture.

    total_energy_pJ is the engine's full-precision total (Timeloop's
    `Total topology energy`); it includes network energy when there is any, so
    it can exceed the sum of the levels.
    """

    levels: list[LevelStats]
    cycles: int
    macs: int
    utilization: float
    total_energy_pJ: float
    mapping: Mapping | None = None
    engine: str = ""
    meta: dict = field(default_factory=dict)

    # ---- lookups -------------------------------------------------------
    def level(self, name: str) -> LevelStats:
        for lvl in self.levels:
            if lvl.name == name:
                return lvl
        raise KeyError(f"no level {name!r}; levels are {[x.name for x in self.levels]}")

    def energy(self, level: str, tensor: str | None = None) -> float:
        """pJ at `level` (all tensors, or one; 0.0 when the tensor bypasses that level)."""
        lvl = self.level(level)
        if tensor is None:
            return lvl.energy_pJ
        stats = lvl.tensors.get(tensor)
        return stats.energy_pJ if stats else 0.0

    @property
    def mac_energy_pJ(self) -> float:
        return self.levels[0].arithmetic_energy_pJ

    @property
    def energy_uJ(self) -> float:
        return self.total_energy_pJ * 1e-6

    def energy_table(self) -> dict[tuple[str, str], float]:
        """{(level, tensor): pJ}; the MAC energy is under (arithmetic level name, "MAC")."""
        table = {(self.levels[0].name, "MAC"): self.mac_energy_pJ}
        for lvl in self.levels[1:]:
            for tensor, stats in lvl.tensors.items():
                table[(lvl.name, tensor)] = stats.energy_pJ
        return table

    # ---- JSON ------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "engine": self.engine,
            "cycles": self.cycles,
            "macs": self.macs,
            "utilization": self.utilization,
            "total_energy_pJ": self.total_energy_pJ,
            "levels": [lvl.to_dict() for lvl in self.levels],
            "mapping": self.mapping.to_dict() if self.mapping else None,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict) -> LayerStats:
        mapping = data.get("mapping")
        return cls(
            levels=[LevelStats.from_dict(x) for x in data["levels"]],
            cycles=int(data["cycles"]),
            macs=int(data["macs"]),
            utilization=float(data["utilization"]),
            total_energy_pJ=float(data["total_energy_pJ"]),
            mapping=Mapping.from_dict(mapping) if mapping else None,
            engine=data.get("engine", ""),
            meta=data.get("meta", {}),
        )

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1, sort_keys=False)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> LayerStats:
        if isinstance(text_or_path, Path) or not text_or_path.lstrip().startswith("{"):
            text = Path(text_or_path).read_text()
        else:
            text = text_or_path
        return cls.from_dict(json.loads(text))
