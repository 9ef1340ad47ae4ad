"""The derived energy/area tables (estimation, preset `derived`) against the hwcomponents libraries' own figures,
and arch edits (global buffer depth, a PE scratchpad width, the PE array size) through the table into results.

Skipped, with the reason printed, where the hwcomponents packages (Python >= 3.12) are not installed or their
CACTI cannot run (python -m estimation.install rebuilds it)."""

import shutil
from pathlib import Path

import pytest
from fixtures import RUNS_DIR
from test_embedded_model import read_map
from test_estimation import EYERISS, ROOT, edited

from engines.embedded import EmbeddedEngine, evaluate_mapping, fast_analysis, load_arch, load_energy_table
from engines.embedded.problem import load_problem
from estimation import derive_tables
from specs.energy import load_art, load_ert
from specs.errors import SpecError


def _not_ready() -> str | None:
    try:
        import hwcomponents_cacti  # noqa: F401
        import hwcomponents_library  # noqa: F401
    except ImportError as exc:
        return f"hwcomponents packages not installed ({exc}; they need Python >= 3.12)"
    from estimation.install import cacti_dir, cacti_runs

    ok, output = cacti_runs(cacti_dir())
    return None if ok else f"hwcomponents' CACTI cannot run here ({output[:80]}); run python -m estimation.install"


NOT_READY = _not_ready()
pytestmark = pytest.mark.skipif(NOT_READY is not None, reason=str(NOT_READY))

TECH = 45e-9
PJ, UM2 = 1e12, 1e12


# ---- the libraries' own figures, composed as the component classes say --------------------------------------------


def sram(width: int, depth: int, banks: int = 1):
    from hwcomponents_cacti import SRAM

    return SRAM(tech_node=TECH, width=width, depth=depth, size=width * depth, n_rw_ports=2, n_banks=banks)


def adder(bits: int):
    from hwcomponents_library import AladdinAdder

    return AladdinAdder(tech_node=TECH, width=bits)


def idle(model) -> float:
    return model.leak_power * 1e-9 * PJ  # leakage over the 1 ns clock of the Aladdin tables


def smartbuffer_sram_max(width: int, depth: int, banks: int = 1) -> float:
    """Largest action of smartbuffer_SRAM: one storage access + an address add (+ the other generator idle)."""
    storage, generator = sram(width, depth, banks), adder((depth - 1).bit_length())
    return max(storage.read().energy, storage.write().energy) * PJ + generator.add().energy * PJ + idle(generator)


def smartbuffer_sram_area(width: int, depth: int, banks: int = 1) -> float:
    return (sram(width, depth, banks).area + 2 * adder((depth - 1).bit_length()).area) * UM2


def smartbuffer_rf_max(width: int, depth: int) -> float:
    from hwcomponents_library import AladdinComparator, AladdinRegister

    bits = (depth - 1).bit_length()
    registers, comparator, generator = (
        AladdinRegister(tech_node=TECH, width=width),
        AladdinComparator(tech_node=TECH, width=bits),
        adder(bits),
    )
    return (registers.read().energy + depth * comparator.compare().energy + generator.add().energy) * PJ + idle(
        generator
    )


def mac():
    from hwcomponents_library import AladdinMultiplier

    return adder(16), AladdinMultiplier(tech_node=TECH, width=16)


@pytest.fixture
def derive(tmp_path):
    def run(arch: Path, name: str = "out"):
        return derive_tables(arch, tmp_path / name, "derived", cache_dir=tmp_path / "cache")

    return run


def test_derived_eyeriss_table_is_the_libraries_figures(derive):
    from hwcomponents_cacti import LPDDR4

    ert_path, art_path = derive(EYERISS)
    assert (ert_path.name, art_path.name) == ("ERT.derived.yaml", "ART.derived.yaml")
    ert, art = load_ert(ert_path), load_art(art_path)
    add, multiply = mac()
    expected = {
        "shared_glb": smartbuffer_sram_max(64, 13824, 27),
        "weights_spad": smartbuffer_sram_max(16, 224),
        "ifmap_spad": smartbuffer_rf_max(16, 16),
        "psum_spad": smartbuffer_rf_max(16, 24),
        "mac": (add.add().energy + multiply.multiply().energy) * PJ,
        "DRAM": LPDDR4(width=64).read().energy * PJ,
    }
    assert {name: ert.max_energy(name) for name in expected} == pytest.approx(expected, abs=2e-6)
    assert expected["DRAM"] == 512.0  # 8 pJ/bit x 64 bits, as the shipped table
    assert art.area("shared_glb") == pytest.approx(smartbuffer_sram_area(64, 13824, 27), abs=1e-3)
    assert art.area("mac") == pytest.approx((add.area + multiply.area) * UM2, abs=1e-3)
    # every argument combination of the shipped table is there (the same readers, the same rows)
    shipped = load_ert(EYERISS / "ERT.fuseloop.yaml")
    assert {n: {a: [r.arguments for r in rows] for a, rows in acts.items()} for n, acts in ert.components.items()} == {
        n: {a: [r.arguments for r in rows] for a, rows in acts.items()} for n, acts in shipped.components.items()
    }


