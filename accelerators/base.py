"""The accelerator plug-in interface (docs/accelerators.md shows how to add one).

An accelerator says which network variant it evaluates, which architecture directories it reads, which mapper runs
it needs per layer (or whose runs it re-costs), how the runs become layers.csv rows, which res.csv columns it fills
and which config section it owns. The workflow, the CLI, the config schema and the analysis tables are derived from
the registered plug-ins (accelerators/__init__.py); nothing outside a plug-in names an accelerator.

Settings: a plug-in reads only the config keys it declares (`table_reads`, `artifact_reads`), so that the workflow
passes each step exactly those and re-runs a step only when they change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from engines.stats import LayerStats
from workloads.layer import Layer
from workloads.network import Network

REPO_ROOT = Path(__file__).resolve().parents[1]
PJ_PER_UJ = 1e6

# layers.csv: one row per layer run (and per ARCHON phase) of every accelerator; energies in uJ.
ROW_COLUMNS = [
    "network",
    "dataset",
    "accelerator",
    "engine",
    "part",  # head | body | tail
    "block",  # 1-based bottleneck index (empty for head/tail)
    "layer",  # unique layer name: head.<name>, b<k>.<role>, tail.<name>
    "role",  # layer role (decom, conv, comp, se_reduce, pred_decom, main, overhead, layer, ...)
    "phase",  # layer | prediction | main | overhead
    "energy_uJ",
    "cycles",
    "macs",
    "utilisation",
    # the band of energy_uJ for an accelerator whose model has bounds (e.g. sparse: optimistic / conservative);
    # empty for the others
    "energy_low_uJ",
    "energy_high_uJ",
]


class AcceleratorError(ValueError):
    """Settings or results an accelerator cannot use; the message names the file and the field."""


@dataclass(frozen=True)
class LayerRun:
    """One mapper run an accelerator needs: a layer's Timeloop problem (one copy of a grouped layer) on one arch
    directory with rendered constraints, searched with the mapper settings of `mapper_kind`; `tie_break` says which
    of several equally good mappings the mapper returns (specs.mapper.TIE_BREAKS, engines/embedded/tiebreak.py)."""

    name: str  # the layer name
    layer: Layer
    problem: Any  # specs.problem.Problem
    arch: Path
    constraints: str  # constraints YAML text
    mapper_kind: str  # a key of the workflow config's `mapper` section
    tie_break: str = "first"


@dataclass(frozen=True)
class ResColumns:
    """The res.csv columns an accelerator fills. `body` maps a block layer's role to its (energy, cycles) columns
    (cycles None: energy only); `edge` is the slot of head and tail layers. `extra_*` columns come after every
    accelerator's main columns (MnasNet's squeeze-and-excite). An accelerator's totals are the sum of its columns."""

    energy: tuple[str, ...]
    cycles: tuple[str, ...]
    body: Mapping[str, tuple[str, str | None]]
    edge: tuple[str, str]
    extra_energy: tuple[str, ...] = ()
    extra_cycles: tuple[str, ...] = ()

    @property
    def main(self) -> list[str]:
        return [*self.energy, *self.cycles]

    @property
    def trailing(self) -> list[str]:
        return [c for pair in zip(self.extra_energy, self.extra_cycles, strict=True) for c in pair]

    @property
    def totals(self) -> tuple[list[str], list[str]]:
        return [*self.energy, *self.extra_energy], [*self.cycles, *self.extra_cycles]


@dataclass
class TableResult:
    """An accelerator's layers.csv rows and its per-layer details (JSON-ready; written next to the rows)."""

    rows: list[dict[str, Any]]
    details: dict[str, Any] = field(default_factory=dict)


