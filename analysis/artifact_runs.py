"""The paper artifact's recorded Timeloop runs, as figures (arch/mappers/artifact_mappings.json, written by
`analysis.artifact_fixture`), and their re-evaluation by one of our engines.

Each run has the architecture it used (one of our arch directories), its problem instance, the mapping Timeloop
chose and Timeloop's numbers. `ArtifactRun.evaluate` feeds the recorded mapping to the embedded model;
`ArtifactRun.mismatches` compares the result with what Timeloop printed. `matching_run` finds the run of a zoo layer
whose problem is the one we would map, which is what the workflow's `mapping: artifact` evaluates instead of
searching (docs/method.md §6.1: the paper-form depthwise fix multiplies a run's input traffic by the channel
count, so its result depends on which of several equally good mappings was chosen; pinning the artifact's choice
reproduces its numbers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from engines.mapping import Mapping
from engines.stats import LayerStats

from .artifact_fixture import ARTIFACT_MAPPINGS, REPO_ROOT

ARCH_ROOT = REPO_ROOT / "arch"
TENSORS = {"W": "Weights", "I": "Inputs", "O": "Outputs"}
# run directory of a layer (MobileNetV2 layout of the artifact, analysis.replay)
EDGE_RUNS = {
    ("baseline", "head"): "head_and_tail/baseline/head/baseline",
    ("baseline", "tail"): "head_and_tail/baseline/tail/baseline",
    ("fused", "head"): "head_and_tail/fused/fus_head/fusion",
    ("fused", "tail"): "head_and_tail/fused/fus_tail/fusion",
}
FUSED_RUNS = {
    "pred_decom": "fusion/predictions/b{k}/decom",
    "pred_conv": "fusion/predictions/b{k}/conv",
    "pred_comp": "fusion/predictions/b{k}/comp",
    "main": "fusion/main_computations/b{k}",
}
ENERGY_TOL = 5e-5  # relative; Timeloop printed ~6 significant digits (fused FC1 GLB outputs: 343.755 vs 343.75 pJ)


class ArtifactRunError(ValueError):
    """A recorded run that cannot be used; the message names the fixture and the run."""


@dataclass(frozen=True)
class ArtifactRun:
    network: str  # "<network>/<dataset>"
    key: str  # run directory, e.g. "baseline/b1/conv"
    arch: str  # our arch directory, relative to arch/
    problem: dict  # the CNN-Layer instance (C, M, R, S, N, P, Q, strides, dilations)
    mapping: Mapping | None  # None for a stale copy
    timeloop: dict | None
    stale_copy_of: str | None = None

    @property
    def arch_dir(self) -> Path:
        return ARCH_ROOT / self.arch

    @property
    def name(self) -> str:
        return f"{self.network}:{self.key}"

    def problem_yaml(self) -> str:
        """The run's problem as a Timeloop v0.3 YAML (the reference's prob.yaml form)."""
        from workloads.problem import CNN, Problem, render_problem, shapes

        return render_problem(Problem(shapes()[CNN], dict(self.problem), 1, self.key), "0.3")

    def evaluate(self, engine=None, problem_file: Path | None = None) -> LayerStats:
        """The recorded mapping evaluated by `engine` (default: the embedded model) on the run's architecture."""
        if self.mapping is None:
            raise ArtifactRunError(
                f"{ARTIFACT_MAPPINGS}: run {self.name} is a stale copy of {self.stale_copy_of} "
                "(no mapping of its own problem)"
            )
        if engine is None:
            return _embedded_model(self, self.mapping)
        if problem_file is None:
            raise ArtifactRunError(f"run {self.name}: an engine other than the embedded model needs a problem file")
        return engine.model(self.arch_dir, problem_file, self.mapping)

    def mismatches(self, stats: LayerStats) -> list[str]:
        """Differences between `stats` and Timeloop's recorded numbers (cycles, MACs exactly; energies and access
        counts per level x tensor)."""
        want = self.timeloop or {}
        out = []
        if stats.cycles != want["cycles"]:
            out.append(f"cycles {stats.cycles} != {want['cycles']}")
        if stats.macs != want["macs"]:
            out.append(f"MACs {stats.macs} != {want['macs']}")
        if not _close(stats.total_energy_pJ, want["energy_pJ"]):
            out.append(f"energy {stats.total_energy_pJ:.4f} != {want['energy_pJ']} pJ")
        got = {lvl.name: lvl for lvl in stats.levels[1:]}
        for level, tensors in want["levels"].items():
            lvl = got.get(level)
            if lvl is None:
                out.append(f"no level {level}")
                continue
            if set(lvl.tensors) != {TENSORS[t] for t in tensors}:
                out.append(f"{level} keeps {sorted(lvl.tensors)}, recorded {sorted(TENSORS[t] for t in tensors)}")
                continue
            for short, (energy, reads, updates, fills, partition) in tensors.items():
                ts = lvl.tensors[TENSORS[short]]
                if (ts.reads, ts.updates, ts.fills, ts.partition_size) != (reads, updates, fills, partition):
                    ours = (ts.reads, ts.updates, ts.fills, ts.partition_size)
                    out.append(f"{level}.{TENSORS[short]} accesses {ours} != {(reads, updates, fills, partition)}")
                if not _close(ts.energy_pJ, energy):
                    out.append(f"{level}.{TENSORS[short]} energy {ts.energy_pJ:.4f} != {energy} pJ")
        return out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= ENERGY_TOL * max(abs(b), 1.0)


