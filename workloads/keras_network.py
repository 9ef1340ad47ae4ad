"""A Keras model as a zoo network file (`fuseloop import-keras`): head / body / tail as `from_keras` splits the
model, in both variants.

baseline  the model itself: head and tail layers one by one, the bottleneck blocks as an inverted-residual body
          (per-block in / mid / out / pixels / stride / kernel / groups; `no_decom` for blocks without an expand
          1x1; squeeze-and-excite widths as `se: {ratio, of}` when one rule gives every width, else `se: {width}`).
fused     the same blocks as ARCHON fused blocks (style fused, `predict: conv`: ARCHON predicts the ReLU signs of
          the expand 1x1 and of the depthwise layer, then runs one k x k main convolution in -> out), with ARCHON's
          knobs pred_bits and prune_factor (defaults: the paper's MobileNetV2 values). Head and tail as in the
          baseline. Squeeze-and-excite is left out (ARCHON folds depthwise and projection into one convolution, so
          the paper's fused MnasNet has none; workloads/networks/mnasnet.yaml). Blocks without an expand 1x1 have
          nothing to fuse (ARCHON predicts the expand layer's ReLU signs; fused without expansion, the main
          convolution would cost more MACs than the block): before the first / after the last expanded block they
          run as ordinary layers in the fused head / tail; in between, the model is refused.

What a network file cannot hold is refused with one line naming the model layer: non-square kernels or maps, a
grouped block whose expand and project 1x1 layers have different groups, strided 1x1 layers inside a block, and
layers that do not chain ('valid' padding, pooling or concatenation between layers: a network file chains
'same'-padded layers, each reading the map the previous one produced; an fc layer at 1x1 may follow global
average pooling or flattening).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .keras_import import KerasImportError, KerasParts, from_keras, split_model
from .layer import Layer
from .network import Block

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
PRED_BITS = 4  # the paper's MobileNetV2 PRED_QTZ (workloads/networks/mobilenet.yaml)
PRUNE_FACTOR = 0.013  # the paper's MobileNetV2 prune_factors: fraction of fused weights kept
SE_RULES = [(ratio, base) for ratio in (0.25, 0.125, 0.0625, 0.5) for base in ("in", "mid")]


@dataclass
class ImportedNetwork:
    """The network file's text and what `fuseloop import-keras` reports about it."""

    name: str
    dataset: str
    text: str
    baseline_blocks: int
    fused_blocks: int
    unfused: list[int] = field(default_factory=list)  # baseline blocks run unfused in the fused head / tail


def check_name(name: str, what: str = "network name") -> str:
    if not NAME.match(name):
        raise KerasImportError(
            f"{what} {name!r}: use 1-64 letters, digits, '_' or '-', starting with a letter or "
            "digit (it names a file and results directories)"
        )
    return name


def network_file(
    model: Any,
    name: str,
    dataset: str = "custom",
    pred_bits: int = PRED_BITS,
    prune_factor: float = PRUNE_FACTOR,
    source: str = "",
) -> ImportedNetwork:
    """The zoo network file of `model` (module docstring); its baseline is checked to load as `from_keras` gives it."""
    check_name(name)
    check_name(dataset, "dataset name")
    if isinstance(pred_bits, bool) or not isinstance(pred_bits, int) or pred_bits < 1:
        raise KerasImportError(f"pred_bits must be a positive integer, got {pred_bits!r}")
    if not 0 < prune_factor <= 1:
        raise KerasImportError(f"prune_factor is the fraction of fused weights kept, in (0, 1]; got {prune_factor!r}")
    parts = split_model(model)
    where = f"model {parts.model!r}"
    if not parts.blocks:
        raise KerasImportError(
            f"{where}: no bottleneck block ([expand 1x1] -> depthwise -> project 1x1); a network "
            "file needs at least one, and ARCHON fuses them"
        )
    blocks = [_BlockShape.of(k + 1, members, where) for k, members in enumerate(parts.blocks)]
    for layer in parts.head + parts.tail:
        _check_square(layer, where)
    _check_chain(parts, blocks, where)
    expanded = [b.index for b in blocks if b.decom]
    if not expanded:
        raise KerasImportError(f"{where}: no bottleneck block has an expand 1x1; ARCHON has nothing to fuse")
    first, last = expanded[0], expanded[-1]
    for b in blocks[first - 1 : last]:
        if not b.decom:
            raise KerasImportError(
                f"{where}: layer {b.dw_name!r} (block {b.index}) is a depthwise layer without an expand 1x1 before it, "
                "between expanded blocks: ARCHON fuses only [expand 1x1] -> depthwise -> project 1x1 blocks, and an "
                "unexpanded block can run unfused only before the first or after the last of them"
            )
    fused = blocks[first - 1 : last]
    before, after = blocks[: first - 1], blocks[last:]
    doc = _document(parts, blocks, fused, before, after, name, dataset, pred_bits, prune_factor, source)
    text = _render(doc, parts, blocks, before, after, source)
    _verify(model, text, name, dataset)
    return ImportedNetwork(name, dataset, text, len(blocks), len(fused), [b.index for b in before + after])


