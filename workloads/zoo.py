"""The network zoo: declarative YAML files under `workloads/networks/` expanded into `Network`s.

File schema (one file per network; every field is checked, unknown keys are errors):

    name: mobilenet                      # must equal the file stem
    description: free text
    input: {size: 32, channels: 3}       # square input side and channels
    datasets: {cifar10: {num_classes: 10}, ...}
    variants:
      baseline | fused:
        head: [<layer>, ...]             # in execution order
        body: <body>
        tail: [<layer>, ...]

<layer> (head/tail): {name, kind, C, M, kernel, pixels, stride, groups}
    kind: conv | pointwise | grouped-pointwise | depthwise | fc | grouped-conv
    M may be the word `num_classes`; depthwise layers give only C (M = groups = C).
    kernel defaults to 1 (required for conv / depthwise / grouped-conv), stride to 1,
    groups to 1, pixels (output side) to 1 for fc and is required otherwise.

<body>: per-block parameters, each a list with one entry per block or a single value for all.
    A list entry "VxN" stands for N copies of V (e.g. [16, 24x2] = [16, 24, 24]).
    style: inverted-residual | shuffle-span | fused
    blocks: number of blocks
    in, out: channels entering / leaving each block
    mid or expansion: expanded channels (mid = in * expansion)
    pixels: output feature-map side; stride; kernel (of the k x k layer); groups (G of the 1x1 layers)
    se: {blocks: [k, ...], ratio: r, of: in | mid}   squeeze-and-excite after the k x k layer of
        those blocks: pooled mid -> max(1, int(<of> * r)) -> mid (MnasNet-A1 uses r=0.25 of `in`);
        or {blocks: [k, ...], width: [w, ...]}: explicit reduced widths, one per listed block, in its order.
        Optional kind: fc (default) | pointwise (1x1 convolutions at 1x1, as Keras models often build SE).
    no_decom: [k, ...]  (inverted-residual only) blocks without the expand 1x1: the depthwise layer reads the
        block input (mid must equal in), e.g. MobileNetV2's first bottleneck (expansion 1) as Keras builds it
    concat: [k, ...]  (shuffle-span only) blocks whose unit concatenates its shortcut
    predict: conv | comp  (fused only) which second layer ARCHON predicts
    pred_bits, prune_factor (fused only): ARCHON prediction activation bits, fraction of fused weights kept

Expansion rules (s = stride, pix = pixels, G = groups; 1x1 layers are grouped-pointwise when G > 1):
    inverted-residual: decom   1x1 in -> mid,  G, at pix*s              (not in `no_decom` blocks)
                       conv    depthwise k x k on mid, stride s, at pix
                       [se_reduce mid -> se, se_expand se -> mid, at 1x1]
                       comp    1x1 mid -> out, G, at pix
    shuffle-span:      (ShuffleNet units re-cut narrow -> wide -> narrow, see networks/shufflenet.yaml)
                       decom   1x1 in -> mid - shortcut, G, at pix*s   (shortcut: width of the unit's
                               input for `concat` blocks = previous block's mid, block 1: in; else 0)
                       comp    1x1 mid -> out, G, at pix*s
                       conv    depthwise k x k on out, stride s, at pix
    fused:             pred_decom 1x1 in -> mid, G, at pix*s
                       pred_conv  depthwise k x k on mid, stride s, at pix       (predict: conv)
                       pred_comp  1x1 mid -> out, G, at pix*s                     (predict: comp)
                       [se_reduce, se_expand as above]
                       main       k x k in -> out in G groups (conv if G = 1, else grouped-conv), stride s, at pix

Every loaded network is checked for a consistent chain: each layer's input side (P * stride) and
channels match what the previous layer / block produced (an fc layer at 1x1 may follow any map: global
average pooling, or flattening when its C is side x side x channels), and the first layer reads the input image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from specs.io import read_yaml

from .layer import Layer, LayerError
from .network import VARIANTS, Block, Network

NETWORKS_DIR = Path(__file__).resolve().parent / "networks"

STYLES = ("inverted-residual", "shuffle-span", "fused")
LAYER_KEYS = {"name", "kind", "C", "M", "kernel", "pixels", "stride", "groups"}
BODY_KEYS = {
    "style",
    "blocks",
    "in",
    "out",
    "mid",
    "expansion",
    "pixels",
    "stride",
    "kernel",
    "groups",
    "se",
    "concat",
    "predict",
    "pred_bits",
    "prune_factor",
    "no_decom",
}
TOP_KEYS = {"name", "description", "input", "datasets", "variants"}
REPEAT = re.compile(r"^\s*(-?[0-9.]+)\s*x\s*([0-9]+)\s*$")


class ZooError(ValueError):
    """A network file that cannot be loaded; the message names the file and the field."""


# ----------------------------------------------------------------------------------------- public API


def network_names() -> list[str]:
    """Names of the networks in the zoo (file stems under workloads/networks/)."""
    return sorted(p.stem for p in NETWORKS_DIR.glob("*.yaml"))


def datasets(network: str) -> list[str]:
    return list(_read(_path(network))["datasets"])


def variants() -> list[str]:
    return list(VARIANTS)


def load_network(network: str, dataset: str, variant: str = "baseline") -> Network:
    """The zoo network `network` for `dataset` ("cifar10", ...) and `variant` ("baseline" | "fused")."""
    return load_network_file(_path(network), dataset, variant)


@cache
def load_network_file(path: str | Path, dataset: str, variant: str = "baseline") -> Network:
    """Load a network from any file in the zoo schema."""
    path = Path(path)
    spec = _read(path)
    where = _Where(path)
    if dataset not in spec["datasets"]:
        raise ZooError(f"{path}: field datasets: no dataset {dataset!r} (known: {', '.join(spec['datasets'])})")
    if variant not in spec["variants"]:
        raise ZooError(f"{path}: field variants: no variant {variant!r} (known: {', '.join(spec['variants'])})")
    classes = spec["datasets"][dataset]["num_classes"]
    var = spec["variants"][variant]
    field = f"variants.{variant}"
    head = tuple(
        _edge_layer(item, "head", i, classes, where.at(f"{field}.head[{i}]"))
        for i, item in enumerate(_list(var.get("head"), where.at(f"{field}.head")))
    )
    tail = tuple(
        _edge_layer(item, "tail", i, classes, where.at(f"{field}.tail[{i}]"))
        for i, item in enumerate(_list(var.get("tail"), where.at(f"{field}.tail")))
    )
    blocks = _blocks(var.get("body"), variant, where.at(f"{field}.body"))
    net = Network(
        spec["name"],
        dataset,
        variant,
        classes,
        head,
        blocks,
        tail,
        input_size=spec["input"]["size"],
        input_channels=spec["input"]["channels"],
    )
    _check_chain(net, where.at(field))
    return net


# ----------------------------------------------------------------------------------------- file reading


def _path(network: str) -> Path:
    path = NETWORKS_DIR / f"{network}.yaml"
    if not path.is_file():
        raise ZooError(f"unknown network {network!r} (known: {', '.join(network_names())})")
    return path


@cache
def _read(path: Path) -> dict[str, Any]:
    spec = read_yaml(path, "network file", ZooError)
    where = _Where(path)
    if not isinstance(spec, dict):
        raise ZooError(f"{path}: field (top level): expected a mapping")
    _no_unknown(spec, TOP_KEYS, where.at("(top level)"))
    for key in ("name", "input", "datasets", "variants"):
        if key not in spec:
            raise where.at(key).error("missing")
    if spec["name"] != path.stem:
        raise where.at("name").error(f"{spec['name']!r} must equal the file name {path.stem!r}")
    inp = _mapping(spec["input"], where.at("input"))
    _no_unknown(inp, {"size", "channels"}, where.at("input"))
    for key in ("size", "channels"):
        _positive_int(inp.get(key), where.at(f"input.{key}"))
    for name, ds in _mapping(spec["datasets"], where.at("datasets")).items():
        ds = _mapping(ds, where.at(f"datasets.{name}"))
        _no_unknown(ds, {"num_classes"}, where.at(f"datasets.{name}"))
        _positive_int(ds.get("num_classes"), where.at(f"datasets.{name}.num_classes"))
    for name, var in _mapping(spec["variants"], where.at("variants")).items():
        if name not in VARIANTS:
            raise where.at(f"variants.{name}").error(f"unknown variant (known: {', '.join(VARIANTS)})")
        var = _mapping(var, where.at(f"variants.{name}"))
        _no_unknown(var, {"head", "body", "tail"}, where.at(f"variants.{name}"))
        if "body" not in var:
            raise where.at(f"variants.{name}.body").error("missing")
    return spec


class _Where:
    """A file + field position, for error messages."""

    def __init__(self, path: Path, field: str = "") -> None:
        self.path, self.field = path, field

    def at(self, field: str) -> _Where:
        return _Where(self.path, field)

    def error(self, message: str) -> ZooError:
        return ZooError(f"{self.path}: field {self.field}: {message}")


def _mapping(value: Any, where: _Where) -> dict:
    if not isinstance(value, dict):
        raise where.error(f"expected a mapping, got {value!r}")
    return value


def _list(value: Any, where: _Where) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(f"expected a list, got {value!r}")
    return value


def _no_unknown(data: dict, allowed: set[str], where: _Where) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise where.error(f"unknown key(s) {', '.join(map(str, unknown))} (allowed: {', '.join(sorted(allowed))})")


def _positive_int(value: Any, where: _Where) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise where.error(f"must be a positive integer, got {value!r}")
    return value


# ----------------------------------------------------------------------------------------- head / tail


def _edge_layer(item: Any, part: str, index: int, classes: int, where: _Where) -> Layer:
    item = _mapping(item, where)
    _no_unknown(item, LAYER_KEYS, where)
    for key in ("name", "kind", "C"):
        if key not in item:
            raise where.at(f"{where.field}.{key}").error("missing")
    kind = item["kind"]
    C = _positive_int(item["C"], where.at(f"{where.field}.C"))
    if kind == "depthwise":
        if "M" in item and item["M"] != C:
            raise where.at(f"{where.field}.M").error("a depthwise layer has M = C; give only C")
        M, groups = C, C
    else:
        if "M" not in item:
            raise where.at(f"{where.field}.M").error("missing")
        M = classes if item["M"] == "num_classes" else _positive_int(item["M"], where.at(f"{where.field}.M"))
        groups = _positive_int(item.get("groups", 1), where.at(f"{where.field}.groups"))
    kernel = _positive_int(item.get("kernel", 1), where.at(f"{where.field}.kernel"))
    if kind in ("conv", "depthwise", "grouped-conv") and "kernel" not in item:
        raise where.at(f"{where.field}.kernel").error(f"missing (required for a {kind} layer)")
    if "pixels" not in item and kind != "fc":
        raise where.at(f"{where.field}.pixels").error("missing (output feature-map side)")
    pixels = _positive_int(item.get("pixels", 1), where.at(f"{where.field}.pixels"))
    stride = _positive_int(item.get("stride", 1), where.at(f"{where.field}.stride"))
    try:
        return Layer(
            f"{part}.{item['name']}",
            kind,
            kernel,
            kernel,
            pixels,
            pixels,
            C,
            M,
            stride=stride,
            groups=groups,
            part=part,
        )
    except LayerError as exc:
        raise where.error(str(exc)) from None


# ----------------------------------------------------------------------------------------- body


def _expand_list(value: Any, count: int, where: _Where, kind: type = int) -> list:
    """A per-block list: a scalar for all blocks, or entries / "VxN" runs adding up to `count`."""
    if not isinstance(value, list):
        value = [value] * count
    out: list = []
    for i, entry in enumerate(value):
        times = 1
        if isinstance(entry, str):
            match = REPEAT.match(entry)
            if not match:
                raise where.error(f"entry {i} {entry!r} is neither a number nor 'VALUExCOUNT'")
            entry, times = float(match.group(1)), int(match.group(2))
            if kind is int:
                if entry != int(entry):
                    raise where.error(f"entry {i}: {entry} is not an integer")
                entry = int(entry)
        wrong_kind = kind is int and not isinstance(entry, int)
        if isinstance(entry, bool) or not isinstance(entry, (int, float)) or wrong_kind:
            raise where.error(f"entry {i} {entry!r} must be {'an integer' if kind is int else 'a number'}")
        out.extend([entry] * times)
    if len(out) != count:
        raise where.error(f"has {len(out)} entries, expected one per block ({count})")
    return out


def _blocks(body: Any, variant: str, where: _Where) -> tuple[Block, ...]:
    body = _mapping(body, where)
    _no_unknown(body, BODY_KEYS, where)
    style = body.get("style")
    if style not in STYLES:
        raise where.at(f"{where.field}.style").error(f"{style!r} is not one of {', '.join(STYLES)}")
    if (style == "fused") != (variant == "fused"):
        raise where.at(f"{where.field}.style").error(f"style {style!r} does not fit the {variant} variant")
    n = _positive_int(body.get("blocks"), where.at(f"{where.field}.blocks"))

    def per_block(key: str, kind: type = int, default: Any = None) -> list:
        if key not in body:
            if default is None:
                raise where.at(f"{where.field}.{key}").error("missing")
            return [default] * n
        values = _expand_list(body[key], n, where.at(f"{where.field}.{key}"), kind)
        for i, v in enumerate(values):
            if v <= 0:
                raise where.at(f"{where.field}.{key}").error(f"entry for block {i + 1} must be positive, got {v}")
        return values

    ins, outs = per_block("in"), per_block("out")
    if ("mid" in body) == ("expansion" in body):
        raise where.at(f"{where.field}.mid").error("give exactly one of mid / expansion")
    if "mid" in body:
        mids = per_block("mid")
    else:
        mids = []
        for i, (c, e) in enumerate(zip(ins, per_block("expansion", float), strict=True)):
            if c * e != int(c * e):
                raise where.at(f"{where.field}.expansion").error(
                    f"block {i + 1}: in {c} x expansion {e} is not an integer"
                )
            mids.append(int(c * e))
    pixels, strides = per_block("pixels"), per_block("stride")
    kernels, groups = per_block("kernel"), per_block("groups", default=1)

    fused = style == "fused"
    for key in ("pred_bits", "prune_factor", "predict"):
        if (key in body) != fused:
            raise where.at(f"{where.field}.{key}").error(
                "required for the fused style" if fused else "only for the fused style"
            )
    bits = per_block("pred_bits") if fused else [None] * n
    prune = per_block("prune_factor", float) if fused else [None] * n
    for i, p in enumerate(prune):
        if p is not None and p > 1:
            raise where.at(f"{where.field}.prune_factor").error(f"block {i + 1}: a kept fraction must be <= 1, got {p}")
    predict = body.get("predict")
    if fused and predict not in ("conv", "comp"):
        raise where.at(f"{where.field}.predict").error(f"{predict!r} is not one of conv, comp")
    se = _se(body.get("se"), n, style, where.at(f"{where.field}.se"))
    concat = _block_set(body.get("concat"), n, where.at(f"{where.field}.concat"))
    if concat and style != "shuffle-span":
        raise where.at(f"{where.field}.concat").error("only for the shuffle-span style")
    no_decom = _block_set(body.get("no_decom"), n, where.at(f"{where.field}.no_decom"))
    if no_decom and style != "inverted-residual":
        raise where.at(f"{where.field}.no_decom").error("only for the inverted-residual style")
    for k in sorted(no_decom):
        if mids[k - 1] != ins[k - 1]:
            raise where.at(f"{where.field}.no_decom").error(
                f"block {k} has no expand 1x1, so its mid ({mids[k - 1]}) must equal its in ({ins[k - 1]})"
            )

    blocks = []
    for i in range(n):
        k = i + 1
        p = dict(
            k=k, c_in=ins[i], mid=mids[i], c_out=outs[i], pix=pixels[i], s=strides[i], kern=kernels[i], g=groups[i]
        )
        try:
            if style == "inverted-residual":
                layers = _inverted(se.get(k), k not in no_decom, **p)
            elif style == "shuffle-span":
                shortcut = 0
                if k in concat:
                    shortcut = mids[i - 1] if i > 0 else ins[0]
                layers = _shuffle_span(shortcut, **p)
            else:
                layers = _fused(predict, se.get(k), **p)
        except LayerError as exc:
            raise where.error(f"block {k}: {exc}") from None
        blocks.append(
            Block(
                k,
                ins[i],
                mids[i],
                outs[i],
                pixels[i],
                strides[i],
                kernels[i],
                groups[i],
                tuple(layers),
                pred_bits=bits[i],
                prune_factor=prune[i],
            )
        )
    return tuple(blocks)


@dataclass(frozen=True)
class _SE:
    """One block's squeeze-and-excite: reduced width `width`, or max(1, int(<base> * ratio)); layer kind."""

    kind: str
    width: int | None = None
    base: str = "in"
    ratio: float = 0.0

    def reduced(self, c_in: int, mid: int) -> int:
        if self.width is not None:
            return self.width
        return max(1, int((c_in if self.base == "in" else mid) * self.ratio))


