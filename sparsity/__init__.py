"""The sparse Eyeriss accelerator: weight-pruned networks re-costed from their dense runs.

params      SparseParams from arch/eyeriss/sparse.yaml (presets default | paper, overrides)
pruning     seeded Glorot weights + per-layer magnitude pruning (NumPy)
models      zoo network -> Keras model (.h5), reading .h5 / .keras models, matching kernels to layers
kernels     Keras kernel layouts -> W[R, S, C, M] problem tensors (depthwise, grouped)
imbalance   mapping-aware cycles: sum over passes of the slowest PE's non-zero MACs (vectorised)
energy      sparse energy model on the dense LayerStats
evaluate    evaluate_layer -> SparseResult (JSON round trip)
workflow    the functions the Snakemake steps call
"""

from .energy import SparseEnergy, sparse_energy
from .evaluate import SparseEvaluationError, SparseResult, evaluate_layer
from .imbalance import Imbalance, ImbalanceError, analyse, derive_pe_level, pe_pass_counts
from .kernels import KernelError, problem_tensor, split_problems
from .models import ModelError, build_model, load_pruned_weights, network_weights, save_pruned_model
from .params import SparseParams, SparseParamsError, load_params, presets
from .pruning import magnitude_prune, pruned_weights

__all__ = [
    "SparseParams",
    "SparseParamsError",
    "load_params",
    "presets",
    "SparseResult",
    "SparseEvaluationError",
    "evaluate_layer",
    "Imbalance",
    "ImbalanceError",
    "analyse",
    "derive_pe_level",
    "pe_pass_counts",
    "SparseEnergy",
    "sparse_energy",
    "KernelError",
    "problem_tensor",
    "split_problems",
    "ModelError",
    "build_model",
    "load_pruned_weights",
    "network_weights",
    "save_pruned_model",
    "magnitude_prune",
    "pruned_weights",
]
