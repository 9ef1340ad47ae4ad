"""Energy/area tables derived from an arch (estimation/): the paper preset, the table-matches-arch check, the
cache, compound expansion and errors. Nothing here needs the hwcomponents packages (see
test_estimation_hwcomponents.py for the derived figures)."""

import os
import shutil
from pathlib import Path

import pytest
import yaml
from fixtures import RUNS_DIR
from test_embedded_model import read_map

from engines.embedded import EmbeddedEngine
from estimation import TableMismatch, check_tables, derive_tables, primitives
from estimation.__main__ import main as cli
from estimation.compound import Pricer
from specs.components import arch_components, argument_ranges, compound_classes, evaluate
from specs.energy import load_art, load_ert
from specs.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
EYERISS = ROOT / "arch" / "eyeriss"


@pytest.fixture
def run(fixture_reference) -> Path:
    """MobileNetV2 b1.decom's recorded run, from the repository's fixtures (these tests need no ../shared)."""
    return fixture_reference / RUNS_DIR / "baseline" / "b1" / "decom"


def _rows(path: Path) -> dict:
    table = load_ert(path)
    return {
        (name, action, row.arguments): row.energy_pJ
        for name, actions in table.components.items()
        for action, rows in actions.items()
        for row in rows
    }


def edited(tmp_path: Path, source: Path, old: str, new: str, name: str = "arch") -> Path:
    """A copy of `source` whose arch.yaml has its single `old` replaced by `new`."""
    arch = tmp_path / name
    shutil.copytree(source, arch)
    text = (arch / "arch.yaml").read_text()
    assert text.count(old) == 1, old
    (arch / "arch.yaml").write_text(text.replace(old, new))
    return arch


@pytest.mark.parametrize("arch", ["eyeriss", "archon/predictions", "archon/main"])
def test_paper_preset_is_the_shipped_table(tmp_path, arch):
    ert, art = derive_tables(ROOT / "arch" / arch, tmp_path, "paper", cache_dir=tmp_path / "cache")
    assert (ert.name, art.name) == ("ERT.paper.yaml", "ART.paper.yaml")
    shipped = ROOT / "arch" / arch
    assert _rows(ert) == _rows(shipped / "ERT.fuseloop.yaml")
    assert dict(load_art(art)) == dict(load_art(shipped / "ART.fuseloop.yaml"))
    check_tables(shipped, ert, art, shipped / "ERT.fuseloop.yaml")


def test_paper_preset_refuses_a_size_it_has_no_figures_for(tmp_path):
    arch = edited(tmp_path, EYERISS, "memory_depth: 13824", "memory_depth: 6912")
    with pytest.raises(SpecError, match=r"shared_glb.*no smartbuffer_SRAM entry.*use --preset derived"):
        derive_tables(arch, tmp_path / "out", "paper", cache_dir=tmp_path / "cache")


def test_an_edited_arch_refuses_the_stale_shipped_table_naming_the_component(tmp_path, run):
    arch = edited(tmp_path, EYERISS, "memory_depth: 13824", "memory_depth: 6912")
    with pytest.raises(
        TableMismatch,
        match=r"ERT.fuseloop.yaml: component system.eyeriss.shared_glb was costed for "
        r"other attributes \(memory_depth 13824 -> arch says 6912\)",
    ):
        EmbeddedEngine().model(arch, run / "prob/prob.yaml", read_map(run / "map.txt"))
    with pytest.raises(TableMismatch, match="python arch/make_ert.py"):
        check_tables(arch, arch / "ART.fuseloop.yaml")


def test_a_table_of_another_arch_is_refused(tmp_path):
    with pytest.raises(
        TableMismatch,
        match=r"shared_glb was costed for other attributes \(memory_depth 12800 -> "
        r"arch says 13824; n_banks 25 -> arch says 27\)",
    ):
        check_tables(EYERISS, ROOT / "arch/archon/predictions/ERT.fuseloop.yaml")
    arch = edited(tmp_path, EYERISS, "PE[0..71]", "PE[0..63]")
    with pytest.raises(TableMismatch, match=r"PE\[0..63\].ifmap_spad .*made for another arch"):
        check_tables(arch, arch / "ERT.fuseloop.yaml")
    removed = edited(tmp_path, EYERISS, "name: DRAM", "name: DRAM2", "renamed")
    with pytest.raises(TableMismatch, match="system.DRAM2"):
        check_tables(removed, removed / "ERT.fuseloop.yaml")


