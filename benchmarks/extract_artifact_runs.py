"""Write tests/data/artifact_runs.json from the paper artifact's recorded MnasNet / FusioNet Timeloop runs.

Reads the artifact's git mirror (compstruct/fusion-timeloop-model) with `git show`; keeps only figures: per layer
run of fuseloop's zoo that the artifact recorded, the problem instance, the artifact's mapper settings, Timeloop's
cycles, total and per-level energies and its mapping (`artifact_corpus.compact_mapping` of the parsed map.txt).
Each run is checked against what fuseloop's workflow produces for that layer (`workflows.plan.runs`, depthwise
in the paper's C=1 form) and gets `status: ok` only if
  * the problem instance equals ours,
  * its constraint files mean the same as ours (both read by the embedded engine's Timeloop-semantics parser),
  * the embedded model, fed the recorded mapping on our problem and arch, reproduces Timeloop's cycles exactly
    and every level's energy within 1e-6 (so the arch and energy table match too);
otherwise `status` says what differs (stale runs, older constraint files or arch variants of the artifact).
`mapping_in_our_mapspace` says whether the recorded mapping is a valid point of fuseloop's mapspace (our model
reproduces it and our constraints allow it): such a run is still a reference where only the constraints differ.

    python benchmarks/extract_artifact_runs.py [--mirror DIR] [--out tests/data/artifact_runs.json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.artifact_corpus import FIXTURE, model_mismatches, workflow_inputs  # noqa: E402

MIRROR = Path("/work/.mirror/compstruct+fusion-timeloop-model/repo")
ACCELERATORS = {"dense": "baseline", "archon": "fused"}  # accelerator -> zoo variant
VICTORY_IN_LOG = re.compile(r"(\d+) suboptimal mappings found since the last upgrade")


class Mirror:
    def __init__(self, repo: Path):
        self.repo = repo
        self.commit = self._git("rev-parse", "HEAD").strip()
        self.files = set(self._git("ls-tree", "-r", "--name-only", "HEAD").splitlines())

    def _git(self, *args: str) -> str:
        done = subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{self.repo}: git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def show(self, path: str) -> str:
        return self._git("show", f"HEAD:{path}")

    def listing(self, folder: str) -> list[str]:
        return sorted(f for f in self.files if f.startswith(folder + "/") and "/" not in f[len(folder) + 1 :])


def recorded_dir(network: str, dataset: str, variant: str, layer) -> str:
    """The artifact's run directory of a zoo layer (analysis.replay's layout, under bottlenecks/ for the body)."""
    from analysis.replay import run_dir

    rel = run_dir(Path(""), variant, layer).as_posix()
    return f"{network}/{dataset}/{'' if rel.startswith('head_and_tail/') else 'bottlenecks/'}{rel}"


def mapper_section(rel_run: str, kernel_area: int, network: str, dataset: str) -> dict:
    """The artifact's mapper settings of a run (arch/mappers/mappers.yaml entry with its per-network variant)."""
    from engines.embedded.artifact import MAPPER_OF_RUN
    from specs.mapper import artifact_mapper

    where = next(v for prefix, v in MAPPER_OF_RUN.items() if (rel_run + "/").startswith(prefix))
    name = where if where == "main" else f"{where}_{'depthwise' if kernel_area > 1 else 'pointwise'}"
    section = artifact_mapper(name, network, dataset)["mapper"]
    return {key: section[key] for key in ("optimization-metrics", "timeout", "victory-condition")}


def constraints_of(files: list[Path], problem, arch):
    from engines.embedded.mapspace import layer_constraints

    c = layer_constraints(files, arch, problem)
    return {
        "temporal": c.temporal,
        "spatial": c.spatial,
        "keep": c.keep,
        "min_utilization": c.min_utilization,
        "parsed": c,
    }


