"""Content-keyed mapper runs (engines.runs): what the key covers, execution into a run directory, and the run cache
shared across results directories (whole entries only, safe when two processes map the same run)."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import yaml

from engines.runs import RunSpec, clear_cache, execute
from engines.stats import LayerStats
from specs.constraints import render_constraints
from specs.mapper import mapper_document
from specs.problem import render_problem
from workloads import Layer
from workloads.problem import problems_for

ROOT = Path(__file__).resolve().parents[1]
LAYER = Layer("b1.decom", "pointwise", 1, 1, 8, 8, 16, 32, part="body", block=1, role="decom")


def spec(arch: Path = ROOT / "arch" / "eyeriss", victory: int = 50, seed: int = 0) -> RunSpec:
    (problem,) = problems_for(LAYER)
    constraints = render_constraints(ROOT / "arch" / "eyeriss" / "constraints" / "layer.yaml.j2", problem.dimensions)
    mapper = yaml.safe_dump(mapper_document(500, victory))
    return RunSpec(str(arch), render_problem(problem), constraints, mapper, "embedded", {"seed": seed})


def test_the_key_covers_every_input(tmp_path):
    base = spec()
    assert base.key() == spec().key() and len(base.key()) == 64
    others = [
        spec(victory=51),
        spec(seed=1),
        RunSpec(
            base.arch,
            base.problem.replace("P: 8", "P: 4"),
            base.constraints,
            base.mapper,
            base.engine,
            base.engine_options,
        ),
    ]
    arch = shutil.copytree(ROOT / "arch" / "eyeriss", tmp_path / "eyeriss")
    assert spec(arch).key() == base.key()  # the same files elsewhere: the same run
    (arch / "components" / "smartbuffer_RF.yaml").write_text(
        (arch / "components" / "smartbuffer_RF.yaml").read_text() + "# edited\n"
    )
    others.append(spec(arch))
    (arch / "sparse.yaml").write_text("edited: true\n")  # not read by a mapper run
    assert len({base.key(), *(s.key() for s in others)}) == 1 + len(others)
    assert spec(arch).key() == others[-1].key()
    assert RunSpec.from_json(base.to_json()) == base


def test_execute_writes_the_run_and_the_cache_serves_it(tmp_path):
    run = spec()
    stats, hit = execute(run, tmp_path / "a", cache=tmp_path / "cache")
    assert not hit and (tmp_path / "a" / "stats.json").is_file() and (tmp_path / "a" / "map.txt").is_file()
    assert (tmp_path / "a" / "problem.yaml").read_text() == run.problem
    again, hit = execute(run, tmp_path / "b", cache=tmp_path / "cache")
    assert hit and again.to_json() == stats.to_json() and stats.meta["run_key"] == run.key()
    assert stats.macs == LAYER.macs and stats.meta["problem_file"] == "problem.yaml"
    assert clear_cache(tmp_path / "cache") == 1 and not list((tmp_path / "cache").glob("*/*"))


def _worker(args):
    run_json, out, cache = args
    stats, hit = execute(RunSpec.from_json(run_json), Path(out), cache=Path(cache))
    return stats.to_json(), hit


def test_two_processes_mapping_the_same_run_share_one_cache_entry(tmp_path):
    run = spec(victory=60)
    jobs = [(run.to_json(), str(tmp_path / f"out{i}"), str(tmp_path / "cache")) for i in range(2)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_worker, jobs)
    assert results[0][0] == results[1][0]
    entries = list((tmp_path / "cache").glob("*/*"))
    assert [e.name for e in entries] == [run.key()] and (entries[0] / "stats.json").is_file()
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    assert LayerStats.from_json(entries[0] / "stats.json").to_json() == results[0][0]
