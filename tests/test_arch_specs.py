"""Our own arch specs, component classes, energy/area tables and mapper settings against the paper artifact's,
and the engine on our archs. The artifact's figures come from the reference corpus and from the fixtures; its arch
files and component classes from the corpus alone."""

import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
import yaml
from conftest import REFERENCE, corpus
from fixtures import read_run

from engines.embedded import EmbeddedEngine
from estimation import paper as make_ert
from specs.arch import load_arch
from specs.components import arch_components, compound_classes
from specs.energy import load_art, load_ert
from specs.errors import SpecError
from specs.mapper import artifact_mapper as mapper_settings

ROOT = Path(__file__).resolve().parents[1]
OURS = {
    "eyeriss": ROOT / "arch/eyeriss",
    "predictions": ROOT / "arch/archon/predictions",
    "main": ROOT / "arch/archon/main",
}
THEIRS = {"eyeriss": "baseline", "predictions": "fusion/predictions", "main": "fusion/main"}
ACCELERATORS = REFERENCE / "accelerators"
# Intended differences from the artifact's arch files: none (only comments differ).
INTENDED_ARCH_DIFFERENCES: dict[str, dict] = {}
# Intended differences in the component classes: the SRAM write's address generator calls `add`, not `count`.
INTENDED_COMPONENT_FIX = ("smartbuffer_SRAM", "write", "address_generators[0]", "count", "add")


def flat_components(arch_dir: Path) -> dict[str, tuple[str, dict]]:
    """{full component name: (class, attributes incl. inherited and class defaults)} as Accelergy reads arch.yaml."""
    return {c.name: (c.cls, c.attributes) for c in arch_components(arch_dir)}


@corpus
@pytest.mark.parametrize("name", OURS)
def test_arch_components_equal_the_reference(name):
    ours, theirs = flat_components(OURS[name]), flat_components(ACCELERATORS / THEIRS[name])
    assert ours == {**theirs, **INTENDED_ARCH_DIFFERENCES.get(name, {})}
    pes = {"eyeriss": 72, "predictions": 64, "main": 64}[name]
    assert f"system.eyeriss.PE[0..{pes - 1}].mac" in ours
    glb = ours["system.eyeriss.shared_glb"][1]
    assert glb["memory_depth"] * glb["memory_width"] // 8 // 1024 == {"eyeriss": 108}.get(name, 100)  # KiB


@pytest.mark.parametrize("name", OURS)
def test_arch_levels_as_the_engine_reads_them_equal_the_reference(name, reference_dir):
    ours, theirs = load_arch(OURS[name]), load_arch(reference_dir / "accelerators" / THEIRS[name])
    assert [asdict(level) for level in ours.storage] == [asdict(level) for level in theirs.storage]
    assert asdict(ours.arithmetic) == asdict(theirs.arithmetic)


def _classes(arch_dir: Path) -> dict:
    return {name: {k: v for k, v in cls.items() if k != "_source"} for name, cls in compound_classes(arch_dir).items()}


@corpus
@pytest.mark.parametrize("name", OURS)
def test_component_classes_equal_the_reference_but_for_the_count_fix(name):
    ours, theirs = _classes(OURS[name]), _classes(ACCELERATORS / THEIRS[name])
    assert set(ours) == set(theirs) == {"smartbuffer_RF", "smartbuffer_SRAM"}
    cls, action, sub, wrong, right = INTENDED_COMPONENT_FIX
    fixed = 0
    for act in theirs[cls]["actions"]:
        for subcomponent in act.get("subcomponents") or []:
            if act["name"] == action and subcomponent["name"] == sub:
                assert subcomponent["actions"] == [{"name": wrong}]
                subcomponent["actions"] = [{"name": right}]
                fixed += 1
    assert fixed == 1
    assert ours == theirs


def test_every_arch_directory_carries_the_same_component_files():
    texts = {name: {p.name: p.read_text() for p in (arch / "components").glob("*.yaml")} for name, arch in OURS.items()}
    assert set(texts["eyeriss"]) == {"smartbuffer_RF.yaml", "smartbuffer_SRAM.yaml"}
    assert texts["eyeriss"] == texts["predictions"] == texts["main"]


def _rows(path: Path) -> dict:
    """{(component, action, arguments): pJ} of every row of an ERT."""
    table = load_ert(path)
    return {
        (name, action, row.arguments): row.energy_pJ
        for name, actions in table.components.items()
        for action, rows in actions.items()
        for row in rows
    }


