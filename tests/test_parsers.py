"""Timeloop / Accelergy output parsers: every recorded run, the newer-layout sample, Accelergy tables, bad input.
The recorded stats.txt files are the corpus's (tests marked corpus); figures to compare with come from the corpus and
from the fixtures."""

import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import MOBILENET_RUNS, REFERENCE, all_reference_runs, corpus
from fixtures import read_run

from engines.base import EngineError
from engines.mapping import LevelMapping, Loop, Mapping
from engines.parsers import ParseError, parse_map, parse_map_stats_xml, parse_run, parse_stats
from specs.energy import AreaTable, load_art, load_ert
from specs.errors import SpecError

DATA = Path(__file__).parent / "data" / "parsers"
NEWER_SAMPLE = DATA / "stats_newer_layout_synthetic.txt"
RUNS = all_reference_runs()
EXPECTED_RUNS = 109
TOTAL_REL_TOL = 1e-4  # levels must add up to the topology total within 0.01 %
PRINTED_2DP = 0.005 + 1e-9  # half a unit of the last printed decimal


def _id(run: Path) -> str:
    return run.relative_to(MOBILENET_RUNS).as_posix()


def _summary_numbers(text: str) -> dict:
    """The summary lines, read independently of the parser under test."""
    breakdown = text.split("\npJ/MACC\n", 1)[1]
    return {
        "cycles": int(re.search(r"^Cycles: (\d+)$", text, re.M).group(1)),
        "macs": int(re.search(r"^MACCs = (\d+)$", text, re.M).group(1)),
        "utilization": float(re.search(r"^Utilization: (\S+)$", text, re.M).group(1)),
        "total": float(re.search(r"^Total topology energy: (\S+) pJ$", text, re.M).group(1)),
        "pj_per_mac": {
            name.strip(): float(value) for name, value in re.findall(r"^ {4}(.+?)= (\S+)$", breakdown, re.M)
        },
    }


@corpus
def test_all_reference_runs_found():
    found = sorted(p.parent for p in MOBILENET_RUNS.rglob("stats.txt"))
    assert len(found) == EXPECTED_RUNS and found == RUNS


@corpus
@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_recorded_run_parses_consistently(run: Path):
    stats = parse_run(run)
    text = (run / "stats.txt").read_text()
    summary = _summary_numbers(text)
    # totals: full-precision topology energy; the levels (+ zero network energy) add up to it
    assert stats.total_energy_pJ == summary["total"]
    level_sum = sum(level.energy_pJ for level in stats.levels)
    network_sum = sum(stats.meta["network_energy_pJ"].values())
    assert level_sum + network_sum == pytest.approx(summary["total"], rel=TOTAL_REL_TOL)
    assert set(stats.meta["network_energy_pJ"].values()) == {0.0}
    # cycles and MACs equal the summary, and agree with the arithmetic level
    assert (stats.cycles, stats.macs, stats.utilization) == (summary["cycles"], summary["macs"], summary["utilization"])
    arithmetic = stats.levels[0]
    assert stats.macs == arithmetic.utilized_instances * arithmetic.cycles
    assert stats.cycles == max(level.cycles for level in stats.levels)
    # each printed pJ/MACC is that level's energy / MACs
    names = [level.name for level in stats.levels]
    for name, value in summary["pj_per_mac"].items():
        if name in names:
            assert stats.level(name).energy_pJ / stats.macs == pytest.approx(value, abs=PRINTED_2DP), name
    assert stats.total_energy_pJ / stats.macs == pytest.approx(summary["pj_per_mac"]["Total"], abs=PRINTED_2DP)
    assert set(summary["pj_per_mac"]) == set(names) | set(stats.meta["network_energy_pJ"]) | {"Total"}
    # the mapping: storage levels outermost first, kept tensors as in stats, factors multiply to the problem
    mapping = stats.mapping
    assert [lvl.level for lvl in mapping.levels] == names[1:][::-1]
    for lvl in mapping.levels:
        assert set(lvl.keep) == set(stats.level(lvl.level).tensors), lvl.level
        assert set(lvl.tile) == set(lvl.keep)
        for tensor, size in lvl.tile.items():
            assert size == stats.level(lvl.level).tensors[tensor].utilized_capacity, (lvl.level, tensor)
    instance = yaml.safe_load((run / "prob" / "prob.yaml").read_text())["problem"]["instance"]
    dims = {dim for dim in instance if len(dim) == 1}
    assert {loop.dim for _, loop in mapping.all_loops()} <= dims
    for dim in dims:
        assert mapping.factors(dim) == instance[dim], dim
    assert stats.meta["source"] == str(run / "stats.txt") and stats.meta["layout"] == "timeloop-2021"


