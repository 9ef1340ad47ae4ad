"""The workflow-facing cost columns (costs.columns) and the per-(layer, option) cost table for search
(costs.table): both must agree with the per-layer scores they are built from."""

import numpy as np
import pandas as pd
import pytest
from test_costs_precision import run

from analysis.schema import LAYER_COLUMNS
from costs.choices import LayerChoice, parse_choices
from costs.columns import LAYER_COST_COLUMNS, cost_columns, network_costs
from costs.multipliers import library_multiplier
from costs.precision import fast_mode
from costs.scores import CostSettings
from costs.table import CostTable
from workloads import load_network

SHARE = 0.8 / 0.86


@pytest.fixture(scope="module")
def mobilenet():
    return load_network("mobilenet", "cifar10")


@pytest.fixture(scope="module")
def choices():
    return parse_choices(
        {
            "defaults": {"weight_bits": 8, "input_bits": 8, "output_bits": 8, "psum_bits": 24},
            "layers": {"b*.decom": {"multiplier": "mul8u_2AC"}, "b1.conv": {"multiplier": "drum4"}},
        }
    )


def rows_for(net, accelerators=("dense", "sparse")):
    rows = []
    for accelerator in accelerators:
        for i, layer in enumerate(net.layers()):
            rows.append(
                {
                    "network": net.name,
                    "dataset": net.dataset,
                    "accelerator": accelerator,
                    "engine": "embedded",
                    "part": layer.part,
                    "block": layer.block,
                    "layer": layer.name,
                    "role": layer.role,
                    "phase": "layer",
                    "energy_uJ": 1.0 + i,
                    "cycles": 100,
                    "macs": layer.macs,
                    "utilisation": 1.0,
                }
            )
    rows.append({**rows[0], "accelerator": "archon", "layer": "b1.overhead", "role": "overhead", "phase": "overhead"})
    rows.append({**rows[0], "accelerator": "archon", "layer": "b1.decom", "role": "decom"})
    return pd.DataFrame(rows, columns=LAYER_COLUMNS)


def test_network_costs_per_layer(mobilenet, choices):
    costs = network_costs(mobilenet, choices)
    assert list(costs.columns) == ["layer"] + LAYER_COST_COLUMNS
    assert len(costs) == len(mobilenet.layers())
    row = costs.set_index("layer").loc["b2.decom"]
    macs = mobilenet.layer("b2.decom").macs
    assert row["multiplier"] == "mul8u_2AC"
    assert row["mult_energy_uJ"] == pytest.approx(macs * 2.2 * SHARE / 4 * 0.311 / 0.391 / 1e6)
    assert row["error_proxy"] == pytest.approx(macs * 0.0125)
    exact = costs.set_index("layer").loc["b2.conv"]
    assert exact["mult_energy_uJ"] == pytest.approx(mobilenet.layer("b2.conv").macs * 2.2 * SHARE / 4 / 1e6)


def test_cost_columns_join_rows_and_scale_energy(mobilenet, choices):
    rows = rows_for(mobilenet)
    stats = {"b1.decom": run()}
    layers, summary = cost_columns(mobilenet, rows, choices, stats=stats)
    assert len(layers) == len(rows) and list(layers.columns[: len(LAYER_COLUMNS)]) == LAYER_COLUMNS
    ratio = fast_mode(run(), choices.for_layer("b1.decom")).total_energy_pJ / run().total_energy_pJ
    decom = layers[(layers["layer"] == "b1.decom") & (layers["accelerator"] != "archon")]
    assert decom["energy_scaled_uJ"].tolist() == pytest.approx((decom["energy_uJ"] * ratio).tolist())
    assert layers[layers["layer"] == "b1.conv"]["energy_scaled_uJ"].isna().all()  # no run given
    overhead = layers[layers["layer"] == "b1.overhead"]  # not a layer of this network
    assert overhead["mult_energy_uJ"].isna().all() and overhead["energy_scaled_uJ"].isna().all()
    # an ARCHON row is scaled only from its own run, not from the dense one
    archon = (layers["accelerator"] == "archon") & (layers["layer"] == "b1.decom")
    assert layers.loc[archon, "energy_scaled_uJ"].isna().all() and layers.loc[archon, "E_W"].notna().all()
    layers2, _ = cost_columns(mobilenet, rows, choices, stats={("archon", "b1.decom"): run()})
    archon2 = (layers2["accelerator"] == "archon") & (layers2["layer"] == "b1.decom")
    assert layers2.loc[archon2, "energy_scaled_uJ"].tolist() == pytest.approx([ratio * 1.0])  # energy_uJ 1.0
    assert layers2.loc[layers2["layer"] == "b1.decom", "energy_scaled_uJ"].notna().sum() == 1

    assert summary["accelerator"].tolist() == ["dense", "sparse", "archon"]
    dense = summary.set_index("accelerator").loc["dense"]
    assert dense["energy_uJ"] == rows[rows["accelerator"] == "dense"]["energy_uJ"].sum()
    assert np.isnan(dense["energy_scaled_uJ"])  # not every layer has a run
    per_layer = network_costs(mobilenet, choices, stats=stats)  # b1.decom's MAC energy comes from its run
    assert per_layer["mult_energy_uJ"].sum() < network_costs(mobilenet, choices)["mult_energy_uJ"].sum()
    for column in ("mult_energy_uJ", "E_W", "micronet_score_imagenet", "bitstream_energy"):
        assert dense[column] == pytest.approx(per_layer[column].sum())
    # one of each distinct multiplier: exact 8-bit, mul8u_2AC, drum4 (estimated 16/64 of the exact area)
    assert dense["mult_area_um2"] == pytest.approx(709.6 + 508.3 + 709.6 * 16 / 64)
    assert dense["multipliers"] == "drum4 exact mul8u_2AC"


