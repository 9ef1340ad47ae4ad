"""Constraint templates rendered per layer, against the paper artifact's constraint files (normalized)."""

import re
from pathlib import Path

import pytest
from conftest import MOBILENET_RUNS, ROOT, corpus

import accelerators
from specs.constraints import (
    ConstraintsError,
    constraint_templates,
    load_constraints,
    parse_factors,
    render_constraints,
)
from workloads import zoo
from workloads.problem import problems_for

CNN_DIMS = ["C", "M", "R", "S", "N", "P", "Q"]
COUPLED_DW_DIMS = ["M", "R", "S", "N", "P", "Q"]
EYERISS = ROOT / "arch/eyeriss/constraints/layer.yaml.j2"
PREDICTIONS = ROOT / "arch/archon/predictions/constraints/layer.yaml.j2"
MAIN = ROOT / "arch/archon/main/constraints/main.yaml.j2"

# The paper's prediction knobs for MobileNetV2 (docs/method.md §3.2: PRED_SPATIAL_GLB / PRED_SPATIAL_DUMMY
# decom Q=8 / M=8, conv Q=4 M=2 / M=8, plus the per-role spad factors), written out as the artifact's full strings.
MOBILENET_PREDICTIONS = {
    "decom": dict(
        dummy_spatial="N=1 R=1 S=1 P=1 Q=1 C=1 M=8",
        glb_spatial="N=1 R=1 S=1 P=1 Q=8 M=1 C=1",
        psum_temporal="N=1 P=1 C=1 M=3",
        weights_temporal="N=1 Q=1 C=1 M=1",
        ifmap_temporal="N=1 P=1 Q=1 C=8 M=1",
    ),
    "conv": dict(
        dummy_spatial="N=1 R=1 S=1 P=1 C=1 Q=1 M=8",
        glb_spatial="N=1 R=1 S=1 P=1 C=1 Q=4 M=2",
        psum_temporal="N=1 P=1 C=1",
        weights_temporal="N=1 Q=1 C=1 R=3 S=3",
        ifmap_temporal="N=1 P=1 Q=1 C=1 M=1",
    ),
}
# Factor strings in the compared reference files that Timeloop's parser reads differently from how they look
# (e.g. the `R=3S=3` / `R=kS=k` of the mnasnet files). The MobileNetV2 files compared here have none; the test
# below checks that every one of their factor tokens is well-formed, so a malformed one would be noticed.
MALFORMED_IN_REFERENCE: dict[str, str] = {}


def reference(runs: Path, run: str) -> dict:
    files = sorted((runs / run / "constraints").glob("*.yaml"))
    assert files, f"no constraint files in {run}"
    return load_constraints("\n".join(f.read_text() for f in files))


def rendered(template: Path, dims=CNN_DIMS, **params) -> dict:
    return load_constraints(render_constraints(template, dims, **params))


def layer_run(accelerator: str, network: str, layer_name: str, depthwise: str = "paper"):
    """(problem, normalized constraints) of a zoo layer's run, as the accelerator plug-in builds it."""
    plugin = accelerators.get(accelerator)
    net = zoo.load_network(network, "cifar10", plugin.variant)
    (run,) = [r for r in plugin.runs(net, {"problem": {"depthwise": depthwise}}) if r.name == layer_name]
    return run.problem, load_constraints(run.constraints)


# ---- equality with the artifact's files ---------------------------------------------------------------------


def test_eyeriss_pointwise_equals_the_reference(mobilenet_runs):
    ours = rendered(EYERISS)
    theirs = reference(mobilenet_runs, "baseline/b1/decom")
    assert ours == theirs
    # a few facts of the normalized structure, so the comparison is known to look at real content
    assert ours["shared_glb"]["bypass"] == {"keep": ["Inputs", "Outputs"], "bypass": ["Weights"]}
    assert ours["DummyBuffer"]["spatial"] == {
        "factors": {"N": 1, "P": 1, "Q": 1, "R": 1, "S": 0},
        "max_factors": {},
        "permutation": "NPQRSCM",
        "split": 4,
    }
    assert ours["DRAM"]["temporal"]["permutation"] == "RSPCMNQ"


