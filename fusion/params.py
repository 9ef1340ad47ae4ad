"""Every knob of the ARCHON fusion model, read from `fusion/presets.yaml` (presets, per-network deltas, overrides).

Presets:
  default  the corrected model (docs/method.md §9 items 12, 15-17 fixed; see `FusionParams`).
  paper    reproduces the reference's post-processing exactly, per network/dataset (`per_network` deltas:
           ADDERS 24 vs 20, action-count adders A = 24/6/20, binary-decoder multiplier K = 24/16,
           formula version A for mobilenet/mnasnet and B for fusionet/shufflenet, the hard-coded main-run reuse).

§ numbers refer to docs/method.md (§6 the ARCHON formulas, §9 the artifact's defects).

Resolution order: preset body -> per_network[<network>] -> per_network[<network>/<dataset>] -> overrides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from accelerators.dense import BASE_ENERGY_MODES, FIX_CHECKS, LEVEL_KEYWORDS
from specs.records import read_presets
from workloads.problem import DEPTHWISE_FORMS

PRESETS_YAML = Path(__file__).resolve().parent / "presets.yaml"
REPO_ROOT = Path(__file__).resolve().parents[1]


class FusionParamsError(ValueError):
    """Bad fusion parameters; the message names the file and the field."""


@dataclass(frozen=True)
class FusionParams:
    """One resolved set of ARCHON knobs. `default` values are shown first, the paper's in brackets.

    How the runs were expressed
      depthwise_form        'coupled' | 'paper' ['paper']: the problem form of the depthwise (and grouped main)
                            runs, as workloads.problem. 'paper' = C=1, M=channels: input traffic under-counted,
                            fixed with dw_fix_*_levels; 'coupled' needs no fix (§9 item 12).
      base_energy           'total' (full-precision topology energy) | 'summary' ['summary'] (Timeloop's
                            2-decimal uJ summary line, which the reference mixed with pJ level values, §9 item 22).
      word_bits             16: bits of the simulated datapath word.

    Prediction layers (fusion/predictions.py)
      pred_formula          'A' | 'B' ['A' mobilenet/mnasnet, 'B' fusionet/shufflenet]. A is the general
                            formula (all default fixes are knobs of it); B is the reference's fusionet/shufflenet
                            adjust_pred reproduced as written (§6.1).
      adders_per_pe         6: low-precision adders per PE (PER_PE_ADDERS).
      lanes_per_adder       4: low-precision additions one adder does per cycle (a 16-bit adder split in four).
      cycle_divisor         null [24; 20 for mobilenet/mnasnet cifar100]: prediction cycles = run cycles /
                            this; null = adders_per_pe x lanes_per_adder (one adder count everywhere, §9 item 16).
      cycle_rounding        'ceil' ['floor']: rounding of the prediction cycles.
      pred_weight_bits      2: bits of a (ternary) prediction weight; 1 - 2/16 = 7/8 of the weight traffic
                            (PRED_EFF) is removed.
      pred_act_bits         null (the block's pred_bits) | int | per-block list: prediction activation bits
                            q; b_r = q / word_bits of the activation traffic is kept (PRED_QTZ).
      quantize_activations  true: apply b_r (PRED1_QTZ / PRED2_QTZ, all true in the reference).
      sign_bits             1: bits written per predicted output (the ReLU-sign mask).
      mac_energy_pJ         0.22: one full multiply per predicted output (MAC_ENERGY).
      add_energy_pJ         0.043: one low-precision addition per MAC, x b_r in formula A (ADD_ENERGY).
      dw_mac_divisor        null [9]: MACs per predicted output of a depthwise prediction; null = R x S of the
                            layer (kernel-size aware, §9 items 11/17; the reference used 9 for 5x5 too).
      dw_fix_pred_levels    'chip' ['DRAM']: levels whose Inputs energy is x channels for a paper-form
                            depthwise prediction; 'chip' = every single-instance level (GLB + DRAM, the same
                            formula as accelerators.dense for dense/sparse), 'all', or a list of names.
      dw_fix_edge_levels    'chip' ['shared_glb']: the same for depthwise head/tail layers.
      dw_fix_check          'checked' ['artifact']: how a paper-form depthwise fix is made (accelerators.dense
                            depthwise_input_fix): 'checked' = the closed form only where its precondition holds
                            (each input word read once at the scaled levels), else the exact fix from the mapping
                            re-evaluated on the channel-coupled problem (or a clear error); 'artifact' = the
                            closed form unconditionally, as the artifact did.

      prediction_arch       'arch/archon/predictions' ['arch/archon/predictions-128KiB' for mobilenet and
                            shufflenet]: the arch directory (relative to the repo root) the body prediction layers
                            are mapped on; the artifact's MobileNetV2 and ShuffleNet prediction runs used an older
                            128 KiB global buffer (§4.1, §9 item 20). Fused head/tail layers use
                            arch/archon/predictions.

    DRAM (the closed forms only: mask_storage proxy, weight_refetch tiles / paper; the default models use the main
    run's own DRAM energy per word, i.e. its energy table)
      dram_energy_pJ        128.0: energy of one DRAM access of dram_width_bits (DRAM_ACCESS_ENERGY).
      dram_width_bits       16 (DRAM_WIDTH): sign writes cost sign_bits x dram_energy_pJ / dram_width_bits.

    Main fused convolution (fusion/main.py)
      main_reuse            [] [[3, 6, 7, 10]]: 1-based blocks that take the previous block's main result
                            instead of their own run (the reference's hard-coded list, §9 item 15).
      main_copied_from      {} [mnasnet {4: 2, 5: 2, 12: 11, 13: 11, 14: 11}]: {block: source block}: blocks
                            whose main result is the source block's own main run. The reference's MnasNet 5x5
                            main runs found no mapping (malformed constraint) and kept a copy of an earlier 3x3
                            block's output (§6.2, §9 item 15).

    Overhead (fusion/overhead.py)
      overhead_counts       'A' ['A' mobilenet/mnasnet, 'B' fusionet/shufflenet]: action-count formulas
                            (§6.3): A stores mid-channel masks (pred_glb x2, prediction buffer x kernel taps),
                            B stores (mid + in) channels once. One formula for all networks by default.
      f_pes                 64: PEs with a fusion unit; also the output pixels per main tile.
      overhead_adders       null [24; 6 mobilenet c100 and shufflenet; 20 mnasnet c100]: adds per PE per main
                            cycle (A); null = the prediction adder count (cycle_divisor or
                            adders_per_pe x lanes_per_adder).
      binary_decoder_factor 16 [24 mobilenet c10, 16 elsewhere]: decoder operations per cycle per adder (K).
      fusion_unit_activity  1.0 [0.5 for B]: fraction of cycles the adders / masks / muxes work.
      pred_buffer_extra_reads 0 [1 for B]: extra prediction-buffer reads per block.
      pred_buffer_bits_per_write 8: mask bits per prediction-buffer write.
      pred_glb_write_bits   64: mask bits per pred_glb write (its row width).
      kernel_taps           null [9]: taps of the fused kernel (fused weights, prediction-buffer writes);
                            null = kernel x kernel of the block.
      prune_factor          null (the block's prune_factor): fraction of fused weights kept.
      fused_weight_bits     16: bits of a fused weight.
      index_bits            10: bits of the index stored with each kept fused weight.
      index_factor          null [1.6 = 16/10]: DRAM cost of a kept weight relative to its bare bits; null =
                            (fused_weight_bits + index_bits) / fused_weight_bits.
      weight_refetch        'mapping' ['paper']: how the kept fused weights move (fusion/overhead.py):
                            'mapping' = from the main run: the part that fits the global buffer space the main
                            run leaves free is read from DRAM once, written to and re-read from the buffer once per
                            weight pass of the main mapping; the rest is re-read from DRAM per pass (the buffer is
                            used only where it saves energy); 'tiles' = every kept weight read from DRAM once per
                            main tile (fusion.main.main_tiles); 'paper' = pix^2 / f_pes times (WEIGHTS_REFETCH).
      mask_storage          'capacity' ['proxy']: how the prediction masks (the ReLU-sign bits of the block's
                            prediction layers) are stored: 'capacity' = as much as pred_glb holds is written to
                            and read from it once (pred_glb energy), the rest spills to DRAM (one write and one
                            read per bit at the main run's DRAM energy per bit), and the prediction layers write no
                            sign bits to DRAM themselves; 'proxy' = the reference's model: each prediction writes
                            its sign bits to DRAM (sign_write_pJ), pred_glb is counted by the A/B formulas and its
                            energy enters as pred_dram_scale x that (pred_DRAM).
      pred_glb_bits         null: pred_glb capacity in bits (capacity mode); null = memory_depth x memory_width of
                            pred_glb in the overhead arch (the overhead_ert directory's arch.yaml): 1094 x 64.
      pred_dram_scale       128/18 [128/18 A, 8 B]: proxy mode: pred_DRAM = pred_glb energy x this.
      count_pred_glb        true [false]: count the pred_glb energy itself (the reference counted it as 0).
      adder_fifo_ops_per_add 0.0: adder_fifo pushes (= pops) per add (the reference gave it no counts).
      overhead_ert          'arch/archon/overhead': per-action energies: a table file, or a directory whose
                            ERT.yaml (Accelergy) or else ERT.fuseloop.yaml is used (relative to the repo root).
    """

    preset: str = "default"
    depthwise_form: str = "coupled"
    base_energy: str = "total"
    word_bits: int = 16
    pred_formula: str = "A"
    adders_per_pe: int = 6
    lanes_per_adder: int = 4
    cycle_divisor: int | None = None
    cycle_rounding: str = "ceil"
    pred_weight_bits: int = 2
    pred_act_bits: int | tuple[int, ...] | None = None
    quantize_activations: bool = True
    sign_bits: int = 1
    mac_energy_pJ: float = 0.22
    add_energy_pJ: float = 0.043
    dw_mac_divisor: int | None = None
    dw_fix_pred_levels: str | tuple[str, ...] = "chip"
    dw_fix_edge_levels: str | tuple[str, ...] = "chip"
    dw_fix_check: str = "checked"
    prediction_arch: str = "arch/archon/predictions"
    dram_energy_pJ: float = 128.0
    dram_width_bits: int = 16
    main_reuse: tuple[int, ...] = ()
    main_copied_from: tuple[tuple[int, int], ...] = ()
    overhead_counts: str = "A"
    f_pes: int = 64
    overhead_adders: int | None = None
    binary_decoder_factor: float = 16
    fusion_unit_activity: float = 1.0
    pred_buffer_extra_reads: int = 0
    pred_buffer_bits_per_write: int = 8
    pred_glb_write_bits: int = 64
    kernel_taps: int | None = None
    prune_factor: float | None = None
    fused_weight_bits: int = 16
    index_bits: int = 10
    index_factor: float | None = None
    weight_refetch: str = "mapping"
    mask_storage: str = "capacity"
    pred_glb_bits: int | None = None
    pred_dram_scale: float = 128 / 18
    count_pred_glb: bool = True
    adder_fifo_ops_per_add: float = 0.0
    overhead_ert: str = "arch/archon/overhead"
    overrides: dict[str, Any] = field(default_factory=dict, compare=False)

    # ---- derived values --------------------------------------------------------------------------------
    @property
    def adders(self) -> int:
        """Prediction throughput: additions per PE per cycle (the cycle divisor)."""
        return self.cycle_divisor or self.adders_per_pe * self.lanes_per_adder

    @property
    def action_adders(self) -> int:
        """A of the overhead action counts."""
        return self.overhead_adders or self.adders

    @property
    def weight_traffic_removed(self) -> float:
        """PRED_EFF: fraction of the prediction weight traffic removed (7/8 for 2-bit weights)."""
        return 1.0 - self.pred_weight_bits / self.word_bits

    @property
    def sign_write_pJ(self) -> float:
        """DRAM energy of one predicted output's sign bits."""
        return self.sign_bits * self.dram_energy_pJ / self.dram_width_bits

    @property
    def kept_weight_factor(self) -> float:
        """Size of a kept fused weight with its index relative to the bare weight (index_factor, or
        (fused_weight_bits + index_bits) / fused_weight_bits)."""
        if self.index_factor is not None:
            return self.index_factor
        return (self.fused_weight_bits + self.index_bits) / self.fused_weight_bits

    @property
    def kept_weight_words(self) -> float:
        """Datapath words one kept fused weight with its index occupies (26/16 by default)."""
        return self.fused_weight_bits / self.word_bits * self.kept_weight_factor

    @property
    def fused_weight_pJ(self) -> float:
        """DRAM energy of one kept fused weight with its index at dram_energy_pJ (tiles / paper refetch)."""
        return self.dram_energy_pJ * self.fused_weight_bits / self.dram_width_bits * self.kept_weight_factor

    @property
    def overhead_arch_dir(self) -> Path:
        """The overhead arch directory: overhead_ert itself, or the directory of the table file it names."""
        path = Path(self.overhead_ert)
        path = path if path.is_absolute() else REPO_ROOT / path
        return path if path.is_dir() else path.parent

    @property
    def prediction_arch_dir(self) -> Path:
        path = Path(self.prediction_arch)
        return path if path.is_absolute() else REPO_ROOT / path

    @property
    def ert_path(self) -> Path:
        path = Path(self.overhead_ert)
        path = path if path.is_absolute() else REPO_ROOT / path
        if path.is_dir():
            from specs.energy import find_energy_table

            path = find_energy_table(path)
        return path

    def act_bits(self, block) -> int:
        """Prediction activation bits of `block` (a workloads.network.Block)."""
        bits = self.pred_act_bits
        if bits is None:
            if block.pred_bits is None:
                raise FusionParamsError(f"block {block.index}: no pred_bits in the network and pred_act_bits is null")
            return int(block.pred_bits)
        if isinstance(bits, tuple):
            if not 1 <= block.index <= len(bits):
                raise FusionParamsError(
                    f"field pred_act_bits: has {len(bits)} entries, no entry for block {block.index}"
                )
            return bits[block.index - 1]
        return bits

    def prune(self, block) -> float:
        value = self.prune_factor if self.prune_factor is not None else block.prune_factor
        if value is None:
            raise FusionParamsError(f"block {block.index}: no prune_factor in the network and prune_factor is null")
        return float(value)

    @property
    def main_copies(self) -> dict[int, int]:
        """{block: source block} of main_copied_from."""
        return dict(self.main_copied_from)

    def taps(self, block) -> int:
        return self.kernel_taps if self.kernel_taps is not None else block.kernel * block.kernel

    def with_(self, **changes) -> FusionParams:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


KNOBS: tuple[str, ...] = tuple(f.name for f in fields(FusionParams) if f.name not in ("preset", "overrides"))


# ----------------------------------------------------------------------------------------- loading


def presets(path: str | Path = PRESETS_YAML) -> list[str]:
    return list(_read(Path(path))["presets"])


def load_params(
    preset: str = "default",
    network: str | None = None,
    dataset: str | None = None,
    overrides: dict[str, Any] | None = None,
    path: str | Path = PRESETS_YAML,
) -> FusionParams:
    """The `preset` of `path` for `network`/`dataset`, with single knobs replaced by `overrides`."""
    path = Path(path)
    spec = _read(path)
    if preset not in spec["presets"]:
        raise FusionParamsError(f"{path}: field presets: no preset {preset!r} (known: {', '.join(spec['presets'])})")
    body = dict(spec["presets"][preset])
    per_network = body.pop("per_network", None) or {}
    raw: dict[str, Any] = {}
    where: dict[str, str] = {}

    def take(values: dict, field_name: str, origin: str) -> None:
        for key, value in values.items():
            if key not in KNOBS:
                raise FusionParamsError(f"{origin}: field {field_name}.{key}: unknown fusion knob")
            raw[key] = value
            where[key] = f"{origin}: field {field_name}.{key}"

    take(body, f"presets.{preset}", str(path))
    missing = sorted(set(KNOBS) - set(raw))
    if missing:
        raise FusionParamsError(f"{path}: field presets.{preset}: missing {', '.join(missing)}")
    for key in ([network] if network else []) + ([f"{network}/{dataset}"] if network and dataset else []):
        if key in per_network:
            if not isinstance(per_network[key], dict):
                raise FusionParamsError(f"{path}: field presets.{preset}.per_network.{key}: expected a mapping")
            take(per_network[key], f"presets.{preset}.per_network.{key}", str(path))
    take(dict(overrides or {}), "overrides", f"overrides over {path} preset {preset}")
    return _build(preset, raw, where, dict(overrides or {}))


def _read(path: Path) -> dict:
    return read_presets(path, FusionParamsError, "knobs")


# ----------------------------------------------------------------------------------------- validation


def _number(value: Any, where: str, minimum: float = 0.0, integer: bool = False, allow_null: bool = False):
    if value is None and allow_null:
        return None
    if isinstance(value, str) and "/" in value and not integer:  # a fraction such as 128/18
        try:
            value = float(Fraction(value.replace(" ", "")))
        except (ValueError, ZeroDivisionError):
            raise FusionParamsError(f"{where}: {value!r} is not a number or a fraction a/b") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        kind = "an integer" if integer else "a number"
        raise FusionParamsError(f"{where}: must be {kind}{' or null' if allow_null else ''}, got {value!r}")
    if value < minimum:
        raise FusionParamsError(f"{where}: must be >= {minimum}, got {value!r}")
    return value if integer else float(value)


def _choice(value: Any, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise FusionParamsError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value


def _levels(value: Any, where: str) -> str | tuple[str, ...]:
    if value in LEVEL_KEYWORDS:
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FusionParamsError(f"{where}: must be 'chip', 'all' or a list of level names, got {value!r}")
    return tuple(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise FusionParamsError(f"{where}: must be true or false, got {value!r}")
    return value


def _act_bits(value: Any, where: str):
    if value is None:
        return None
    if isinstance(value, list):
        return tuple(_number(v, f"{where}[{i}]", 1, integer=True) for i, v in enumerate(value))
    return _number(value, where, 1, integer=True)


def _blocks(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise FusionParamsError(f"{where}: must be a list of 1-based block indices, got {value!r}")
    out = tuple(_number(v, f"{where}[{i}]", 2, integer=True) for i, v in enumerate(value))
    return out


def _copies(value: Any, where: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, dict):
        raise FusionParamsError(f"{where}: must be a mapping {{block: source block}}, got {value!r}")
    out = []
    for block, source in value.items():
        block = _number(block, f"{where}.{block}", 2, integer=True)
        source = _number(source, f"{where}.{block}", 1, integer=True)
        if source >= block:
            raise FusionParamsError(f"{where}.{block}: the source block must come earlier, got {source}")
        out.append((block, source))
    return tuple(sorted(out))


def _build(preset: str, raw: dict, where: dict, overrides: dict) -> FusionParams:
    w = where
    values: dict[str, Any] = {
        "depthwise_form": _choice(raw["depthwise_form"], DEPTHWISE_FORMS, w["depthwise_form"]),
        "base_energy": _choice(raw["base_energy"], BASE_ENERGY_MODES, w["base_energy"]),
        "word_bits": _number(raw["word_bits"], w["word_bits"], 1, integer=True),
        "pred_formula": _choice(raw["pred_formula"], ("A", "B"), w["pred_formula"]),
        "adders_per_pe": _number(raw["adders_per_pe"], w["adders_per_pe"], 1, integer=True),
        "lanes_per_adder": _number(raw["lanes_per_adder"], w["lanes_per_adder"], 1, integer=True),
        "cycle_divisor": _number(raw["cycle_divisor"], w["cycle_divisor"], 1, integer=True, allow_null=True),
        "cycle_rounding": _choice(raw["cycle_rounding"], ("floor", "ceil"), w["cycle_rounding"]),
        "pred_weight_bits": _number(raw["pred_weight_bits"], w["pred_weight_bits"], 1, integer=True),
        "pred_act_bits": _act_bits(raw["pred_act_bits"], w["pred_act_bits"]),
        "quantize_activations": _bool(raw["quantize_activations"], w["quantize_activations"]),
        "sign_bits": _number(raw["sign_bits"], w["sign_bits"], 0, integer=True),
        "mac_energy_pJ": _number(raw["mac_energy_pJ"], w["mac_energy_pJ"]),
        "add_energy_pJ": _number(raw["add_energy_pJ"], w["add_energy_pJ"]),
        "dw_mac_divisor": _number(raw["dw_mac_divisor"], w["dw_mac_divisor"], 1, integer=True, allow_null=True),
        "dw_fix_pred_levels": _levels(raw["dw_fix_pred_levels"], w["dw_fix_pred_levels"]),
        "dw_fix_edge_levels": _levels(raw["dw_fix_edge_levels"], w["dw_fix_edge_levels"]),
        "dw_fix_check": _choice(raw["dw_fix_check"], FIX_CHECKS, w["dw_fix_check"]),
        "dram_energy_pJ": _number(raw["dram_energy_pJ"], w["dram_energy_pJ"]),
        "dram_width_bits": _number(raw["dram_width_bits"], w["dram_width_bits"], 1, integer=True),
        "main_reuse": _blocks(raw["main_reuse"], w["main_reuse"]),
        "main_copied_from": _copies(raw["main_copied_from"], w["main_copied_from"]),
        "overhead_counts": _choice(raw["overhead_counts"], ("A", "B"), w["overhead_counts"]),
        "f_pes": _number(raw["f_pes"], w["f_pes"], 1, integer=True),
        "overhead_adders": _number(raw["overhead_adders"], w["overhead_adders"], 1, integer=True, allow_null=True),
        "binary_decoder_factor": _number(raw["binary_decoder_factor"], w["binary_decoder_factor"]),
        "fusion_unit_activity": _number(raw["fusion_unit_activity"], w["fusion_unit_activity"]),
        "pred_buffer_extra_reads": _number(
            raw["pred_buffer_extra_reads"], w["pred_buffer_extra_reads"], 0, integer=True
        ),
        "pred_buffer_bits_per_write": _number(
            raw["pred_buffer_bits_per_write"], w["pred_buffer_bits_per_write"], 1, integer=True
        ),
        "pred_glb_write_bits": _number(raw["pred_glb_write_bits"], w["pred_glb_write_bits"], 1, integer=True),
        "kernel_taps": _number(raw["kernel_taps"], w["kernel_taps"], 1, integer=True, allow_null=True),
        "prune_factor": _number(raw["prune_factor"], w["prune_factor"], allow_null=True),
        "fused_weight_bits": _number(raw["fused_weight_bits"], w["fused_weight_bits"], 1, integer=True),
        "index_bits": _number(raw["index_bits"], w["index_bits"], 0, integer=True),
        "index_factor": _number(raw["index_factor"], w["index_factor"], allow_null=True),
        "weight_refetch": _choice(raw["weight_refetch"], ("mapping", "tiles", "paper"), w["weight_refetch"]),
        "mask_storage": _choice(raw["mask_storage"], ("capacity", "proxy"), w["mask_storage"]),
        "pred_glb_bits": _number(raw["pred_glb_bits"], w["pred_glb_bits"], 1, integer=True, allow_null=True),
        "pred_dram_scale": _number(raw["pred_dram_scale"], w["pred_dram_scale"]),
        "count_pred_glb": _bool(raw["count_pred_glb"], w["count_pred_glb"]),
        "adder_fifo_ops_per_add": _number(raw["adder_fifo_ops_per_add"], w["adder_fifo_ops_per_add"]),
        "overhead_ert": raw["overhead_ert"],
        "prediction_arch": raw["prediction_arch"],
    }
    for key in ("overhead_ert", "prediction_arch"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise FusionParamsError(f"{w[key]}: must be a path, got {raw[key]!r}")
    if not isinstance(values["overhead_ert"], str) or not values["overhead_ert"]:
        raise FusionParamsError(f"{w['overhead_ert']}: must be a path, got {raw['overhead_ert']!r}")
    if values["pred_weight_bits"] > values["word_bits"]:
        raise FusionParamsError(f"{w['pred_weight_bits']}: must be <= word_bits ({values['word_bits']})")
    if values["prune_factor"] is not None and values["prune_factor"] > 1:
        raise FusionParamsError(f"{w['prune_factor']}: a kept fraction must be <= 1, got {values['prune_factor']}")
    return FusionParams(preset=preset, overrides=overrides, **values)
