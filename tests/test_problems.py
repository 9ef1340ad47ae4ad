"""Timeloop problems: layer -> problem rules, v0.3 / v0.4 rendering, parsing back, and the reference prob.yaml files.
§ numbers refer to docs/method.md."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml
from conftest import run_names

from workloads import Layer, load_network, zoo
from workloads.problem import Problem, ProblemError, parse_problem, problems_for, render_problem, shapes

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# One layer of every kind (grouped ones with G > 1), with strides and non-square-free sizes.
LAYERS = [
    Layer("head.conv1", "conv", 3, 3, 16, 16, 3, 32, stride=2),
    Layer("b1.decom", "pointwise", 1, 1, 32, 32, 16, 96, part="body", block=1, role="decom"),
    Layer("b1.comp", "grouped-pointwise", 1, 1, 8, 8, 240, 60, groups=3, part="body", block=1, role="comp"),
    Layer("b1.conv", "depthwise", 5, 5, 8, 8, 72, 72, stride=2, groups=72, part="body", block=1, role="conv"),
    Layer("tail.FC1", "fc", 1, 1, 1, 1, 1280, 100, part="tail"),
    Layer("b2.main", "grouped-conv", 3, 3, 16, 16, 64, 96, stride=2, groups=4, part="body", block=2, role="main"),
]


# ------------------------------------------------------------------------------------------ layer -> problem


def test_problem_rules_per_kind():
    conv, pw, gpw, dw, fc, gconv = LAYERS
    (p,) = problems_for(conv)
    assert (p.shape_name, p.bounds, p.repeat) == ("CNN-Layer", dict(C=3, M=32, R=3, S=3, N=1, P=16, Q=16), 1)
    assert [p.instance[key] for key in ("Wstride", "Hstride", "Wdilation", "Hdilation")] == [2, 2, 1, 1]
    (p,) = problems_for(gpw)
    assert (p.bounds["C"], p.bounds["M"], p.repeat) == (80, 20, 3)  # one group of three
    (p,) = problems_for(dw, "coupled")
    assert (p.shape_name, p.dimensions, p.bounds, p.repeat) == (
        "Depthwise-Layer",
        ("M", "R", "S", "N", "P", "Q"),
        dict(M=72, R=5, S=5, N=1, P=8, Q=8),
        1,
    )
    (p,) = problems_for(dw, "paper")
    assert (p.shape_name, p.bounds["C"], p.bounds["M"], p.repeat) == ("CNN-Layer", 1, 72, 1)
    (p,) = problems_for(gconv, "coupled")
    assert (p.bounds["C"], p.bounds["M"], p.bounds["R"], p.repeat, p.instance["Wstride"]) == (16, 24, 3, 4, 2)
    (p,) = problems_for(gconv, "paper")  # the reference's main conv: in/G -> out, once
    assert (p.bounds["C"], p.bounds["M"], p.repeat) == (16, 96, 1)
    (p,) = problems_for(fc)
    assert (p.bounds["C"], p.bounds["M"], p.bounds["P"]) == (1280, 100, 1)
    for layer in LAYERS:
        for form in ("coupled", "paper"):
            assert sum(q.total_macs for q in problems_for(layer, form)) == layer.macs


def test_unknown_depthwise_form_and_version():
    with pytest.raises(ProblemError, match=r"layer b1\.conv: depthwise form 'split' is not one of coupled, paper"):
        problems_for(LAYERS[3], "split")
    (p,) = problems_for(LAYERS[0])
    with pytest.raises(ProblemError, match=r"Timeloop version '0\.5' is not one of 0\.3, 0\.4"):
        render_problem(p, "0.5")
    gemm = replace(shapes()["CNN-Layer"], name="GEMM")
    with pytest.raises(ProblemError, match=r"problem GEMM: instance lacks C, M"):
        render_problem(Problem(gemm, {"N": 1, "K": 1}), "0.3")


# ------------------------------------------------------------------------------------------ render / parse


@pytest.mark.parametrize("version", ["0.3", "0.4"])
@pytest.mark.parametrize("form", ["coupled", "paper"])
@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.kind)
def test_round_trip_every_kind(layer, form, version, tmp_path):
    for problem in problems_for(layer, form):
        text = render_problem(problem, version)
        assert parse_problem(text) == problem
        path = tmp_path / "prob.yaml"
        path.write_text(text)
        assert parse_problem(path) == problem
        assert parse_problem(str(path)) == problem


def test_round_trip_the_whole_zoo():
    """Every distinct problem of every zoo network, both forms, both versions."""
    distinct = {}
    for name in zoo.network_names():
        for dataset in zoo.datasets(name):
            for variant in zoo.variants():
                for layer in load_network(name, dataset, variant).layers():
                    for form in ("coupled", "paper"):
                        for problem in problems_for(layer, form):
                            key = (problem.shape_name, tuple(problem.instance.items()), problem.repeat)
                            distinct.setdefault(key, problem)
    assert {p.shape_name for p in distinct.values()} == {"CNN-Layer", "Depthwise-Layer"}
    assert {p.repeat for p in distinct.values()} == {1, 3, 4}
    for problem in distinct.values():
        for version in ("0.3", "0.4"):
            assert parse_problem(render_problem(problem, version)) == problem


def test_v03_and_v04_layouts():
    (p,) = problems_for(LAYERS[3], "coupled")
    v3 = yaml.load(render_problem(p, "0.3"), Loader=LOADER)["problem"]
    v4 = yaml.load(render_problem(p, "0.4"), Loader=LOADER)["problem"]
    assert "version" not in v3 and v4["version"] == "0.4"
    assert [ds["name"] for ds in v3["shape"]["data-spaces"]] == ["Weights", "Inputs", "Outputs"]
    assert [ds.get("read-write", False) for ds in v3["shape"]["data-spaces"]] == [False, False, True]
    assert [ds["read_write"] for ds in v4["shape"]["data_spaces"]] == [False, False, True]
    assert (
        v3["shape"]["data-spaces"][1]["projection"]
        == v4["shape"]["data_spaces"][1]["projection"]
        == [[["N"]], [["M"]], [["R", "Wdilation"], ["P", "Wstride"]], [["S", "Hdilation"], ["Q", "Hstride"]]]
    )
    assert v3["shape"]["data-spaces"][0]["projection"] == [[["M"]], [["R"]], [["S"]]]  # no C x M product
    assert v3["instance"] == v4["instance"] == {**p.instance}
    assert v3["shape"]["dimensions"] == v4["shape"]["dimensions"] == ["M", "R", "S", "N", "P", "Q"]


def test_rendered_problems_load_in_the_embedded_engine():
    """The engine's own problem reader accepts both shapes and sees the same work."""
    from engines.embedded.problem import parse_problem as engine_parse

    for layer in LAYERS:
        for form in ("coupled", "paper"):
            (p,) = problems_for(layer, form)
            prob = engine_parse(yaml.load(render_problem(p, "0.3"), Loader=LOADER))
            assert prob.macs == p.macs
            assert dict(zip(prob.dims, prob.bounds, strict=True)) == p.bounds
            assert prob.coefficients["Wstride"] == layer.stride