# ----------------------------------------------------------------------------------------- blocks


@dataclass
class _BlockShape:
    index: int
    in_ch: int
    mid: int
    out: int
    pixels: int
    stride: int
    kernel: int
    groups: int
    decom: bool
    se_width: int | None
    se_kind: str | None
    dw_name: str
    layers: list[tuple[str, Layer]]

    @classmethod
    def of(cls, k: int, members: list[tuple[str, Layer]], where: str) -> _BlockShape:
        roles = dict(members)
        dw, comp = roles["conv"], roles["comp"]
        for _, layer in members:
            _check_square(layer, where)
        decom = roles.get("decom")
        around = [(decom, dw.P * dw.stride)] if decom is not None else []
        for layer, side in [*around, (comp, dw.P)]:
            if layer.stride != 1:
                raise KerasImportError(
                    f"{where}: layer {layer.name!r} (block {k}): a strided 1x1 layer inside a block "
                    "cannot be written (the block's stride is its depthwise layer's)"
                )
            if layer.P != side:
                raise KerasImportError(
                    f"{where}: layer {layer.name!r} (block {k}) works on a {layer.P}x{layer.P} map, "
                    f"expected {side}x{side} around depthwise layer {dw.name!r}"
                )
        if decom is not None and decom.groups != comp.groups:
            raise KerasImportError(
                f"{where}: layer {decom.name!r} has groups={decom.groups} but {comp.name!r} "
                f"groups={comp.groups}; a block's 1x1 layers share one group count"
            )
        se_width = se_kind = None
        if "se_reduce" in roles:
            reduce, expand = roles["se_reduce"], roles["se_expand"]
            if reduce.kind != expand.kind:
                raise KerasImportError(
                    f"{where}: squeeze-and-excite layers {reduce.name!r} ({reduce.kind}) and "
                    f"{expand.name!r} ({expand.kind}) must be of one kind"
                )
            se_width, se_kind = reduce.M, reduce.kind
        first = members[0][1]
        return cls(
            k,
            first.C,
            dw.C,
            comp.M,
            dw.P,
            dw.stride,
            dw.R,
            comp.groups,
            decom is not None,
            se_width,
            se_kind,
            dw.name,
            members,
        )


def _check_square(layer: Layer, where: str) -> None:
    if layer.R != layer.S:
        raise KerasImportError(
            f"{where}: layer {layer.name!r} has a {layer.S}x{layer.R} kernel; network files hold square kernels"
        )
    if layer.P != layer.Q:
        raise KerasImportError(
            f"{where}: layer {layer.name!r} produces a {layer.Q}x{layer.P} map; network files hold square maps"
        )