def test_a_class_change_is_refused(tmp_path):
    weights = "(an SRAM, as in Eyeriss)\n                  class: smartbuffer_SRAM"
    arch = edited(tmp_path, EYERISS, weights, weights.replace("SRAM", "RF"))
    with pytest.raises(
        TableMismatch, match="weights_spad was costed as class 'smartbuffer_SRAM', arch.yaml says 'smartbuffer_RF'"
    ):
        check_tables(arch, arch / "ERT.fuseloop.yaml")


def test_a_users_accelergy_table_is_checked_by_names_only_and_still_wins(tmp_path, run):
    arch = edited(tmp_path, EYERISS, "memory_depth: 13824", "memory_depth: 6912")
    user = yaml.safe_load((EYERISS / "ERT.fuseloop.yaml").read_text())
    del user["ERT"]["derivation"]
    (arch / "ERT.yaml").write_text(yaml.safe_dump(user))
    check_tables(arch, arch / "ERT.yaml")
    stats = EmbeddedEngine().model(arch, run / "prob/prob.yaml", read_map(run / "map.txt"))
    assert stats.total_energy_pJ > 0
    user["ERT"]["tables"] = [t for t in user["ERT"]["tables"] if not t["name"].endswith("mac")]
    (arch / "ERT.yaml").write_text(yaml.safe_dump(user))
    with pytest.raises(TableMismatch, match=r"no entry for component system.eyeriss.PE\[0..71\].mac"):
        check_tables(arch, arch / "ERT.yaml")