def _embedded_model(run: ArtifactRun, mapping: Mapping) -> LayerStats:
    from engines.embedded import evaluate_mapping, fast_analysis, load_arch_and_energy
    from engines.embedded.problem import parse_problem

    arch, energy = load_arch_and_energy(run.arch_dir)
    problem = parse_problem({"problem": {"shape": _cnn_shape(), "instance": dict(run.problem)}}, run.name)
    stats = evaluate_mapping(arch, energy, problem, mapping, fast_analysis)
    stats.meta.update({"arch": f"arch/{run.arch}", "mapping_source": f"artifact:{run.key}"})
    return stats


@lru_cache(maxsize=1)
def _cnn_shape() -> dict:
    """The CNN-Layer shape as a loaded problem YAML has it (rendered once, then reused for every instance)."""
    import yaml

    from workloads.problem import CNN, Problem, render_problem, shapes

    shape = shapes()[CNN]
    dummy = Problem(
        shape, {**{d: 1 for d in shape.dimensions}, "Wstride": 1, "Hstride": 1, "Wdilation": 1, "Hdilation": 1}
    )
    return yaml.safe_load(render_problem(dummy, "0.3"))["problem"]["shape"]


# ----------------------------------------------------------------------------------------- loading


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, dict[str, ArtifactRun]]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactRunError(f"{path}: cannot read the recorded runs: {exc}") from None
    out: dict[str, dict[str, ArtifactRun]] = {}
    for network, runs in data.get("networks", {}).items():
        out[network] = {}
        for key, raw in runs.items():
            try:
                mapping = Mapping.from_dict(raw["mapping"]) if "mapping" in raw else None
                out[network][key] = ArtifactRun(
                    network,
                    key,
                    raw["arch"],
                    dict(raw["problem"]),
                    mapping,
                    raw.get("timeloop"),
                    raw.get("stale_copy_of"),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ArtifactRunError(f"{path}: field networks.{network}.{key}: {exc}") from None
    return out


def artifact_runs(network: str, dataset: str, path: str | Path = ARTIFACT_MAPPINGS) -> dict[str, ArtifactRun]:
    """{run key: ArtifactRun} of one network/dataset ({} when the artifact has no runs of it)."""
    return _load(str(path)).get(f"{network}/{dataset}", {})


def run_key(variant: str, layer) -> str:
    """The artifact's run directory of a zoo layer (`variant` baseline | fused)."""
    if layer.part != "body":
        return f"{EDGE_RUNS[(variant, layer.part)]}/{layer.name.split('.', 1)[1]}"
    if variant == "baseline":
        return f"baseline/b{layer.block}/{layer.role}"
    if layer.role not in FUSED_RUNS:
        raise ArtifactRunError(f"layer {layer.name}: role {layer.role!r} has no run in the artifact")
    return FUSED_RUNS[layer.role].format(k=layer.block)


def matching_run(
    network: str, dataset: str, variant: str, layer, shape, instance: dict, path: str | Path = ARTIFACT_MAPPINGS
) -> ArtifactRun | None:
    """The artifact's run of `layer` if it recorded a mapping of exactly the problem (`shape`, `instance`), else
    None: the layer is absent from the artifact, is shaped differently there (e.g. a network fix of the zoo, or the
    coupled depthwise form), or its run is a stale copy."""
    from workloads.problem import CNN

    fused_only = layer.part == "body" and variant == "fused" and layer.role not in FUSED_RUNS
    if getattr(shape, "name", shape) != CNN or fused_only:
        return None
    runs = artifact_runs(network, dataset, path)
    if not runs and layer.part == "body":  # the artifact's CIFAR-100 bottleneck runs are CIFAR-10's, byte for byte
        runs = artifact_runs(network, "cifar10", path)
    run = runs.get(run_key(variant, layer))
    if run is None or run.mapping is None:
        return None
    wanted = {k: int(v) for k, v in instance.items()}
    return run if wanted == run.problem else None
