"""Timeloop / Accelergy output parsers on every recorded run, on a newer-layout sample and on bad input."""
from pathlib import Path

import pytest
import yaml

from conftest import MOBILENET_RUNS, REFERENCE, all_reference_runs
from engines.mapping import LevelMapping, Loop, Mapping
from engines.parsers import ParseError, load_art, load_ert, parse_map, parse_map_stats_xml, parse_run, parse_stats

DATA = Path(__file__).parent / "data" / "parsers"
RUNS = all_reference_runs()


def _id(run):
    return run.relative_to(MOBILENET_RUNS).as_posix()


def _pj_per_macc(text: str) -> dict[str, float]:
    block = text.split("pJ/MACC", 1)[1]
    out = {}
    for line in block.splitlines()[1:]:
        if "=" in line:
            name, value = line.rsplit("=", 1)
            out[name.strip()] = float(value)
    return out


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_every_recorded_run_parses_consistently(run):
    stats = parse_run(run)
    text = (run / "stats.txt").read_text()
    # per-level energies add up to Timeloop's full-precision topology total
    assert sum(level.energy_pJ for level in stats.levels) == pytest.approx(stats.total_energy_pJ, rel=1e-4)
    # cycles and MACs agree with the per-level numbers
    arithmetic = stats.levels[0]
    assert stats.cycles == max(level.cycles for level in stats.levels)
    assert stats.macs == arithmetic.utilized_instances * arithmetic.cycles
    assert stats.utilization == pytest.approx(stats.macs / arithmetic.instances / stats.cycles, abs=0.005)
    # the pJ/MACC breakdown is each level's energy / MACs (printed with 2 decimals)
    for name, value in _pj_per_macc(text).items():
        if "<==>" not in name and name != "Total":
            assert stats.level(name).energy_pJ / stats.macs == pytest.approx(value, abs=0.0051)
    assert stats.total_energy_pJ / stats.macs == pytest.approx(_pj_per_macc(text)["Total"], abs=0.0051)
    # the mapping's factors multiply out to the problem
    instance = yaml.safe_load((run / "prob" / "prob.yaml").read_text())["problem"]["instance"]
    for dim in "CMRSNPQ":
        assert stats.mapping.factors(dim) == instance[dim], dim


def test_spot_values_of_baseline_b1_decom():
    stats = parse_run(MOBILENET_RUNS / "baseline/b1/decom")
    assert (stats.cycles, stats.macs, stats.utilization) == (24576, 1572864, 0.89)
    assert stats.total_energy_pJ == 25590669.31
    assert stats.mac_energy_pJ == 3460300.80
    psum = stats.level("psum_spad")
    assert (psum.instances, psum.utilized_instances) == (72, 64)
    outputs = psum.tensors["Outputs"]
    assert (outputs.energy_pJ, outputs.reads, outputs.updates, outputs.fills) == (950009.86, 18432, 24576, 6144)
    assert stats.energy("DRAM", "Weights") == 196608.0
    assert set(stats.level("shared_glb").tensors) == {"Inputs", "Outputs"}
    glb = stats.mapping.level("shared_glb")
    assert [(l.dim, l.bound) for l in glb.temporal()] == [("P", 32)]
    assert [(l.dim, l.bound) for l in glb.spatial("X")] == [("M", 2), ("Q", 4)]
    assert stats.mapping.level("DRAM").tile == {"Weights": 1536, "Inputs": 16384, "Outputs": 98304}
    assert stats.mapping.level("DummyBuffer").keep == ()


def test_newer_layout_sample():
    stats = parse_stats(DATA / "stats_v3_synthetic.txt")
    assert (stats.cycles, stats.macs, stats.utilization) == (16, 64, 1.0)  # "Utilization: 100.00%", "Computes = 64"
    assert [level.name for level in stats.levels] == ["MAC", "buf", "DRAM"]
    assert stats.total_energy_pJ == 4416.0  # sum of levels (no topology trailer), not the 2-decimal "0.00 uJ"
    assert stats.level("buf").tensors["Outputs"].updates == 16
    assert stats.meta["summary_energy_uJ"] == 0.0


def test_map_txt_round_trip():
    mapping = Mapping((
        LevelMapping("DRAM", (Loop("Q", 4),), ("Weights", "Inputs", "Outputs"), {"Weights": 3, "Inputs": 5, "Outputs": 7}),
        LevelMapping("glb", (Loop("P", 2), Loop("M", 2, "X"), Loop("C", 3, "Y")), ("Inputs",), {"Inputs": 2}),
        LevelMapping("spad", (), ("Weights",), {"Weights": 1}),
    ))
    assert parse_map(str(mapping)) == mapping