def _se(spec: Any, n: int, style: str, where: _Where) -> dict[int, _SE]:
    """Block index -> its squeeze-and-excite."""
    if spec is None:
        return {}
    if style == "shuffle-span":
        raise where.error("squeeze-and-excite is not supported for the shuffle-span style")
    spec = _mapping(spec, where)
    _no_unknown(spec, {"blocks", "ratio", "of", "width", "kind"}, where)
    kind = spec.get("kind", "fc")
    if kind not in ("fc", "pointwise"):
        raise where.at(f"{where.field}.kind").error(f"{kind!r} is not one of fc, pointwise")
    blocks = _list(spec.get("blocks"), where.at(f"{where.field}.blocks"))
    indices = _block_set(blocks, n, where.at(f"{where.field}.blocks"))
    if len(indices) != len(blocks):
        raise where.at(f"{where.field}.blocks").error("lists a block twice")
    if "width" in spec:
        if "ratio" in spec or "of" in spec:
            raise where.at(f"{where.field}.width").error("give either width or ratio and of")
        widths = _expand_list(spec["width"], len(blocks), where.at(f"{where.field}.width"))
        for k, w in zip(blocks, widths, strict=True):
            if w < 1:
                raise where.at(f"{where.field}.width").error(f"entry for block {k} must be positive, got {w}")
        return {k: _SE(kind, width=w) for k, w in zip(blocks, widths, strict=True)}
    ratio = spec.get("ratio")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        raise where.at(f"{where.field}.ratio").error(f"must be a number in (0, 1], got {ratio!r}")
    base = spec.get("of")
    if base not in ("in", "mid"):
        raise where.at(f"{where.field}.of").error(f"{base!r} is not one of in, mid")
    return {k: _SE(kind, base=base, ratio=float(ratio)) for k in indices}


