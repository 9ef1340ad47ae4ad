"""The design-space search (dse/): the space file, the model (genes -> metrics equal to what the workflow's cost step
computes for the same design), NSGA-II against brute force, determinism and resume, and the issue's MobileNetV2
check (the front includes the all-exact design and reaches >= 30 % lower multiply energy)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_costs_precision import run

from accelerators.base import ROW_COLUMNS
from accelerators.hybrid import hybrid_network, superset_network, unfused_layers
from costs.columns import cost_columns
from dse.inputs import design_inputs
from dse.model import DesignInputs, DesignModel
from dse.nsga import front, run_search
from dse.pareto import all_designs, non_dominated
from dse.space import SpaceError, load_space, parse_space
from workflows.costplan import KEEP_PHASES
from workloads import zoo

ROOT = Path(__file__).resolve().parents[1]
BASE = {"weight_bits": 8, "input_bits": 8, "output_bits": 8, "psum_bits": 24}


def space(**fields):
    data = {
        "network": "mobilenet",
        "dataset": "cifar10",
        "accelerator": None,
        "base": BASE,
        "objectives": ["mult_energy", "error_proxy"],
        **fields,
    }
    return parse_space(data, "space.yaml")


# ---- the space file -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"genes": {"*": {"multiplier": ["exact", "mul8u_XXX"]}}},
            r"field genes.\*.multiplier\[1\]: unknown multiplier",
        ),
        ({"genes": {"*": {"bits": [8]}}}, r"field genes.\*.bits: unknown field"),
        ({"genes": {"*": {"weight_bits": [8, 8]}}}, "values repeat"),
        ({"objectives": ["energy"]}, "field accelerator: energy needs an accelerator's runs"),
        ({"objectives": ["accuracy"]}, "field evaluator: accuracy needs an accuracy evaluator"),
        ({"objectives": ["speed"]}, r"field objectives\[0\]: unknown metric 'speed'"),
        ({"fusion": {"blocks": "all"}}, "field fusion: fusion genes need accelerator: hybrid"),
        ({"accelerator": "sparse"}, "field accelerator: sparse needs prepared artifacts"),
        ({"algorithm": {"pop_size": "many"}}, "field algorithm.pop_size: expected int"),
        ({"network": "resnet"}, "field network: unknown network 'resnet'"),
        ({"constraints": {"area": "small"}}, "field constraints.area: expected a number"),
    ],
)
def test_space_errors_name_the_field(fields, message):
    with pytest.raises(SpaceError, match=message) as err:
        space(**fields)
    assert str(err.value).startswith("space.yaml: field ")


def test_shipped_spaces_load():
    for path in sorted((ROOT / "dse" / "examples").glob("*.yaml")):
        loaded = load_space(path)
        assert loaded.objectives and loaded.name


# ---- the model ------------------------------------------------------------------------------------------------


def test_genes_repair_and_reference():
    s = space(genes={"*": {"multiplier": ["exact", "mul8u_2AC"], "weight_bits": [8, 16]}})
    model = DesignModel(s, design_inputs(s, {}, {}))
    assert model.n_var == 2 * len(model.layers)
    # (mul8u_2AC, 16 bits) is not a valid choice: repaired to the nearest valid combination, one gene step away
    genes = np.zeros((1, model.n_var), dtype=np.int64)
    genes[0, :2] = [1, 1]
    repaired = model.repair(genes)[0, :2].tolist()
    assert repaired in ([0, 1], [1, 0]) and model.repair(model.repair(genes)).tolist() == model.repair(genes).tolist()
    assert len(model.options[0]) == 3
    reference = model.evaluate(model.reference())
    assert reference["error_proxy"][0] == 0 and reference["area"][0] == pytest.approx(709.6)


def _synthetic_hybrid():
    """MobileNetV2's first two fused blocks with both forms, synthetic rows (energies, cycles) and runs."""
    fused = zoo.load_network("mobilenet", "cifar10", "fused")
    fused = replace(fused, blocks=fused.blocks[:2])
    both = superset_network(fused)
    rows, forms, stats = [], {}, {}
    for i, layer in enumerate(both.layers()):
        form = (
            ("edge", None)
            if layer.part != "body"
            else (("unfused" if layer.role in ("decom", "conv", "comp") else "fused"), layer.block)
        )
        phase = "prediction" if layer.role.startswith("pred_") else ("main" if layer.role == "main" else "layer")
        rows.append(
            {
                "network": "mobilenet",
                "dataset": "cifar10",
                "accelerator": "hybrid",
                "engine": "embedded",
                "part": layer.part,
                "block": layer.block,
                "layer": layer.name,
                "role": layer.role,
                "phase": phase,
                "energy_uJ": 1.0 + 0.5 * i,
                "cycles": 1000 * (i + 1),
                "macs": layer.macs,
                "utilisation": 1.0,
            }
        )
        forms[layer.name] = form
        stats[layer.name] = run()
    for block in fused.blocks:
        name = f"b{block.index}.overhead"
        rows.append(
            {
                **rows[0],
                "part": "body",
                "block": block.index,
                "layer": name,
                "role": "overhead",
                "phase": "overhead",
                "energy_uJ": 3.0 * block.index,
                "cycles": 0,
            }
        )
        forms[name] = ("fused", block.index)
    frame = pd.DataFrame(rows, columns=ROW_COLUMNS)
    return fused, DesignInputs(both, forms, frame, stats, blocks=(1, 2))


