"""Per-level, per-tensor tile results shared by the reference and the fast nest analysis,
and the tile post-processing both use (collapse into storage levels, partition sizes,
fills, bypass masking) with Timeloop's semantics."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise


@dataclass
class LoopTile:
    """What the nest analysis records for one (valid) loop and one tensor."""

    size: int  # largest working set ever seen at this loop (per instance)
    accesses: list[int]  # data delivered to the level below, by multicast factor (index = factor-1)
    scatter: list[int]  # distinct destinations per multicast factor
    replication: int  # instances of this loop's level (product of enclosing spatial factors)
    is_master_spatial: bool = False


@dataclass
class TileStats:
    """One tensor at one storage level after collapsing (Timeloop's `TileInfo`)."""

    size: int  # utilized capacity per instance
    partition_size: int
    content_accesses: int  # accesses to this level's contents (per instance)
    fills: int  # words written into this level from its parent (per instance)
    instances: int  # utilized instances
    accesses: list[int] = field(default_factory=list)  # network deliveries to the level below, by multicast
    scatter: list[int] = field(default_factory=list)
    partition_denominator: int = 0


@dataclass
class NestStats:
    """Result of a nest analysis: tiles[storage level][tensor], plus compute facts."""

    tiles: list[list[TileStats]]
    compute_cycles: int  # temporal iterations (cycles of one MAC)
    mac_instances: int  # utilized arithmetic instances


def collapse(levels: list[list[LoopTile]], keep: list[bool]) -> list[TileStats]:
    """Collapse the per-loop tiles of one tensor into storage-level tiles.

    `levels[i]` holds the valid loops (temporal loops and master spatial loops) of
    storage level i, innermost first. Size and instances come from the outermost
    loop, accesses from the innermost one.
    """
    out: list[TileStats] = []
    for loops in levels:
        inner, outer = loops[0], loops[-1]
        if out:
            out[-1].partition_denominator = inner.size if inner.is_master_spatial else out[-1].size
        out.append(
            TileStats(
                size=outer.size,
                partition_size=0,
                content_accesses=sum(inner.accesses),
                fills=0,
                instances=outer.replication,
                accesses=list(inner.accesses),
                scatter=list(inner.scatter),
            )
        )
    _partition_sizes(out)
    _fills(out)
    _mask(out, keep)
    return out


def _partition_sizes(tiles: list[TileStats]) -> None:
    partition = tiles[-1].size
    tiles[-1].partition_size = partition
    for tile in reversed(tiles[:-1]):
        if tile.partition_denominator:
            partition = partition * tile.size // tile.partition_denominator
        tile.partition_size = partition


def _fills(tiles: list[TileStats]) -> None:
    for inner, outer in pairwise(tiles):
        inner.fills = sum(acc // sc for acc, sc in zip(outer.accesses, outer.scatter, strict=True) if acc)


def _mask(tiles: list[TileStats], keep: list[bool]) -> None:
    """Bypass: a level that does not keep the tensor passes its content accesses up.

    The parent's content accesses become the child's times the parent's scatter
    factor; fills are not touched (they were computed before masking).
    """
    last = len(tiles) - 1
    for cur, tile in enumerate(tiles):
        if keep[cur] or tile.size == 0:
            continue
        if cur == last:
            tiles[cur] = TileStats(0, 0, 0, 0, tile.instances)
            continue
        outer = tiles[cur + 1]
        outer.content_accesses = 0
        for i, acc in enumerate(outer.accesses):
            if acc:
                moved = tile.content_accesses * outer.scatter[i]
                outer.content_accesses += moved
                outer.accesses[i] = moved
        tile.size = tile.partition_size = tile.content_accesses = tile.fills = 0