def _block_set(value: Any, n: int, where: _Where) -> set[int]:
    out = set()
    for k in _list(value, where):
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
            raise where.error(f"{k!r} is not a block index 1..{n}")
        out.add(k)
    return out


def _one_by_one(name: str, role: str, k: int, c: int, m: int, pix: int, g: int) -> Layer:
    kind = "pointwise" if g == 1 else "grouped-pointwise"
    return Layer(name, kind, 1, 1, pix, pix, c, m, groups=g, part="body", block=k, role=role)


def _depthwise(name: str, role: str, k: int, ch: int, pix: int, s: int, kern: int) -> Layer:
    return Layer(name, "depthwise", kern, kern, pix, pix, ch, ch, stride=s, groups=ch, part="body", block=k, role=role)


def _se_layers(se: _SE | None, k: int, c_in: int, mid: int) -> list[Layer]:
    if se is None:
        return []
    reduced = se.reduced(c_in, mid)
    return [
        Layer(f"b{k}.se_reduce", se.kind, 1, 1, 1, 1, mid, reduced, part="body", block=k, role="se_reduce"),
        Layer(f"b{k}.se_expand", se.kind, 1, 1, 1, 1, reduced, mid, part="body", block=k, role="se_expand"),
    ]


def _inverted(se, decom, k, c_in, mid, c_out, pix, s, kern, g) -> list[Layer]:
    return [
        *([_one_by_one(f"b{k}.decom", "decom", k, c_in, mid, pix * s, g)] if decom else []),
        _depthwise(f"b{k}.conv", "conv", k, mid, pix, s, kern),
        *_se_layers(se, k, c_in, mid),
        _one_by_one(f"b{k}.comp", "comp", k, mid, c_out, pix, g),
    ]