class Accelerator:
    """Base class of the plug-ins; class attributes describe the accelerator, methods compute."""

    name: ClassVar[str]
    description: ClassVar[str]
    variant: ClassVar[str]  # network variant it evaluates: baseline | fused
    arch_dirs: ClassVar[tuple[str, ...]] = ()  # repository-relative architecture directories it maps on
    runs_of: ClassVar[str | None] = None  # re-costs this accelerator's runs instead of mapping its own
    in_default_sweep: ClassVar[bool] = True  # evaluated when a config leaves `accelerators` out
    mapper_kinds: ClassVar[dict[str, dict[str, int]]] = {}  # kinds it adds to `mapper`, with their defaults
    section: ClassVar[str | None] = None  # the config section it owns
    section_schema: ClassVar[dict[str, Any]] = {}  # JSON schema of that section (descriptions and defaults)
    columns: ClassVar[ResColumns]
    # config keys its table step reads
    table_reads: ClassVar[tuple[str, ...]] = (
        "engine",
        "problem.depthwise",
        "problem.depthwise_fix_channels",
        "problem.depthwise_fix",
    )
    table_files: ClassVar[tuple[str, ...]] = ()  # repository files / directories its table step reads
    artifacts: ClassVar[tuple[str, ...]] = ()  # per-network files it prepares (under its results directory)
    artifact_reads: ClassVar[tuple[str, ...]] = ()  # config keys the preparation reads

    # ---- mapper runs --------------------------------------------------------------------------------------
    def runs(self, network: Network, settings: dict[str, Any]) -> list[LayerRun]:
        """The mapper runs of `network` (this accelerator's variant); none when it re-costs another's runs."""
        return []

    def evaluated_network(self, network: Network, settings: Mapping[str, Any]) -> Network:
        """The network whose layers this accelerator's rows name (default: its variant as loaded); `settings` holds
        its `table_reads`."""
        return network

    def run_options(self, network: Network, settings: dict[str, Any]) -> dict[str, Any]:
        """Settings (resolved for `network`) that change which runs it needs, beyond the problem form; `runs` finds
        them under settings["options"]. A mapper job receives exactly these, so a knob that changes no run changes
        no mapper job."""
        return {}

    # ---- per-network preparation (e.g. pruned weights) ---------------------------------------------------
    def artifact_inputs(self, artifact: str, network: Network, settings: dict[str, Any]) -> list[Path]:
        """Files the preparation of `artifact` reads (declared workflow inputs)."""
        return []

    def prepare(self, artifact: str, network: Network, settings: dict[str, Any], out: Path) -> str:
        """Write `artifact` for `network` to `out`; returns a one-line summary for the log."""
        raise AcceleratorError(f"accelerator {self.name} prepares no artifact {artifact!r}")

    # ---- rows ---------------------------------------------------------------------------------------------
    def table(
        self, network: Network, stats: Mapping[str, LayerStats], artifacts: Mapping[str, Path], settings: dict[str, Any]
    ) -> TableResult:
        """layers.csv rows from the runs (`stats` by layer name) and the prepared artifacts."""
        raise NotImplementedError

    # ---- settings -----------------------------------------------------------------------------------------
    def validate(self, settings: dict[str, Any], source: str) -> None:
        """Check this accelerator's settings (presets, overrides) before any job runs; errors name the field."""

    def arch_paths(self) -> list[Path]:
        return [REPO_ROOT / d for d in self.arch_dirs]


def row(
    network: Network,
    accelerator: str,
    engine: str,
    layer: Layer,
    role: str,
    phase: str,
    energy_pJ: float,
    cycles: float,
    macs: int,
    utilisation: float,
    *,
    name: str | None = None,
    band_pJ: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """One layers.csv row (energies given in pJ, written in uJ). `band_pJ`: (low, high) of energy_pJ when the
    accelerator's model has bounds (the analysis sums them into summary.csv's energy_low_uJ / energy_high_uJ)."""
    low, high = band_pJ if band_pJ is not None else (math.nan, math.nan)
    return {
        "network": network.name,
        "dataset": network.dataset,
        "accelerator": accelerator,
        "engine": engine,
        "part": layer.part,
        "block": layer.block,
        "layer": name or layer.name,
        "role": role,
        "phase": phase,
        "energy_uJ": energy_pJ / PJ_PER_UJ,
        "cycles": cycles,
        "macs": macs,
        "utilisation": utilisation,
        "energy_low_uJ": low / PJ_PER_UJ,
        "energy_high_uJ": high / PJ_PER_UJ,
    }


_OVERRIDE_ERROR = re.compile(r"field overrides\.(\S+?)(?: \(over [^)]*\))?: (.*)$")


def settings_error(exc: Exception, source: str, section: str) -> AcceleratorError:
    """A preset/override error of a model's parameter reader, restated for the workflow config: the config file and
    `field <section>.overrides.<key>` (or the parameter file's own field when the preset itself is bad)."""
    match = _OVERRIDE_ERROR.search(str(exc))
    if match:
        return AcceleratorError(f"{source}: field {section}.overrides.{match.group(1)}: {match.group(2)}")
    return AcceleratorError(f"{source}: {section}: {exc}")


def setting(settings: Mapping[str, Any], dotted: str) -> Any:
    """`settings["a"]["b"]` for "a.b", with a clear error when the step was not given it."""
    node: Any = settings
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise AcceleratorError(f"setting {dotted!r} is not available to this step (declare it in the plug-in)")
        node = node[part]
    return node
