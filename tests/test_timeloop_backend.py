"""Real-Timeloop backends, exercised with FAKE `timeloop-mapper` / `timeloop-model` scripts (and a fake
`pytimeloop` module): the command line, the effective mapper settings, isolated output directories, the
mapping YAML given to timeloop-model, and every error path. The fakes print the corpus's recorded stats.txt."""

import json
import os
import stat
import sys
import threading
import types
from pathlib import Path

import pytest
import yaml
from conftest import MOBILENET_RUNS, REFERENCE, ROOT, corpus

from engines import get_engine
from engines.base import EngineError
from engines.mapping import LevelMapping, Loop, Mapping
from engines.parsers import parse_map, parse_run
from engines.pytimeloop_backend import PyTimeloopEngine, default_external_engine, pytimeloop_available
from engines.timeloop import LOCK_FILE, TimeloopEngine
from engines.timeloop_inputs import mapping_directives, mapping_to_yaml
from specs.errors import SpecError

pytestmark = corpus

ARCH = REFERENCE / "accelerators" / "baseline"
MAPPER = REFERENCE / "mappers" / "baseline_mapper.yaml"
DECOM = MOBILENET_RUNS / "baseline" / "b1" / "decom"
CONV = MOBILENET_RUNS / "baseline" / "b1" / "conv"
DIMS = list("CMRSNPQ")

# The fake binary: records how it was called into <outdir>/fake-call.json, then behaves as FAKE_TIMELOOP_MODE says.
# The stats/map it "produces" are the recorded reference run whose prob/prob.yaml it was given.
FAKE = r"""#!{python}
import json, os, shutil, sys, time
from pathlib import Path
tool = Path(sys.argv[0]).name
args = sys.argv[1:]
out = Path(args[args.index("-o") + 1])
start = time.time()
dev_null = os.stat("/dev/null")
fd0 = os.fstat(0)
record = {{"argv": sys.argv, "cwd": os.getcwd(), "start": start,
          "stdin_is_dev_null": (fd0.st_rdev, fd0.st_mode) == (dev_null.st_rdev, dev_null.st_mode),
          "stdin": sys.stdin.read()}}
for arg in args:
    if arg.endswith("fuseloop-mapper.yaml") or arg.endswith("fuseloop-mapping.yaml"):
        record["settings"] = Path(arg).read_text()
mode = os.environ.get("FAKE_TIMELOOP_MODE", "ok")
print("fake " + tool + ": Problem configuration complete.")
time.sleep(float(os.environ.get("FAKE_TIMELOOP_SLEEP", "0")))
record["end"] = time.time()
(out / "fake-call.json").write_text(json.dumps(record))
if mode == "fail":
    print("ERROR: first problem line"); print("ERROR: second problem line", file=sys.stderr)
    print("ERROR: couldn't map level shared_glb: mapped tile size 99999 exceeds buffer capacity 55296")
    sys.exit(3)
if mode == "nomap":
    print("MESSAGE: no valid mappings found within search criteria. Some suggestions:")
    sys.exit(0)
if mode == "nostats":
    sys.exit(0)
run = next(Path(a).parent.parent for a in args if a.endswith("prob.yaml"))
shutil.copy(run / "stats.txt", out / (tool + ".stats.txt"))
shutil.copy(run / "map.txt", out / (tool + ".map.txt"))
print("Summary stats for best mapping found by mapper:")
"""


