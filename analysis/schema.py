"""Column schemas of the CSVs fuseloop writes (energies in uJ, cycles in accelerator clock cycles)."""
from __future__ import annotations

# results/<network>/<dataset>/layers.csv (and <accelerator>/layers.csv): one row per layer run or ARCHON phase.
LAYER_COLUMNS = [
    "network", "dataset", "accelerator", "engine",
    "part",  # head | body | tail
    "block",  # 1-based bottleneck index (empty for head/tail)
    "layer",  # unique layer name: head.<name>, b<k>.<role>, tail.<name>
    "role",  # layer role (decom, conv, comp, se_reduce, pred_decom, main, overhead, layer, ...)
    "phase",  # layer | prediction | main | overhead
    "energy_uJ", "cycles", "macs", "utilisation",
]

# results/<network>/<dataset>/res.csv: the reference's column schema, with its column-swap defects fixed
# (sparse_DW_c holds the depthwise layer, sparse_PW2_c the projection), plus MnasNet's squeeze-and-excite.
DENSE_ENERGY = ["PW1/L1_e", "DW_e", "PW2_e"]
DENSE_CYCLES = ["PW1/L1_c", "DW_c", "PW2_c"]
SPARSE_ENERGY = ["sparse_PW1/L1_e", "sparse_DW_e", "sparse_PW2_e"]
SPARSE_CYCLES = ["sparse_PW1_c", "sparse_DW_c", "sparse_PW2_c"]
ARCHON_ENERGY = ["pred_decom_e", "pred_conv_e", "main_e", "overhead_e"]
ARCHON_CYCLES = ["pred_decom_c", "pred_conv_c", "main_c"]
SE_COLUMNS = ["SE_e", "SE_c", "sparse_SE_e", "sparse_SE_c"]
RES_COLUMNS = (
    ["layer", "part"] + DENSE_ENERGY + DENSE_CYCLES + SPARSE_ENERGY + SPARSE_CYCLES
    + ARCHON_ENERGY + ARCHON_CYCLES + SE_COLUMNS
)

# Which res.csv column a layers.csv row lands in: (accelerator, part, role) -> (energy column, cycles column).
# Head and tail layers use PW1/L1 (dense, sparse) and main (ARCHON), as in the reference.
BODY_SLOTS = {
    ("dense", "decom"): ("PW1/L1_e", "PW1/L1_c"),
    ("dense", "conv"): ("DW_e", "DW_c"),
    ("dense", "comp"): ("PW2_e", "PW2_c"),
    ("dense", "se_reduce"): ("SE_e", "SE_c"),
    ("dense", "se_expand"): ("SE_e", "SE_c"),
    ("sparse", "decom"): ("sparse_PW1/L1_e", "sparse_PW1_c"),
    ("sparse", "conv"): ("sparse_DW_e", "sparse_DW_c"),
    ("sparse", "comp"): ("sparse_PW2_e", "sparse_PW2_c"),
    ("sparse", "se_reduce"): ("sparse_SE_e", "sparse_SE_c"),
    ("sparse", "se_expand"): ("sparse_SE_e", "sparse_SE_c"),
    ("archon", "pred_decom"): ("pred_decom_e", "pred_decom_c"),
    ("archon", "pred_conv"): ("pred_conv_e", "pred_conv_c"),
    ("archon", "pred_comp"): ("pred_conv_e", "pred_conv_c"),  # ShuffleNet predicts its 2nd 1x1 instead
    ("archon", "main"): ("main_e", "main_c"),
    ("archon", "overhead"): ("overhead_e", None),
    ("archon", "se_reduce"): ("main_e", "main_c"),
    ("archon", "se_expand"): ("main_e", "main_c"),
}
EDGE_SLOTS = {
    "dense": ("PW1/L1_e", "PW1/L1_c"),
    "sparse": ("sparse_PW1/L1_e", "sparse_PW1_c"),
    "archon": ("main_e", "main_c"),
}

# Per accelerator: the res.csv columns whose sum is its energy / cycles.
TOTAL_COLUMNS = {
    "dense": (DENSE_ENERGY + ["SE_e"], DENSE_CYCLES + ["SE_c"]),
    "sparse": (SPARSE_ENERGY + ["sparse_SE_e"], SPARSE_CYCLES + ["sparse_SE_c"]),
    "archon": (ARCHON_ENERGY, ARCHON_CYCLES),
}

SUMMARY_COLUMNS = [
    "network", "dataset", "accelerator", "engine",
    "energy_uJ", "cycles",
    "archon_speedup",  # this accelerator's cycles / ARCHON's cycles (>1: ARCHON is faster)
    "archon_energy_ratio",  # this accelerator's energy / ARCHON's energy (>1: ARCHON uses less)
    "head_energy_share", "body_energy_share", "tail_energy_share",
    "head_cycles_share", "body_cycles_share", "tail_cycles_share",
]
