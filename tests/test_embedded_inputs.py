"""The embedded engine's input readers on the reference architecture, ERT and problem files (the arch files of the
corpus; the ERT and problem figures of the corpus and of the fixtures)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import REFERENCE, corpus

from engines.base import EngineError
from engines.embedded.energy import find_ert_file, load_energy_table
from engines.embedded.problem import load_problem
from specs.arch import load_arch, parse_arch
from specs.energy import short_name as component_base_name
from specs.errors import SpecError

ACC = REFERENCE / "accelerators"


@corpus
def test_hierarchical_baseline_arch():
    arch = load_arch(ACC / "baseline")
    assert arch.level_names == ("mac", "psum_spad", "weights_spad", "ifmap_spad", "DummyBuffer", "shared_glb", "DRAM")
    assert (arch.arithmetic.instances, arch.arithmetic.mesh_x, arch.arithmetic.mesh_y) == (72, 8, 9)
    glb = arch.storage[arch.storage_index("shared_glb")]
    assert (glb.size, glb.block_size, glb.cluster_size, glb.read_bandwidth, glb.instances) == (55296, 4, 1, 32.0, 1)
    dummy = arch.storage[arch.storage_index("DummyBuffer")]
    assert (dummy.instances, dummy.mesh_x, dummy.mesh_y, dummy.size, dummy.read_bandwidth) == (8, 8, 1, 16, None)
    dram = arch.storage[-1]
    assert (dram.technology, dram.size, dram.block_size, dram.cluster_size) == ("DRAM", None, 4, 1)
    psum = arch.storage[0]
    assert (psum.size, psum.instances, psum.mesh_y, psum.write_bandwidth) == (24, 72, 9, 2.0)


@corpus
def test_flattened_equals_hierarchical():
    tree = load_arch(ACC / "baseline" / "arch.yaml")
    flat = load_arch(ACC / "baseline" / "flattened_architecture.yaml")
    assert replace(flat, source="") == replace(tree, source="")


@corpus
def test_flattened_only_predictions_arch():
    arch = load_arch(ACC / "fusion" / "predictions-128KiB-glb")
    glb = arch.storage[arch.storage_index("shared_glb")]
    assert glb.size == 16384 * 4 and arch.arithmetic.instances == 64
    assert arch.storage[arch.storage_index("ifmap_spad")].size == 32


@corpus
def test_main_arch_has_no_weights_spad():
    arch = load_arch(ACC / "fusion" / "main")
    assert arch.level_names == ("mac", "psum_spad", "ifmap_spad", "DummyBuffer", "shared_glb", "DRAM")


def test_ert_vector_energies_are_action_maxima(reference_dir):
    table = load_energy_table(find_ert_file(reference_dir / "accelerators" / "baseline"))
    assert table.energy("shared_glb") == pytest.approx(70.264)  # max(write) > max(read) 69.377
    assert table.energy("mac") == pytest.approx(2.2)  # mac_random
    assert table.energy("DRAM") == pytest.approx(512.0)
    assert table.energy("weights_spad") == pytest.approx(1.18)
    assert component_base_name("system.eyeriss.PE[0..71].mac") == "mac"
    assert component_base_name("system.eyeriss.DummyBuffer[0..7]") == "DummyBuffer"


def test_problem_reader_generic_projection(mobilenet_runs):
    prob = load_problem(mobilenet_runs / "baseline/b13/conv/prob/prob.yaml")
    assert prob.dims == ("C", "M", "R", "S", "N", "P", "Q")
    assert prob.bound("M") == 576 and prob.coefficients["Wstride"] == 2
    inputs = prob.data_space("Inputs")
    assert inputs.projection[2] == ((prob.dim_index("R"), 1), (prob.dim_index("P"), 2))
    assert prob.data_space("Outputs").read_write and not inputs.read_write
    assert prob.macs == 576 * 9 * 64


def test_arch_errors(tmp_path):
    with pytest.raises(SpecError, match="missing top-level 'architecture'"):
        parse_arch({"arch": {}}, source="x.yaml")
    with pytest.raises(SpecError, match="no arithmetic"):
        parse_arch(
            {
                "architecture": {
                    "local": [{"name": "system.DRAM", "class": "DRAM", "attributes": {"width": 16, "word-bits": 16}}]
                }
            }
        )
    with pytest.raises(SpecError, match=r"level 'buf': meshX\*meshY \(3\*1\) != instances \(4\)"):
        parse_arch(
            {
                "architecture": {
                    "local": [
                        {"name": "system.DRAM", "class": "DRAM"},
                        {"name": "system.PE[0..3].buf", "class": "regfile", "attributes": {"meshX": 3, "meshY": 1}},
                        {"name": "system.PE[0..3].mac", "class": "intmac"},
                    ]
                }
            }
        )
    with pytest.raises(SpecError, match=r"no architecture file"):
        load_arch(tmp_path)


def test_wire_energy_is_refused():
    from engines.embedded.energy import parse_energy_table

    ert = {
        "ERT": {
            "version": 0.3,
            "tables": [{"name": "system.wire", "actions": [{"name": "transfer_random", "energy": 0.1}]}],
        }
    }
    with pytest.raises(EngineError, match="network energy is not modelled"):
        parse_energy_table(ert, source="ERT.yaml")
