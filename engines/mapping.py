"""A mapping as a loop nest, in the order Timeloop prints it in map.txt (outermost level first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod


@dataclass(frozen=True)
class Loop:
    """`for dim in [0:bound)`; spatial is None (temporal), "X" or "Y"."""

    dim: str
    bound: int
    spatial: str | None = None

    def to_dict(self) -> dict:
        return {"dim": self.dim, "bound": self.bound, "spatial": self.spatial}

    @classmethod
    def from_dict(cls, data: dict) -> Loop:
        return cls(data["dim"], int(data["bound"]), data.get("spatial"))

    def __str__(self) -> str:
        suffix = f" (Spatial-{self.spatial})" if self.spatial else ""
        return f"for {self.dim} in [0:{self.bound}){suffix}"


@dataclass(frozen=True)
class LevelMapping:
    """The loops that belong to one storage level, outermost first.

    Temporal loops come first, then the spatial loops that fan this level's
    tile out to the instances of the next level down (as in map.txt).
    `keep` lists the tensors stored at this level; `tile` the tile size per
    kept tensor (the numbers in map.txt's `[ Weights:n ... ]` header).
    """

    level: str
    loops: tuple[Loop, ...] = ()
    keep: tuple[str, ...] = ()
    tile: dict[str, int] = field(default_factory=dict)

    def temporal(self) -> tuple[Loop, ...]:
        return tuple(loop for loop in self.loops if loop.spatial is None)

    def spatial(self, axis: str | None = None) -> tuple[Loop, ...]:
        return tuple(loop for loop in self.loops if loop.spatial and (axis is None or loop.spatial == axis))

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "loops": [loop.to_dict() for loop in self.loops],
            "keep": list(self.keep),
            "tile": dict(self.tile),
        }

    @classmethod
    def from_dict(cls, data: dict) -> LevelMapping:
        return cls(
            data["level"],
            tuple(Loop.from_dict(x) for x in data.get("loops", [])),
            tuple(data.get("keep", [])),
            {k: int(v) for k, v in data.get("tile", {}).items()},
        )


@dataclass(frozen=True)
class Mapping:
    """Storage levels outermost (DRAM) first, down to the innermost storage level."""

    levels: tuple[LevelMapping, ...]

    def level(self, name: str) -> LevelMapping:
        for lvl in self.levels:
            if lvl.level == name:
                return lvl
        raise KeyError(f"mapping has no level {name!r}; levels are {[x.level for x in self.levels]}")

    def factors(self, dim: str) -> int:
        """Product of all loop bounds over `dim` (equals the problem dimension for a complete mapping)."""
        return prod(loop.bound for lvl in self.levels for loop in lvl.loops if loop.dim == dim)

    def all_loops(self) -> list[tuple[str, Loop]]:
        """(level name, loop) pairs, outermost first."""
        return [(lvl.level, loop) for lvl in self.levels for loop in lvl.loops]

    def to_dict(self) -> dict:
        return {"levels": [lvl.to_dict() for lvl in self.levels]}

    @classmethod
    def from_dict(cls, data: dict) -> Mapping:
        return cls(tuple(LevelMapping.from_dict(x) for x in data["levels"]))

    def __str__(self) -> str:
        """The mapping in Timeloop's map.txt layout."""
        lines: list[str] = []
        depth = 0
        for lvl in self.levels:
            header = " ".join(f"{k}:{v}" for k, v in lvl.tile.items())
            title = f"{lvl.level} [ {header} ] " if header else f"{lvl.level} [ ] "
            lines += [title, "-" * (len(title) - 1)]
            for loop in lvl.loops or (Loop("Q", 1),):
                lines.append("|" + "  " * depth + " " + str(loop))
                depth += 1
            lines.append("")
        return "\n".join(lines)