def test_cost_columns_without_rows(mobilenet, choices):
    layers, summary = cost_columns(mobilenet, None, choices)
    assert len(layers) == len(mobilenet.layers()) and len(summary) == 1
    assert summary.loc[0, "micronet_params"] == pytest.approx(layers["micronet_params"].sum())


def test_settings_change_the_scores(mobilenet, choices):
    base = network_costs(mobilenet, choices)
    operand = network_costs(mobilenet, choices, CostSettings(psum_b_mul="operand"))
    assert operand["E_W"].sum() < base["E_W"].sum()  # 8-bit multiplies instead of 24-bit
    published = network_costs(mobilenet, choices, CostSettings(bitstream_lfsr="as_published"))
    assert published["bitstream_power"].sum() < base["bitstream_power"].sum()  # no pruning: no zero weights
    with pytest.raises(ValueError, match="bitstream_lfsr"):
        CostSettings(bitstream_lfsr="fixed")
    assert CostSettings.from_dict({"psum_b_mul": 8, "precision": {"mult_share": 0.5}}).precision.mult_share == 0.5
    with pytest.raises(ValueError, match="conf.yaml: unknown cost setting"):
        CostSettings.from_dict({"psum_width": 8}, source="conf.yaml")


# ------------------------------------------------------------------------------------------------ search table
def test_cost_table_matches_network_costs(mobilenet):
    options = [LayerChoice(8, 8, 8, 24, library_multiplier(m)) for m in ("exact", "mul8u_2AC", "drum4")]
    names = [layer.name for layer in mobilenet.layers()]
    table = CostTable.build(mobilenet, {name: options for name in names})
    rng = np.random.default_rng(1)
    genes = rng.integers(0, 3, size=(5, len(names)))
    totals = table.evaluate(genes)
    for i in range(5):
        chosen = table.choices(genes[i])
        reference = network_costs(mobilenet, chosen)
        assert totals["mult_energy_pJ"][i] == pytest.approx(reference["mult_energy_uJ"].sum() * 1e6)
        assert totals["E_W"][i] == pytest.approx(reference["E_W"].sum())
        assert totals["micronet_score_cifar100"][i] == pytest.approx(reference["micronet_score_cifar100"].sum())
    single = table.evaluate(genes[0])
    assert single["bitstream_area"] == pytest.approx(totals["bitstream_area"][0])
    # all-exact vs all-drum4: drum4's estimated power is 1/4
    all_exact, all_drum = table.evaluate(np.zeros(len(names), int)), table.evaluate(np.full(len(names), 2))
    assert all_drum["mult_energy_pJ"] == pytest.approx(0.25 * all_exact["mult_energy_pJ"])
    with pytest.raises(ValueError, match="gene out of range"):
        table.evaluate(np.full(len(names), 3))


def test_cost_table_from_genes_and_energy(mobilenet):
    net_layers = ["b1.decom", "b1.conv"]
    table = CostTable.from_genes(
        mobilenet,
        {"weight_bits": [8, 16], "multiplier": [library_multiplier("exact"), library_multiplier("drum4")]},
        layers=net_layers,
        base=LayerChoice(8, 8, 8, 24),
        stats={"b1.decom": run()},
    )
    # (16-bit, drum4) is not a valid choice: 3 options per chosen layer, the default one elsewhere
    assert table.n_options.tolist() == [3 if n in net_layers else 1 for n in table.layers]
    genes = np.zeros(len(table.layers), int)
    position = table.layers.index("b1.decom")
    energies = []
    for option in range(3):
        genes[position] = option
        energies.append(table.evaluate(genes)["energy_pJ"])
    # only b1.decom has a run: the other layers' energies are NaN, so the total is too
    assert all(np.isnan(e) for e in energies)
    grid = table.values["energy_pJ"][position]
    expected = [fast_mode(run(), c).total_energy_pJ for c in table.options[position]]
    assert grid[:3].tolist() == pytest.approx(expected)
    with pytest.raises(KeyError, match="unknown layer"):
        CostTable.build(mobilenet, {"b99.conv": [LayerChoice()]})
