"""`Network` and `Block`: a CNN as head layers, bottleneck blocks and tail layers.

Layer names are unique within a network: `head.<name>`, `b<k>.<role>` (k 1-based), `tail.<name>`.
A baseline block holds decom / conv / comp (plus se_reduce / se_expand where the network has
squeeze-and-excite); a fused (ARCHON) block holds its prediction layers and `main`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .layer import Layer

VARIANTS = ("baseline", "fused")


@dataclass(frozen=True)
class Block:
    """One bottleneck block.

    in_ch / mid_ch / out_ch: channels entering, expanded inside, and leaving the block.
    pixels: output feature-map side; stride: the block's spatial stride (on its k x k layer);
    kernel: k of the k x k layer; groups: G of the grouped 1x1 layers (1 = dense).
    pred_bits / prune_factor: ARCHON knobs of a fused block (activation bits of the ReLU-sign
    prediction, fraction of fused weights kept); None for baseline blocks.
    """

    index: int
    in_ch: int
    mid_ch: int
    out_ch: int
    pixels: int
    stride: int
    kernel: int
    groups: int
    layers: tuple[Layer, ...]
    pred_bits: int | None = None
    prune_factor: float | None = None

    @property
    def residual(self) -> bool:
        """True when the block has an identity shortcut (same width, stride 1)."""
        return self.in_ch == self.out_ch and self.stride == 1

    def layer(self, role: str) -> Layer:
        for layer in self.layers:
            if layer.role == role:
                return layer
        roles = [layer.role for layer in self.layers]
        raise KeyError(f"block {self.index} has no layer with role {role!r} (roles: {roles})")


@dataclass(frozen=True)
class Network:
    """A network for one dataset and variant (baseline | fused)."""

    name: str
    dataset: str
    variant: str
    num_classes: int
    head: tuple[Layer, ...]
    blocks: tuple[Block, ...]
    tail: tuple[Layer, ...]
    input_size: int = 32
    input_channels: int = 3

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for layer in self.layers():
            if layer.name in seen:
                raise ValueError(
                    f"network {self.name}/{self.dataset}/{self.variant}: duplicate layer name {layer.name!r}"
                )
            seen.add(layer.name)

    def layers(self) -> list[Layer]:
        """Every layer in execution order: head, each block's layers, tail."""
        out = list(self.head)
        for block in self.blocks:
            out.extend(block.layers)
        out.extend(self.tail)
        return out

    def layer(self, name: str) -> Layer:
        for layer in self.layers():
            if layer.name == name:
                return layer
        raise KeyError(f"network {self.name}/{self.dataset}/{self.variant} has no layer {name!r}")

    def block(self, index: int) -> Block:
        """Block by its 1-based index."""
        if not 1 <= index <= len(self.blocks):
            raise KeyError(
                f"network {self.name}/{self.dataset}/{self.variant} has blocks 1..{len(self.blocks)}, not {index}"
            )
        return self.blocks[index - 1]

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers())

    @property
    def key(self) -> str:
        return f"{self.name}/{self.dataset}/{self.variant}"