@corpus
def test_spot_values_baseline_b1_decom():
    stats = parse_run(MOBILENET_RUNS / "baseline/b1/decom")
    assert (stats.cycles, stats.macs, stats.utilization) == (24576, 1572864, 0.89)
    assert stats.total_energy_pJ == 25590669.31 and stats.meta["energy_summary_uJ"] == 25.59
    mac = stats.levels[0]
    assert (mac.name, mac.instances, mac.utilized_instances, mac.cycles, mac.arithmetic_energy_pJ) == (
        "mac",
        72,
        64,
        24576,
        3460300.80,
    )
    assert [level.name for level in stats.levels] == [
        "mac",
        "psum_spad",
        "weights_spad",
        "ifmap_spad",
        "DummyBuffer",
        "shared_glb",
        "DRAM",
    ]
    outputs = stats.level("psum_spad").tensors["Outputs"]
    assert (outputs.partition_size, outputs.utilized_capacity, outputs.utilized_instances) == (6144, 24, 64)
    assert (outputs.reads, outputs.updates, outputs.fills) == (18432, 24576, 6144)
    assert (outputs.energy_per_access_pJ, outputs.energy_pJ) == (0.30, 950009.86)
    assert stats.energy("DRAM", "Weights") == 196608.0
    assert stats.energy("shared_glb") == pytest.approx(575602.69 + 3453616.13)
    dummy = stats.level("DummyBuffer")
    assert (dummy.instances, dummy.utilized_instances, dummy.tensors, dummy.energy_pJ) == (8, 0, {}, 0.0)
    assert stats.level("shared_glb").instances == 1 and stats.level("shared_glb").utilized_instances == 1
    assert stats.meta["energy_per_compute_pJ"]["DRAM"] == 9.46
    # mapping
    m = stats.mapping
    assert [(x.dim, x.bound) for x in m.level("DRAM").loops] == [("Q", 8)]
    glb = m.level("shared_glb")
    assert [(x.dim, x.bound) for x in glb.temporal()] == [("P", 32)]
    assert [(x.dim, x.bound) for x in glb.spatial("X")] == [("M", 2), ("Q", 4)]
    assert glb.keep == ("Inputs", "Outputs") and glb.tile == {"Inputs": 2048, "Outputs": 12288}
    dummy_map = m.level("DummyBuffer")  # printed: for Q in [0:1) placeholder, then M2 C4 spatial-Y
    assert dummy_map.loops == (Loop("M", 2, "Y"), Loop("C", 4, "Y")) and dummy_map.keep == ()
    assert m.level("ifmap_spad").loops == () and m.level("ifmap_spad").tile == {"Inputs": 4}
    assert m.level("psum_spad").loops == (Loop("M", 24),)


@corpus
def test_spot_values_depthwise_and_fused_runs():
    conv = parse_run(MOBILENET_RUNS / "baseline/b1/conv")
    assert conv.total_energy_pJ == 20140268.66 and conv.cycles == 12288
    assert conv.energy("psum_spad") == 534380.54 and conv.energy("DRAM", "Inputs") == 147968.0
    dummy_loops = conv.mapping.level("DummyBuffer").loops
    assert [(x.dim, x.bound, x.spatial) for x in dummy_loops] == [("M", 3, "Y"), ("S", 3, "Y")]
    fused = parse_run(MOBILENET_RUNS / "fusion/main_computations/b1")
    assert fused.total_energy_pJ == 40136722.16 and fused.macs == 3538944
    assert "weights_spad" not in [level.name for level in fused.levels]
    assert [(x.dim, x.bound) for x in fused.mapping.level("shared_glb").temporal()] == [("P", 4), ("C", 16), ("M", 24)]