def _baseline_runs(runs: Path) -> list[str]:
    found = [p.parent.relative_to(runs) for p in runs.glob("baseline/b*/*/constraints")]
    found += [p.parent.relative_to(runs) for p in runs.glob("head_and_tail/baseline/*/baseline/*/constraints")]
    return sorted(str(r) for r in found)


def test_eyeriss_constraints_are_those_of_every_baseline_run(mobilenet_runs):
    runs = _baseline_runs(mobilenet_runs)
    assert len(runs) == 16 * 3 + 12
    ours = rendered(EYERISS)
    assert [run for run in runs if reference(mobilenet_runs, run) != ours] == []


@pytest.mark.parametrize("role", ["decom", "conv"])
def test_predictions_with_mobilenet_knobs_equal_the_reference(role, mobilenet_runs):
    ours = rendered(PREDICTIONS, **MOBILENET_PREDICTIONS[role])
    theirs = reference(mobilenet_runs, f"fusion/predictions/b1/{role}")
    assert ours == theirs
    assert ours["shared_glb"]["spatial"]["factors"]["Q"] == {"decom": 8, "conv": 4}[role]


@corpus
def test_compared_reference_factor_strings_are_well_formed():
    files = sorted(MOBILENET_RUNS.glob("**/constraints/*.yaml"))
    tokens = []
    for path in files:
        for value in re.findall(r"^[\s-]*factors:(.*)$", path.read_text(), re.M):
            if value.strip() not in MALFORMED_IN_REFERENCE:
                tokens += parse_factors(value.strip(), str(path))  # raises on a malformed token
    assert len(files) == 169 and len(tokens) == 4365


def test_main_block1_equals_the_reference(mobilenet_runs):
    ours = rendered(MAIN, C=16, M=24, R=3, S=3, spatial_x=8, spatial_y=8)
    assert ours == reference(mobilenet_runs, "fusion/main_computations/b1")
    assert ours["shared_glb"]["temporal"]["factors"] == {"N": 1, "R": 1, "S": 1, "Q": 1, "C": 16, "M": 24}


@pytest.mark.parametrize("block", range(1, 15))
def test_every_mobilenet_block_through_the_recipe_equals_the_reference(block, mobilenet_runs):
    for role, run in (
        ("pred_decom", f"fusion/predictions/b{block}/decom"),
        ("pred_conv", f"fusion/predictions/b{block}/conv"),
        ("main", f"fusion/main_computations/b{block}"),
    ):
        _, ours = layer_run("archon", "mobilenet", f"b{block}.{role}")
        assert ours == reference(mobilenet_runs, run), run


@pytest.mark.parametrize(
    "layer, run",
    [
        ("head.conv1", "head_and_tail/fused/fus_head/fusion/conv1"),
        ("head.PW1", "head_and_tail/fused/fus_head/fusion/PW1"),
        ("head.DW1", "head_and_tail/fused/fus_head/fusion/DW1"),
        ("head.PW2", "head_and_tail/fused/fus_head/fusion/PW2"),
        ("tail.PW1", "head_and_tail/fused/fus_tail/fusion/PW1"),
        ("tail.FC1", "head_and_tail/fused/fus_tail/fusion/FC1"),
    ],
)
def test_fused_head_and_tail_equal_the_reference(layer, run, mobilenet_runs):
    _, ours = layer_run("archon", "mobilenet", layer)
    assert ours == reference(mobilenet_runs, run)


def test_dense_recipe_uses_the_eyeriss_constraints(mobilenet_runs):
    for layer in ("b1.decom", "b1.conv", "b1.comp", "tail.FC1"):
        _, ours = layer_run("dense", "mobilenet", layer)
        assert ours == reference(mobilenet_runs, "baseline/b1/decom"), layer


# ---- adapting to the problem's dimensions ---------------------------------------------------------------------


