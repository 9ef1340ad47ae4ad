"""Write compact figures of the paper artifact's recorded Timeloop runs and result tables into the repository.

    python -m analysis.artifact_fixture --artifact /path/to/fusion-timeloop-model [--commit HEAD]

`--artifact` is a checkout of compstruct/fusion-timeloop-model or a bare git clone of it. Two files are written,
both numbers read and re-expressed by this tool (no artifact file is copied):

* `arch/mappers/artifact_mappings.json` (ARTIFACT_MAPPINGS): per network/dataset and run, the architecture the run
  used (one of ours), the problem instance, the loop nest Timeloop chose (as `engines.mapping.Mapping.to_dict`), and
  Timeloop's cycles, MACs, total and summary energy and per level x tensor energy and access counts. Used by
  `mapping: artifact` (evaluate the recorded mapping instead of searching, `analysis.artifact_runs`) and by the
  fidelity tests. Runs whose output is a stale copy of another run (MnasNet's failed 5x5 main runs,
  docs/method.md §6.2) carry `stale_copy_of` and no mapping.
* `tests/fixtures/artifact_results.json` (ARTIFACT_RESULTS): each network's `result.csv` rows (the published tables).

Run keys use the MobileNetV2 layout of `analysis.replay` (`baseline/b<k>/<role>`, `fusion/predictions/b<k>/<role>`,
`fusion/main_computations/b<k>`, `head_and_tail/{baseline/head/baseline, baseline/tail/baseline,
fused/fus_head/fusion, fused/fus_tail/fusion}/<layer>`), also for ShuffleNet whose directories are named differently.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from engines.mapping import Mapping
from engines.parsers import parse_map, parse_stats
from engines.stats import LayerStats
from workloads.problem import parse_problem

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACT_MAPPINGS = REPO_ROOT / "arch" / "mappers" / "artifact_mappings.json"
ARTIFACT_RESULTS = REPO_ROOT / "tests" / "fixtures" / "artifact_results.json"
REPOSITORY = "compstruct/fusion-timeloop-model"

NETWORKS = ("mobilenet/cifar10", "mnasnet/cifar10", "fusionet/cifar10", "shufflenet/cifar10")
# canonical head/tail run prefix -> the artifact's directory per network (ShuffleNet names them differently)
EDGE_DIRS = {
    "head_and_tail/baseline/head/baseline": {"shufflenet": "head_and_tail/baseline/bl_head/baseline"},
    "head_and_tail/baseline/tail/baseline": {"shufflenet": "head_and_tail/baseline/bl_tail/baseline"},
    "head_and_tail/fused/fus_head/fusion": {"shufflenet": "head_and_tail/fused/fused_head/fusion"},
    "head_and_tail/fused/fus_tail/fusion": {"shufflenet": "head_and_tail/fused/fused_tail/fusion"},
}
# (shared_glb words, arithmetic instances, has weights_spad) -> our architecture directory (relative to arch/)
ARCH_BY_SPECS = {
    (55296, 72, True): "eyeriss",
    (51200, 64, True): "archon/predictions",
    (65536, 64, True): "archon/predictions-128KiB",  # the older predictions arch (docs/method.md §4.1)
    (51200, 64, False): "archon/main",
}
TENSOR_KEY = {"Weights": "W", "Inputs": "I", "Outputs": "O"}


class ArtifactError(ValueError):
    """The artifact cannot be read as expected; the message names the path."""


# ----------------------------------------------------------------------------------------- reading the artifact


@dataclass
class ArtifactSource:
    """A checkout directory or a bare git repository of the artifact (read at `commit`)."""

    root: Path
    commit: str = "HEAD"

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        if not self.root.is_dir():
            raise ArtifactError(f"{self.root}: no such directory (a checkout or bare clone of {REPOSITORY})")
        self.is_git = not (self.root / "README.md").is_file() and (self.root / "HEAD").is_file()
        self._files: list[str] | None = None

    def files(self) -> list[str]:
        if self._files is None:
            if self.is_git:
                out = self._git("ls-tree", "-r", "--name-only", self.commit)
                self._files = out.splitlines()
            else:
                self._files = [p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()]
        return self._files

    def read(self, path: str) -> str:
        if self.is_git:
            return self._git("show", f"{self.commit}:{path}")
        try:
            return (self.root / path).read_text()
        except OSError as exc:
            raise ArtifactError(f"{self.root / path}: cannot read: {exc}") from None

    def revision(self) -> str:
        if self.is_git:
            return self._git("rev-parse", self.commit).strip()
        return "checkout"

    def _git(self, *args: str) -> str:
        proc = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, text=True, check=False)
        if proc.returncode:
            raise ArtifactError(f"{self.root}: git {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout


def _run_dirs(source: ArtifactSource, net: str) -> dict[str, str]:
    """{canonical run key: artifact directory} of every run that feeds the network's result.csv."""
    name = net.split("/")[0]
    base = f"{net}/bottlenecks/"
    runs: dict[str, str] = {}
    body = re.compile(
        r"^" + re.escape(base) + r"((?:baseline|fusion/predictions)/b\d+/\w+|fusion/main_computations/b\d+)"
        r"/output/timeloop-mapper\.stats\.txt$"
    )
    for path in source.files():
        match = body.match(path)
        if match:
            runs[match.group(1)] = base + match.group(1)
    for canonical, per_net in EDGE_DIRS.items():
        folder = per_net.get(name, canonical)
        results = f"{net}/{folder.rsplit('/', 1)[0]}/results/bl.csv"
        for row in csv.DictReader(io.StringIO(source.read(results))):
            runs[f"{canonical}/{row['1_block']}"] = f"{net}/{folder}/{row['1_block']}"
    return runs