def _install_fake(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for tool in ("timeloop-mapper", "timeloop-model"):
        path = directory / tool
        path.write_text(FAKE.format(python=sys.executable))
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return directory


@pytest.fixture
def fake_bin(tmp_path, monkeypatch) -> Path:
    """Fake Timeloop binaries, alone on PATH."""
    directory = _install_fake(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(directory))
    monkeypatch.delenv("FUSELOOP_TIMELOOP_BIN", raising=False)
    monkeypatch.delenv("FAKE_TIMELOOP_MODE", raising=False)
    return directory


def _constraints(run: Path) -> list[Path]:
    return sorted((run / "constraints").glob("*.yaml"))


def _call(out: Path) -> dict:
    return json.loads((out / "fake-call.json").read_text())


def _evaluate(engine, run: Path, out: Path, threads: int = 1):
    return engine.evaluate(ARCH, run / "prob" / "prob.yaml", _constraints(run), MAPPER, outdir=out, threads=threads)


def _same_numbers(got, run: Path) -> None:
    want = parse_run(run)
    assert (got.cycles, got.macs, got.total_energy_pJ) == (want.cycles, want.macs, want.total_energy_pJ)
    assert [lvl.to_dict() for lvl in got.levels] == [lvl.to_dict() for lvl in want.levels]
    assert got.mapping == want.mapping


# ---- timeloop-mapper ----------------------------------------------------------------------------


def test_mapper_command_line_settings_and_results(fake_bin, tmp_path):
    out = tmp_path / "layer"
    engine = TimeloopEngine(timeout=123, victory_condition=45)
    # give this process a readable standard input (as the reference scripts piped "a" into Timeloop):
    # the engine must not pass it on
    read_end, write_end = os.pipe()
    os.write(write_end, b"a\n")
    os.close(write_end)
    saved = os.dup(0)
    os.dup2(read_end, 0)
    os.close(read_end)
    try:
        stats = _evaluate(engine, DECOM, out, threads=3)
    finally:
        os.dup2(saved, 0)
        os.close(saved)
    call = _call(out.resolve())
    arch_files = [
        ARCH / "arch.yaml",
        *sorted((ARCH / "components").glob("*.yaml")),
        ARCH / "ERT.yaml",
        ARCH / "ART.yaml",
    ]
    expected = [
        str(fake_bin / "timeloop-mapper"),
        *(str(p.resolve()) for p in arch_files),
        str(out.resolve() / "fuseloop-mapper.yaml"),
        str((DECOM / "prob" / "prob.yaml").resolve()),
        *(str(p.resolve()) for p in _constraints(DECOM)),
        "-o",
        str(out.resolve()),
    ]
    assert call["argv"] == expected
    assert call["cwd"] == str(out.resolve())
    assert call["stdin_is_dev_null"] and call["stdin"] == ""
    settings = yaml.safe_load(call["settings"])["mapper"]
    original = yaml.safe_load(MAPPER.read_text())["mapper"]
    assert original["live-status"] is True and original["num-threads"] == 8  # what the effective copy overrides
    assert settings["live-status"] is False and settings["num-threads"] == 3
    assert (settings["timeout"], settings["victory-condition"]) == (123, 45)
    assert settings["optimization-metrics"] == ["delay", "energy"] and settings["algorithm"] == "random-pruned"
    _same_numbers(stats, DECOM)
    assert stats.engine == "timeloop" and stats.meta["threads"] == 3
    assert "Problem configuration complete." in Path(stats.meta["log"]).read_text()
    assert Path(stats.meta["log"]) == out.resolve() / "timeloop-mapper.log"
    assert not (out / LOCK_FILE).exists()


def test_mapper_options_from_config_and_metric_override(fake_bin, tmp_path):
    engine = get_engine("timeloop", optimization_metrics=["energy"], use_energy_tables=False)
    _evaluate(engine, DECOM, tmp_path / "out")
    call = _call((tmp_path / "out").resolve())
    settings = yaml.safe_load(call["settings"])["mapper"]
    assert settings["optimization-metrics"] == ["energy"]
    assert (settings["timeout"], settings["victory-condition"]) == (50000, 1000)  # unchanged from the file
    assert not any(a.endswith(("ERT.yaml", "ART.yaml")) for a in call["argv"])


def test_concurrent_layers_use_isolated_directories(fake_bin, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TIMELOOP_SLEEP", "0.4")
    engine = TimeloopEngine()
    results, errors = {}, []

    def run(name, layer):
        try:
            results[name] = _evaluate(engine, layer, tmp_path / name, threads=1)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name, layer)) for name, layer in (("decom", DECOM), ("conv", CONV))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    _same_numbers(results["decom"], DECOM)
    _same_numbers(results["conv"], CONV)
    calls = {name: _call((tmp_path / name).resolve()) for name in ("decom", "conv")}
    for name, call in calls.items():
        assert call["cwd"] == str((tmp_path / name).resolve())
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == [
            "fake-call.json",
            "fuseloop-mapper.yaml",
            "timeloop-mapper.log",
            "timeloop-mapper.map.txt",
            "timeloop-mapper.stats.txt",
        ]
    a, b = calls["decom"], calls["conv"]
    assert a["start"] < b["end"] and b["start"] < a["end"], "the two runs did not overlap"


