"""Replay the paper artifact's recorded Timeloop runs through fuseloop's own post-processing.

Two sources of recorded runs:
  * a directory in the artifact's MobileNetV2 layout (`baseline/b<k>/{decom,conv,comp}`,
    `fusion/predictions/b<k>/{decom,conv}`, `fusion/main_computations/b<k>`, `head_and_tail/...`) with each run's
    stats.txt and map.txt (`DirectoryRuns`);
  * the compact figures of every network's runs in `arch/mappers/artifact_mappings.json` (`FixtureRuns`): each
    recorded mapping is re-evaluated by the embedded model, which reproduces Timeloop's numbers
    (tests/test_artifact_fidelity.py).
This builds the layers.csv rows of the dense, sparse and ARCHON accelerators exactly as the workflow does, but from
the recorded runs instead of fresh mapper runs. With the `paper` presets the resulting res table can be compared
with the artifact's `result.csv` (`analysis.validate`): it checks the whole chain from per-layer stats to
head/body/tail tables.

The replayed networks are the ones the artifact simulated (`artifact_network`): where fuseloop's zoo fixes a network
defect the replayed layer takes the shape of the recorded run (MobileNetV2 block 12 at 8x8, FusioNet's fused FC
reading 1280 channels), FusioNet's baseline body is ShuffleNet's (docs/method.md §9 item 8), and layers the
artifact never ran (MnasNet's squeeze-and-excite, ShuffleNet's baseline unit-1 and unit-16 layers) are left out.
Group counts stay the zoo's (the artifact's single-group FusioNet head/tail layers are intended differences).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import pandas as pd

from analysis.schema import LAYER_COLUMNS
from engines.stats import LayerStats
from workloads.network import Network

from .artifact_runs import EDGE_RUNS, FUSED_RUNS, artifact_runs, run_key

BASELINE_DIRS = {"head": EDGE_RUNS[("baseline", "head")], "tail": EDGE_RUNS[("baseline", "tail")]}
FUSED_DIRS = {"head": EDGE_RUNS[("fused", "head")], "tail": EDGE_RUNS[("fused", "tail")]}
ARTIFACT_BASELINE_BODY = {"fusionet": "shufflenet"}  # §9 item 8: FusioNet's baseline body is ShuffleNet's
UNGROUPED_KINDS = ("conv", "pointwise", "fc")  # their whole shape is the recorded problem


class RecordedRuns(Protocol):
    def instance(self, variant: str, layer) -> dict | None:
        """The recorded problem instance of a layer (None: the artifact never ran it)."""

    def stats(self, variant: str, layer) -> LayerStats | None:
        """The layer's recorded run (None: its output is a stale copy of another run)."""


def run_dir(root: Path, variant: str, layer) -> Path:
    """The artifact's run directory of a zoo layer."""
    return Path(root) / run_key(variant, layer)


@dataclass(frozen=True)
class DirectoryRuns:
    """Recorded runs as directories with prob/prob.yaml, stats.txt and map.txt (the MobileNetV2 layout);
    `read_run` reads one run directory (default engines.parsers.parse_run)."""

    root: Path
    read_run: Callable[[Path], LayerStats] | None = None

    def instance(self, variant: str, layer) -> dict | None:
        from workloads.problem import parse_problem

        problem = run_dir(self.root, variant, layer) / "prob" / "prob.yaml"
        return dict(parse_problem(problem).instance) if problem.is_file() else None

    def stats(self, variant: str, layer) -> LayerStats | None:
        from engines.parsers import parse_run

        return (self.read_run or parse_run)(run_dir(self.root, variant, layer))