def test_coupled_depthwise_drops_the_channel_dimension_everywhere():
    problem, ours = layer_run("dense", "mobilenet", "b1.conv", depthwise="coupled")
    assert list(problem.dimensions) == COUPLED_DW_DIMS
    text = render_constraints(EYERISS, problem.dimensions)
    permutations = "".join(line.split(":")[-1] for line in text.splitlines() if "permutation" in line)
    assert "C=" not in text and "C" not in permutations
    for target, types in ours.items():
        for kind, spec in types.items():
            assert "C" not in spec.get("factors", {}) and "C" not in spec.get("permutation", ""), (target, kind)
    paper = rendered(EYERISS)
    # every other factor is unchanged; Y (DummyBuffer) keeps S and M, X (shared_glb) keeps Q and M
    assert ours["DummyBuffer"]["spatial"] == {
        "factors": {"N": 1, "P": 1, "Q": 1, "R": 1, "S": 0},
        "max_factors": {},
        "permutation": "NPQRSM",
        "split": 4,
    }
    assert ours["shared_glb"]["spatial"]["split"] == 6 and ours["shared_glb"]["spatial"]["permutation"] == "NPRSQM"
    assert ours["weights_spad"]["temporal"]["factors"] == paper["weights_spad"]["temporal"]["factors"]
    _, predictions = layer_run("archon", "mobilenet", "b1.pred_conv", depthwise="coupled")
    assert predictions["ifmap_spad"]["temporal"]["factors"] == {"N": 1, "P": 1, "Q": 1, "M": 1}


def _sides(spec: dict) -> tuple[str, str]:
    return spec["permutation"][: spec["split"]], spec["permutation"][spec["split"] :]


def test_split_keeps_every_remaining_dimension_on_its_side(tmp_path):
    template = tmp_path / "t.yaml.j2"
    template.write_text(
        "architecture_constraints:\n  targets:\n"
        "  - {target: DummyBuffer, type: spatial, split: 4, permutation: NCPQ RSM, factors: N=1 C=1}\n"
    )
    full = rendered(template)["DummyBuffer"]["spatial"]
    coupled = rendered(template, COUPLED_DW_DIMS)["DummyBuffer"]["spatial"]
    assert _sides(full) == ("NCPQ", "RSM")
    assert _sides(coupled) == ("NPQ", "RSM")  # without lowering the split, R would have moved to X
    assert coupled["factors"] == {"N": 1}


def test_grouped_main_conv_constraints_use_one_group():
    problem, ours = layer_run("archon", "fusionet", "b9.main", depthwise="coupled")
    assert (problem.instance["C"], problem.instance["M"], problem.repeat) == (24, 24, 4)
    assert ours["shared_glb"]["temporal"]["factors"] == {"N": 1, "R": 1, "S": 1, "Q": 1, "C": 24, "M": 24}


def test_kernel_size_follows_the_problem_not_a_malformed_string():
    # the artifact's mnasnet file said `R=kS=k` (Timeloop read no factor at all); ours carries the real 5x5 kernel
    _, ours = layer_run("archon", "mnasnet", "b3.pred_conv")
    assert ours["weights_spad"]["temporal"]["factors"] == {"N": 1, "Q": 1, "C": 1, "R": 5, "S": 5}
    _, main = layer_run("archon", "mnasnet", "b3.main")  # the recipe passes ifmap_words: S goes to the GLB
    assert (main["psum_spad"]["temporal"]["factors"]["R"], main["shared_glb"]["temporal"]["factors"]["S"]) == (5, 5)
    _, main = layer_run("archon", "mnasnet", "b1.main")  # 3x3: the whole kernel stays in the PE
    assert (main["psum_spad"]["temporal"]["factors"]["R"], main["psum_spad"]["temporal"]["factors"]["S"]) == (3, 3)


@pytest.mark.parametrize(
    "network, role, glb_q, dummy_m",
    [("mnasnet", "pred_decom", 8, 8), ("mnasnet", "pred_conv", 4, 8), ("fusionet", "pred_conv", 1, 8)],
)
def test_prediction_knobs_per_network(network, role, glb_q, dummy_m):
    _, ours = layer_run("archon", network, f"b1.{role}", depthwise="coupled")
    assert ours["shared_glb"]["spatial"]["factors"].get("Q", 1) == glb_q
    assert ours["DummyBuffer"]["spatial"]["factors"]["M"] == dummy_m