@pytest.fixture
def run(fixture_reference) -> Path:
    """MobileNetV2 b1.decom's recorded run, from the repository's fixtures (these tests need no ../shared)."""
    return fixture_reference / RUNS_DIR / "baseline" / "b1" / "decom"


def _layer(arch: Path, table: Path, run: Path):
    """b1.decom's recorded mapping (MobileNetV2/CIFAR-10) re-costed on `arch` with the energy table `table`."""
    return evaluate_mapping(
        load_arch(arch / "arch.yaml"),
        load_energy_table(table),
        load_problem(run / "prob/prob.yaml"),
        read_map(run / "map.txt"),
        fast_analysis,
    )


def test_a_smaller_global_buffer_costs_less_per_access_and_per_layer(tmp_path, derive, run):
    small = edited(tmp_path, EYERISS, "memory_depth: 13824", "memory_depth: 6912")
    before, after = load_ert(derive(EYERISS, "a")[0]), load_ert(derive(small, "b")[0])
    assert after.max_energy("shared_glb") == pytest.approx(smartbuffer_sram_max(64, 6912, 27), abs=2e-6)
    ratio = after.max_energy("shared_glb") / before.max_energy("shared_glb")
    assert ratio < 0.75  # CACTI: half the rows, about 0.69 of the energy per access
    assert load_art(derive(small, "b")[1]).area("shared_glb") == pytest.approx(
        smartbuffer_sram_area(64, 6912, 27), abs=1e-3
    )
    layer_before, layer_after = _layer(EYERISS, derive(EYERISS, "a")[0], run), _layer(small, derive(small, "b")[0], run)
    assert layer_after.energy("shared_glb") == pytest.approx(ratio * layer_before.energy("shared_glb"), rel=1e-9)
    others = [lvl.name for lvl in layer_before.levels if lvl.name != "shared_glb"]
    assert [layer_after.energy(n) for n in others] == [layer_before.energy(n) for n in others]
    assert layer_after.total_energy_pJ < layer_before.total_energy_pJ


def test_a_wider_weights_scratchpad_costs_more_per_access_and_per_layer(tmp_path, derive, run):
    old = "memory_depth: 224\n                    memory_width: 16"
    wide = edited(tmp_path, EYERISS, old, old.replace("16", "32"))
    before, after = load_ert(derive(EYERISS, "a")[0]), load_ert(derive(wide, "b")[0])
    assert after.max_energy("weights_spad") == pytest.approx(smartbuffer_sram_max(32, 224), abs=2e-6)
    ratio = after.max_energy("weights_spad") / before.max_energy("weights_spad")
    assert ratio > 1.2
    layer_before, layer_after = _layer(EYERISS, derive(EYERISS, "a")[0], run), _layer(wide, derive(wide, "b")[0], run)
    assert layer_after.energy("weights_spad") == pytest.approx(ratio * layer_before.energy("weights_spad"), rel=1e-9)
    assert layer_after.total_energy_pJ > layer_before.total_energy_pJ