def test_busy_output_directory_and_stale_outputs(fake_bin, tmp_path, monkeypatch):
    out = tmp_path / "layer"
    out.mkdir()
    (out / LOCK_FILE).write_text("")
    with pytest.raises(EngineError, match="another Timeloop run is using this output directory"):
        _evaluate(TimeloopEngine(), DECOM, out)
    (out / LOCK_FILE).unlink()
    # a stats file left by an earlier run must not be mistaken for this run's result
    (out / "timeloop-mapper.stats.txt").write_text((DECOM / "stats.txt").read_text())
    (out / "timeloop-mapper.map.txt").write_text((DECOM / "map.txt").read_text())
    monkeypatch.setenv("FAKE_TIMELOOP_MODE", "nostats")
    with pytest.raises(EngineError, match="found no valid mapping"):
        _evaluate(TimeloopEngine(), DECOM, out)
    assert not (out / LOCK_FILE).exists()


def test_fresh_temporary_directory_when_no_outdir(fake_bin):
    stats = TimeloopEngine().evaluate(ARCH, DECOM / "prob" / "prob.yaml", _constraints(DECOM), MAPPER)
    outdir = Path(stats.meta["outdir"])
    assert outdir.name.startswith("fuseloop-timeloop-") and (outdir / "timeloop-mapper.stats.txt").is_file()
    _same_numbers(stats, DECOM)


# ---- errors ------------------------------------------------------------------------------------------


