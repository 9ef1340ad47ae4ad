"""The per-layer choices table: defaults, exact names and glob overrides, validation errors naming the file and
the field, user multipliers and tables, and resolution against zoo networks."""

import pytest

from costs.choices import ChoicesError, ChoiceTable, LayerChoice, load_choices, parse_choices
from costs.families import family_table
from costs.multipliers import library_multiplier
from costs.tfapprox import write_bin
from workloads import load_network

CHOICES = """
defaults: {weight_bits: 8, input_bits: 8, output_bits: 8, psum_bits: 24}
layers:
  "b*.conv": {multiplier: drum6, weight_bits: 6}
  b3.conv: {multiplier: mul8u_2AC}
  head.conv1: {density: 0.5, bitstream_length: 2048}
  "tail.*": {multiplier: exact, psum_bits: 32}
"""


@pytest.fixture(scope="module")
def mobilenet():
    return load_network("mobilenet", "cifar10")


def write(tmp_path, text, name="choices.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_globs_and_later_matches_win(tmp_path, mobilenet):
    resolved = load_choices(write(tmp_path, CHOICES)).resolve(mobilenet)
    assert list(resolved) == [layer.name for layer in mobilenet.layers()]
    assert resolved["b1.decom"] == LayerChoice(8, 8, 8, 24)
    assert resolved["b1.conv"].multiplier.name == "drum6" and resolved["b1.conv"].weight_bits == 6
    # b3.conv matches the glob first and its exact name later: the later entry's multiplier wins, the glob's
    # weight_bits stay
    assert resolved["b3.conv"].multiplier.name == "mul8u_2AC" and resolved["b3.conv"].weight_bits == 6
    assert resolved["head.conv1"].density == 0.5 and resolved["head.conv1"].bitstream_length == 2048
    assert resolved["tail.FC1"].psum_bits == 32 and resolved["tail.FC1"].multiplier.is_exact
    assert resolved["head.conv1"].mul_bits == 8


def test_built_in_defaults_are_the_16_bit_reference():
    choice = ChoiceTable().for_layer("anything")
    assert (choice.weight_bits, choice.input_bits, choice.output_bits, choice.psum_bits) == (16, 16, 16, 16)
    assert choice.multiplier.is_exact and choice.density == 1.0
    assert parse_choices({}).for_layer("x") == choice


@pytest.mark.parametrize(
    "text, field, message",
    [
        ("defaults: {weight_bits: 0}", "defaults.weight_bits", "integer in 1..32"),
        ("defaults: {psum_bits: 8.5}", "defaults.psum_bits", "integer in 1..32"),
        ("defaults: {density: 1.5}", "defaults.density", r"\(0, 1\]"),
        ("defaults: {multiplier: mul8u_NOPE}", "defaults.multiplier", "unknown multiplier"),
        ("defaults: {bits: 8}", "defaults", "unknown key.*bits"),
        ("layers: {b1.conv: {multiplier: drum9}}", "layers.b1.conv.multiplier", "drum9"),
        ("layers: [b1.conv]", "layers", "expected a mapping"),
        ("multipliers: {new_one: {relative_power: 0.5}}", "multipliers.new_one.table", "needs a product table"),
        ("multipliers: {drum4: {relative_power: -1}}", "multipliers.drum4.relative_power", "non-negative"),
        ("extra: 1", r"\(top level\)", "unknown key.*extra"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path, text, field, message):
    path = write(tmp_path, text)
    with pytest.raises(ChoicesError, match=rf"{path}: field {field}: .*{message}"):
        load_choices(path)


def test_approximate_multiplier_needs_8_bit_operands(tmp_path):
    path = write(tmp_path, "layers: {b1.conv: {multiplier: drum4}}")  # defaults are 16-bit
    table = load_choices(path)
    with pytest.raises(ChoicesError, match=rf"{path}: layer b1.conv: multiplier drum4 is an 8x8 circuit"):
        table.for_layer("b1.conv")
    path = write(tmp_path, "defaults: {multiplier: drum4}", "bad_defaults.yaml")
    with pytest.raises(ChoicesError, match="bad_defaults.yaml.*8x8 circuit"):
        load_choices(path)


def test_a_pattern_matching_no_layer_is_an_error(tmp_path, mobilenet):
    path = write(tmp_path, "layers: {b99.conv: {weight_bits: 4}}")
    with pytest.raises(ChoicesError, match=rf"{path}: field layers.b99.conv: matches no layer"):
        load_choices(path).resolve(mobilenet)
    assert load_choices(path).resolve(mobilenet, strict=False)["b1.conv"].weight_bits == 16


def test_not_yaml_and_missing_file(tmp_path):
    with pytest.raises(ChoicesError, match="not valid YAML"):
        load_choices(write(tmp_path, "layers: {a: [1,"))
    with pytest.raises(ChoicesError, match="nope.yaml: choices table not found"):
        load_choices(tmp_path / "nope.yaml")


def test_tables_relative_to_the_file_and_user_multipliers(tmp_path, mobilenet):
    (tmp_path / "tables").mkdir()
    write_bin(family_table("trunc6"), tmp_path / "tables" / "t6.bin")
    path = write(
        tmp_path,
        """
defaults: {weight_bits: 8, input_bits: 8}
layers:
  b1.decom: {multiplier: "table:tables/t6.bin"}
  b1.conv: {multiplier: mine}
  b1.comp: {multiplier: mul8u_2AC}
  b2.decom: {multiplier: drum4}
multipliers:
  mine: {table: tables/t6.bin, relative_power: 0.62, relative_area: 0.5}
  mul8u_2AC: {table: tables/t6.bin}
  drum4: {relative_power: 0.4}
""",
    )
    resolved = load_choices(path).resolve(mobilenet)
    anonymous = resolved["b1.decom"].multiplier
    assert anonymous.kind == "table" and anonymous.relative_power is None and anonymous.power_source == "unknown"
    assert anonymous.table()[255, 255] == family_table("trunc6")[255, 255]
    mine = resolved["b1.conv"].multiplier
    assert (mine.name, mine.relative_power, mine.relative_area, mine.power_source) == ("mine", 0.62, 0.5, "user")
    attached = resolved["b1.comp"].multiplier
    assert attached.kind == "evoapprox" and attached.relative_power == pytest.approx(0.311 / 0.391)
    assert attached.table() is not None and attached.power_source == "published"
    measured = resolved["b2.decom"].multiplier
    assert measured.relative_power == 0.4 and measured.power_source == "user" and measured.table() is not None
    assert anonymous.name == f"table:{tmp_path / 'tables' / 't6.bin'}"
    assert parse_choices(load_choices(path).to_dict()).resolve(mobilenet) == resolved  # tables by resolved paths
    missing = write(tmp_path, 'defaults: {weight_bits: 8, input_bits: 8, multiplier: "table:none.bin"}', "m.yaml")
    with pytest.raises(ChoicesError, match=r"m.yaml: field defaults.multiplier: multiplier table .*none.bin"):
        load_choices(missing)


def test_plain_form_round_trips(tmp_path, mobilenet):
    table = load_choices(write(tmp_path, CHOICES))
    again = parse_choices(table.to_dict(), source="round trip")
    assert again.resolve(mobilenet) == table.resolve(mobilenet)
    edited = table.with_layer("b2.comp", multiplier=library_multiplier("drum4"))
    assert edited.for_layer("b2.comp").multiplier.name == "drum4"
    assert table.for_layer("b2.comp").multiplier.is_exact


@pytest.mark.parametrize(
    "name, dataset, variant, pattern",
    [
        ("mnasnet", "cifar10", "baseline", "b*.c*"),
        ("shufflenet", "cifar100", "baseline", "b*.c*"),
        ("fusionet", "cifar10", "baseline", "b*.c*"),
        ("mobilenet", "cifar10", "fused", "b*.main"),
    ],
)
def test_choices_apply_to_every_zoo_network(name, dataset, variant, pattern):
    table = parse_choices({"defaults": {"weight_bits": 8, "input_bits": 8}, "layers": {pattern: {"psum_bits": 20}}})
    net = load_network(name, dataset, variant)
    resolved = table.resolve(net)
    assert len(resolved) == len(net.layers())
    chosen = {n for n, c in resolved.items() if c.psum_bits == 20}
    assert chosen and all(n.startswith("b") for n in chosen)


def test_the_shipped_example_resolves(mobilenet):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "costs" / "examples" / "mobilenet_8bit.yaml"
    resolved = load_choices(path).resolve(mobilenet)
    assert resolved["b1.decom"].multiplier.is_exact and resolved["b2.decom"].multiplier.name == "mul8u_2AC"
    assert resolved["b16.comp"].psum_bits == 32 and resolved["tail.FC1"].multiplier.is_exact
