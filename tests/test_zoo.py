"""The network zoo against the reference layer tables (networks.yaml), plus loading and validation errors.
§ numbers refer to docs/method.md (§9: the reference's defects).

Our layers are converted to Timeloop form the paper's way (`problems_for(layer, depthwise="paper")`:
depthwise as C=1, grouped 1x1 as one group x G, grouped main conv as in/G -> out) and must equal every
networks.yaml layer, except the intended differences listed below. Those are asserted too, so a fix
cannot silently disappear.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from workloads import Block, Network, load_network, zoo
from workloads.problem import problems_for
from workloads.zoo import ZooError

FIELDS = ("R", "S", "P", "Q", "C", "M", "stride", "repeat", "dw")
ENTRIES = [
    (n, d, v)
    for n, d in [
        ("mobilenet", "cifar10"),
        ("mobilenet", "cifar100"),
        ("mnasnet", "cifar10"),
        ("mnasnet", "cifar100"),
        ("fusionet", "cifar10"),
        ("fusionet", "cifar100"),
        ("shufflenet", "cifar10"),
    ]
    for v in ("baseline", "fused")
]
ADDED = "added"  # field name for a layer only we have (value: its record)

# ------------------------------------------------------------------------------------------ intended differences

# MnasNet-A1's SE blocks, as listed by the reference's analyze_layers.py
MNASNET_SE_BLOCKS = (3, 4, 5, 10, 11, 12, 13, 14)


def _pq(key: str, ref: int, ours: int, why: str) -> dict:
    return {(key, "P"): (ref, ours, why), (key, "Q"): (ref, ours, why)}


MOBILENET_B12 = {k: v for role in ("decom", "conv", "comp") for k, v in _pq(f"b12.{role}", 8, 16, "§9 item 7").items()}
FUSIONET_HEAD = {("head.PW1", "repeat"): (1, 4, "§9 item 9")}
FUSIONET_FUSED_TAIL_C10 = {("tail.PW1", "repeat"): (1, 4, "§9 item 9"), ("tail.FC1", "C"): (1280, 960, "§9 item 9")}
FUSIONET_FUSED_TAIL_C100 = {
    ("tail.PW1", "C"): (160, 40, "§9 item 9"),
    ("tail.PW1", "M"): (128, 240, "§9 item 9"),
    ("tail.PW1", "repeat"): (1, 4, "§9 item 9"),
    ("tail.FC1", "C"): (1280, 960, "§9 item 9"),
}
SHUFFLENET_BASELINE_EDGES = {  # not a §9 item: the units the block-spanning cut leaves outside the body
    ("head.PW1", ADDED): (None, (1, 1, 32, 32, 8, 8, 1, 3, False), "CHOICE shufflenet unit 1 GConv1"),
    ("head.DW1", ADDED): (None, (3, 3, 32, 32, 1, 24, 1, 1, True), "CHOICE shufflenet unit 1 dw"),
    ("tail.PW1", ADDED): (None, (1, 1, 8, 8, 80, 320, 1, 3, False), "CHOICE shufflenet unit 16 GConv2"),
}


def _mnasnet_se(entry: dict) -> dict:
    """SE layers only we have (§9 item 11): pooled mid -> int(in/4) -> mid, sized from the reference block widths."""
    out = {}
    for b in entry["blocks"]:
        if b["block"] in MNASNET_SE_BLOCKS:
            mid, red = b["mid_ch"], b["in_ch"] // 4
            out[(f"b{b['block']}.se_reduce", ADDED)] = (None, (1, 1, 1, 1, mid, red, 1, 1, False), "§9 item 11")
            out[(f"b{b['block']}.se_expand", ADDED)] = (None, (1, 1, 1, 1, red, mid, 1, 1, False), "§9 item 11")
    return out


def expected_differences(entry: dict) -> dict:
    key = (entry["network"], entry["dataset"], entry["variant"])
    if key[0] == "mobilenet" and key[2] == "baseline":
        return dict(MOBILENET_B12)
    if key[0] == "mnasnet" and key[2] == "baseline":
        return _mnasnet_se(entry)  # the fused MnasNet has no SE: it cannot be folded into the fused conv
    if key[0] == "fusionet" and key[2] == "baseline":
        return dict(FUSIONET_HEAD)  # plus the body, replaced as a whole (§9 item 8): see test_fusionet_baseline_body
    if key[0] == "fusionet":
        return dict(FUSIONET_FUSED_TAIL_C10 if key[1] == "cifar10" else FUSIONET_FUSED_TAIL_C100)
    if key == ("shufflenet", "cifar10", "baseline"):
        return dict(SHUFFLENET_BASELINE_EDGES)
    if key == ("shufflenet", "cifar10", "fused"):
        return {("tail.PW1", "stride"): (8, 1, "§9 item 9")}
    return {}


# Entries whose head/tail the reference never simulated (§9 item 8): we compare against the same network's
# cifar10 head/tail of that variant, with the FC producing num_classes outputs.
NOT_SIMULATED = {
    ("mobilenet", "cifar100", "fused"),
    ("mnasnet", "cifar100", "fused"),
    ("fusionet", "cifar100", "baseline"),
}
BODY_REPLACED = {("fusionet", "cifar10", "baseline"), ("fusionet", "cifar100", "baseline")}  # §9 item 8

# ------------------------------------------------------------------------------------------ records


def _ref_record(layer: dict) -> tuple:
    assert layer["Wstride"] == layer["Hstride"] and layer["N"] == 1
    return (
        layer["R"],
        layer["S"],
        layer["P"],
        layer["Q"],
        layer["C"],
        layer["M"],
        layer["Wstride"],
        layer["repeat"],
        bool(layer["depthwise"]),
    )


def _our_record(layer) -> tuple:
    (prob,) = problems_for(layer, depthwise="paper")
    i = prob.instance
    return (i["R"], i["S"], i["P"], i["Q"], i["C"], i["M"], i["Wstride"], prob.repeat, layer.kind == "depthwise")


def reference_records(entry: dict, entries: dict, body: bool = True) -> dict[str, tuple]:
    edges = entry
    if entry["head"] is None:
        edges = entries[(entry["network"], "cifar10", entry["variant"])]
    out = {f"head.{ref_layer['name']}": _ref_record(ref_layer) for ref_layer in edges["head"]}
    if body:
        for b in entry["blocks"]:
            for ref_layer in b["layers"]:
                role = "main" if ref_layer["role"] == "main_fused" else ref_layer["role"]
                out[f"b{b['block']}.{role}"] = _ref_record(ref_layer)
    for ref_layer in edges["tail"]:
        rec = _ref_record(ref_layer)
        if ref_layer["type"] == "FC":
            rec = rec[:5] + (entry["num_classes"],) + rec[6:]
        out[f"tail.{ref_layer['name']}"] = rec
    return out


def our_records(net: Network, body: bool = True) -> dict[str, tuple]:
    layers = net.layers() if body else list(net.head) + list(net.tail)
    return {layer.name: _our_record(layer) for layer in layers}


def differences(ref: dict, ours: dict) -> dict:
    out = {}
    for key in ref.keys() - ours.keys():
        out[(key, "removed")] = (ref[key], None)
    for key in ours.keys() - ref.keys():
        out[(key, ADDED)] = (None, ours[key])
    for key in ref.keys() & ours.keys():
        for field, a, b in zip(FIELDS, ref[key], ours[key], strict=True):
            if a != b:
                out[(key, field)] = (a, b)
    return out


@pytest.fixture(scope="module")
def reference_entries(reference_dir: Path) -> dict:
    data = yaml.load(
        (reference_dir / "networks.yaml").read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )
    return {(e["network"], e["dataset"], e["variant"]): e for e in data["entries"]}


# ------------------------------------------------------------------------------------------ golden comparison


def test_reference_lists_the_fourteen_entries(reference_entries):
    assert sorted(reference_entries) == sorted(ENTRIES)
    not_simulated = {k for k, e in reference_entries.items() if e["head"] is None}
    assert not_simulated == NOT_SIMULATED


@pytest.mark.parametrize("network, dataset, variant", ENTRIES)
def test_layers_equal_reference_except_intended_fixes(reference_entries, network, dataset, variant):
    entry = reference_entries[(network, dataset, variant)]
    net = load_network(network, dataset, variant)
    assert net.num_classes == entry["num_classes"]
    with_body = (network, dataset, variant) not in BODY_REPLACED
    ref = reference_records(entry, reference_entries, body=with_body)
    ours = our_records(net, body=with_body)
    expected = expected_differences(entry)
    assert differences(ref, ours) == {k: v[:2] for k, v in expected.items()}
    # same execution order, apart from the layers only we have
    added = {k for (k, field) in expected if field == ADDED}
    assert [k for k in ours if k not in added] == list(ref)


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100"])
def test_fusionet_baseline_body(reference_entries, dataset):
    """§9 item 8: the reference baseline body is ShuffleNet's; ours is FusioNet's own blocks, unfused."""
    ref = reference_entries[("fusionet", dataset, "baseline")]
    shuffle = reference_entries[("shufflenet", "cifar10", "baseline")]
    strip = lambda blocks: [[_ref_record(ref_layer) for ref_layer in b["layers"]] for b in blocks]  # noqa: E731
    assert strip(ref["blocks"]) == strip(shuffle["blocks"])  # the verbatim copy we replace

    fused = reference_entries[("fusionet", dataset, "fused")]["blocks"]
    net = load_network("fusionet", dataset, "baseline")
    assert len(net.blocks) == len(fused) == 16
    G = 4
    for ref_block, block in zip(fused, net.blocks, strict=True):
        i, m, o = ref_block["in_ch"], ref_block["mid_ch"], ref_block["out_ch"]
        pix, s, k = ref_block["pixels_out"], ref_block["stride"], ref_block["dw_kernel"]
        assert (block.in_ch, block.mid_ch, block.out_ch, block.groups) == (i, m, o, G)
        assert [_our_record(layer) for layer in block.layers] == [
            (1, 1, pix * s, pix * s, i // G, m // G, 1, G, False),  # grouped 1x1 in -> mid
            (k, k, pix, pix, 1, m, s, 1, True),  # depthwise on mid
            (1, 1, pix, pix, m // G, o // G, 1, G, False),  # grouped 1x1 mid -> out
        ]
        assert [layer.role for layer in block.layers] == ["decom", "conv", "comp"]


def test_fixes_are_documented_in_the_zoo_files():
    """Every §9 fix is recorded as a comment in the zoo file where it applies."""
    text = {name: (zoo.NETWORKS_DIR / f"{name}.yaml").read_text() for name in zoo.network_names()}
    assert "FIX (§9 item 7)" in text["mobilenet"]
    assert "FIX (§9 item 8)" in text["fusionet"] and "FIX (§9 item 9)" in text["fusionet"]
    assert "FIX (§9 item 9)" in text["shufflenet"] and "§9 item 10" in text["shufflenet"]
    assert "FIX (§9 item 11)" in text["mnasnet"]
    assert "FIX (§9 item 8)" in text["mobilenet"] and "FIX (§9 item 8)" in text["mnasnet"]


def test_shufflenet_cifar100_is_cifar10_with_a_100_way_fc():
    for variant in ("baseline", "fused"):
        c10, c100 = (load_network("shufflenet", d, variant) for d in ("cifar10", "cifar100"))
        assert c100.num_classes == 100
        assert c100.layer("tail.FC1").M == 100 and c100.layer("tail.FC1").C == 960
        but_fc = lambda net: [layer for layer in net.layers() if layer.name != "tail.FC1"]  # noqa: E731
        assert but_fc(c10) == but_fc(c100)


# ------------------------------------------------------------------------------------------ network model


def test_every_network_loads_with_consistent_layers():
    for name in zoo.network_names():
        for dataset in zoo.datasets(name):
            for variant in zoo.variants():
                net = load_network(name, dataset, variant)
                names = [layer.name for layer in net.layers()]
                assert len(names) == len(set(names))
                for block in net.blocks:
                    assert all(layer.part == "body" and layer.block == block.index for layer in block.layers)
                    assert all(layer.name == f"b{block.index}.{layer.role}" for layer in block.layers)
                    assert (block.pred_bits is not None) == (variant == "fused")
                    assert (block.prune_factor is not None) == (variant == "fused")
                assert all(layer.part == "head" and layer.name.startswith("head.") for layer in net.head)
                assert all(layer.part == "tail" and layer.name.startswith("tail.") for layer in net.tail)
                for layer in net.layers():  # the problem form never changes the work
                    for form in ("coupled", "paper"):
                        assert sum(p.total_macs for p in problems_for(layer, form)) == layer.macs


def test_network_api():
    assert zoo.network_names() == ["fusionet", "mnasnet", "mobilenet", "shufflenet"]
    assert zoo.datasets("mobilenet") == ["cifar10", "cifar100"]
    assert zoo.variants() == ["baseline", "fused"]
    net = load_network("mobilenet", "cifar10")
    assert net.variant == "baseline" and net.input_size == 32 and net.input_channels == 3
    assert net.layers()[0].name == "head.conv1" and net.layers()[-1].name == "tail.FC1"
    assert len(net.layers()) == 4 + 16 * 3 + 2
    b3 = net.layer("b3.decom")
    assert (b3.kind, b3.C, b3.M, b3.P) == ("pointwise", 24, 144, 32)
    assert net.block(6).layer("conv").stride == 2 and net.block(6).layer("decom").P == 32
    assert [b.index for b in net.blocks if b.residual] == [2, 4, 5, 7, 8, 9, 11, 12, 14, 15]
    with pytest.raises(KeyError, match="no layer 'b99.decom'"):
        net.layer("b99.decom")
    with pytest.raises(KeyError, match="blocks 1..16"):
        net.block(17)
    fused = load_network("fusionet", "cifar10", "fused")
    main = fused.layer("b9.main")
    assert (main.kind, main.C, main.M, main.groups, main.R) == ("grouped-conv", 96, 96, 4, 3)
    assert main.macs == 8 * 8 * 96 * (96 // 4) * 9
    assert isinstance(fused.block(1), Block) and fused.block(1).prune_factor == 0.014
    mnas = load_network("mnasnet", "cifar10", "fused")
    assert [b.pred_bits for b in mnas.blocks] == [2, 2, 2] + [4] * 12
    assert [layer.role for layer in mnas.block(3).layers] == ["pred_decom", "pred_conv", "main"]
    assert [layer.role for layer in load_network("mnasnet", "cifar10").block(3).layers] == [
        "decom",
        "conv",
        "se_reduce",
        "se_expand",
        "comp",
    ]
    shuffle = load_network("shufflenet", "cifar10", "fused")
    assert [layer.role for layer in shuffle.block(1).layers] == ["pred_decom", "pred_comp", "main"]


def test_import_workloads_stays_light():
    """`import workloads` must not pull in TensorFlow, Keras or Jinja2."""
    code = (
        "import sys, workloads; heavy = {'tensorflow', 'keras', 'jinja2'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


def test_loading_is_cached():
    assert load_network("mnasnet", "cifar10") is load_network("mnasnet", "cifar10")


# ------------------------------------------------------------------------------------------ validation errors

GOOD = """\
name: {name}
input: {{size: 8, channels: 3}}
datasets: {{tiny: {{num_classes: 4}}}}
variants:
  baseline:
    head:
      - {{name: conv1, kind: conv, C: 3, M: 8, kernel: 3, pixels: 8}}
    body:
      style: inverted-residual
      blocks: 2
      in: [8, 16]
      expansion: 2
      out: [16, 16]
      pixels: [4, 4]
      stride: [2, 1]
      kernel: 3
    tail:
      - {{name: FC1, kind: fc, C: 16, M: num_classes}}