def test_missing_binary(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("FUSELOOP_TIMELOOP_BIN", raising=False)
    with pytest.raises(EngineError) as info:
        _evaluate(TimeloopEngine(), DECOM, tmp_path / "out")
    message = str(info.value)
    assert "timeloop-mapper is not on PATH" in message and "FUSELOOP_TIMELOOP_BIN" in message
    assert "binary_dir" in message and "engine: embedded" in message and "\n" not in message
    with pytest.raises(EngineError, match=r"timeloop-mapper not found in .*nowhere \(from engine option binary_dir\)"):
        _evaluate(TimeloopEngine(binary_dir=tmp_path / "nowhere"), DECOM, tmp_path / "out")
    monkeypatch.setenv("FUSELOOP_TIMELOOP_BIN", str(tmp_path / "elsewhere"))
    with pytest.raises(EngineError, match=r"not found in .*elsewhere \(from \$FUSELOOP_TIMELOOP_BIN\)"):
        _evaluate(TimeloopEngine(), DECOM, tmp_path / "out")


def test_binary_dir_option_and_environment_variable(tmp_path, monkeypatch):
    directory = _install_fake(tmp_path / "timeloop" / "bin")
    monkeypatch.setenv("PATH", str(tmp_path))  # not on PATH
    monkeypatch.delenv("FUSELOOP_TIMELOOP_BIN", raising=False)
    _same_numbers(_evaluate(TimeloopEngine(binary_dir=directory), DECOM, tmp_path / "a"), DECOM)
    assert _call((tmp_path / "a").resolve())["argv"][0] == str(directory / "timeloop-mapper")
    monkeypatch.setenv("FUSELOOP_TIMELOOP_BIN", str(directory))
    _same_numbers(_evaluate(TimeloopEngine(), DECOM, tmp_path / "b"), DECOM)


def test_nonzero_exit(fake_bin, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TIMELOOP_MODE", "fail")
    with pytest.raises(EngineError) as info:
        _evaluate(TimeloopEngine(), DECOM, tmp_path / "out")
    message = str(info.value)
    assert "timeloop-mapper failed (exit status 3)" in message and "prob.yaml" in message
    assert "exceeds buffer capacity 55296" in message  # the last log lines
    assert f"full log: {(tmp_path / 'out').resolve() / 'timeloop-mapper.log'}" in message
    assert "\n" not in message


def test_no_valid_mapping(fake_bin, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TIMELOOP_MODE", "nomap")
    with pytest.raises(EngineError, match=r"timeloop-mapper found no valid mapping for .*prob.yaml.*log: "):
        _evaluate(TimeloopEngine(), DECOM, tmp_path / "out")


def test_bad_options_and_inputs(fake_bin, tmp_path):
    with pytest.raises(EngineError, match=r"unknown timeloop engine option\(s\) \['victory'\]"):
        TimeloopEngine(victory=3)
    with pytest.raises(EngineError, match="problem file does not exist"):
        TimeloopEngine().evaluate(ARCH, tmp_path / "none.yaml", [], MAPPER, outdir=tmp_path / "o")
    bad_mapper = tmp_path / "mapper.yaml"
    bad_mapper.write_text("algorithm: random\n")
    with pytest.raises(SpecError, match="need a top-level 'mapper:' mapping"):
        TimeloopEngine().evaluate(ARCH, DECOM / "prob" / "prob.yaml", [], bad_mapper, outdir=tmp_path / "o")
    with pytest.raises(EngineError, match="no arch.yaml"):
        TimeloopEngine().evaluate(tmp_path, DECOM / "prob" / "prob.yaml", [], MAPPER, outdir=tmp_path / "o")


# ---- timeloop-model and the mapping YAML ------------------------------------------------------------


def _mapping_from_directives(directives: list[dict]) -> Mapping:
    """Rebuild a Mapping from Timeloop directives the way Timeloop's mapping parser reads them."""
    levels: dict[str, dict] = {}
    for d in directives:
        level = levels.setdefault(d["target"], {"loops": [], "keep": ()})
        if d["type"] == "bypass":
            level["keep"] = tuple(d["keep"])
            continue
        factors = {k: int(v) for k, v in (item.split("=") for item in d["factors"].split())}
        assert sorted(factors) == sorted(DIMS) and sorted(d["permutation"]) == sorted(DIMS)
        order = list(d["permutation"])  # innermost first
        axes = (
            [None] * len(order)
            if d["type"] == "temporal"
            else ["X" if i < d["split"] else "Y" for i in range(len(order))]
        )
        loops = [Loop(dim, factors[dim], axis) for dim, axis in zip(order, axes, strict=True) if factors[dim] > 1]
        level["loops"] += reversed(loops)
    return Mapping(tuple(LevelMapping(name, tuple(v["loops"]), v["keep"]) for name, v in levels.items()))


def _without_tiles(mapping: Mapping) -> Mapping:
    return Mapping(tuple(LevelMapping(lvl.level, lvl.loops, lvl.keep) for lvl in mapping.levels))


@pytest.mark.parametrize("run", ["baseline/b1/decom", "baseline/b1/conv", "fusion/main_computations/b1"])
def test_mapping_yaml_round_trips_recorded_mappings(run):
    mapping = parse_map(MOBILENET_RUNS / run / "map.txt")
    directives = mapping_directives(mapping, DIMS, ["Weights", "Inputs", "Outputs"])
    assert _mapping_from_directives(directives) == _without_tiles(mapping)


def test_model_command_line_and_mapping_file(fake_bin, tmp_path):
    mapping = parse_map(DECOM / "map.txt")
    out = tmp_path / "model"
    stats = TimeloopEngine().model(ARCH, DECOM / "prob" / "prob.yaml", mapping, outdir=out)
    call = _call(out.resolve())
    assert call["argv"][0] == str(fake_bin / "timeloop-model")
    assert call["argv"][-4:] == [
        str((DECOM / "prob" / "prob.yaml").resolve()),
        str(out.resolve() / "fuseloop-mapping.yaml"),
        "-o",
        str(out.resolve()),
    ]
    assert call["argv"][1] == str((ARCH / "arch.yaml").resolve()) and call["stdin_is_dev_null"]
    directives = yaml.safe_load(call["settings"])["mapping"]
    assert _mapping_from_directives(directives) == _without_tiles(mapping)
    spatial = {d["target"]: d for d in directives if d["type"] == "spatial"}
    assert set(spatial) == {"shared_glb", "DummyBuffer"}  # exactly the arch's fan-out levels
    assert (spatial["shared_glb"]["permutation"][:2], spatial["shared_glb"]["split"]) == ("QM", 2)
    assert (spatial["DummyBuffer"]["permutation"][:2], spatial["DummyBuffer"]["split"]) == ("CM", 0)
    bypass = {d["target"]: d for d in directives if d["type"] == "bypass"}
    assert bypass["shared_glb"]["keep"] == ["Inputs", "Outputs"] and bypass["shared_glb"]["bypass"] == ["Weights"]
    _same_numbers(stats, DECOM)
    assert Path(stats.meta["log"]).name == "timeloop-model.log"


def test_model_spatial_directive_for_fanout_level_without_spatial_loops(fake_bin, tmp_path):
    mapping = parse_map(DECOM / "map.txt")
    levels = [
        LevelMapping(lvl.level, lvl.temporal() if lvl.level == "DummyBuffer" else lvl.loops, lvl.keep)
        for lvl in mapping.levels
    ]
    text = mapping_to_yaml(Mapping(tuple(levels)), DIMS, spatial_levels={"shared_glb", "DummyBuffer"})
    dummy = [d for d in yaml.safe_load(text)["mapping"] if d["target"] == "DummyBuffer" and d["type"] == "spatial"]
    assert dummy and dummy[0]["factors"] == "C=1 M=1 R=1 S=1 N=1 P=1 Q=1"


def test_model_failure_and_mapping_errors(fake_bin, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TIMELOOP_MODE", "fail")
    with pytest.raises(EngineError, match=r"timeloop-model failed \(exit status 3\).*couldn't map level shared_glb"):
        TimeloopEngine().model(ARCH, DECOM / "prob" / "prob.yaml", parse_map(DECOM / "map.txt"), outdir=tmp_path / "m")
    two_p = Mapping((LevelMapping("DRAM", (Loop("P", 2), Loop("P", 16))),))
    with pytest.raises(EngineError, match="two temporal loops over P"):
        mapping_to_yaml(two_p, DIMS)
    with pytest.raises(EngineError, match="dimension 'Z' is not a problem dimension"):
        mapping_to_yaml(Mapping((LevelMapping("DRAM", (Loop("Z", 2),)),)), DIMS)
    with pytest.raises(EngineError, match="one-letter dimension names"):
        mapping_to_yaml(Mapping((LevelMapping("DRAM", ()),)), ["C", "Mx"])
    with pytest.raises(EngineError, match=r"keeps \['Psums'\]"):
        mapping_to_yaml(Mapping((LevelMapping("DRAM", (), ("Psums",)),)), DIMS)


# ---- pytimeloop ----------------------------------------------------------------------------------------


class _RecentApp:
    """pytimeloop's recent application API: run_subprocess() returns the stats.txt and map.txt texts."""

    calls: list = []
    run_dir = DECOM

    def __init__(self, yaml_text, default_out_dir="."):
        self.yaml_text, self.out_dir = yaml_text, default_out_dir

    def run_subprocess(self, out_dir=None):
        type(self).calls.append({"yaml": self.yaml_text, "out_dir": out_dir})
        return (self.run_dir / "stats.txt").read_text(), (self.run_dir / "map.txt").read_text()


def _fake_pytimeloop(monkeypatch, mapper_app, model_app, config=None):
    package = types.ModuleType("pytimeloop")
    app = types.ModuleType("pytimeloop.app")
    app.MapperApp, app.ModelApp = mapper_app, model_app
    package.app = app
    if config is not None:
        package.Config = config
    monkeypatch.setitem(sys.modules, "pytimeloop", package)
    monkeypatch.setitem(sys.modules, "pytimeloop.app", app)


def test_pytimeloop_recent_api(monkeypatch, tmp_path):
    class Mapper(_RecentApp):
        calls = []

    class Model(_RecentApp):
        calls = []

    _fake_pytimeloop(monkeypatch, Mapper, Model)
    assert pytimeloop_available()
    engine = get_engine("pytimeloop", timeout=7)
    assert isinstance(engine, PyTimeloopEngine)
    stats = engine.evaluate(
        ARCH, DECOM / "prob" / "prob.yaml", _constraints(DECOM), MAPPER, outdir=tmp_path / "o", threads=2
    )
    (call,) = Mapper.calls
    assert call["out_dir"] == str((tmp_path / "o").resolve())
    document = yaml.safe_load(call["yaml"])  # arch + ERT + ART + mapper + problem + constraints, components left out
    assert {
        "architecture",
        "ERT",
        "ART",
        "mapper",
        "problem",
        "architecture_constraints",
        "mapspace_constraints",
    } <= set(document) and "compound_components" not in document
    assert document["mapper"]["live-status"] is False and document["mapper"]["num-threads"] == 2
    assert document["mapper"]["timeout"] == 7
    _same_numbers(stats, DECOM)
    assert stats.engine == "pytimeloop" and (tmp_path / "o" / "timeloop-mapper.stats.txt").is_file()
    model = engine.model(ARCH, DECOM / "prob" / "prob.yaml", parse_map(DECOM / "map.txt"), outdir=tmp_path / "m")
    assert "mapping" in yaml.safe_load(Model.calls[0]["yaml"])
    _same_numbers(model, DECOM)


def test_pytimeloop_bindings_api(monkeypatch, tmp_path):
    """timeloop-python's C++ application bindings (bindings/applications.cpp): `MapperApp(Config(text, "yaml"),
    out_dir, name).run()` returns a result with stats_string / mapping_string; `ModelApp(...)` likewise with
    stats_string, and writes <name>.map.txt into out_dir itself."""
    seen: dict = {}

    class Config:
        def __init__(self, text, kind):
            seen["config"] = (text, kind)

    class Result:
        stats_string = (CONV / "stats.txt").read_text()
        mapping_string = (CONV / "map.txt").read_text()

    class Mapper:
        def __init__(self, config, out_dir, name):
            seen["mapper"] = (config, out_dir, name)

        def run(self):
            return Result()

    class Model:
        def __init__(self, config, out_dir, name):
            self.out_dir, self.name = Path(out_dir), name

        def run(self):
            (self.out_dir / f"{self.name}.map.txt").write_text(Result.mapping_string)
            return types.SimpleNamespace(cycles=1, energy=1.0, stats_string=Result.stats_string)

    _fake_pytimeloop(monkeypatch, Mapper, Model)
    config_module = types.ModuleType("pytimeloop.config")
    config_module.Config = Config
    monkeypatch.setitem(sys.modules, "pytimeloop.config", config_module)
    engine = PyTimeloopEngine()
    stats = engine.evaluate(ARCH, CONV / "prob" / "prob.yaml", _constraints(CONV), MAPPER, outdir=tmp_path / "o")
    text, kind = seen["config"]
    assert kind == "yaml" and "live-status: false" in text
    assert seen["mapper"][1:] == (str((tmp_path / "o").resolve()), "timeloop-mapper")
    _same_numbers(stats, CONV)
    _same_numbers(
        engine.model(ARCH, CONV / "prob" / "prob.yaml", parse_map(CONV / "map.txt"), outdir=tmp_path / "m"), CONV
    )
    # fuseloop's own arch dirs ship ERT.fuseloop.yaml: with it the component files are left out too, so the
    # concatenated document holds `compound_components` at most once (here: never)
    engine.evaluate(
        ROOT / "arch" / "eyeriss", CONV / "prob" / "prob.yaml", _constraints(CONV), MAPPER, outdir=tmp_path / "e"
    )
    document = yaml.safe_load(seen["config"][0])
    assert "ERT" in document and "compound_components" not in document


def test_pytimeloop_errors_and_selection(monkeypatch, tmp_path, fake_bin):
    class Broken(_RecentApp):
        def run_subprocess(self, out_dir=None):
            raise Exception("timeloop-mapper failed to run. Check timeloop-mapper.stderr.log")

    class Empty(_RecentApp):
        def run_subprocess(self, out_dir=None):
            return "", ""

    _fake_pytimeloop(monkeypatch, Broken, Empty)
    assert isinstance(default_external_engine(timeout=5, binary_dir="/x"), PyTimeloopEngine)
    engine = PyTimeloopEngine()
    with pytest.raises(EngineError, match="pytimeloop timeloop-mapper failed in .*: timeloop-mapper failed to run"):
        engine.evaluate(ARCH, DECOM / "prob" / "prob.yaml", _constraints(DECOM), MAPPER, outdir=tmp_path / "a")
    with pytest.raises(EngineError, match="pytimeloop timeloop-model returned no stats"):
        engine.model(ARCH, DECOM / "prob" / "prob.yaml", parse_map(DECOM / "map.txt"), outdir=tmp_path / "b")
    with pytest.raises(EngineError, match="unknown pytimeloop engine option"):
        PyTimeloopEngine(binary_dir="/x")
    # not importable: a clear error, and the binary backend is preferred
    monkeypatch.setitem(sys.modules, "pytimeloop", None)
    assert not pytimeloop_available()
    with pytest.raises(EngineError, match="pytimeloop Python bindings cannot be imported.*engine: embedded"):
        get_engine("pytimeloop")
    assert isinstance(default_external_engine(binary_dir=str(fake_bin)), TimeloopEngine)
    assert os.environ["PATH"] == str(fake_bin)
