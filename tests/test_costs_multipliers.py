"""Approximate multipliers: family product tables against hand-computed products, error metrics, the
tf-approximate .bin format, the shipped EvoApprox8b table and multiplier resolution."""

import os
from pathlib import Path

import numpy as np
import pytest

from costs.evoapprox import EXACT, evoapprox_names, evoapprox_table
from costs.families import (
    FamilyError,
    drum_operand,
    estimated_relative_power,
    exact_table,
    family_table,
    kept_partial_products,
)
from costs.metrics import error_metrics
from costs.multipliers import MultiplierError, library_multiplier, table_multiplier
from costs.tfapprox import TableFileError, read_bin, write_bin


# ------------------------------------------------------------------------------------------------ families
def test_drum4_of_200_x_100():
    # 200 = 0b1100_1000: leading one at bit 7, keep bits 7..4 = 1100, set the lowest kept bit -> 1101 = 13,
    #   back in place: 13 << 4 = 208.
    # 100 = 0b0110_0100: leading one at bit 6, keep bits 6..3 = 1100 -> 1101 = 13, 13 << 3 = 104.
    # DRUM-4(200, 100) = 208 * 104 = 21,632 (exact 20,000).
    assert family_table("drum4")[200, 100] == 21_632
    assert drum_operand(np.array([200, 100]), 4).tolist() == [208, 104]


def test_drum_keeps_short_operands_exact():
    # 7 and 9 have at most 4 significant bits: DRUM-4 uses them as they are.
    assert family_table("drum4")[7, 9] == 63
    # 255 = 0b1111_1111 -> 1111 (lowest kept bit already 1) << 4 = 240; 240 * 240 = 57,600.
    assert family_table("drum4")[255, 255] == 57_600
    assert np.array_equal(family_table("drum8"), exact_table())


def test_mitchell_of_200_x_100():
    # 200 = 2^7 (1 + 72/128), 100 = 2^6 (1 + 36/64): x1 + x2 = 0.5625 + 0.5625 = 1.125 >= 1, so
    # product = 2^(7+6+1) (x1 + x2) = 16,384 * 1.125 = 18,432 (exact 20,000).
    assert family_table("mitchell")[200, 100] == 18_432
    # 3 x 3: x1 + x2 = 0.5 + 0.5 = 1 -> 2^(1+1+1) * 1 = 8 (exact 9);
    # 5 x 3 = 2^2 (1 + 0.25) x 2^1 (1 + 0.5): 0.75 < 1 -> 2^(2+1) * 1.75 = 14 (exact 15).
    assert family_table("mitchell")[3, 3] == 8
    assert family_table("mitchell")[5, 3] == 14
    # powers of two are exact, zero stays zero
    assert family_table("mitchell")[64, 32] == 2048
    assert family_table("mitchell")[0, 200] == 0


def test_truncated_and_broken_array_of_255_x_255():
    # trunc8 drops the partial-product columns 0..7; column c < 8 holds c + 1 bits of 255 x 255, so the dropped
    # value is sum (c + 1) 2^c = 1 + 4 + 12 + 32 + 80 + 192 + 448 + 1024 = 1,793: 65,025 - 1,793 = 63,232.
    assert family_table("trunc8")[255, 255] == 63_232
    # bam_h4_v8 keeps rows j >= 4 of the second operand and columns i + j >= 8:
    #   j=4: 2^8..2^11 = 3,840; j=5: 2^8..2^12 = 7,936; j=6: 2^8..2^13 = 16,128; j=7: 2^8..2^14 = 32,512
    #   -> 60,416.
    assert family_table("bam_h4_v8")[255, 255] == 60_416
    # rows of the second operand: b = 15 uses only rows 0..3, all cut by h = 4
    assert family_table("bam_h4_v0")[255, 15] == 0
    assert family_table("bam_h4_v0")[15, 255] == 15 * 240
    assert np.array_equal(family_table("bam_h0_v5"), family_table("trunc5"))


def test_kept_partial_products_and_estimated_power():
    # trunc8 drops 1 + 2 + ... + 8 = 36 of the 64 partial-product bits
    assert kept_partial_products("trunc8") == 28
    assert estimated_relative_power("trunc8") == pytest.approx(28 / 64)
    assert estimated_relative_power("drum4") == pytest.approx(16 / 64)
    assert kept_partial_products("exact") == 64


@pytest.mark.parametrize("name", ["drum1", "drum9", "trunc0", "trunc16", "bam_h9_v0", "booth4"])
def test_family_parameters_are_checked(name):
    with pytest.raises(FamilyError):
        family_table(name)


# ------------------------------------------------------------------------------------------------ metrics
def test_exact_metrics_are_zero():
    m = error_metrics(exact_table())
    assert (m.mae_pct, m.wce_pct, m.ep_pct, m.mre_pct, m.mse, m.bias) == (0, 0, 0, 0, 0, 0)