def _check_chain(parts: KerasParts, blocks: list[_BlockShape], where: str) -> None:
    """workloads.zoo's chain rule, with the model's layer names in the error."""
    side, channels, source = parts.input_size, parts.input_channels, "the input"

    def edge_unit(layer: Layer) -> tuple[str, str, int, int, int, int, bool]:
        """(first name, last name, in side, in channels, out side, out channels, pooled) of a head/tail layer."""
        pooled = layer.kind == "fc" and layer.P == 1
        return layer.name, layer.name, layer.P * layer.stride, layer.C, layer.P, layer.M, pooled

    units = [edge_unit(layer) for layer in parts.head]
    units += [
        (b.layers[0][1].name, b.layers[-1][1].name, b.pixels * b.stride, b.in_ch, b.pixels, b.out, False)
        for b in blocks
    ]
    units += [edge_unit(layer) for layer in parts.tail]
    for name, last, in_side, in_ch, out_side, out_ch, pooled in units:
        flattened = pooled and in_ch == side * side * channels
        if (in_side != side and not pooled) or (in_ch != channels and not flattened):
            raise KerasImportError(
                f"{where}: layer {name!r} reads a {in_side}x{in_side} map (output side x stride) with {in_ch} "
                f"channels, but {source} gives {side}x{side} with {channels}; a network file chains 'same'-padded "
                "layers, each reading what the previous one produced (no 'valid' padding, pooling or concatenation "
                "between them)"
            )
        side, channels, source = out_side, out_ch, f"layer {last!r}"


def _se_spec(blocks: list[_BlockShape], where: str) -> dict[str, Any] | None:
    with_se = [b for b in blocks if b.se_width is not None]
    if not with_se:
        return None
    kinds = {b.se_kind for b in with_se}
    if len(kinds) > 1:
        b = next(b for b in with_se if b.se_kind != with_se[0].se_kind)
        raise KerasImportError(
            f"{where}: block {b.index} (layer {b.dw_name!r}): squeeze-and-excite layers of kind "
            f"{b.se_kind}, other blocks {with_se[0].se_kind}; a network file has one kind"
        )
    spec: dict[str, Any] = {"blocks": [b.index for b in with_se]}
    for ratio, base in SE_RULES:
        if all(b.se_width == max(1, int((b.in_ch if base == "in" else b.mid) * ratio)) for b in with_se):
            spec.update(ratio=ratio, of=base)
            break
    else:
        spec["width"] = [b.se_width for b in with_se]
    if with_se[0].se_kind != "fc":
        spec["kind"] = with_se[0].se_kind
    return spec


# ----------------------------------------------------------------------------------------- document


def _edge(layer: Layer, name: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"name": name or layer.name, "kind": layer.kind, "C": layer.C}
    if layer.kind != "depthwise":
        item["M"] = layer.M
    if layer.R > 1 or layer.kind in ("conv", "depthwise", "grouped-conv"):
        item["kernel"] = layer.R
    if layer.kind != "fc" or layer.P != 1:
        item["pixels"] = layer.P
    if layer.stride != 1:
        item["stride"] = layer.stride
    if layer.groups != 1 and layer.kind != "depthwise":
        item["groups"] = layer.groups
    return item


def _unfused(blocks: list[_BlockShape]) -> list[dict[str, Any]]:
    """Blocks without an expand 1x1 as ordinary fused-variant layers (their SE left out, as in every fused block)."""
    return [_edge(layer) for b in blocks for role, layer in b.layers if role in ("conv", "comp")]


def _body(blocks: list[_BlockShape], fused: bool, where: str) -> dict[str, Any]:
    body: dict[str, Any] = {"style": "fused" if fused else "inverted-residual"}
    if fused:
        body["predict"] = "conv"
    body["blocks"] = len(blocks)
    for key, attr in (
        ("in", "in_ch"),
        ("mid", "mid"),
        ("out", "out"),
        ("pixels", "pixels"),
        ("stride", "stride"),
        ("kernel", "kernel"),
        ("groups", "groups"),
    ):
        body[key] = [getattr(b, attr) for b in blocks]
    if not fused:
        no_decom = [b.index for b in blocks if not b.decom]
        if no_decom:
            body["no_decom"] = no_decom
        se = _se_spec(blocks, where)
        if se:
            body["se"] = se
    return body


def _document(
    parts: KerasParts,
    blocks: list[_BlockShape],
    fused: list[_BlockShape],
    before: list[_BlockShape],
    after: list[_BlockShape],
    name: str,
    dataset: str,
    pred_bits: int,
    prune_factor: float,
    source: str,
) -> dict[str, Any]:
    where = f"model {parts.model!r}"
    fused_body = _body(fused, True, where)
    fused_body.update(pred_bits=pred_bits, prune_factor=prune_factor)
    return {
        "name": name,
        "description": f"imported from Keras model {parts.model!r}" + (f" ({source})" if source else ""),
        "input": {"size": parts.input_size, "channels": parts.input_channels},
        "datasets": {dataset: {"num_classes": parts.num_classes}},
        "variants": {
            "baseline": {
                "head": [_edge(layer) for layer in parts.head],
                "body": _body(blocks, False, where),
                "tail": [_edge(layer) for layer in parts.tail],
            },
            "fused": {
                "head": [_edge(layer) for layer in parts.head] + _unfused(before),
                "body": fused_body,
                "tail": _unfused(after) + [_edge(layer) for layer in parts.tail],
            },
        },
    }