def test_tables_are_cached_by_arch_content(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    ert, art = derive_tables(EYERISS, tmp_path / "a", "paper", cache_dir=cache)
    stamp = ert.stat().st_mtime_ns
    from estimation import tables

    def recompute(*_args, **_kwargs):
        raise AssertionError("recomputed an unchanged arch")

    monkeypatch.setattr(tables, "documents", recompute)
    assert derive_tables(EYERISS, tmp_path / "a", "paper", cache_dir=cache) == (ert, art)
    assert ert.stat().st_mtime_ns == stamp  # up to date: not rewritten (Snakemake sees no change)
    copied, _ = derive_tables(EYERISS, tmp_path / "b", "paper", cache_dir=cache)  # another output: from the cache
    assert copied.read_text() == ert.read_text()
    arch = edited(tmp_path, EYERISS, "read_bandwidth: 32", "read_bandwidth: 16")  # new content: recomputed
    with pytest.raises(AssertionError, match="recomputed"):
        derive_tables(arch, tmp_path / "c", "paper", cache_dir=cache)
    (arch / "components" / "smartbuffer_RF.yaml").write_text(
        (arch / "components/smartbuffer_RF.yaml").read_text() + "\n# a comment changes the key too\n"
    )
    monkeypatch.undo()
    first, _ = derive_tables(arch, tmp_path / "c", "paper", cache_dir=cache)
    key = yaml.safe_load(first.read_text())["ERT"]["derivation"]["key"]
    assert key != yaml.safe_load(ert.read_text())["ERT"]["derivation"]["key"]
    new_key = yaml.safe_load(ert.read_text())["ERT"]["derivation"]["key"]
    assert sorted(p.name for p in cache.iterdir()) == sorted([key, new_key])


def test_outputs_are_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        ert, art = derive_tables(EYERISS, tmp_path, "paper", cache_dir=tmp_path / "cache")
    finally:
        os.umask(old)
    assert (ert.stat().st_mode & 0o777, art.stat().st_mode & 0o777) == (0o644, 0o644)


def test_cli(tmp_path, capsys):
    assert cli([str(EYERISS), "--preset", "paper", "--out", str(tmp_path), "--cache", str(tmp_path / "c")]) == 0
    assert cli([str(EYERISS), "--preset", "paper", "--out", str(tmp_path), "--check"]) == 0
    arch = edited(tmp_path, EYERISS, "memory_depth: 224", "memory_depth: 448")
    assert cli([str(arch), "--preset", "paper", "--out", str(tmp_path), "--check"]) == 1
    err = capsys.readouterr().err
    assert "weights_spad was costed for other attributes (memory_depth 224 -> arch says 448)" in err
    assert cli([str(arch), "--preset", "paper", "--out", str(tmp_path / "x")]) == 2
    assert "no smartbuffer_SRAM entry" in capsys.readouterr().err


# ---- compound expansion and expressions, with stand-in primitives -----------------------------------------------


def _stub(cls: str, attributes: dict, where: str) -> primitives.Primitive:
    """A primitive whose energies encode the class and attributes: checks the expansion arithmetic exactly."""
    if cls == "intadder":
        bits = attributes["width"]
        table = {"add": float(bits), "idle": 0.5}
        return primitives.Primitive({"add": None, "idle": None}, lambda a, _: table[a], 10.0 * bits, "adder")
    if cls in ("SRAM", "regfile"):
        depth, width = attributes["depth"], attributes["width"]

        def energy(action, arguments):
            if action == "idle":
                return 0.25
            return 1000.0 * (action == "write") + width + arguments["address_delta"] * 100 + arguments["data_delta"]

        return primitives.Primitive(
            {"read": primitives.STORAGE_ARGUMENTS, "write": primitives.STORAGE_ARGUMENTS, "idle": None},
            energy,
            float(depth * width),
            cls,
        )
    return primitives.price(cls, attributes, where)


def test_compound_expansion(monkeypatch):
    monkeypatch.setattr(primitives, "price", _stub)
    components = {c.name: c for c in arch_components(EYERISS)}
    glb = components["system.eyeriss.shared_glb"]
    priced = Pricer(compound_classes(EYERISS)).component(glb.cls, glb.attributes, "glb")
    rows = {(a, tuple(sorted((args or {}).items()))): e for a, args, e in priced.actions}
    # read = storage read(a, d) + address_generators[1] add (log(13824) -> 14 bits) + address_generators[0] idle
    assert rows[("read", (("address_delta", 27), ("data_delta", 1)))] == 64 + 2700 + 1 + 14 + 0.5
    assert rows[("write", (("address_delta", 0), ("data_delta", 0)))] == 1000 + 64 + 14 + 0.5
    assert rows[("idle", ())] == 0.25 + 2 * 0.5  # address_generators[0..1] idle: two instances
    assert len(rows) == 2 * 28 * 2 + 1
    assert [a for a, _, _ in priced.actions][:2] == ["write", "write"]  # the class's action order
    assert priced.area_um2 == 13824 * 64 + 2 * 140.0


def test_expressions_and_argument_ranges():
    assert evaluate("log(memory_depth)", {"memory_depth": 24}, "x") == 5
    assert evaluate("memory_width * 2 + 1", {"memory_width": 16}, "x") == 33
    assert evaluate("45nm", {}, "x") == "45nm" and evaluate("LPDDR4", {}, "x") == "LPDDR4"
    with pytest.raises(SpecError, match="names 'depth', which is not an attribute"):
        evaluate("depth * 2", {"width": 1}, "cls.storage.size")
    with pytest.raises(SpecError, match="cannot evaluate"):
        evaluate("__import__('os')", {}, "x")
    assert argument_ranges({"data_delta": "0..1", "address_delta": "0..n_banks"}, {"n_banks": 2}, "x") == [
        {"address_delta": a, "data_delta": d} for a in range(3) for d in range(2)
    ]
    with pytest.raises(SpecError, match="expected a range"):
        argument_ranges({"data_delta": "1"}, {}, "x")


def test_a_class_without_a_model_is_an_error_naming_component_and_class(tmp_path):
    arch = tmp_path / "gates"
    arch.mkdir()
    (arch / "arch.yaml").write_text(
        "architecture:\n  version: 0.3\n  subtree:\n  - name: chip\n    local:\n"
        "    - {name: decoder, class: bitwise, attributes: {datawidth: 1}}\n"
    )
    with pytest.raises(SpecError, match=r"component chip.decoder: class 'bitwise' has no hwcomponents model"):
        Pricer({}).component("bitwise", {"datawidth": 1}, f"{arch}/arch.yaml: component chip.decoder")


def test_compound_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(primitives, "price", _stub)
    arch = tmp_path / "a"
    shutil.copytree(EYERISS, arch)
    path = arch / "components" / "smartbuffer_SRAM.yaml"
    calls = "- name: address_generators[0]\n            actions: [{name: %s}]\n          - name: address_generators[1]"
    text = path.read_text()
    assert text.count(calls % "add") == 1
    path.write_text(text.replace(calls % "add", calls % "count"))
    glb = {c.name: c for c in arch_components(arch)}["system.eyeriss.shared_glb"]
    with pytest.raises(
        SpecError,
        match=r"smartbuffer_SRAM.yaml: class smartbuffer_SRAM: action write calls "
        r"address_generators action 'count', which its class does not define",
    ):
        Pricer(compound_classes(arch)).component(glb.cls, glb.attributes, "glb")