@pytest.mark.parametrize("name", OURS)
def test_ert_has_every_argument_combination_of_the_reference(name, reference_dir):
    ours = _rows(OURS[name] / make_ert.ERT_OUTPUT)
    theirs = _rows(reference_dir / "accelerators" / THEIRS[name] / "ERT.yaml")
    assert set(ours) == set(theirs)
    assert {key: value for key, value in ours.items() if theirs[key] != value} == {}
    glb = load_ert(OURS[name] / make_ert.ERT_OUTPUT)
    assert len(glb.rows("shared_glb", "read")) == 2 * (1 + {"eyeriss": 27}.get(name, 25))
    assert glb.max_energy("shared_glb") == {"eyeriss": 70.264}.get(name, 68.751)  # docs/method.md §4.1


def _variant(tmp_path: Path, source: Path, **glb) -> Path:
    arch = tmp_path / source.name
    shutil.copytree(source, arch)
    text = (arch / "arch.yaml").read_text()
    for key, (old, new) in glb.items():
        assert text.count(f"{key}: {old}") == 1
        text = text.replace(f"{key}: {old}", f"{key}: {new}")
    (arch / "arch.yaml").write_text(text)
    return arch


def test_the_128KiB_predictions_glb_variant_matches_the_artifacts_older_arch(tmp_path, reference_dir):
    arch = _variant(tmp_path, OURS["predictions"], memory_depth=(12800, 16384), n_banks=(25, 32))
    assert make_ert.main([str(arch)]) == 0
    old = reference_dir / "accelerators" / "fusion/predictions-128KiB-glb"
    assert _rows(arch / make_ert.ERT_OUTPUT) == _rows(old / "ERT.yaml")
    assert dict(load_art(arch / make_ert.ART_OUTPUT)) == {k: float(v) for k, v in load_art(old / "ART.yaml").items()}


@pytest.mark.parametrize("name", ["eyeriss", "main"])
def test_art_equals_the_reference(name, reference_dir):
    ours = load_art(OURS[name] / make_ert.ART_OUTPUT)
    theirs = load_art(reference_dir / "accelerators" / THEIRS[name] / "ART.yaml")
    assert dict(ours) == {k: float(v) for k, v in theirs.items()}


def test_predictions_art_uses_the_areas_of_reference_method_4_4():
    ours = load_art(OURS["predictions"] / make_ert.ART_OUTPUT)
    assert (ours.area("ifmap_spad"), ours.area("weights_spad"), ours.area("psum_spad"), ours.area("shared_glb")) == (
        624.68,
        2319.32,
        379.68,
        979377.0,
    )


def test_baseline_area_total_of_reference_method_4_4():
    art = load_art(OURS["eyeriss"] / make_ert.ART_OUTPUT)
    per_pe = sum(art.area(c) for c in ("mac", "ifmap_spad", "weights_spad", "psum_spad"))
    assert art.area("shared_glb") + 72 * per_pe == pytest.approx(1438130.76, abs=0.005)


def test_committed_tables_are_up_to_date():
    assert make_ert.main(["--check"]) == 0


def test_make_ert_check_and_errors(tmp_path, capsys):
    arch = tmp_path / "eyeriss"
    shutil.copytree(OURS["eyeriss"], arch)
    assert make_ert.main(["--check", str(arch)]) == 0
    (arch / make_ert.ART_OUTPUT).write_text("ART: {}\n")
    assert make_ert.main(["--check", str(arch)]) == 1
    assert "stale:" in capsys.readouterr().err
    bad = _variant(tmp_path / "bad", OURS["eyeriss"], memory_depth=(24, 20))
    assert make_ert.main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "component system.eyeriss.PE[0..71].psum_spad" in err
    assert "no smartbuffer_RF entry" in err and "'memory_depth': 20" in err


def test_make_ert_refuses_another_technology(tmp_path, capsys):
    arch = _variant(tmp_path, OURS["main"], technology=("45nm", "65nm"))
    assert make_ert.main([str(arch)]) == 2
    assert "technology '65nm', the table is 45nm" in capsys.readouterr().err


RUNS_ON_OUR_ARCHES = {  # recorded runs whose arch we ship (the prediction runs used an older 128 KiB GLB)
    "baseline/b1/decom": "eyeriss",
    "baseline/b7/conv": "eyeriss",
    "head_and_tail/baseline/tail/baseline/FC1": "eyeriss",
    "fusion/main_computations/b1": "main",
    "fusion/main_computations/b9": "main",
    "head_and_tail/fused/fus_head/fusion/DW1": "predictions",
    "head_and_tail/fused/fus_tail/fusion/PW1": "predictions",
}


