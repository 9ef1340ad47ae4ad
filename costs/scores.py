"""All per-layer cost columns of a layer table, with one settings object (the presets of each source).

`layer_scores(table, settings)` returns, per row of a layer table (costs.layer_table / option_table):
  mult_energy_pJ, mult_area_um2, error_proxy                    (costs.multiply)
  E_W                                                           (costs.psum)
  micronet_params, micronet_mults, micronet_adds, micronet_ops,
  micronet_score_imagenet, micronet_score_cifar100              (costs.micronet; per-layer shares, they add up)
  bitstream_power, bitstream_area, bitstream_energy             (costs.bitstream)
Every column is additive over layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import pandas as pd

from .bitstream import COEFFICIENTS, LFSR_MODES, bitstream_costs
from .micronet import REFERENCES, micronet_counts
from .multiply import REFERENCE_MAC_PJ, multiply_costs
from .precision import PrecisionModel
from .psum import B_MUL_MODES, BIAS_MODES, partial_sum_energy


@dataclass(frozen=True)
class CostSettings:
    """psum_b_mul: "psum" | "operand" | int (§4 B_mul); psum_bias: "last" | "all" | "none" (§4 bias adds);
    micronet_freebie: count unquantised params / mults at 16 bits (§3); bitstream_lfsr: "as_published" |
    "corrected"; bitstream_coefficients: "calibrated" | "placeholder" (§5); mac_energy_pJ: the reference MAC's
    energy when no run is given; precision: the §1 scaling model."""

    psum_b_mul: str | int = "psum"
    psum_bias: str = "last"
    micronet_freebie: bool = False
    bitstream_lfsr: str = "corrected"
    bitstream_coefficients: str = "calibrated"
    mac_energy_pJ: float = REFERENCE_MAC_PJ
    precision: PrecisionModel = field(default_factory=PrecisionModel)

    def __post_init__(self) -> None:
        checks = [
            ("psum_bias", BIAS_MODES),
            ("bitstream_lfsr", LFSR_MODES),
            ("bitstream_coefficients", tuple(COEFFICIENTS)),
        ]
        for name, allowed in checks:
            if getattr(self, name) not in allowed:
                raise ValueError(f"cost setting {name}: {getattr(self, name)!r} is not one of {', '.join(allowed)}")
        if not isinstance(self.psum_b_mul, int) and self.psum_b_mul not in B_MUL_MODES:
            raise ValueError(
                f"cost setting psum_b_mul: {self.psum_b_mul!r} is not one of {', '.join(B_MUL_MODES)} or an integer"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<settings>") -> CostSettings:
        known = {f.name for f in fields(cls)} - {"precision"}
        unknown = sorted(set(data) - known - {"precision"})
        if unknown:
            raise ValueError(
                f"{source}: unknown cost setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        values = {k: v for k, v in data.items() if k in known}
        if "precision" in data:
            values["precision"] = PrecisionModel(**data["precision"])
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{source}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_SETTINGS = CostSettings()


def layer_scores(
    table: pd.DataFrame, settings: CostSettings = DEFAULT_SETTINGS, mac_energy_pJ: pd.Series | None = None
) -> pd.DataFrame:
    """Per-row cost columns (see the module docstring); `mac_energy_pJ` per row overrides the settings' value."""
    mac = settings.mac_energy_pJ if mac_energy_pJ is None else mac_energy_pJ
    parts = [
        multiply_costs(table, mac, settings.precision),
        partial_sum_energy(table, settings.psum_b_mul, settings.psum_bias).to_frame(),
        micronet_counts(table, settings.micronet_freebie),
        bitstream_costs(table, settings.bitstream_lfsr, settings.bitstream_coefficients),
    ]
    out = pd.concat(parts, axis=1)
    for key, ref in REFERENCES.items():
        out[f"micronet_score_{key}"] = out["micronet_params"] / ref.params + out["micronet_ops"] / ref.ops
    return out