def test_parse_accepts_timeloop_compact_projections():
    (p,) = problems_for(LAYERS[1])
    data = yaml.load(render_problem(p, "0.3"), Loader=LOADER)
    data["problem"]["shape"]["data-spaces"][0]["projection"] = ["C", "M", "R", "S"]
    data["problem"]["instance"] = {k: v for k, v in p.bounds.items()}  # coefficients left to their defaults
    assert parse_problem(yaml.safe_dump(data)) == Problem(p.shape, p.instance)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.pop("problem"), r"field problem: missing"),
        (lambda d: d["problem"].pop("shape"), r"field problem\.shape: missing or not a mapping"),
        (
            lambda d: d["problem"]["shape"].update(name="GEMM"),
            r"field problem\.shape\.name: 'GEMM' is not a fuseloop shape",
        ),
        (
            lambda d: d["problem"]["shape"].update(dimensions=["M", "C", "R", "S", "N", "P", "Q"]),
            r"field problem\.shape\.dimensions: \['M', 'C'",
        ),
        (lambda d: d["problem"]["shape"].update(dimensions=["C", "M"]), r"projection\[2\]\[0\]: unknown dimension 'R'"),
        (
            lambda d: d["problem"]["shape"]["data-spaces"][1].update(projection=[[["C"]]]),
            r"field problem\.shape\.data-spaces: projections differ from CNN-Layer's",
        ),
        (lambda d: d["problem"]["instance"].pop("P"), r"field problem\.instance\.P: missing"),
        (
            lambda d: d["problem"]["instance"].update(M=0),
            r"field problem\.instance\.M: must be a positive integer, got 0",
        ),
        (
            lambda d: d["problem"]["instance"].update(K=3),
            r"field problem\.instance: unknown key\(s\) K \(dimensions C M R S N P Q",
        ),
        (lambda d: d["problem"].update(version=0.5), r"field problem\.version: 0\.5 is not supported"),
    ],
)
def test_parse_errors_name_the_field(edit, message):
    (p,) = problems_for(LAYERS[1])
    data = yaml.load(render_problem(p, "0.3"), Loader=LOADER)
    edit(data)
    with pytest.raises(ProblemError, match=message):
        parse_problem(yaml.safe_dump(data))


