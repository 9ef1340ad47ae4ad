"""Our own arch specs and energy tables against the paper artifact's, and the engine on both."""
from dataclasses import asdict
from pathlib import Path

import pytest
import yaml

from conftest import MOBILENET_RUNS, REFERENCE
from engines.embedded import EmbeddedEngine
from engines.embedded.arch import load_arch
from test_embedded_model import read_map, read_stats

ROOT = Path(__file__).resolve().parents[1]
OURS = {"eyeriss": ROOT / "arch/eyeriss", "predictions": ROOT / "arch/archon/predictions", "main": ROOT / "arch/archon/main"}
THEIRS = {"eyeriss": "baseline", "predictions": "fusion/predictions", "main": "fusion/main"}


def _levels(arch):
    spec = load_arch(arch)
    return [asdict(level) for level in spec.storage], spec.arithmetic


@pytest.mark.parametrize("name", OURS)
def test_arch_levels_equal_the_reference(name):
    ours, our_mac = _levels(OURS[name])
    theirs, their_mac = _levels(REFERENCE / "accelerators" / THEIRS[name])
    assert ours == theirs
    assert asdict(our_mac) == asdict(their_mac)
    assert [lvl["name"] for lvl in ours][-2:] == ["shared_glb", "DRAM"] and ours[-2]["size"] in (55296, 51200)


def _max_energies(ert_file: Path) -> dict:
    tables = yaml.safe_load(ert_file.read_text())["ERT"]["tables"]
    out = {}
    for table in tables:
        for action in table["actions"]:
            key = (table["name"], action["name"])
            out[key] = max(out.get(key, 0.0), float(action["energy"]))
    return out


@pytest.mark.parametrize("name", OURS)
def test_ert_max_action_energies_equal_the_reference(name):
    ours = _max_energies(OURS[name] / "ERT.fuseloop.yaml")
    theirs = _max_energies(REFERENCE / "accelerators" / THEIRS[name] / "ERT.yaml")
    assert ours == theirs
    assert ours[("system.eyeriss.shared_glb", "write")] == {"eyeriss": 70.264}.get(name, 68.751)


def test_make_ert_regenerates_the_committed_tables(tmp_path):
    import subprocess
    import sys
    import shutil

    copy = tmp_path / "eyeriss"
    shutil.copytree(OURS["eyeriss"], copy, symlinks=True)
    (copy / "ERT.fuseloop.yaml").unlink()
    subprocess.run([sys.executable, str(ROOT / "arch/make_ert.py"), str(copy)], check=True, capture_output=True)
    assert (copy / "ERT.fuseloop.yaml").read_text() == (OURS["eyeriss"] / "ERT.fuseloop.yaml").read_text()
    text = (copy / "arch.yaml").read_text().replace("memory_depth: 24", "memory_depth: 20")
    (copy / "arch.yaml").write_text(text)
    result = subprocess.run([sys.executable, str(ROOT / "arch/make_ert.py"), str(copy)], capture_output=True, text=True)
    assert result.returncode != 0 and "psum_spad" in result.stderr and "smartbuffer_RF:20" in result.stderr


RUNS_ON_OUR_ARCHES = {  # recorded runs whose arch we ship (the prediction runs used an older 128 KiB GLB)
    "baseline/b1/decom": "eyeriss", "baseline/b7/conv": "eyeriss", "head_and_tail/baseline/tail/baseline/FC1": "eyeriss",
    "fusion/main_computations/b1": "main", "fusion/main_computations/b9": "main",
    "head_and_tail/fused/fus_head/fusion/DW1": "predictions", "head_and_tail/fused/fus_tail/fusion/PW1": "predictions",
}


@pytest.mark.parametrize("run", RUNS_ON_OUR_ARCHES)
def test_engine_on_our_arch_reproduces_recorded_runs(run):
    run_dir = MOBILENET_RUNS / run
    expected = read_stats(run_dir / "stats.txt")
    got = EmbeddedEngine().model(OURS[RUNS_ON_OUR_ARCHES[run]], run_dir / "prob/prob.yaml", read_map(run_dir / "map.txt"))
    assert got.cycles == expected["cycles"]
    assert got.total_energy_pJ == pytest.approx(expected["total_energy"], rel=1e-6)
    for level in got.levels:
        assert level.energy_pJ == pytest.approx(expected["levels"][level.name]["energy"], rel=1e-6, abs=0.01)


def test_a_user_ert_takes_precedence_over_the_shipped_table(tmp_path):
    import shutil

    from engines.timeloop_inputs import arch_input_files

    arch = tmp_path / "eyeriss"
    shutil.copytree(OURS["eyeriss"], arch, symlinks=True)
    run_dir = MOBILENET_RUNS / "baseline/b1/decom"
    mapping = read_map(run_dir / "map.txt")
    shipped = EmbeddedEngine().model(arch, run_dir / "prob/prob.yaml", mapping)
    assert [p.name for p in arch_input_files(arch)][-1] == "ERT.fuseloop.yaml"
    user = yaml.safe_load((arch / "ERT.fuseloop.yaml").read_text())
    for table in user["ERT"]["tables"]:
        if table["name"] == "system.DRAM":
            for action in table["actions"]:
                action["energy"] *= 2
    (arch / "ERT.yaml").write_text(yaml.safe_dump(user))
    mine = EmbeddedEngine().model(arch, run_dir / "prob/prob.yaml", mapping)
    assert mine.energy("DRAM") == pytest.approx(2 * shipped.energy("DRAM"))
    assert mine.energy("shared_glb") == pytest.approx(shipped.energy("shared_glb"))
    assert [p.name for p in arch_input_files(arch)][-1] == "ERT.yaml"