def test_newer_layout_sample_has_the_same_structure(mobilenet_runs):
    """The synthetic newer-layout sample re-prints baseline/b1/decom: same levels, tensors, counts and energies."""
    new = parse_stats(NEWER_SAMPLE)
    old = read_run(mobilenet_runs / "baseline/b1/decom")
    assert new.meta["layout"] == "timeloop-v3+" and old.meta["layout"] == "timeloop-2021"
    assert (new.cycles, new.macs) == (old.cycles, old.macs)
    assert new.utilization == pytest.approx(0.8889)  # printed "88.89%"
    assert [level.name for level in new.levels] == [level.name for level in old.levels]
    assert new.meta["hidden_levels"] == [4]  # DummyBuffer: no accesses, no energy, not printed
    assert new.level("DummyBuffer").tensors == {} and new.level("DummyBuffer").energy_pJ == 0.0
    for a, b in zip(new.levels, old.levels, strict=True):
        assert a.energy_pJ == pytest.approx(b.energy_pJ, abs=0.01)
        assert set(a.tensors) == set(b.tensors)
        for tensor, t in a.tensors.items():
            assert t == old.level(a.name).tensors[tensor]
        if a.name != "DummyBuffer":
            assert (a.instances, a.utilized_instances, a.cycles) == (b.instances, b.utilized_instances, b.cycles)
    # no topology trailer: the total is the sum of the printed level energies (not the 2-decimal uJ line)
    assert new.meta["total_energy_from"] == "sum of level and network energies"
    assert new.total_energy_pJ == pytest.approx(old.total_energy_pJ, abs=0.02)
    assert new.meta["energy_summary_uJ"] == 25.59
    assert new.meta["energy_per_compute_pJ"]["Total"] == pytest.approx(16.27011)  # fJ/Compute -> pJ


def test_newer_layout_variants():
    text = NEWER_SAMPLE.read_text()
    # v3.0.x prints the utilization as a fraction
    assert parse_stats(text.replace("Utilization: 88.89%", "Utilization: 0.89")).utilization == 0.89
    # sparse-module key names
    sparse = text.replace("Scalar reads (per-instance)", "Actual scalar reads (per-instance)")
    assert parse_stats(sparse).level("psum_spad").tensors["Outputs"].reads == 18432
    # a non-zero temporal-reduction energy belongs to the tensor's level energy
    extra = text.replace(
        "Temporal Reduction Energy (total)        : 0.00 pJ", "Temporal Reduction Energy (total)        : 10.00 pJ", 1
    )
    assert parse_stats(extra).energy("psum_spad", "Outputs") == pytest.approx(950019.86)
    assert parse_stats(extra).total_energy_pJ == pytest.approx(parse_stats(text).total_energy_pJ + 10.0)


def test_map_txt_round_trip_and_text_input(mobilenet_runs):
    mapping = Mapping(
        (
            LevelMapping(
                "DRAM", (Loop("Q", 4),), ("Weights", "Inputs", "Outputs"), {"Weights": 3, "Inputs": 5, "Outputs": 7}
            ),
            LevelMapping("glb", (Loop("P", 2), Loop("C", 3, "Y"), Loop("M", 2, "X")), ("Inputs",), {"Inputs": 2}),
            LevelMapping("spad", (), ("Weights",), {"Weights": 1}),
        )
    )
    assert parse_map(str(mapping)) == mapping
    text = (mobilenet_runs / "baseline/b1/decom/map.txt").read_text()
    assert parse_map(text) == parse_map(mobilenet_runs / "baseline/b1/decom/map.txt")
    assert parse_map(str(parse_map(text))) == parse_map(text)


@corpus
def test_run_directory_in_timeloop_output_layout(tmp_path):
    src = MOBILENET_RUNS / "baseline/b1/decom"
    for prefix in ("timeloop-mapper.", "timeloop-model."):
        out = tmp_path / prefix.strip(".")
        out.mkdir()
        shutil.copy(src / "stats.txt", out / f"{prefix}stats.txt")
        shutil.copy(src / "map.txt", out / f"{prefix}map.txt")
        stats = parse_run(out)
        assert stats.total_energy_pJ == 25590669.31 and stats.meta["map_file"] == str(out / f"{prefix}map.txt")
        assert stats.mapping == parse_map(src / "map.txt")
    (tmp_path / "timeloop-model" / "timeloop-model.map.txt").unlink()
    with pytest.raises(ParseError, match=r"timeloop-model: no map.txt \(looked for timeloop-model.map.txt\)"):
        parse_run(tmp_path / "timeloop-model")


# ---- bad input ----------------------------------------------------------------------

REFERENCE_STATS = MOBILENET_RUNS / "baseline/b1/decom/stats.txt"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty file"),
        ("  \n\n", "empty file"),
        ("hello\nworld\n", "no 'Level <n>' block found"),
        ("Buffer and Arithmetic Levels\n----\n", "no 'Level <n>' block found"),
    ],
)
def test_bad_stats_files(tmp_path, text, message):
    path = tmp_path / "stats.txt"
    path.write_text(text)
    with pytest.raises(ParseError, match=re.escape(f"{path}: {message}")):
        parse_stats(path)