def test_parse_errors_for_files(tmp_path):
    with pytest.raises(ProblemError, match=r"missing\.yaml: problem file not found"):
        parse_problem(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("problem: [unclosed\n")
    with pytest.raises(ProblemError, match=r"bad\.yaml: not valid YAML"):
        parse_problem(bad)
    (p,) = problems_for(LAYERS[2])
    bad.write_text(render_problem(p).replace("repeat=3", "repeat=three"))
    with pytest.raises(ProblemError, match=r"bad\.yaml: field '# fuseloop: repeat': must be a positive integer"):
        parse_problem(bad)


# ------------------------------------------------------------------------------------------ reference prob.yaml files

# Runs whose layer our zoo deliberately changed (each naming the reference defect).
DIFFER_BY_FIX = {
    "baseline/b12/decom": "§9 item 7 (block 12 at 16x16)",
    "baseline/b12/conv": "§9 item 7 (block 12 at 16x16)",
    "baseline/b12/comp": "§9 item 7 (block 12 at 16x16)",
}
# Leftover runs with no layer in the network (docs/method.md §9 item 2: stale directories the result tables never
# read).
LEFTOVERS = {
    "head_and_tail/baseline/head/baseline/FC1",
    "head_and_tail/baseline/head/baseline/ave_pool1",
    "head_and_tail/baseline/head/baseline/conv2",
    "head_and_tail/baseline/tail/baseline/ave_pool1",
    "head_and_tail/baseline/tail/baseline/conv1",
    "head_and_tail/baseline/tail/baseline/conv2",
    "head_and_tail/fused/fus_tail/fusion/ave_pool1",
}


def zoo_layer_of(run: str) -> tuple[str, str]:
    """(variant, layer name) a reference run directory evaluates."""
    parts = tuple(run.split("/"))
    if parts[0] == "baseline":
        return "baseline", f"{parts[1]}.{parts[2]}"
    if parts[:2] == ("fusion", "predictions"):
        return "fused", f"{parts[2]}.pred_{parts[3]}"
    if parts[:2] == ("fusion", "main_computations"):
        return "fused", f"{parts[2]}.main"
    variant = {"baseline": "baseline", "fused": "fused"}[parts[1]]
    part = "head" if "head" in parts[2] else "tail"
    return variant, f"{part}.{parts[4]}"


def test_v03_equals_every_reference_prob_yaml_key_for_key(mobilenet_runs):
    runs = run_names()
    assert len(runs) == 109
    nets = {v: load_network("mobilenet", "cifar10", v) for v in ("baseline", "fused")}
    equal, differ, leftover = [], {}, []
    for rel in runs:
        run = mobilenet_runs / rel
        reference = yaml.load((run / "prob" / "prob.yaml").read_text(), Loader=LOADER)
        variant, name = zoo_layer_of(rel)
        try:
            layer = nets[variant].layer(name)
        except KeyError:
            leftover.append(rel)
            continue
        (problem,) = problems_for(layer, depthwise="paper")
        ours = yaml.load(render_problem(problem, "0.3"), Loader=LOADER)
        if ours == reference:
            equal.append(rel)
        else:
            assert ours["problem"]["shape"] == reference["problem"]["shape"]
            differ[rel] = {
                k: (v, ours["problem"]["instance"][k])
                for k, v in reference["problem"]["instance"].items()
                if ours["problem"]["instance"][k] != v
            }
            # the reference's own parse of the same file gives its Problem back
            assert parse_problem(run / "prob" / "prob.yaml").bounds["P"] == reference["problem"]["instance"]["P"]
    assert set(leftover) == LEFTOVERS
    assert set(differ) == set(DIFFER_BY_FIX)
    assert all(d == {"P": (8, 16), "Q": (8, 16)} for d in differ.values())
    assert len(equal) == 109 - len(LEFTOVERS) - len(DIFFER_BY_FIX) == 99