@pytest.mark.parametrize("text, message", [
    ("", "empty file"),
    ("hello\n", "not a Timeloop stats file"),
    ("Buffer and Arithmetic Levels\n---\n", "no 'Level N' blocks"),
])
def test_bad_stats_files_name_what_is_missing(tmp_path, text, message):
    path = tmp_path / "stats.txt"
    path.write_text(text)
    with pytest.raises(ParseError, match=f"{path}: {message}"):
        parse_stats(path)


def test_truncated_stats_file(tmp_path):
    text = (MOBILENET_RUNS / "baseline/b1/decom/stats.txt").read_text()
    path = tmp_path / "stats.txt"
    path.write_text(text.split("Summary Stats")[0])
    with pytest.raises(ParseError, match="no 'Summary Stats' section"):
        parse_stats(path)
    path.write_text(text.replace("Scalar fills (per-instance)", "Scalar filz"))
    with pytest.raises(ParseError, match="level psum_spad, tensor Outputs: no 'Scalar fills"):
        parse_stats(path)
    with pytest.raises(ParseError, match="no stats.txt"):
        parse_run(tmp_path / "nowhere")
    bad_map = tmp_path / "map.txt"
    bad_map.write_text("DRAM [ Weights:1 ]\n| while True\n")
    with pytest.raises(ParseError, match=r"map.txt:2: unexpected line"):
        parse_map(bad_map)


def test_energy_and_area_tables():
    ert = load_ert(REFERENCE / "accelerators/baseline/ERT.yaml")
    assert ert.max_energy("shared_glb", "write") == 70.264
    assert ert.max_energy("system.eyeriss.shared_glb") == 70.264
    assert ert.energy("mac", "mac_random") == 2.2
    assert ert.energy("ifmap_spad", "read", address_delta=1, data_delta=1) == 0.251
    summary = load_ert(REFERENCE / "accelergy-overhead/output/ERT_summary.yaml")
    assert summary.max_energy("prediction_buffer", "write") == 0.718
    art = load_art(REFERENCE / "accelerators/baseline/ART.yaml")
    assert art.area("weights_spad") == 3474.22
    with pytest.raises(KeyError, match="no component 'nothing'"):
        art.area("nothing")


XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<!DOCTYPE boost_serialization>
<boost_serialization signature="serialization::archive" version="17">
<engine class_id="0" tracking_level="0" version="0"><topology_ class_id="1" tracking_level="0" version="0">
<levels_ class_id="2" tracking_level="0" version="0"><count>2</count><item_version>1</item_version>
<item class_id="3" tracking_level="0" version="1"><px class_id="4" class_name="model::ArithmeticUnits" tracking_level="1" version="0" object_id="_0">
<Level class_id="5" tracking_level="0" version="0"><level_name>MAC</level_name></Level>
<energy_>128</energy_><area_>4</area_><cycles_>16</cycles_><utilized_instances_>4</utilized_instances_><maccs_>64</maccs_></px></item>
<item><px class_id="6" class_name="model::BufferLevel" tracking_level="1" version="0" object_id="_1">
<Level><level_name>buf</level_name></Level><stats_ class_id="7" tracking_level="0" version="0">
<partition_size><PerDataSpace><count>3</count><item>16</item><item>8</item><item>16</item></PerDataSpace></partition_size>
<utilized_capacity><PerDataSpace><count>3</count><item>4</item><item>2</item><item>4</item></PerDataSpace></utilized_capacity>
<reads><PerDataSpace><count>3</count><item>16</item><item>16</item><item>12</item></PerDataSpace></reads>
<updates><PerDataSpace><count>3</count><item>0</item><item>0</item><item>16</item></PerDataSpace></updates>
<fills><PerDataSpace><count>3</count><item>4</item><item>8</item><item>0</item></PerDataSpace></fills>
<energy><PerDataSpace><count>3</count><item>20</item><item>24</item><item>28</item></PerDataSpace></energy>
</stats_></px></item></levels_></topology_></engine></boost_serialization>
"""


def test_map_stats_xml_sample(tmp_path):
    path = tmp_path / "timeloop-mapper.map+stats.xml"
    path.write_text(XML)
    parsed = parse_map_stats_xml(path)
    assert parsed["arithmetic"]["maccs_"] == 64 and parsed["arithmetic"]["name"] == "MAC"
    (buf,) = parsed["levels"]
    assert buf["name"] == "buf" and [t["reads"] for t in buf["tensors"]] == [16, 16, 12]
    assert buf["tensors"][2]["updates"] == 16
    path.write_text("<other/>")
    with pytest.raises(ParseError, match="not a Boost serialization archive"):
        parse_map_stats_xml(path)