def _map_b1_decom(arch: Path, table: Path, tmp: Path):
    """Map b1.decom with a short search on `arch`, costed with `table` (put beside a copy of the arch)."""
    import yaml

    from accelerators.dense import layer_runs
    from specs.mapper import mapper_document
    from specs.problem import render_problem
    from workloads import zoo

    net = zoo.load_network("mobilenet", "cifar10", "baseline")
    (run,) = [r for r in layer_runs(net, {"problem": {"depthwise": "coupled"}}, arch) if r.name == "b1.decom"]
    inputs = tmp / "inputs"
    inputs.mkdir(exist_ok=True)
    (inputs / "problem.yaml").write_text(render_problem(run.problem, version="0.3"))
    (inputs / "constraints.yaml").write_text(run.constraints)
    (inputs / "mapper.yaml").write_text(yaml.safe_dump(mapper_document(2000, 100)))
    with_table = tmp / f"{arch.name}-derived"
    shutil.copytree(arch, with_table)
    shutil.copy(table, with_table / "ERT.yaml")  # a table beside the arch; its record is checked on load
    return EmbeddedEngine().evaluate(
        with_table, inputs / "problem.yaml", [inputs / "constraints.yaml"], inputs / "mapper.yaml"
    )


def test_a_larger_pe_array_renames_the_table_adds_area_and_maps_faster(tmp_path, derive):
    big = tmp_path / "big"
    shutil.copytree(EYERISS, big)
    text = (big / "arch.yaml").read_text()
    for old, new in (
        ("PE[0..71]", "PE[0..143]"),
        ("DummyBuffer[0..7]", "DummyBuffer[0..15]"),
        ("meshX: 8", "meshX: 16"),
    ):
        text = text.replace(old, new)
    (big / "arch.yaml").write_text(text)  # 16 columns x 9 rows
    (ert_a, art_a), (ert_b, art_b) = derive(EYERISS, "a"), derive(big, "b")
    before, after = load_ert(ert_a), load_ert(ert_b)
    assert "system.eyeriss.PE[0..143].mac" in after.names() and "system.eyeriss.PE[0..71].mac" not in after.names()
    per_access = ("mac", "ifmap_spad", "weights_spad", "psum_spad", "DummyBuffer", "shared_glb", "DRAM")
    assert [after.max_energy(n) for n in per_access] == [before.max_energy(n) for n in per_access]

    def chip_area(art, pes: int, columns: int) -> float:
        per_pe = sum(art.area(n) for n in ("mac", "ifmap_spad", "weights_spad", "psum_spad"))
        return art.area("shared_glb") + pes * per_pe + columns * art.area("DummyBuffer")

    area_a, area_b = load_art(art_a), load_art(art_b)
    add, multiply = mac()
    per_pe = (
        (add.area + multiply.area) * UM2
        + smartbuffer_sram_area(16, 224)
        + sum(area_a.area(n) for n in ("ifmap_spad", "psum_spad"))
    )
    assert chip_area(area_b, 144, 16) - chip_area(area_a, 72, 8) == pytest.approx(
        72 * per_pe + 8 * area_a.area("DummyBuffer"), rel=1e-9
    )
    small_array, big_array = _map_b1_decom(EYERISS, ert_a, tmp_path / "a"), _map_b1_decom(big, ert_b, tmp_path / "b")
    assert big_array.cycles < small_array.cycles  # twice the columns for M: 12288 vs 24576 cycles


def test_the_derived_table_works_in_the_engine_and_goes_stale_with_its_arch(tmp_path, derive, run):
    arch = tmp_path / "eyeriss"
    shutil.copytree(EYERISS, arch)
    ert, _ = derive(arch, "out")
    shutil.copy(ert, arch / "ERT.yaml")
    stats = EmbeddedEngine().model(arch, run / "prob/prob.yaml", read_map(run / "map.txt"))
    assert stats.total_energy_pJ == pytest.approx(_layer(EYERISS, ert, run).total_energy_pJ, rel=1e-12)
    assert stats.total_energy_pJ != pytest.approx(_layer(EYERISS, EYERISS / "ERT.fuseloop.yaml", run).total_energy_pJ)
    text = (arch / "arch.yaml").read_text()
    (arch / "arch.yaml").write_text(text.replace("memory_depth: 24", "memory_depth: 48"))
    with pytest.raises(
        SpecError,
        match=r"ERT.yaml: component system.eyeriss.PE\[0..71\].psum_spad was costed for "
        r"other attributes \(memory_depth 24 -> arch says 48\)",
    ):
        EmbeddedEngine().model(arch, run / "prob/prob.yaml", read_map(run / "map.txt"))


def test_a_class_without_a_library_model_is_named(tmp_path):
    with pytest.raises(
        SpecError,
        match=r"component fusion_chip.binary_decoder: class 'bitwise' has no hwcomponents "
        r"model",
    ):
        derive_tables(ROOT / "arch/archon/overhead", tmp_path, "derived", cache_dir=tmp_path / "cache")
