"""Each cost plot writes a PNG and an SVG."""

import pandas as pd
from test_costs_precision import run

from costs.choices import LayerChoice, parse_choices
from costs.columns import network_costs
from costs.multipliers import library_multiplier
from costs.plots import accuracy_vs_power, multiplier_tradeoff, multiply_energy_plot, precision_levels_plot
from costs.precision import energy_by_level, fast_mode
from workloads import load_network


def written(paths):
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    return True


def test_multiply_energy_plot(tmp_path):
    net = load_network("mobilenet", "cifar10")
    costs = {
        m: network_costs(net, parse_choices({"defaults": {"weight_bits": 8, "input_bits": 8, "multiplier": m}}))
        for m in ("exact", "mul8u_2AC", "drum4")
    }
    assert written(multiply_energy_plot(costs, tmp_path / "mult"))


def test_accuracy_and_tradeoff_plots(tmp_path):
    table = pd.DataFrame(
        [
            {"multiplier": "float", "accuracy": 0.99, "relative_power": None, "power_source": None},
            {"multiplier": "exact", "accuracy": 0.99, "relative_power": 1.0, "power_source": "published"},
            {"multiplier": "drum4", "accuracy": 0.97, "relative_power": 0.25, "power_source": "estimate"},
        ]
    )
    assert written(accuracy_vs_power(table, tmp_path / "acc"))
    mults = [library_multiplier(n) for n in ("mul8u_2AC", "mul8u_L40", "drum4", "trunc8", "exact")]
    assert written(multiplier_tradeoff(mults, tmp_path / "tradeoff"))


def test_precision_levels_plot(tmp_path):
    stats = run()
    breakdown = {"16-bit": energy_by_level(stats), "8-bit": energy_by_level(fast_mode(stats, LayerChoice(8, 8, 8, 24)))}
    assert breakdown["16-bit"] == {
        "MAC": 1000.0,
        "psum_spad": 100.0,
        "weights_spad": 200.0,
        "ifmap_spad": 50.0,
        "shared_glb": 700.0,
        "DRAM": 6000.0,
    }
    assert written(precision_levels_plot(breakdown, tmp_path / "levels"))