def _flow(value: Any) -> str:
    """`value` as one line of flow-style YAML."""
    if isinstance(value, (dict, list)):
        return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000).strip()
    return _flow([value])[1:-1]


def _runs(values: list) -> str:
    """A per-block list in the zoo's shorthand: [16, 24x2] for [16, 24, 24]; one value for all blocks."""
    if len(set(values)) == 1:
        return _flow(values[0])
    out, i = [], 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        out.append(f"{values[i]}x{j - i + 1}" if j > i else _flow(values[i]))
        i = j + 1
    return "[" + ", ".join(out) + "]"


def _render(
    doc: dict[str, Any],
    parts: KerasParts,
    blocks: list[_BlockShape],
    before: list[_BlockShape],
    after: list[_BlockShape],
    source: str,
) -> str:
    lines = [
        f"# {doc['name']}: imported by `fuseloop import-keras` from Keras model {parts.model!r}"
        + (f" ({source})" if source else "")
        + ".",
        "# Schema and expansion rules: workloads/zoo.py; how the variants are derived: workloads/keras_network.py.",
        "# Layer names are the model's; block k holds the model's k-th [expand 1x1] -> depthwise -> project 1x1.",
        *(f"#   block {b.index}: {', '.join(layer.name for _, layer in b.layers)}" for b in blocks),
    ]
    for key in ("name", "description", "input", "datasets"):
        lines.append(f"{key}: {_flow(doc[key])}")
    lines += ["", "variants:"]
    for variant, spec in doc["variants"].items():
        lines.append(f"  {variant}:")
        if variant == "fused":
            lines.append("    # ARCHON: every expanded block fused (predict: conv), squeeze-and-excite left out")
            if before or after:
                lines.append(
                    f"    # model block(s) {_listed([b.index for b in before + after])} have no expand 1x1: "
                    "ordinary layers in this head / tail"
                )
            if before:
                lines.append(f"    # so fused block k is baseline block k + {len(before)}")
        for part in ("head", "body", "tail"):
            value = spec[part]
            if part == "body":
                lines.append("    body:")
                for key, item in value.items():
                    text = _runs(item) if isinstance(item, list) and key not in ("no_decom",) else _flow(item)
                    comment = {
                        "pred_bits": "   # ARCHON prediction activation bits (paper MobileNetV2: 4)",
                        "prune_factor": "   # fraction of fused weights kept (paper MobileNetV2: 0.013)",
                    }
                    lines.append(f"      {key}: {text}{comment.get(key, '')}")
            elif value:
                lines.append(f"    {part}:")
                lines += [f"      - {_flow(item)}" for item in value]
            else:
                lines.append(f"    {part}: []")
    return "\n".join(lines) + "\n"


def _listed(indices: list[int]) -> str:
    return ", ".join(map(str, indices))


def _verify(model: Any, text: str, name: str, dataset: str) -> None:
    """The written baseline must be the model's `from_keras` network, layer for layer; both variants must load."""
    from .zoo import load_network_file

    expected = from_keras(model, name=name, dataset=dataset)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.yaml"
        path.write_text(text)
        baseline = load_network_file(path, dataset, "baseline")
        load_network_file(path, dataset, "fused")
    if baseline.layers() != expected.layers() or [_block_key(b) for b in baseline.blocks] != [
        _block_key(b) for b in expected.blocks
    ]:
        raise AssertionError(f"network file of {name} does not reproduce the model's layers (a bug: please report)")


def _block_key(block: Block) -> tuple:
    return (
        block.index,
        block.in_ch,
        block.mid_ch,
        block.out_ch,
        block.pixels,
        block.stride,
        block.kernel,
        block.groups,
    )