def _shuffle_span(shortcut, k, c_in, mid, c_out, pix, s, kern, g) -> list[Layer]:
    return [
        _one_by_one(f"b{k}.decom", "decom", k, c_in, mid - shortcut, pix * s, g),
        _one_by_one(f"b{k}.comp", "comp", k, mid, c_out, pix * s, g),
        _depthwise(f"b{k}.conv", "conv", k, c_out, pix, s, kern),
    ]


def _fused(predict, se, k, c_in, mid, c_out, pix, s, kern, g) -> list[Layer]:
    layers = [_one_by_one(f"b{k}.pred_decom", "pred_decom", k, c_in, mid, pix * s, g)]
    if predict == "conv":
        layers.append(_depthwise(f"b{k}.pred_conv", "pred_conv", k, mid, pix, s, kern))
    else:
        layers.append(_one_by_one(f"b{k}.pred_comp", "pred_comp", k, mid, c_out, pix * s, g))
    layers.extend(_se_layers(se, k, c_in, mid))
    kind = "conv" if g == 1 else "grouped-conv"
    layers.append(
        Layer(
            f"b{k}.main", kind, kern, kern, pix, pix, c_in, c_out, stride=s, groups=g, part="body", block=k, role="main"
        )
    )
    return layers


# ----------------------------------------------------------------------------------------- consistency