def test_shufflenet_prediction_roles_spread_output_rows():
    for role in ("pred_decom", "pred_comp"):
        _, ours = layer_run("archon", "shufflenet", f"b2.{role}")
        assert ours["DummyBuffer"]["spatial"]["factors"]["P"] == 8
        assert ours["shared_glb"]["spatial"]["factors"] == {"N": 1, "R": 1, "S": 1, "M": 1}


def test_constraint_templates_per_arch():
    assert set(constraint_templates(ROOT / "arch/eyeriss")) == {"layer"}
    assert constraint_templates(ROOT / "arch/archon/predictions")["layer"] == PREDICTIONS
    assert constraint_templates(ROOT / "arch/archon/main") == {"main": MAIN}
    with pytest.raises(ConstraintsError, match="no constraints/ directory"):
        constraint_templates(ROOT / "arch/archon/overhead")


# ---- load_constraints layouts ----------------------------------------------------------------------------------


def test_load_constraints_accepts_timeloops_layouts():
    flat = (
        "architecture_constraints:\n  targets:\n"
        "  - {target: psum_spad, type: temporal, factors: M=3 P<=4, permutation: N P M}\n"
        "mapspace_constraints:\n  targets:\n"
        "  - {target: psum_spad, type: bypass, keep: [Outputs], bypass: [Weights]}\n"
    )
    nested = (
        "arch_constraints:\n  constraints:\n  - target: psum_spad\n    constraints:\n"
        "    - {type: temporal, attributes: {factors: M=3 P<=4, permutation: NPM}}\n"
        "mapspace:\n  - {target: psum_spad, type: datatype, keep: [Outputs], bypass: [Weights]}\n"
    )
    expected = {
        "psum_spad": {
            "temporal": {"factors": {"M": 3}, "max_factors": {"P": 4}, "permutation": "NPM"},
            "bypass": {"keep": ["Outputs"], "bypass": ["Weights"]},
        }
    }
    assert load_constraints(flat) == expected
    assert load_constraints(nested) == expected
    assert load_constraints("targets:\n  - {target: DRAM, type: temporal, factors: R=1}\n") == {
        "DRAM": {"temporal": {"factors": {"R": 1}, "max_factors": {}}}
    }


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "architecture_constraints:\n  targets:\n  - {target: x, type: temporal, factors: M=1}\n"
            "mapspace_constraints:\n  targets:\n  - {target: x, type: temporal, factors: M=2}\n",
            r"\(x temporal\): factor M= specified twice",
        ),
        (
            "targets:\n  - {target: x, type: spatial, permutation: NM}\n"
            "  - {target: x, type: spatial, permutation: MN}\n",
            "permutation specified twice",
        ),
        (
            "targets:\n  - {target: x, type: bypass, keep: [Inputs]}\n"
            "  - {target: x, type: bypass, bypass: [Inputs]}\n",
            "tensor Inputs kept/bypassed twice",
        ),
        ("targets:\n  - {target: x, type: sideways}\n", "needs a target and a type"),
        ("targets:\n  - {target: x, type: temporal, factors: R=3S=3}\n", r"\(x temporal\): malformed factor 'R=3S=3'"),
    ],
)
def test_load_constraints_errors(text, message):
    with pytest.raises(ConstraintsError, match=message):
        load_constraints(text, strict=True)


def test_lenient_factors_read_as_timeloop_does():
    """Without strict, factor strings are read with timeloop-mapper's patterns: `R=3S=3` is two factors and the
    mnasnet files' `R=kS=k` constrains nothing."""
    spec = load_constraints("targets:\n  - {target: x, type: temporal, factors: R=3S=3 P<=4}\n")
    assert spec["x"]["temporal"]["factors"] == {"R": 3, "S": 3} and spec["x"]["temporal"]["max_factors"] == {"P": 4}
    assert load_constraints("targets:\n  - {target: x, type: temporal, factors: R=kS=k}\n")["x"]["temporal"] == {
        "factors": {},
        "max_factors": {},
    }
    with pytest.raises(ConstraintsError, match=r"none of architecture_constraints"):
        load_constraints("architecture_constraint:\n  targets: []\n")