def test_metrics_of_a_single_error():
    table = exact_table().copy()
    table[255, 255] += 1  # one pair off by +1
    m = error_metrics(table)
    assert m.mae_pct == pytest.approx(1 / 65_536 / 2**16 * 100)
    assert m.wce_pct == pytest.approx(1 / 2**16 * 100)
    assert m.ep_pct == pytest.approx(1 / 65_536 * 100)
    # relative error 1/65,025 on one of the 255 x 255 = 65,025 pairs with a non-zero product
    assert m.mre_pct == pytest.approx(1 / 65_025 / 65_025 * 100)
    assert m.mse == pytest.approx(1 / 65_536)


def test_zero_multiplier_reproduces_its_published_metrics():
    # mul8u_199Z outputs 0: MAE = mean(a b) / 2^16 = 127.5^2 / 65,536 = 24.81 %, WCE = 65,025 / 65,536 = 99.22 %
    m = library_multiplier("mul8u_199Z").metrics()
    published = evoapprox_table()["mul8u_199Z"]
    assert m.mae_pct == pytest.approx(published.mae_pct, abs=0.005)
    assert m.wce_pct == pytest.approx(published.wce_pct, abs=0.005)
    assert m.ep_pct == pytest.approx(published.ep_pct, abs=0.005)
    assert m.mre_pct == pytest.approx(published.mre_pct)
    assert m.mse == pytest.approx(published.mse, rel=1e-7)


@pytest.mark.skipif(
    not os.environ.get("FUSELOOP_EVOAPPROX_BINS"),
    reason="set FUSELOOP_EVOAPPROX_BINS to a directory of tf-approximate's mul8u_*.bin tables",
)
def test_published_tables_reproduce_the_shipped_metrics():
    directory = Path(os.environ["FUSELOOP_EVOAPPROX_BINS"])
    for name, entry in evoapprox_table().items():
        m = error_metrics(read_bin(directory / f"{name}.bin"))
        for key in ("mae_pct", "wce_pct", "ep_pct", "mre_pct"):
            published = getattr(entry, key)
            assert getattr(m, key) == pytest.approx(published, rel=0.05, abs=6e-5), (name, key)
        assert m.mse == pytest.approx(entry.mse, rel=0.02, abs=0.05), name


# ------------------------------------------------------------------------------------------------ .bin format
def test_bin_round_trip_and_layout(tmp_path):
    path = tmp_path / "drum4.bin"
    write_bin(family_table("drum4"), path)
    raw = path.read_bytes()
    assert len(raw) == 131_072
    index = 200 * 256 + 100  # a * 256 + b, little-endian uint16: 21,632 = 0x5480
    assert raw[2 * index : 2 * index + 2] == bytes([0x80, 0x54])
    assert np.array_equal(read_bin(path), family_table("drum4"))


def test_bin_of_the_wrong_size_names_the_file(tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(TableFileError, match="short.bin.*131072 bytes"):
        read_bin(path)
    with pytest.raises(TableFileError, match="missing.bin"):
        read_bin(tmp_path / "missing.bin")


# ------------------------------------------------------------------------------------------------ EvoApprox data
def test_shipped_evoapprox_table():
    names = evoapprox_names()
    assert len(names) == 36 and names[0] == EXACT == "mul8u_1JFF"
    table = evoapprox_table()
    # relative power r = power / 0.391 mW
    assert table["mul8u_2AC"].relative_power == pytest.approx(0.311 / 0.391)  # 0.7954
    assert table["mul8u_L40"].relative_power == pytest.approx(0.48338, abs=1e-5)  # 0.189 / 0.391
    assert table["mul8u_17QU"].relative_power == pytest.approx(0.0017 / 0.391)
    assert table["mul8u_199Z"].relative_power == 0
    assert table["mul8u_2AC"].relative_area == pytest.approx(508.3 / 709.6)
    powers = [table[n].power_mW for n in names]
    assert powers == sorted(powers, reverse=True)


def test_library_and_table_multipliers(tmp_path):
    exact = library_multiplier("exact")
    assert exact.is_exact and exact.relative_power == 1 and exact.area_um2 == pytest.approx(709.6)
    evo = library_multiplier("mul8u_2AC")
    assert evo.kind == "evoapprox" and evo.table() is None and evo.metrics().mre_pct == 1.25
    family = library_multiplier("drum6")
    assert family.power_source == "estimate" and family.metrics().ep_pct > 0
    path = tmp_path / "mine.bin"
    write_bin(family_table("trunc4"), path)
    mine = table_multiplier(path, name="mine", relative_power=0.8)
    assert mine.metrics() == error_metrics(family_table("trunc4"))
    attached = table_multiplier(path, base=evo)
    assert attached.kind == "evoapprox" and attached.relative_power == evo.relative_power
    with pytest.raises(MultiplierError, match="unknown multiplier 'mul8u_XXXX'"):
        library_multiplier("mul8u_XXXX")
    with pytest.raises(MultiplierError, match="does not exist"):
        table_multiplier(tmp_path / "nope.bin")
