"""systolic: a weight-stationary systolic array (TPU/NVDLA-like) on arch/systolic: 16 x 16 PEs, each with one
stationary weight in its register and one MAC, a shared 108 KiB input/output buffer, DRAM.

Dataflow (arch/systolic/constraints/layer.yaml.j2): output channels M across the 16 columns, the reduction C, R, S
down the 16 rows (partial sums accumulate down each column), one weight per PE reused over all of N, P, Q; weights
go from DRAM straight to the PE registers, inputs and partial sums live in the shared buffer.
Runs: every layer of the baseline network, one constraint template, one mapper kind (`systolic`).
Rows: the dense accelerator's shared cost rules (accelerators/dense.py): run energy (+ the paper-form depthwise
input fix) and cycles, x repeat. Adding it took this module, its arch directory and one registry line
(docs/accelerators.md walks through it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engines.stats import LayerStats
from workloads.network import Network

from .base import REPO_ROOT, Accelerator, LayerRun, ResColumns, TableResult
from .dense import layer_rows, layer_runs

SYSTOLIC = REPO_ROOT / "arch" / "systolic"
MAPPER_KIND = "systolic"


class Systolic(Accelerator):
    name = "systolic"
    description = "weight-stationary systolic array (16x16 PEs, one weight register each, 108 KiB I/O buffer)"
    variant = "baseline"
    arch_dirs = ("arch/systolic",)
    # The constrained mapspace holds at most ~130 distinct mappings per layer, so a short search finds the same
    # mappings as the dense kinds' 50000/1000 on every layer of the default sweep (docs/accelerators.md).
    mapper_kinds = {MAPPER_KIND: {"timeout": 2000, "victory_condition": 100}}
    columns = ResColumns(
        energy=("systolic_PW1/L1_e", "systolic_DW_e", "systolic_PW2_e"),
        cycles=("systolic_PW1/L1_c", "systolic_DW_c", "systolic_PW2_c"),
        body={
            "decom": ("systolic_PW1/L1_e", "systolic_PW1/L1_c"),
            "conv": ("systolic_DW_e", "systolic_DW_c"),
            "comp": ("systolic_PW2_e", "systolic_PW2_c"),
            "se_reduce": ("systolic_SE_e", "systolic_SE_c"),
            "se_expand": ("systolic_SE_e", "systolic_SE_c"),
        },
        edge=("systolic_PW1/L1_e", "systolic_PW1/L1_c"),
        extra_energy=("systolic_SE_e",),
        extra_cycles=("systolic_SE_c",),
    )

    def runs(self, network: Network, settings: dict[str, Any]) -> list[LayerRun]:
        return layer_runs(network, settings, SYSTOLIC, MAPPER_KIND)

    def table(
        self, network: Network, stats: Mapping[str, LayerStats], artifacts: Mapping[str, Path], settings: dict[str, Any]
    ) -> TableResult:
        return layer_rows(self.name, network, stats, settings, SYSTOLIC)