def _arch_from_specs(text: str, where: str) -> str:
    """Our architecture directory for a stats.txt, from its SPECS (GLB size, PE count, weights spad present)."""
    glb = re.search(r"=== shared_glb ===.*?Size\s*:\s*(\d+)", text, re.DOTALL)
    instances = re.search(r"=== mac ===.*?Instances\s*:\s*(\d+)", text, re.DOTALL)
    if not glb or not instances:
        raise ArtifactError(f"{where}: no shared_glb Size or mac Instances in SPECS")
    key = (int(glb.group(1)), int(instances.group(1)), "=== weights_spad ===" in text)
    if key not in ARCH_BY_SPECS:
        raise ArtifactError(f"{where}: no architecture of ours for GLB {key[0]} words, {key[1]} PEs")
    return ARCH_BY_SPECS[key]


def _timeloop_figures(stats: LayerStats) -> dict:
    levels = {}
    for lvl in stats.levels[1:]:
        levels[lvl.name] = {
            TENSOR_KEY[t]: [round(ts.energy_pJ, 4), ts.reads, ts.updates, ts.fills, ts.partition_size]
            for t, ts in lvl.tensors.items()
        }
    return {
        "cycles": stats.cycles,
        "macs": stats.macs,
        "energy_pJ": round(stats.total_energy_pJ, 4),
        "energy_summary_uJ": stats.meta.get("energy_summary_uJ"),
        "utilization": stats.utilization,
        "mac_pJ": round(stats.mac_energy_pJ, 4),
        "levels": levels,
    }


def _matches(mapping: Mapping, instance: dict) -> bool:
    return all(mapping.factors(d) == instance[d] for d in ("C", "M", "R", "S", "N", "P", "Q"))


def extract_network(source: ArtifactSource, net: str) -> dict[str, dict]:
    """{run key: record} of one network/dataset (see the module docstring)."""
    runs: dict[str, dict] = {}
    digests: dict[str, str] = {}
    for key, folder in sorted(_run_dirs(source, net).items()):
        where = f"{source.root}:{folder}"
        stats_text = source.read(f"{folder}/output/timeloop-mapper.stats.txt")
        stats = parse_stats(stats_text)
        mapping = parse_map(source.read(f"{folder}/output/timeloop-mapper.map.txt"))
        problem = parse_problem(source.read(f"{folder}/prob/prob.yaml"))
        instance = {k: int(v) for k, v in problem.instance.items()}
        record: dict = {"arch": _arch_from_specs(stats_text, where), "problem": instance}
        digest = hashlib.sha256(stats_text.encode()).hexdigest()
        if _matches(mapping, instance):
            record["mapping"] = mapping.to_dict()
            record["timeloop"] = _timeloop_figures(stats)
            digests.setdefault(digest, key)
        else:
            record["stale_digest"] = digest
        runs[key] = record
    for key, record in runs.items():
        digest = record.pop("stale_digest", None)
        if digest is not None:
            if digest not in digests:
                raise ArtifactError(
                    f"{source.root}:{net}/{key}: the recorded mapping does not fit the problem and "
                    "the output is no copy of another run"
                )
            record["stale_copy_of"] = digests[digest]
    return runs


def read_result_rows(source: ArtifactSource, net: str) -> dict:
    text = source.read(f"{net}/result.csv")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    columns = header[1:]  # drop the unnamed pandas index
    rows = [[row[1]] + [float(v) for v in row[2:]] for row in reader if row]
    return {"columns": columns, "rows": rows}


# ----------------------------------------------------------------------------------------- writing


def _dump(data: dict, path: Path, header: dict) -> None:
    """JSON with one run (or row) per line, so diffs stay readable."""
    lines = ["{", f' "about": {json.dumps(header)},']
    items = list(data.items())
    lines.append(' "networks": {')
    for i, (net, entries) in enumerate(items):
        lines.append(f"  {json.dumps(net)}: {{")
        sub = list(entries.items())
        for j, (key, value) in enumerate(sub):
            comma = "," if j < len(sub) - 1 else ""
            lines.append(f"   {json.dumps(key)}: {json.dumps(value, separators=(',', ':'))}{comma}")
        lines.append("  }" + ("," if i < len(items) - 1 else ""))
    lines += [" }", "}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)


def write_fixtures(
    artifact: Path,
    commit: str = "HEAD",
    mappings_out: Path = ARTIFACT_MAPPINGS,
    results_out: Path = ARTIFACT_RESULTS,
    networks: tuple[str, ...] = NETWORKS,
) -> None:
    source = ArtifactSource(artifact, commit)
    about = {"repository": REPOSITORY, "commit": source.revision(), "written_by": "python -m analysis.artifact_fixture"}
    runs = {net: extract_network(source, net) for net in networks}
    results = {net: read_result_rows(source, net) for net in networks}
    _dump(
        runs,
        mappings_out,
        {
            **about,
            "units": "energy pJ (summary uJ); levels: {tensor: [energy_pJ, reads, updates, fills, partition_size]}",
        },
    )
    _dump(results, results_out, {**about, "units": "result.csv: energy uJ, cycles"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifact", required=True, type=Path, help="checkout or bare git clone of the artifact")
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--mappings-out", type=Path, default=ARTIFACT_MAPPINGS)
    parser.add_argument("--results-out", type=Path, default=ARTIFACT_RESULTS)
    args = parser.parse_args(argv)
    write_fixtures(args.artifact, args.commit, args.mappings_out, args.results_out)


if __name__ == "__main__":
    main()