def _check_chain(net: Network, where: _Where) -> None:
    """Channels and feature-map sides must flow from the input image through head, blocks and tail."""
    side, channels, source = net.input_size, net.input_channels, "the input image"

    def take(layer_in_side: int, layer_in_ch: int, pixels: int, out_ch: int, what: str, is_fc: bool) -> None:
        nonlocal side, channels, source
        pooled = is_fc and pixels == 1
        if layer_in_side != side and not pooled:
            raise where.error(
                f"{what} reads a {layer_in_side}x{layer_in_side} map (P*stride) but {source} produces {side}x{side}"
            )
        flattened = pooled and layer_in_ch == side * side * channels
        if layer_in_ch != channels and not flattened:
            raise where.error(f"{what} reads {layer_in_ch} channels but {source} produces {channels}")
        side, channels, source = pixels, out_ch, what

    for layer in net.head:
        take(layer.P * layer.stride, layer.C, layer.P, layer.M, f"layer {layer.name}", layer.kind == "fc")
    for block in net.blocks:
        take(block.pixels * block.stride, block.in_ch, block.pixels, block.out_ch, f"block {block.index}", False)
    for layer in net.tail:
        take(layer.P * layer.stride, layer.C, layer.P, layer.M, f"layer {layer.name}", layer.kind == "fc")
    if net.tail and channels != net.num_classes:
        raise where.error(f"the last layer produces {channels} outputs, not num_classes={net.num_classes}")
