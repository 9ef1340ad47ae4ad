"""The `Layer` model: one CNN layer of a network, independent of any simulator.

Channel counts are the layer's *true* counts. How a layer becomes one or more
Timeloop problems (depthwise as a coupled shape or as the paper's C=1 form, a
grouped 1x1 as one group repeated G times) is decided in `workloads.problem`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

KINDS = ("conv", "depthwise", "pointwise", "grouped-pointwise", "fc", "grouped-conv")
PARTS = ("head", "body", "tail")
ROLES = (
    "layer",  # an ordinary head/tail layer
    "decom",  # baseline bottleneck: first 1x1 (expansion, "PW1")
    "conv",  # baseline bottleneck: depthwise k x k ("DW")
    "comp",  # baseline bottleneck: last 1x1 (projection, "PW2")
    "pred_decom",  # ARCHON: ReLU-sign prediction of PW1
    "pred_conv",  # ARCHON: ReLU-sign prediction of the depthwise layer
    "pred_comp",  # ARCHON (ShuffleNet): prediction of the second grouped 1x1
    "main",  # ARCHON: the fused k x k convolution
    "se_reduce",  # squeeze-and-excite: pooled mid -> mid/4 (MnasNet)
    "se_expand",  # squeeze-and-excite: mid/4 -> mid
)


class LayerError(ValueError):
    """A layer definition that cannot describe a real layer."""


@dataclass(frozen=True)
class Layer:
    """One layer. P, Q are the *output* feature-map sides; stride applies to both axes.

    kind:   conv | depthwise | pointwise | grouped-pointwise | fc | grouped-conv
            (grouped-conv: a k x k convolution split into `groups` independent channel groups,
            e.g. ARCHON's fused main convolution of a grouped block)
    C, M:   input / output channels of the whole layer (depthwise: C == M == channels)
    groups: 1, G for grouped-pointwise and grouped-conv, C for depthwise
    part:   head | body | tail;  block: 1-based bottleneck index for body layers, else None
    role:   see ROLES
    """

    name: str
    kind: str
    R: int
    S: int
    P: int
    Q: int
    C: int
    M: int
    N: int = 1
    stride: int = 1
    groups: int = 1
    part: str = "head"
    block: int | None = None
    role: str = "layer"

    def __post_init__(self) -> None:
        where = f"layer {self.name!r}"
        if self.kind not in KINDS:
            raise LayerError(f"{where}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.part not in PARTS:
            raise LayerError(f"{where}: part {self.part!r} is not one of {', '.join(PARTS)}")
        if self.role not in ROLES:
            raise LayerError(f"{where}: role {self.role!r} is not one of {', '.join(ROLES)}")
        for field in ("R", "S", "P", "Q", "C", "M", "N", "stride", "groups"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise LayerError(f"{where}: {field} must be a positive integer, got {value!r}")
        if self.kind == "depthwise" and not (self.C == self.M == self.groups):
            raise LayerError(
                f"{where}: a depthwise layer needs C == M == groups, got C={self.C} M={self.M} groups={self.groups}"
            )
        if self.kind in ("grouped-pointwise", "grouped-conv"):
            if self.C % self.groups or self.M % self.groups:
                raise LayerError(f"{where}: C={self.C} and M={self.M} must be divisible by groups={self.groups}")
        elif self.kind != "depthwise" and self.groups != 1:
            raise LayerError(
                f"{where}: only depthwise and grouped-pointwise (or grouped-conv) layers may have groups != 1"
            )
        if self.kind in ("pointwise", "grouped-pointwise", "fc") and (self.R, self.S) != (1, 1):
            raise LayerError(f"{where}: a {self.kind} layer has R=S=1, got R={self.R} S={self.S}")
        if self.part == "body" and self.block is None:
            raise LayerError(f"{where}: a body layer needs a block index")

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the whole layer."""
        per_output = self.R * self.S * (self.C // self.groups)
        return self.N * self.P * self.Q * self.M * per_output

    @property
    def weights(self) -> int:
        return self.R * self.S * (self.C // self.groups) * self.M

    @property
    def input_side(self) -> int:
        """Input feature-map side (no padding modelled: (P-1)*stride + R)."""
        return (self.P - 1) * self.stride + self.R

    def with_(self, **changes) -> Layer:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Layer:
        return cls(**data)