def test_load_constraints_missing_file_names_it(tmp_path):
    with pytest.raises(ConstraintsError, match=r"missing\.yaml: constraints file not found"):
        load_constraints(tmp_path / "missing.yaml")
    with pytest.raises(ConstraintsError, match=r"nowhere\.yaml: constraints file not found"):
        load_constraints(str(tmp_path / "nowhere.yaml"))


# ---- render errors ---------------------------------------------------------------------------------------------


def test_render_errors_name_the_template_and_the_parameter(tmp_path):
    with pytest.raises(ConstraintsError, match=r"main\.yaml\.j2: missing template parameter \('M' is undefined\)"):
        render_constraints(MAIN, CNN_DIMS, C=1, R=3, S=3, spatial_x=8, spatial_y=8)
    with pytest.raises(ConstraintsError, match=r"layer\.yaml\.j2: unknown template parameter\(s\) glb_spatal"):
        render_constraints(PREDICTIONS, CNN_DIMS, **{**MOBILENET_PREDICTIONS["decom"], "glb_spatal": "Q=8"})
    with pytest.raises(
        ConstraintsError,
        match=r"layer\.yaml\.j2: architecture_constraints\.targets\[6\] "
        r"\(shared_glb spatial\): malformed factor 'Q=8M=1'",
    ):
        render_constraints(PREDICTIONS, CNN_DIMS, **{**MOBILENET_PREDICTIONS["decom"], "glb_spatial": "N=1 Q=8M=1"})
    with pytest.raises(ConstraintsError, match=r"\(shared_glb spatial\): factors names unknown dimension\(s\) X"):
        render_constraints(PREDICTIONS, CNN_DIMS, **{**MOBILENET_PREDICTIONS["decom"], "glb_spatial": "Q=8 X=2"})
    with pytest.raises(ConstraintsError, match="problem dimensions must be letters"):
        render_constraints(EYERISS, [])
    with pytest.raises(ConstraintsError, match=r"missing\.yaml\.j2: constraint template not found"):
        render_constraints(tmp_path / "missing.yaml.j2", CNN_DIMS)
    bad = tmp_path / "bad.yaml.j2"
    bad.write_text("targets: [1, 2\n")
    with pytest.raises(ConstraintsError, match=r"bad\.yaml\.j2 \(rendered\): not valid YAML: line 2"):
        render_constraints(bad, CNN_DIMS)
    bad.write_text("targets: []\n")
    with pytest.raises(ConstraintsError, match=r"bad\.yaml\.j2: expected architecture_constraints and/or mapspace"):
        render_constraints(bad, CNN_DIMS)


@pytest.mark.parametrize("depthwise", ["paper", "coupled"])
def test_rendered_depthwise_constraints_map_on_eyeriss(tmp_path, depthwise):
    from engines.embedded import EmbeddedEngine
    from specs.problem import render_problem

    net = zoo.load_network("mobilenet", "cifar10", "baseline")
    (problem,) = problems_for(net.layer("b1.conv"), depthwise=depthwise)
    (tmp_path / "problem.yaml").write_text(render_problem(problem))
    (tmp_path / "constraints.yaml").write_text(render_constraints(EYERISS, problem.dimensions))
    (tmp_path / "mapper.yaml").write_text("mapper: {victory-condition: 50, timeout: 1000}\n")
    stats = EmbeddedEngine().evaluate(
        ROOT / "arch/eyeriss", tmp_path / "problem.yaml", [tmp_path / "constraints.yaml"], tmp_path / "mapper.yaml"
    )
    assert stats.macs == 96 * 3 * 3 * 32 * 32  # one MAC per channel, tap and output pixel in both forms
    assert stats.cycles > 0