HYBRID_GENES = {
    "b*.main": {"multiplier": ["exact", "mul8u_2AC", "mul8u_NGR"]},
    "b*.decom": {"multiplier": ["exact", "mul8u_12N4"]},
    "tail.*": {"multiplier": ["exact", "mul8u_2AC", "mul8u_19DB"], "psum_bits": [24, 32]},
}


def hybrid_space(**fields):
    return parse_space(
        {
            "network": "mobilenet",
            "dataset": "cifar10",
            "accelerator": "hybrid",
            "base": BASE,
            "genes": HYBRID_GENES,
            "fusion": {"blocks": "all"},
            "objectives": ["energy", "cycles", "error_proxy"],
            **fields,
        },
        "hybrid.yaml",
    )


def test_model_metrics_equal_the_workflow_cost_columns():
    """For random designs, every metric equals what costs.columns (the workflow's cost step) gives for the design's
    network, rows and choices."""
    fused, inputs = _synthetic_hybrid()
    model = DesignModel(hybrid_space(), inputs)
    assert model.fusion_blocks == (1, 2) and model.n_var == 2 + 2 + 2 * 2 + 2  # main, decom, tail (2 fields), fusion
    rng = np.random.default_rng(3)
    genes = model.repair(rng.integers(0, model.upper + 1, size=(12, model.n_var)))
    metrics = model.evaluate(genes)
    for p, row in enumerate(genes):
        fused_blocks, choices = model.design(row)
        mask = tuple(b.index in fused_blocks for b in fused.blocks)
        net = hybrid_network(fused, mask)
        names = {layer.name for layer in net.layers()} | {f"b{k}.overhead" for k in fused_blocks}
        rows = inputs.rows[inputs.rows["layer"].isin(names)].reset_index(drop=True)
        assert set(choices) == {layer.name for layer in net.layers()}
        _, summary = cost_columns(
            net,
            rows,
            choices,
            stats={n: inputs.stats[n] for n in choices},
            scaled_accelerators=("hybrid",),
            keep_phases=KEEP_PHASES,
        )
        expected = summary.iloc[0]
        assert metrics["energy"][p] == pytest.approx(expected["energy_scaled_uJ"], rel=1e-12)
        assert metrics["cycles"][p] == rows["cycles"].sum()
        for metric, column in (
            ("mult_energy", "mult_energy_uJ"),
            ("E_W", "E_W"),
            ("error_proxy", "error_proxy"),
            ("area", "mult_area_um2"),
            ("micronet_cifar100", "micronet_score_cifar100"),
            ("bitstream_energy", "bitstream_energy"),
        ):
            assert metrics[metric][p] == pytest.approx(expected[column], rel=1e-12), metric
    # a fused block runs its predictions, main and overhead; an unfused one its three dense layers
    unfused = genes[~model.fused(genes)[:, 0]][0]
    _, choices = model.design(unfused)
    assert {layer.name for layer in unfused_layers(fused.block(1))} <= set(choices) and "b1.main" not in choices