"""


def write(tmp_path: Path, text: str, name: str = "tiny") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def load(path: Path, dataset: str = "tiny", variant: str = "baseline") -> Network:
    zoo._read.cache_clear()
    zoo.load_network_file.cache_clear()
    return zoo.load_network_file(path, dataset, variant)


def test_a_small_custom_network_loads(tmp_path):
    net = load(write(tmp_path, GOOD.format(name="tiny")))
    assert [layer.name for layer in net.layers()] == [
        "head.conv1",
        "b1.decom",
        "b1.conv",
        "b1.comp",
        "b2.decom",
        "b2.conv",
        "b2.comp",
        "tail.FC1",
    ]
    assert net.layer("b1.decom").P == 8 and net.layer("b1.conv").P == 4 and net.layer("b1.conv").stride == 2
    assert net.layer("b2.conv").C == 32 and net.layer("tail.FC1").M == 4


def test_blocks_without_expansion_explicit_se_widths_and_flattening(tmp_path):
    """no_decom, se {width, kind} and an fc reading a flattened map: what imported Keras models need."""
    text = (
        GOOD.format(name="tiny")
        .replace("expansion: 2", "mid: [8, 32]")
        .replace(
            "kernel: 3\n    tail",
            "kernel: 3\n      no_decom: [1]\n      se: {blocks: [2, 1], width: [5, 3], kind: pointwise}\n    tail",
        )
        .replace("{name: FC1, kind: fc, C: 16, M: num_classes}", "{name: FC1, kind: fc, C: 256, M: num_classes}")
    )
    net = load(write(tmp_path, text))
    assert [layer.name for layer in net.block(1).layers] == ["b1.conv", "b1.se_reduce", "b1.se_expand", "b1.comp"]
    assert (net.block(1).in_ch, net.block(1).mid_ch, net.layer("b1.conv").C, net.layer("b1.conv").P) == (8, 8, 8, 4)
    se_layers = [layer for layer in net.block(2).layers if layer.role.startswith("se")]
    assert [(layer.kind, layer.C, layer.M, layer.P) for layer in se_layers] == [
        ("pointwise", 32, 5, 1),
        ("pointwise", 5, 32, 1),
    ]
    assert net.layer("b1.se_reduce").M == 3
    assert net.layer("tail.FC1").C == 4 * 4 * 16  # flattened 4x4x16
    ratio = text.replace(
        "se: {blocks: [2, 1], width: [5, 3], kind: pointwise}", "se: {blocks: [2], ratio: 0.25, of: mid}"
    )
    ratio_layers = load(write(tmp_path, ratio)).block(2).layers
    assert [(layer.kind, layer.M) for layer in ratio_layers if layer.role == "se_reduce"] == [("fc", 8)]
    fused = text.replace(
        "style: inverted-residual", "style: fused\n      predict: conv\n      pred_bits: 4\n      prune_factor: 0.5"
    ).replace("  baseline:", "  fused:")
    with pytest.raises(ZooError, match=r"body\.no_decom: only for the inverted-residual style"):
        load(write(tmp_path, fused), variant="fused")


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "pixels: [4, 4]",
            "pixels: [4, 2]",
            r"field variants\.baseline: block 2 reads a 2x2 map .* block 1 produces 4x4",
        ),
        ("C: 16, M: num", "C: 32, M: num", r"layer tail\.FC1 reads 32 channels but block 2 produces 16"),
        (
            "in: [8, 16]",
            "in: [8, 16, 16]",
            r"field variants\.baseline\.body\.in: has 3 entries, expected one per block \(2\)",
        ),
        ("in: [8, 16]", "in: [8, 16x0]", r"field variants\.baseline\.body\.in: has 1 entries"),
        ("in: [8, 16]", "in: [8, sixteen]", r"body\.in: entry 1 'sixteen' is neither a number nor 'VALUExCOUNT'"),
        ("expansion: 2", "expansion: 2\n      mid: 16", r"body\.mid: give exactly one of mid / expansion"),
        ("expansion: 2", "expansion: 1.3", r"body\.expansion: block 1: in 8 x expansion 1.3 is not an integer"),
        ("kernel: 3\n    tail", "kernal: 3\n    tail", r"body: unknown key\(s\) kernal"),
        ("style: inverted-residual", "style: fused", r"body\.style: style 'fused' does not fit the baseline variant"),
        ("style: inverted-residual", "style: zigzag", r"body\.style: 'zigzag' is not one of"),
        (
            "kernel: 3\n    tail",
            "kernel: 3\n      pred_bits: 4\n    tail",
            r"body\.pred_bits: only for the fused style",
        ),
        (
            "kernel: 3\n    tail",
            "kernel: 3\n      concat: [1]\n    tail",
            r"body\.concat: only for the shuffle-span style",
        ),
        (
            "kernel: 3\n    tail",
            "kernel: 3\n      se: {blocks: [3], ratio: 0.25, of: in}\n    tail",
            r"body\.se\.blocks: 3 is not a block index 1\.\.2",
        ),
        (
            "kernel: 3\n    tail",
            "kernel: 3\n      se: {blocks: [1], ratio: 2, of: in}\n    tail",
            r"body\.se\.ratio: must be a number in \(0, 1\]",
        ),
        (
            "kind: conv, C: 3",
            "kind: convolution, C: 3",
            r"head\[0\]: layer 'head\.conv1': kind 'convolution' is not one of",
        ),
        (
            "kind: conv, C: 3, M: 8, kernel: 3,",
            "kind: conv, C: 3, M: 8,",
            r"head\[0\]\.kernel: missing \(required for a conv layer\)",
        ),
        ("M: 8, kernel: 3, pixels: 8", "M: 8, kernel: 3", r"head\[0\]\.pixels: missing"),
        (
            "M: 8, kernel: 3, pixels: 8",
            "M: 8, kernel: 3, pixels: 8, stride: 0",
            r"head\[0\]\.stride: must be a positive integer, got 0",
        ),
        ("{name: conv1,", "{name: conv1, padding: same,", r"head\[0\]: unknown key\(s\) padding"),
        ("num_classes: 4", "num_classes: four", r"field datasets\.tiny\.num_classes: must be a positive integer"),
        ("size: 8", "size: 16", r"layer head\.conv1 reads a 8x8 map \(P\*stride\) but the input image produces 16x16"),
        ("  baseline:", "  dense:", r"field variants\.dense: unknown variant"),
        (
            "kernel: 3\n    tail",
            "kernel: 3\n      no_decom: [1]\n    tail",
            r"body\.no_decom: block 1 has no expand 1x1, so its mid \(16\) must equal its in \(8\)",
        ),
        (
            "kernel: 3\n    tail",
            "kernel: 3\n      se: {blocks: [1, 2], width: [4]}\n    tail",
            r"body\.se\.width: has 1 entries, expected one per block \(2\)",
        ),
        (
            "kernel: 3\n    tail",
            "kernel: 3\n      se: {blocks: [1], width: [4], ratio: 0.5}\n    tail",
            r"body\.se\.width: give either width or ratio and of",
        ),
        (
            "kernel: 3\n    tail",
            "kernel: 3\n      se: {blocks: [1], width: [0]}\n    tail",
            r"body\.se\.width: entry for block 1 must be positive, got 0",
        ),
        (
            "kernel: 3\n    tail",
            "kernel: 3\n      se: {blocks: [1, 1], width: [4, 4]}\n    tail",
            r"body\.se\.blocks: lists a block twice",
        ),
        (
            "kernel: 3\n    tail",
            "kernel: 3\n      se: {blocks: [1], width: [4], kind: conv}\n    tail",
            r"body\.se\.kind: 'conv' is not one of fc, pointwise",
        ),
        ("C: 16, M: num", "C: 128, M: num", r"layer tail\.FC1 reads 128 channels but block 2 produces 16"),
    ],
)
def test_bad_network_files_name_file_and_field(tmp_path, old, new, message):
    text = GOOD.format(name="tiny")
    assert old in text
    path = write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ZooError, match=message) as err:
        load(path)
    assert str(path) in str(err.value)


def test_bad_requests_and_files(tmp_path):
    with pytest.raises(ZooError, match=r"unknown network 'resnet' \(known: fusionet, mnasnet, mobilenet, shufflenet\)"):
        load_network("resnet", "cifar10")
    with pytest.raises(ZooError, match=r"mobilenet\.yaml: field datasets: no dataset 'imagenet'"):
        load_network("mobilenet", "imagenet")
    with pytest.raises(ZooError, match=r"field variants: no variant 'sparse'"):
        load_network("mobilenet", "cifar10", "sparse")
    path = write(tmp_path, GOOD.format(name="other"), name="tiny")
    with pytest.raises(ZooError, match=r"tiny\.yaml: field name: 'other' must equal the file name 'tiny'"):
        load(path)
    path = write(tmp_path, "name: tiny\ninput: [unclosed\n")
    with pytest.raises(ZooError, match=r"tiny\.yaml: not valid YAML"):
        load(path)
    path = write(tmp_path, GOOD.format(name="tiny").replace("    body:", "    bodies:"))
    with pytest.raises(ZooError, match=r"field variants\.baseline: unknown key\(s\) bodies"):
        load(path)


def test_the_reference_defects_fail_validation(tmp_path):
    """Writing the reference's defective shapes back into a zoo file is caught by the chain check."""
    text = (zoo.NETWORKS_DIR / "mobilenet.yaml").read_text()
    path = write(tmp_path, text.replace("pixels: [32x5, 16x7, 8x4]", "pixels: [32x5, 16x6, 8x5]"), name="mobilenet")
    with pytest.raises(ZooError, match=r"block 12 reads a 8x8 map \(P\*stride\) but block 11 produces 16x16"):
        load(path, "cifar10")
    text = (zoo.NETWORKS_DIR / "shufflenet.yaml").read_text()
    bad = text.replace(
        "{name: PW1, kind: grouped-pointwise, C: 84, M: 960, groups: 3, pixels: 8}",
        "{name: PW1, kind: grouped-pointwise, C: 84, M: 960, groups: 3, pixels: 8, stride: 8}",
    )
    path = write(tmp_path, bad, name="shufflenet")
    with pytest.raises(ZooError, match=r"layer tail\.PW1 reads a 64x64 map"):
        load(path, "cifar10", "fused")
    text = (zoo.NETWORKS_DIR / "fusionet.yaml").read_text()
    bad = text.replace(
        "{name: FC1, kind: fc, C: 960, M: num_classes}", "{name: FC1, kind: fc, C: 1280, M: num_classes}"
    )
    path = write(tmp_path, bad, name="fusionet")
    with pytest.raises(ZooError, match=r"layer tail\.FC1 reads 1280 channels but layer tail\.PW1 produces 960"):
        load(path, "cifar10", "fused")