def test_main_5x5_kernel_moves_s_to_the_global_buffer_when_the_ifmap_spad_is_too_small(tmp_path):
    from engines.base import EngineError
    from engines.embedded import EmbeddedEngine
    from specs.problem import render_problem

    net = zoo.load_network("mnasnet", "cifar10", "fused")
    (problem,) = problems_for(net.layer("b12.main"), depthwise="coupled")
    dims = dict(problem.instance)
    assert (dims["R"], dims["S"]) == (5, 5)
    params = dict(C=dims["C"], M=dims["M"], R=5, S=5, spatial_x=8, spatial_y=8)
    paper = rendered(MAIN, problem.dimensions, **params)
    fitted = rendered(MAIN, problem.dimensions, **params, ifmap_words=12)
    s_factor = lambda constraints, level: constraints[level]["temporal"]["factors"]["S"]  # noqa: E731
    assert s_factor(paper, "psum_spad") == 5 and s_factor(paper, "shared_glb") == 1
    assert s_factor(fitted, "psum_spad") == 1 and s_factor(fitted, "shared_glb") == 5
    assert rendered(MAIN, **{**params, "R": 3, "S": 3}, ifmap_words=12) == rendered(MAIN, **{**params, "R": 3, "S": 3})
    (tmp_path / "problem.yaml").write_text(render_problem(problem))
    (tmp_path / "mapper.yaml").write_text("mapper: {victory-condition: 400, timeout: 5000}\n")
    files = {}
    for name, extra in (("paper", {}), ("fitted", {"ifmap_words": 12})):
        files[name] = tmp_path / f"{name}.yaml"
        files[name].write_text(render_constraints(MAIN, problem.dimensions, **params, **extra))
    engine = EmbeddedEngine()
    with pytest.raises(EngineError, match="ifmap_spad.*capacity 12"):
        engine.evaluate(
            ROOT / "arch/archon/main", tmp_path / "problem.yaml", [files["paper"]], tmp_path / "mapper.yaml"
        )
    stats = engine.evaluate(
        ROOT / "arch/archon/main", tmp_path / "problem.yaml", [files["fitted"]], tmp_path / "mapper.yaml"
    )
    assert stats.cycles * 64 == stats.macs == dims["C"] * dims["M"] * 25 * dims["P"] * dims["Q"]  # all 64 PEs busy


@pytest.mark.parametrize(("side", "tile", "busy_pes"), [(8, 8, 64), (4, 4, 16), (14, 7, 49), (12, 6, 36), (1, 1, 1)])
def test_main_convolution_maps_a_map_that_8_does_not_divide_with_the_largest_tile_that_does(
    tmp_path, side, tile, busy_pes
):
    """The fused main convolution keeps one output pixel per PE: 8 x 8 tiles where 8 divides the map, else tiles of the
    largest divisor below 8 (a 4 x 4 map on 16 PEs), so a small-map block of a user's network still runs on ARCHON."""
    import dataclasses

    from accelerators.archon import archon_run
    from engines.embedded import EmbeddedEngine
    from fusion.main import main_tile_side, main_tiles
    from specs.problem import render_problem

    assert main_tile_side(side) == tile
    net = zoo.load_network("mobilenet", "cifar10", "fused")
    layer = dataclasses.replace(net.layer("b2.main"), P=side, Q=side)
    run = archon_run(net, layer, "coupled")
    (tmp_path / "problem.yaml").write_text(render_problem(run.problem))
    (tmp_path / "constraints.yaml").write_text(run.constraints)
    (tmp_path / "mapper.yaml").write_text("mapper: {victory-condition: 50, timeout: 1000}\n")
    stats = EmbeddedEngine().evaluate(
        ROOT / "arch/archon/main", tmp_path / "problem.yaml", [tmp_path / "constraints.yaml"], tmp_path / "mapper.yaml"
    )
    assert stats.macs == layer.C * layer.M * 9 * side * side
    assert stats.cycles * busy_pes == stats.macs  # each busy PE accumulates its pixel's whole kernel
    # the fusion overhead counts the tiles the mapping makes (12 x 12: four 6 x 6 tiles, not ceil(144 / 64) = 3)
    weights = stats.levels[-1].tensors["Weights"]
    assert main_tiles(side, 64) == (side // tile) ** 2 == weights.reads // weights.partition_size
