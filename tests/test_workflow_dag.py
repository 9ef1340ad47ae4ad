"""The Snakemake DAG of the default sweep, and config validation with clear errors."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import accelerators
from workflows import config as wfconfig
from workflows import plan

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.workflow


def snakemake(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def expected_counts(config: dict) -> dict[str, int]:
    """Jobs per rule, derived from the registered accelerators and the plan (distinct runs are one job each)."""
    pairs = wfconfig.pairs(config)
    n = len(pairs)
    runs = plan.all_runs(config)
    return {
        "map_run": len(runs),
        "arch_tables": len(plan.derived_archs(runs)),
        "prepare": n * sum(len(accelerators.get(a).artifacts) for a in config["accelerators"]),
        "accelerator_table": n * len(config["accelerators"]),
        "network_tables": n,
        "summary": 1,
        "plots": 1,
        "all": 1,
    }


def test_default_sweep_dag_job_counts(tmp_path):
    config = wfconfig.load()
    assert len(config["sweep"]) == 7 and config["accelerators"] == accelerators.default_sweep()
    assert config["costs"]["choices"] is None and config["search"]["space"] is None  # no cost or search steps
    # the default sweep into an empty results directory (an earlier `make run` must not change the count)
    path = _write_config(tmp_path, results=str(tmp_path / "results"))
    result = snakemake("-n", "--cores", "8", "--configfile", str(path), "--quiet", "rules")
    assert result.returncode == 0, result.stderr[-2000:]
    counts = job_counts(result.stdout + result.stderr)
    expected = expected_counts(config)
    assert counts == {**expected, "total": sum(expected.values())}
    # the numbers themselves, so a zoo or plan change that alters the DAG is noticed here: 1144 layer runs of
    # dense, ARCHON and systolic are 265 distinct mapper runs (CIFAR-10/100 bodies and repeated blocks are shared;
    # dense + ARCHON 748 -> 171, systolic 396 -> 94)
    layer_runs = sum(
        len(plan.runs(config, p.network, p.dataset, a))
        for p in wfconfig.pairs(config)
        for a in config["accelerators"]
        if not accelerators.get(a).runs_of
    )
    assert layer_runs == 1144 and counts["map_run"] == 265


def _write_config(tmp_path, **changes):
    config = yaml.safe_load(wfconfig.DEFAULT_CONFIG.read_text())
    config.update(changes)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"sweep": [{"network": "resnet", "dataset": "cifar10"}]}, "sweep[0].network: unknown network 'resnet'"),
        ({"sweep": [{"network": "mobilenet", "dataset": "imagenet"}]}, "sweep[0].dataset: unknown dataset 'imagenet'"),
        ({"accelerators": ["dense", "tpu"]}, "field accelerators[1]: 'tpu' is not one of"),
        (
            {"archon": {"preset": "paper", "overrides": {"adders_per_pee": 3}}},
            "field archon.overrides.adders_per_pee: unknown fusion knob",
        ),
        (
            {"archon": {"preset": "paper", "overrides": {"f_pes": "many"}}},
            "field archon.overrides.f_pes: must be an integer, got 'many'",
        ),
        (
            {"sparse": {"preset": "paper", "overrides": {"index_bit": 8}}},
            "field sparse.overrides.index_bit: unknown sparse parameter",
        ),
        ({"engine_options": {"sed": 1}}, "field engine_options: unknown embedded engine option(s) ['sed']"),
        ({"mapper": {"main": {"timeout": 5}}}, "field mapper.main: 'victory_condition' is a required property"),
        ({"engine": "zigzag"}, "field engine: 'zigzag' is not one of"),
        ({"problem": {"version": "0.3", "depthwise": "fancy"}}, "field problem.depthwise"),
        ({"sparse": {"preset": "paper", "models": {"vgg/cifar10": "x.h5"}}}, "field sparse.models.vgg/cifar10"),
        ({"archon": {"preset": "paper", "adders": 3}}, "field archon: Additional properties"),
        (
            {"costs": {"choices": "no/such/choices.yaml"}},
            "field costs.choices: choices file no/such/choices.yaml not found",
        ),
        (
            {"costs": {"choices": {"vgg/cifar10": "costs/examples/mobilenet_8bit.yaml"}}},
            "field costs.choices.vgg/cifar10: not a network/dataset pair of the sweep",
        ),
        ({"costs": {"choices": "costs/examples/mobilenet_8bit.yaml", "psum_bias": "some"}}, "field costs.psum_bias"),
        ({"costs": {"choices": "costs/examples/mobilenet_8bit.yaml", "psum_width": 3}}, "field costs: Additional"),
        ({"search": {"space": "no/such/space.yaml"}}, "field search.space: search space file no/such/space.yaml"),
        ({"accelerators": ["hybrid"], "hybrid": {"fused_blocks": [1, 40]}}, "field hybrid.fused_blocks[1]: 40 is not"),
    ],
)
def test_config_errors_name_the_field(tmp_path, changes, message):
    path = _write_config(tmp_path, **changes)
    with pytest.raises(wfconfig.ConfigError) as err:
        wfconfig.load(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_a_broken_arch_edit_is_named_before_any_job_runs(tmp_path, monkeypatch):
    """An arch the sweep maps on is read when the config is checked: a typo in an edit is named (file, level,
    attribute) by `fuseloop check` and the Snakefile, not by the first table job."""
    import shutil

    arch = tmp_path / "eyeriss"
    shutil.copytree(accelerators.get("dense").arch_paths()[0], arch)
    text = (arch / "arch.yaml").read_text()
    (arch / "arch.yaml").write_text(re.sub(r"memory_depth: *13824", "memory_depth: lots", text, count=1))
    monkeypatch.setattr(type(accelerators.get("dense")), "arch_paths", lambda self: [arch])
    with pytest.raises(wfconfig.ConfigError) as err:
        wfconfig.load(_write_config(tmp_path, accelerators=["dense"]))
    assert (
        str(err.value) == f"{arch}/arch.yaml: level 'shared_glb': attribute 'memory_depth' must be a number, got 'lots'"
    )
    wfconfig.load(_write_config(tmp_path, accelerators=["systolic"]))  # an accelerator not mapping on it: fine


def test_choices_and_space_errors_name_their_file_and_field(tmp_path):
    choices = tmp_path / "choices.yaml"
    choices.write_text("layers:\n  b99.conv: {multiplier: drum4}\n")
    path = _write_config(tmp_path, costs={"choices": str(choices)})
    with pytest.raises(wfconfig.ConfigError, match=rf"{choices}: field layers.b99.conv: matches no layer"):
        wfconfig.load(path)
    choices.write_text("layers:\n  b2.decom: {multiplier: mul8u_2AC}\n")  # 16-bit operands with an 8x8 circuit
    with pytest.raises(wfconfig.ConfigError, match=rf"{choices}: layer b2.decom: multiplier mul8u_2AC is an 8x8"):
        wfconfig.load(path)
    space = tmp_path / "space.yaml"
    space.write_text("network: mobilenet\ndataset: cifar10\nobjectives: [energy]\n")
    with pytest.raises(wfconfig.ConfigError, match=rf"{space}: field accelerator: energy needs an accelerator"):
        wfconfig.load(_write_config(tmp_path, search={"space": str(space)}))


def test_snakemake_reports_config_errors(tmp_path):
    path = _write_config(tmp_path, sweep=[{"network": "resnet", "dataset": "cifar10"}])
    result = snakemake("-n", "--cores", "1", "--configfile", str(path))
    assert result.returncode != 0
    assert "sweep[0].network: unknown network 'resnet'" in result.stdout + result.stderr


# ---- what each edit of the default config changes (the plan Snakemake's DAG is built from) --------------------


def _plan_state(config: dict) -> dict:
    """Run keys per accelerator and mapper kind, and the settings each table / preparation step receives."""
    config = wfconfig.validate(config)
    keys: dict[tuple[str, str], set[str]] = {}
    for pair in wfconfig.pairs(config):
        for name in config["accelerators"]:
            if not accelerators.get(name).runs_of:
                for run in plan.runs(config, pair.network, pair.dataset, name):
                    keys.setdefault((name, run.mapper_kind), set()).add(run.key)
    return {
        "keys": keys,
        "tables": {a: plan.table_settings(config, a) for a in config["accelerators"]},
        "artifacts": {a: plan.artifact_settings(config, a) for a in config["accelerators"]},
    }


def _changes(before: dict, after: dict) -> dict:
    new_keys = {group: len(after["keys"][group] - before["keys"].get(group, set())) for group in after["keys"]}
    return {
        "runs": {g: n for g, n in new_keys.items() if n},
        "tables": sorted(a for a in after["tables"] if after["tables"][a] != before["tables"][a]),
        "artifacts": sorted(a for a in after["artifacts"] if after["artifacts"][a] != before["artifacts"][a]),
    }


def test_default_config_edits_change_exactly_what_reads_them(monkeypatch):
    base = yaml.safe_load(wfconfig.DEFAULT_CONFIG.read_text())
    before = _plan_state(base)
    assert _changes(before, _plan_state(base)) == {"runs": {}, "tables": [], "artifacts": []}  # no-op
    archon_knob = {**base, "archon": {"preset": "default", "overrides": {"adders_per_pe": 4}}}
    assert _changes(before, _plan_state(archon_knob)) == {"runs": {}, "tables": ["archon"], "artifacts": []}
    main = {**base, "mapper": {**base["mapper"], "main": {"timeout": 5000, "victory_condition": 401}}}
    assert _changes(before, _plan_state(main)) == {
        "runs": {("archon", "main"): len(before["keys"][("archon", "main")])},
        "tables": [],
        "artifacts": [],
    }
    sparse = {**base, "sparse": {**base["sparse"], "seed": 7}}
    assert _changes(before, _plan_state(sparse)) == {"runs": {}, "tables": [], "artifacts": ["sparse"]}
    # an edit of a file under arch/eyeriss changes its content digest: every dense run gets a new key, nothing else
    from engines import runs as run_module

    digest = run_module.arch_digest
    monkeypatch.setattr(
        run_module,
        "arch_digest",
        lambda arch, tables="paper": digest(arch, tables) + ("edited" if arch.endswith("eyeriss") else ""),
    )
    plan._runs.cache_clear()
    try:
        changed = _changes(before, _plan_state(base))
    finally:
        plan._runs.cache_clear()
    assert changed == {
        "runs": {group: len(keys) for group, keys in before["keys"].items() if group[0] == "dense"},
        "tables": [],
        "artifacts": [],
    }