@dataclass(frozen=True)
class FixtureRuns:
    """The recorded runs of one network/dataset from arch/mappers/artifact_mappings.json, each mapping evaluated
    by the embedded model on the architecture the run used (once per run key: `cache`)."""

    network: str
    dataset: str
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    def _run(self, variant: str, layer):
        if layer.part == "body" and variant == "fused" and layer.role not in FUSED_RUNS:
            return None
        return artifact_runs(self.network, self.dataset).get(run_key(variant, layer))

    def instance(self, variant: str, layer) -> dict | None:
        run = self._run(variant, layer)
        return dict(run.problem) if run else None

    def stats(self, variant: str, layer) -> LayerStats | None:
        run = self._run(variant, layer)
        if run is None or run.mapping is None:
            return None
        if run.key not in self.cache:
            self.cache[run.key] = run.evaluate()
        return LayerStats.from_dict(self.cache[run.key].to_dict())  # a copy: replay annotates its meta


def artifact_network(network: str, dataset: str, variant: str) -> Network:
    """The zoo network with the artifact's body where it simulated another network's (§9 item 8)."""
    from workloads import zoo

    net = zoo.load_network(network, dataset, variant)
    if variant == "baseline" and network in ARTIFACT_BASELINE_BODY:
        body = zoo.load_network(ARTIFACT_BASELINE_BODY[network], dataset, variant)
        net = replace(net, blocks=body.blocks)
    return net


def _as_recorded(layer, instance: dict):
    """The layer with the spatial size and stride of the recorded problem (where a zoo fix changed them); a plain
    layer (conv, pointwise, fc) takes the whole recorded shape."""
    changes = {"P": instance["P"], "Q": instance["Q"], "stride": instance.get("Wstride", layer.stride)}
    if layer.kind in UNGROUPED_KINDS:
        changes.update({k: instance[k] for k in ("C", "M", "R", "S")})
    return replace(layer, **changes)


def recorded_network(source: RecordedRuns | Path | str, net: Network) -> tuple[Network, dict[str, LayerStats]]:
    """(network with layers shaped as recorded and unrecorded layers left out, {layer name: recorded LayerStats})."""
    if isinstance(source, (str, Path)):
        source = DirectoryRuns(Path(source))

    def recorded(layers) -> tuple:
        out = []
        for layer in layers:
            instance = source.instance(net.variant, layer)
            if instance is not None:
                out.append(_as_recorded(layer, instance))
        return tuple(out)

    blocks = tuple(replace(block, layers=recorded(block.layers)) for block in net.blocks)
    replayed = replace(net, head=recorded(net.head), blocks=blocks, tail=recorded(net.tail))
    stats = {}
    for layer in replayed.layers():
        run = source.stats(net.variant, layer)
        if run is not None:
            stats[layer.name] = run
    return replayed, stats


def replay(
    runs: RecordedRuns | str | Path,
    network: str,
    dataset: str,
    settings: dict,
    seed: int = 0,
    read_run: Callable[[Path], LayerStats] | None = None,
) -> pd.DataFrame:
    """layers.csv rows of dense, sparse and ARCHON from recorded runs (`runs`: a RecordedRuns, or the root
    directory of runs in the MobileNetV2 layout), built by the accelerator plug-ins exactly as the workflow does.

    `settings` is a workflow config (`problem.depthwise` should be "paper": the runs are in the paper's form).
    The sparse rows use generated pruned weights (the artifact's pruned models are not available), so sparse
    cycles depend on `seed`; the paper preset's sparse energy does not depend on the weights.
    """
    import tempfile

    import accelerators

    source = DirectoryRuns(Path(runs), read_run) if isinstance(runs, (str, Path)) else runs
    base, base_stats = recorded_network(source, artifact_network(network, dataset, "baseline"))
    fused, fused_stats = recorded_network(source, artifact_network(network, dataset, "fused"))
    settings = {**settings, "sparse": {**settings["sparse"], "seed": seed, "models": {}}}
    rows = accelerators.get("dense").table(base, base_stats, {}, settings).rows
    sparse = accelerators.get("sparse")
    with tempfile.TemporaryDirectory() as tmp:
        artifacts = {name: Path(tmp) / name for name in sparse.artifacts}
        for name, path in artifacts.items():
            sparse.prepare(name, base, settings, path)
        rows += sparse.table(base, base_stats, artifacts, settings).rows
    rows += accelerators.get("archon").table(fused, fused_stats, {}, settings).rows
    return pd.DataFrame(rows, columns=LAYER_COLUMNS)
