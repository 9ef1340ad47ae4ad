"""Rendered constraint templates against the paper artifact's constraint files."""
import pytest
import yaml

from conftest import MOBILENET_RUNS
from workflows.recipes import EYERISS, MAIN, PREDICTIONS, recipe
from workloads import zoo
from workloads.constraints import ConstraintsError, load_constraints, render_constraints
from workloads.problem import problems_for

CNN_DIMS = ["C", "M", "R", "S", "N", "P", "Q"]


def normalize(targets) -> set:
    """Order-free view of constraint targets: (target, type, keep, bypass, factors, permutation, split)."""
    out = set()
    for t in targets:
        factors = frozenset(t.get("factors", "").split()) if t.get("factors") is not None else None
        keep = frozenset(t.get("keep") or []) if t["type"] == "bypass" else None
        bypass = frozenset(t.get("bypass") or []) if t["type"] == "bypass" else None
        out.add((t["target"], t["type"], keep, bypass, factors, t.get("permutation"), t.get("split")))
    return out


def reference_targets(run: str):
    files = sorted((MOBILENET_RUNS / run / "constraints").glob("*.yaml"))
    return [t for f in files for t in load_constraints(f)]


def rendered(accelerator, network, layer_name, depthwise="paper"):
    net = zoo.load_network(network, "cifar10", "fused" if accelerator == "archon" else "baseline")
    layer = net.layer(layer_name)
    (problem,) = problems_for(layer, depthwise=depthwise)
    run = recipe(accelerator, net, layer, problem)
    return problem, load_constraints(render_constraints(run.constraints_template, problem.dimensions, **run.constraint_params))


@pytest.mark.parametrize("layer, run", [
    ("b1.decom", "baseline/b1/decom"), ("b1.conv", "baseline/b1/conv"), ("tail.FC1", "head_and_tail/baseline/tail/baseline/FC1"),
])
def test_eyeriss_constraints_equal_the_reference(layer, run):
    _, ours = rendered("dense", "mobilenet", layer)
    assert normalize(ours) == normalize(reference_targets(run))


@pytest.mark.parametrize("layer, run", [
    ("b1.pred_decom", "fusion/predictions/b1/decom"),
    ("b1.pred_conv", "fusion/predictions/b1/conv"),
    ("b1.main", "fusion/main_computations/b1"),
    ("head.conv1", "head_and_tail/fused/fus_head/fusion/conv1"),
    ("head.DW1", "head_and_tail/fused/fus_head/fusion/DW1"),
    ("head.PW2", "head_and_tail/fused/fus_head/fusion/PW2"),
    ("tail.PW1", "head_and_tail/fused/fus_tail/fusion/PW1"),
    ("tail.FC1", "head_and_tail/fused/fus_tail/fusion/FC1"),
])
def test_archon_constraints_equal_the_reference(layer, run):
    _, ours = rendered("archon", "mobilenet", layer)
    assert normalize(ours) == normalize(reference_targets(run))


def test_kernel_size_follows_the_problem_not_a_malformed_string():
    # the artifact wrote `R=kS=k` for MnasNet's 5x5 predictions; ours carries the real kernel
    _, ours = rendered("archon", "mnasnet", "b3.pred_conv")
    weights = [t for t in ours if t["target"] == "weights_spad" and t["type"] == "temporal"][0]
    assert set(weights["factors"].split()) == {"N=1", "Q=1", "C=1", "R=5", "S=5"}


def test_coupled_depthwise_drops_the_channel_dimension_everywhere():
    problem, ours = rendered("dense", "mobilenet", "b1.conv", depthwise="coupled")
    assert "C" not in problem.dimensions
    for target in ours:
        assert "C=" not in target.get("factors", "")
        assert "C" not in target.get("permutation", "")
    spatial_y = [t for t in ours if t["target"] == "DummyBuffer" and t["type"] == "spatial"][0]
    assert (spatial_y["permutation"], spatial_y["factors"]) == ("NPQR SM", "N=1 P=1 Q=1 R=1 S=0")


def test_grouped_main_conv_constraints_use_one_group():
    problem, ours = rendered("archon", "fusionet", "b9.main", depthwise="coupled")
    assert (problem.instance["C"], problem.instance["M"], problem.repeat) == (24, 24, 4)
    glb = [t for t in ours if t["target"] == "shared_glb" and t["type"] == "temporal"][0]
    assert {"C=24", "M=24"} <= set(glb["factors"].split())


def test_render_errors_name_the_template(tmp_path):
    with pytest.raises(ConstraintsError, match=r"main.yaml.j2: missing template parameter"):
        render_constraints(MAIN / "constraints" / "main.yaml.j2", CNN_DIMS, C=1)
    bad = tmp_path / "bad.yaml.j2"
    bad.write_text("architecture_constraints:\n  targets:\n  - {target: x, type: temporal, factors: C3}\n")
    with pytest.raises(ConstraintsError, match=r"bad.yaml.j2: architecture_constraints.targets\[0\] \(x\): malformed factor 'C3'"):
        render_constraints(bad, CNN_DIMS)
    with pytest.raises(ConstraintsError, match="not found"):
        render_constraints(tmp_path / "missing.yaml.j2", CNN_DIMS)