@corpus
def test_truncated_and_incomplete_stats(tmp_path):
    text = REFERENCE_STATS.read_text()
    path = tmp_path / "stats.txt"
    cases = [
        (text.split("Summary Stats")[0], "missing 'Summary Stats' section"),
        (
            text[: text.index("STATS", text.index("=== weights_spad ==="))],
            "Level 2 (weights_spad): missing STATS section",
        ),
        (text.split("\nMACCs")[0], "Summary Stats: missing 'MACCs = N'"),
        (text.replace("Cycles: 24576\n", ""), "Summary Stats: missing 'Cycles:'"),
        (
            text.replace("Scalar fills (per-instance)              : 6144", "Scalar filz : 6144"),
            "Level 1 (psum_spad) Outputs: missing 'Scalar fills (per-instance)'",
        ),
        (
            text.replace("Energy (total)       : 3460300.80 pJ", "Energy (total)       : lots pJ"),
            "Level 0 (mac) STATS Energy (total): expected a number, found 'lots pJ'",
        ),
        (text.replace("Level 0\n", "Level 9\n", 1), "Level 0 (the arithmetic level) is missing"),
    ]
    for broken, message in cases:
        path.write_text(broken)
        with pytest.raises(ParseError, match=re.escape(f"{path}: {message}")):
            parse_stats(path)
    with pytest.raises(ParseError, match="no such file"):
        parse_stats(tmp_path / "missing.txt")
    assert issubclass(ParseError, EngineError) and issubclass(ParseError, ValueError)


def test_bad_map_files(tmp_path):
    path = tmp_path / "map.txt"
    for text, message in [
        ("", "empty file"),
        ("DRAM [ Weights:1 ]\n| while True\n", "map.txt:2: unexpected line '| while True'"),
        ("| for Q in [0:4)\n", "map.txt:1: loop before the first level header"),
        ("DRAM [ Weights:x ]\n", "map.txt:1: bad tile entry 'Weights:x'"),
    ]:
        path.write_text(text)
        with pytest.raises(ParseError, match=re.escape(message)):
            parse_map(path)
    with pytest.raises(ParseError, match="no such run directory"):
        parse_run(tmp_path / "nowhere")
    with pytest.raises(ParseError, match=r"no stats.txt \(looked for stats.txt, timeloop-mapper.stats.txt"):
        parse_run(tmp_path)


# ---- Accelergy tables ------------------------------------------------------------------

BASELINE = REFERENCE / "accelerators" / "baseline"
OVERHEAD = REFERENCE / "accelergy-overhead" / "output"


def test_ert_lookups(reference_dir):
    ert = load_ert(reference_dir / "accelerators" / "baseline" / "ERT.yaml")
    assert "system.eyeriss.PE[0..71].mac" in ert.names() and not ert.summary
    assert ert.resolve("mac") == ert.resolve("system.eyeriss.PE.mac") == "system.eyeriss.PE[0..71].mac"
    assert ert.resolve("DummyBuffer") == "system.eyeriss.DummyBuffer[0..7]"
    assert ert.energy("mac", "mac_random") == 2.2
    assert ert.energy("system.eyeriss.PE[0..71].mac", "idle") == 0.066
    assert ert.energy("ifmap_spad", "read", address_delta=1, data_delta=1) == 0.251
    assert ert.max_energy("shared_glb", "write") == 70.264  # Timeloop's GLB vector access energy
    assert ert.max_energy("shared_glb") == 70.264
    assert ert.max_energy("DRAM", "read") == 512 and ert.min_energy("ifmap_spad", "read") <= 0.251
    with pytest.raises(KeyError, match="has 4 rows matching no arguments"):
        ert.energy("ifmap_spad", "read")
    with pytest.raises(KeyError, match="no row with arguments"):
        ert.energy("ifmap_spad", "read", address_delta=7)
    with pytest.raises(KeyError, match="has no action 'fly'"):
        ert.energy("mac", "fly")
    with pytest.raises(KeyError, match="no component 'nothing'"):
        ert.energy("nothing", "read")


@corpus
def test_ert_summary_and_art():
    summary = load_ert(OVERHEAD / "ERT_summary.yaml")
    assert summary.summary
    assert summary.energy("prediction_buffer", "write") == 0.359  # average_energy
    assert summary.max_energy("prediction_buffer", "write") == 0.718
    assert summary.min_energy("prediction_buffer", "read") == 0.0
    assert summary.energy("adders", "add") == 0.054
    full = load_ert(OVERHEAD / "ERT.yaml")
    assert full.max_energy("prediction_buffer", "write") == summary.max_energy("prediction_buffer", "write")
    art = load_art(BASELINE / "ART.yaml")
    assert art["system.eyeriss.PE[0..71].weights_spad"] == 3474.22 and art.area("weights_spad") == 3474.22
    assert art.area("shared_glb") == 1030209.0 and len(art) == 7
    art_summary = load_art(OVERHEAD / "ART_summary.yaml")
    assert art_summary.area("prediction_buffer") == 1020.59
    ambiguous = AreaTable({"a.PE[0..1].mux": 1.0, "b.mux": 2.0}, "table.yaml")
    assert ambiguous.area("b.mux") == 2.0
    with pytest.raises(KeyError, match="table.yaml: component name 'mux' is ambiguous"):
        ambiguous.area("mux")