def test_nsga_front_equals_brute_force_front():
    _, inputs = _synthetic_hybrid()
    # a population at least as large as the front (51 points here) keeps every front point alive
    model = DesignModel(hybrid_space(algorithm={"pop_size": 60, "generations": 20, "seed": 1}), inputs)
    designs = all_designs(model)
    metrics = model.evaluate(designs)
    F = np.column_stack([metrics[o] for o in model.space.objectives])
    brute = {tuple(row) for row in designs[non_dominated(F)]}
    assert 20 < len(brute) < len(designs)  # a real front: neither trivial nor the whole space
    state = run_search(model, log=lambda line: None)
    found = {tuple(state.archive.genes[i]) for i in front(model, state.archive)}
    assert found == brute
    assert len(state.archive) < len(designs)  # found without evaluating every design


def test_search_is_deterministic_and_resumes_exactly(tmp_path):
    _, inputs = _synthetic_hybrid()
    model = DesignModel(hybrid_space(algorithm={"pop_size": 12, "generations": 6, "seed": 5}), inputs)
    straight = run_search(model, log=lambda line: None)
    again = run_search(DesignModel(model.space, inputs), log=lambda line: None)
    assert [g.tolist() for g in straight.archive.genes] == [g.tolist() for g in again.archive.genes]
    lines = []
    run_search(DesignModel(model.space, inputs), tmp_path / "c.pkl", generations=3, log=lines.append)
    resumed = run_search(DesignModel(model.space, inputs), tmp_path / "c.pkl", log=lines.append)
    assert any("resumed from" in line and "generation 3" in line for line in lines)
    assert [g.tolist() for g in resumed.archive.genes] == [g.tolist() for g in straight.archive.genes]
    assert [p["generation"] for p in resumed.progress] == list(range(1, 7))
    # another space: the checkpoint is not resumed
    other = DesignModel(hybrid_space(algorithm={"pop_size": 12, "generations": 6, "seed": 6}), inputs)
    run_search(other, tmp_path / "c.pkl", log=lines.append)
    assert "a checkpoint of another search" in lines[-7]


def test_mobilenet_multipliers_front_saves_30_percent_multiply_energy(tmp_path):
    """Issue 19's check on MobileNetV2 / CIFAR-10 with a multiplier per layer (the shipped space; cost columns only,
    the reference MAC energy): the front holds the all-exact design and a design with >= 30 % lower multiply energy,
    each point with its error proxy (the accuracy cost available offline for MobileNetV2)."""
    from dse.outputs import write_outputs

    data = yaml.safe_load((ROOT / "dse/examples/mobilenet-multipliers.yaml").read_text())
    data.update(accelerator=None, algorithm={"pop_size": 40, "generations": 25, "seed": 0})
    s = parse_space(data, "mobilenet-multipliers.yaml")
    model = DesignModel(s, design_inputs(s, {}, {}))
    state = run_search(model, log=lambda line: None)
    paths = write_outputs(model, state, tmp_path)
    pareto = pd.read_csv(paths["pareto"])
    reference = pareto[pareto["reference"]]
    assert len(reference) == 1 and reference["error_proxy"].iloc[0] == 0
    assert reference["multipliers" if "multipliers" in pareto else "mult_energy_uJ"].notna().all()
    saving = 1 - pareto["mult_energy_uJ"].min() / reference["mult_energy_uJ"].iloc[0]
    assert saving >= 0.30
    assert (pareto.loc[~pareto["reference"], "error_proxy"] > 0).all()
    assert paths["plot"].stat().st_size > 10_000


@pytest.mark.tensorflow
@pytest.mark.slow
def test_digits_front_accuracy_is_measured(tmp_path):
    """On the digits CNN the front's accuracies are the quantised model's measured accuracies of each design."""
    from costs.digits import evaluate
    from dse.inputs import evaluator_for

    data = yaml.safe_load((ROOT / "dse/examples/digits.yaml").read_text())
    data["genes"] = {"*": {"multiplier": ["exact", "drum4", "trunc10"]}}
    data["algorithm"] = {"pop_size": 8, "generations": 3, "seed": 0}
    s = parse_space(data, "digits.yaml")
    model = DesignModel(s, design_inputs(s, {}, {}), evaluator=evaluator_for(s))
    state = run_search(model, log=lambda line: None)
    idx = front(model, state.archive)
    assert len(idx)
    for i in idx[:4]:
        _, choices = model.design(state.archive.genes[i])
        assert state.archive.record(i)["accuracy"] == evaluate(choices)
        assert state.archive.record(i)["accuracy_drop"] <= 0.02 + 1e-12  # the space's constraint
    assert model.reference_accuracy > 0.9