@pytest.mark.parametrize("run", RUNS_ON_OUR_ARCHES)
def test_engine_on_our_arch_reproduces_recorded_runs(run, mobilenet_runs):
    run_dir = mobilenet_runs / run
    expected = read_run(run_dir)
    got = EmbeddedEngine().model(OURS[RUNS_ON_OUR_ARCHES[run]], run_dir / "prob/prob.yaml", expected.mapping)
    assert got.cycles == expected.cycles
    assert got.total_energy_pJ == pytest.approx(expected.total_energy_pJ, rel=1e-6)
    for level in got.levels:
        assert level.energy_pJ == pytest.approx(expected.level(level.name).energy_pJ, rel=1e-6, abs=0.01)


def test_a_user_ert_takes_precedence_over_the_shipped_table(tmp_path, fixture_reference):
    from engines.timeloop_inputs import arch_input_files

    arch = tmp_path / "eyeriss"
    shutil.copytree(OURS["eyeriss"], arch)
    run_dir = fixture_reference / "timeloop-runs/mobilenet-cifar10/baseline/b1/decom"
    mapping = read_run(run_dir).mapping
    shipped = EmbeddedEngine().model(arch, run_dir / "prob/prob.yaml", mapping)
    assert "ERT.fuseloop.yaml" in [p.name for p in arch_input_files(arch)]
    user = yaml.safe_load((arch / "ERT.fuseloop.yaml").read_text())
    for table in user["ERT"]["tables"]:
        if table["name"] == "system.DRAM":
            for action in table["actions"]:
                action["energy"] *= 2
    (arch / "ERT.yaml").write_text(yaml.safe_dump(user))
    mine = EmbeddedEngine().model(arch, run_dir / "prob/prob.yaml", mapping)
    assert mine.energy("DRAM") == pytest.approx(2 * shipped.energy("DRAM"))
    assert mine.energy("shared_glb") == pytest.approx(shipped.energy("shared_glb"))
    names = [p.name for p in arch_input_files(arch)]
    assert "ERT.yaml" in names and "ERT.fuseloop.yaml" not in names


# ---- mapper settings ------------------------------------------------------------------------------------------

REFERENCE_MAPPERS = {  # reference mapper file -> our entry
    "baseline_mapper.yaml": "body_pointwise",
    "baseline_dw_mapper.yaml": "body_depthwise",
    "fusion_predictions_mapper.yaml": "body_pointwise",
    "fusion_predictions_dw_mapper.yaml": "body_depthwise",
    "fusion_main_computations_mapper.yaml": "main",
}


@pytest.mark.parametrize("reference_file, entry", REFERENCE_MAPPERS.items())
def test_mapper_settings_equal_the_reference_but_live_status(reference_file, entry, reference_dir):
    theirs = yaml.safe_load((reference_dir / "mappers" / reference_file).read_text())["mapper"]
    ours = mapper_settings(entry)["mapper"]
    assert theirs.pop("live-status") is True and ours.pop("live-status") is False
    assert ours == theirs


@pytest.mark.parametrize(
    "entry, network, dataset, pair",
    [
        ("body_depthwise", "fusionet", "cifar10", (10000, 400)),
        ("body_depthwise", "mobilenet", "cifar100", (10000, 300)),
        ("baseline_head_depthwise", "mnasnet", "cifar100", (30000, 1000)),
        ("baseline_tail_depthwise", "mnasnet", "cifar100", (20000, 500)),
        ("baseline_head_pointwise", "mobilenet", "cifar10", (50000, 1000)),
        ("fused_head_pointwise", "mobilenet", "cifar10", (40000, 1500)),
        ("fused_head_pointwise", "shufflenet", "cifar10", (50000, 2000)),
        ("fused_tail_depthwise", "fusionet", "cifar100", (15000, 500)),
    ],
)
def test_mapper_settings_variants_of_reference_method_3_3(entry, network, dataset, pair):
    mapper = mapper_settings(entry, network, dataset)["mapper"]
    assert (mapper["timeout"], mapper["victory-condition"]) == pair


def test_mapper_settings_feed_the_embedded_engine(tmp_path):
    from engines.embedded.mapper import read_mapper_settings

    path = tmp_path / "mapper.yaml"
    path.write_text(yaml.safe_dump(mapper_settings("main")))
    settings = read_mapper_settings(path)
    assert (settings.timeout, settings.victory_condition, tuple(settings.metrics)) == (5000, 400, ("delay", "energy"))
    with pytest.raises(SpecError, match=r"mappers\.yaml: field settings: no entry 'dw'"):
        mapper_settings("dw")