def extract_run(
    mirror: Mirror, folder: str, network: str, dataset: str, accelerator: str, layer, layer_dir: Path, scratch: Path
) -> dict:
    from benchmarks.artifact_corpus import compact_mapping, expand_mapping, layer_arch
    from engines.embedded import load_arch_and_energy, load_problem_cached
    from engines.embedded.legality import mapping_violations
    from engines.parsers import parse_map, parse_stats
    from specs.problem import read_problem

    stats = parse_stats(mirror.show(f"{folder}/output/timeloop-mapper.stats.txt"))
    mapping = parse_map(mirror.show(f"{folder}/output/timeloop-mapper.map.txt"))
    without_tiles = replace(mapping, levels=tuple(replace(lvl, tile={}) for lvl in mapping.levels))
    if expand_mapping(compact_mapping(mapping)) != without_tiles:
        raise SystemExit(f"{folder}: the compact mapping does not round-trip")
    recorded_problem = read_problem(mirror.show(f"{folder}/prob/prob.yaml"))
    ours = read_problem(layer_dir / "problem.yaml")
    rel_run = folder.split("/", 2)[2].removeprefix("bottlenecks/")
    kernel = ours.instance.get("R", 1) * ours.instance.get("S", 1)
    run = {
        "network": network,
        "dataset": dataset,
        "accelerator": accelerator,
        "layer": layer.name,
        "run": folder,
        "problem": {"shape": ours.shape_name, "instance": dict(ours.instance)},
        "mapper": mapper_section(rel_run, kernel, network, dataset),
        "timeloop": {
            "cycles": stats.cycles,
            "energy_pJ": stats.total_energy_pJ,
            "levels_pJ": {level.name: level.energy_pJ for level in stats.levels},
            "mapping": compact_mapping(mapping),
        },
        "status": "ok",
        "mapping_in_our_mapspace": False,
        "notes": [],
    }
    log = f"{folder}/output/timeloop-mapper.log"
    victories = {int(v) for v in VICTORY_IN_LOG.findall(mirror.show(log))} if log in mirror.files else set()
    if victories and run["mapper"]["victory-condition"] not in victories:
        run["notes"].append(
            f"the log's threads stopped after {sorted(victories)} suboptimal mappings, "
            f"mappers.yaml says victory-condition {run['mapper']['victory-condition']}"
        )
    if (recorded_problem.shape_name, dict(recorded_problem.instance)) != (ours.shape_name, dict(ours.instance)):
        diff = {
            k: (recorded_problem.instance.get(k), v)
            for k, v in ours.instance.items()
            if recorded_problem.instance.get(k) != v
        }
        run["status"] = f"problem differs (recorded, ours): {diff or recorded_problem.shape_name}"
        return unused(run)
    arch, _ = load_arch_and_energy(layer_arch(layer_dir))
    problem = load_problem_cached(layer_dir / "problem.yaml")
    files: list[Path] = []
    for name in mirror.listing(f"{folder}/constraints"):
        if Path(name).name.startswith(".") or not name.endswith(".yaml"):
            continue
        files.append(scratch / f"{len(files)}-{Path(name).name}")
        files[-1].write_text(mirror.show(name))
    theirs, mine = constraints_of(files, problem, arch), constraints_of([layer_dir / "constraints.yaml"], problem, arch)
    mismatches = model_mismatches(run, layer_dir)
    violations = mapping_violations(mapping, mine["parsed"], arch, problem)
    # A recorded mapping that our model reproduces and our constraints allow is a valid point of our mapspace: a
    # reference for the mapper even where Timeloop searched under other constraints.
    run["mapping_in_our_mapspace"] = not mismatches and not violations
    del theirs["parsed"], mine["parsed"]
    if theirs != mine:
        levels = [
            f"{kind} {level}"
            for kind in ("temporal", "spatial", "keep")
            for level in sorted(set(theirs[kind]) | set(mine[kind]))
            if theirs[kind].get(level) != mine[kind].get(level)
        ]
        run["status"] = f"constraints differ at {', '.join(levels) or 'min utilization'}"
    elif mismatches:
        run["status"] = "the model does not reproduce the recorded mapping: " + "; ".join(mismatches[:3])
    elif violations:
        run["status"] = "the recorded mapping breaks its own constraints: " + "; ".join(violations[:3])
    return run if run["status"] == "ok" or run["mapping_in_our_mapspace"] else unused(run)


def unused(run: dict) -> dict:
    """A run that is no reference for the mapper: only what identifies it and why."""
    return {key: run[key] for key in ("network", "dataset", "accelerator", "layer", "run", "status", "notes")}


def extract(mirror: Mirror, networks: list[str], dataset: str) -> list[dict]:
    from workloads import zoo

    runs = []
    with tempfile.TemporaryDirectory(prefix="fuseloop-artifact-") as tmp:
        scratch = Path(tmp)
        for network in networks:
            for accelerator, variant in ACCELERATORS.items():
                inputs = workflow_inputs(network, dataset, accelerator, scratch)
                for layer in zoo.load_network(network, dataset, variant).layers():
                    folder = recorded_dir(network, dataset, variant, layer)
                    if f"{folder}/output/timeloop-mapper.stats.txt" not in mirror.files:
                        print(f"  {network} {accelerator} {layer.name}: no recorded run", file=sys.stderr)
                        continue
                    work = scratch / "constraints" / folder
                    work.mkdir(parents=True)
                    run = extract_run(mirror, folder, network, dataset, accelerator, layer, inputs / layer.name, work)
                    print(f"  {folder}: {run['status']}", file=sys.stderr)
                    runs.append(run)
    return runs


def dump(document: dict) -> str:
    """JSON with one run per line (diffable, compact)."""
    head = json.dumps({k: v for k, v in document.items() if k != "runs"})[:-1]
    runs = ",\n".join(json.dumps(run, separators=(",", ":")) for run in document["runs"])
    return f'{head}, "runs": [\n{runs}\n]}}\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", type=Path, default=MIRROR, help="bare git mirror of the artifact")
    parser.add_argument("--out", type=Path, default=FIXTURE)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("networks", nargs="*", default=["mnasnet", "fusionet"])
    args = parser.parse_args()
    mirror = Mirror(args.mirror)
    runs = extract(mirror, args.networks, args.dataset)
    document = {
        "source": f"compstruct/fusion-timeloop-model@{mirror.commit}",
        "written_by": "benchmarks/extract_artifact_runs.py",
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump(document))
    ok = sum(r["status"] == "ok" for r in runs)
    print(f"{args.out}: {len(runs)} recorded runs, {ok} match fuseloop's inputs")


if __name__ == "__main__":
    main()