def test_bad_accelergy_tables(tmp_path):
    path = tmp_path / "ERT.yaml"
    for text, message in [
        ("", "empty file"),
        ("ERT: [\n", "not valid YAML: line 2"),
        ("foo: 1\n", "neither an 'ERT' nor an 'ERT_summary' top-level key"),
        ("ERT:\n  version: 0.3\n", "ERT.tables: missing or not a list"),
        ("ERT:\n  tables:\n  - name: x\n", "ERT.tables[0]: needs a 'name' and an 'actions' list"),
        ("ERT:\n  tables:\n  - name: x\n    actions:\n    - name: read\n", "x).read: no 'energy'"),
        (
            "ERT:\n  tables:\n  - name: x\n    actions:\n    - {name: read, energy: lots}\n",
            "expected a number, found 'lots'",
        ),
    ]:
        path.write_text(text)
        with pytest.raises(SpecError, match=re.escape(message)):
            load_ert(path)
    path.write_text("ART:\n  tables:\n  - name: x\n")
    with pytest.raises(SpecError, match=re.escape("ART.tables[0]: needs a 'name' and an 'area'")):
        load_art(path)
    with pytest.raises(SpecError, match="no such file"):
        load_ert(tmp_path / "missing.yaml")


# ---- map+stats.xml -----------------------------------------------------------------------

XML_SAMPLE = DATA / "map_stats_synthetic.xml"
XML_PROBLEM = DATA / "map_stats_synthetic.prob.yaml"


def test_map_stats_xml_sample():
    stats = parse_map_stats_xml(XML_SAMPLE, problem=XML_PROBLEM)
    assert [level.name for level in stats.levels] == ["MAC", "buf", "DRAM"]
    assert (stats.macs, stats.cycles, stats.utilization) == (64, 16, 1.0)
    assert stats.levels[0].arithmetic_energy_pJ == 128 and stats.levels[0].instances == 4
    outputs = stats.level("buf").tensors["Outputs"]
    assert (outputs.reads, outputs.updates, outputs.fills, outputs.utilized_capacity) == (48, 64, 0, 4)
    assert outputs.energy_pJ == 112 + 2  # per-instance energy x instances + address-generation energy
    assert stats.energy("DRAM") == 3 * 1024
    assert stats.total_energy_pJ == 128 + 80 + 80 + 114 + 3072
    # the mapping is rebuilt from the levels' subnests (stored innermost first, unit loops dropped)
    assert stats.mapping.level("buf").loops == (Loop("C", 4), Loop("M", 4, "X"))
    assert stats.mapping.level("DRAM").loops == (Loop("P", 4),)
    assert stats.mapping.level("buf").tile == {"Weights": 16, "Inputs": 4, "Outputs": 4}
    for dim, bound in stats.meta["bounds"].items():
        assert stats.mapping.factors(dim) == bound
    assert stats.meta["network_energy_per_instance_pJ"] == {"DRAM <==> buf": 0.0}
    assert stats.meta["keep_bits"]["Outputs"].endswith("11")
    # without the problem, dimensions are named by id
    assert parse_map_stats_xml(XML_SAMPLE).mapping.level("buf").loops == (Loop("dim0", 4), Loop("dim1", 4, "X"))


def test_bad_map_stats_xml(tmp_path):
    path = tmp_path / "timeloop-mapper.map+stats.xml"
    text = XML_SAMPLE.read_text()
    for broken, message in [
        ("not xml", "not a readable XML file"),
        ("<other/>", "not a Boost serialization archive (root <other>)"),
        (text.replace("<levels_", "<lvls_").replace("</levels_>", "</lvls_>"), "missing <engine/topology_/levels_>"),
        (text.replace("<maccs_>64</maccs_>", "<maccs_>many</maccs_>"), "expected a number, found 'many'"),
        (text.replace("<cycles>16</cycles>", "", 1), "item[1] (buf)/stats_: missing <cycles>"),
    ]:
        path.write_text(broken)
        with pytest.raises(ParseError, match=re.escape(message)):
            parse_map_stats_xml(path)
    with pytest.raises(ParseError, match="no such file"):
        parse_map_stats_xml(tmp_path / "missing.xml")
