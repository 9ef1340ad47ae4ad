"""The `fuseloop` command: config checks name the file and the line or field before any job runs."""

from __future__ import annotations

from pathlib import Path

from workflows.command import main, merged_config

ROOT = Path(__file__).resolve().parents[1]


def test_check_prints_the_sweep(capsys):
    assert main(["check", str(ROOT / ".test" / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "sweep: mobilenet/cifar10" in out and "accelerators: dense, sparse, archon" in out
    assert "distinct mapper runs: 53" in out


def test_configs_merge_over_the_default_like_snakemake(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("mapper: {main: {victory_condition: 7}}\n")
    config = merged_config([path])
    assert config["mapper"]["main"] == {"timeout": 5000, "victory_condition": 7}
    assert config["mapper"]["pointwise"]["victory_condition"] == 1000


def test_malformed_yaml_and_bad_fields_are_named(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("results: x\nsweep: [{network: mobilenet, dataset: cifar10}\naccelerators: [dense]\n")
    assert main(["check", str(bad)]) == 1
    assert f"{bad}: not valid YAML: line 3, column 1" in capsys.readouterr().err
    bad.write_text("archon: {preset: paper, overrides: {adders: 3}}\n")
    assert main(["run", str(bad)]) == 1  # checked before snakemake starts
    assert f"{bad}: field archon.overrides.adders: unknown fusion knob" in capsys.readouterr().err


def test_run_gives_snakemake_every_config_once(tmp_path, monkeypatch):
    """Snakemake keeps only the last of repeated --configfile options: all files go after one."""
    import workflows.command as command

    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("sweep: [{network: mobilenet, dataset: cifar10}]\n")
    second.write_text("accelerators: [dense]\n")
    calls = []
    monkeypatch.setattr(command.subprocess, "call", lambda cmd, cwd: calls.append((cmd, cwd)) or 0)
    assert main(["run", str(first), str(second), "--cores", "3", "--", "-n"]) == 0
    ((cmd, cwd),) = calls
    assert cmd[1:] == [
        "-m",
        "snakemake",
        "--cores",
        "3",
        "--quiet",
        "rules",
        "-n",
        "--configfile",
        str(first),
        str(second),
    ]
    assert cwd == ROOT


def test_a_quiet_option_after_the_separator_replaces_the_concise_default(monkeypatch):
    import workflows.command as command

    calls = []
    monkeypatch.setattr(command.subprocess, "call", lambda cmd, cwd: calls.append(cmd) or 0)
    assert main(["run", "--cores", "1", "--", "--quiet", "progress"]) == 0
    assert calls[0][calls[0].index("--cores") :] == ["--cores", "1", "--quiet", "progress"]
