"""What the workflow runs: which network variant and which layers each accelerator needs.

dense  -> the baseline network, every layer mapped on arch/eyeriss
sparse -> the baseline network, every layer re-costed from its dense run and the pruned weights (no mapper run)
archon -> the fused network: head/tail layers and prediction layers on arch/archon/predictions,
          each block's fused main convolution on arch/archon/main
"""
from __future__ import annotations

from functools import lru_cache

ACCELERATORS = ("dense", "sparse", "archon")
MAPPED = ("dense", "archon")  # accelerators with their own mapper runs

VARIANT = {"dense": "baseline", "sparse": "baseline", "archon": "fused"}


@lru_cache(maxsize=None)
def network(name: str, dataset: str, accelerator: str):
    from workloads import zoo

    return zoo.load_network(name, dataset, VARIANT[accelerator])


def layer_names(name: str, dataset: str, accelerator: str) -> list[str]:
    return [layer.name for layer in network(name, dataset, accelerator).layers()]


def mapped_runs(accelerator: str) -> str:
    """The accelerator whose mapper runs `accelerator` uses."""
    return "dense" if accelerator == "sparse" else accelerator
