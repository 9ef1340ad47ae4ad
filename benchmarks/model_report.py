"""docs/model.md: every cost term of the dense, sparse and ARCHON models (default presets) with its formula, its source
and its share of the MobileNetV2/CIFAR-10 total; the totals and headline ratios before (the issue-15 defaults) and
after issue 16, with the sparse optimistic-conservative band; and the sensitivity of every knob (each switched from
its default to its paper value, and the issue-16 knobs on/off), measured like the issue's audit: the table steps
only, re-run in-process on the same runs.

    snakemake --cores 2 --configfile CFG            # once: a sweep of MobileNetV2 and FusioNet CIFAR-10 with
                                                    # accelerators [dense, sparse, archon] (the default settings)
    python benchmarks/model_report.py --config CFG [--out docs/model.md]

CFG's results directory must hold the sweep (each accelerator's runs.json, the runs' stats.json, the sparse weights).
The table steps are `accelerators.get(name).table(network, stats, artifacts, settings)` with the settings the
workflow would pass (`workflows.plan.table_settings`), so the numbers are the workflow's.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelerators  # noqa: E402
from accelerators.base import TableResult  # noqa: E402
from engines.stats import LayerStats  # noqa: E402
from workflows import config as wfconfig  # noqa: E402
from workflows import plan  # noqa: E402

PJ_PER_UJ = 1e6
ACCELERATORS = ("dense", "sparse", "archon")
NETWORKS = (("mobilenet", "cifar10"), ("fusionet", "cifar10"))
LABELS = {"mobilenet": "MobileNetV2", "fusionet": "FusioNet", "mnasnet": "MnasNet", "shufflenet": "ShuffleNet"}
# The issue-15 defaults ("before"): ARCHON's closed-form fused-weight refetch and mask proxy, the sparse model's
# optimistic bound with its MAC gating ratio from the shipped table whatever table the runs used.
ARCHON_BEFORE = {"weight_refetch": "tiles", "mask_storage": "proxy", "count_pred_glb": False}
RUN_KNOBS = {
    "depthwise_form": "the problem form of the runs (problem.depthwise)",
    "prediction_arch": "the arch the prediction layers are mapped on (other runs)",
}


# ----------------------------------------------------------------------------------------- runs and table steps


@dataclass
class Runs:
    """One network/dataset's runs per accelerator, read back from a results directory."""

    network: str
    dataset: str
    nets: dict[str, Any]
    stats: dict[str, dict[str, LayerStats]]
    artifacts: dict[str, dict[str, Path]]


def load_runs(results: Path, network: str, dataset: str, names: tuple[str, ...] = ACCELERATORS) -> Runs:
    nets, stats, artifacts = {}, {}, {}
    for name in names:
        directory = results / network / dataset / name
        runs_file = directory / "runs.json"
        if not runs_file.is_file():
            raise SystemExit(f"{runs_file}: missing; run the sweep first (snakemake --configfile ...)")
        keys = json.loads(runs_file.read_text())
        cache: dict[str, LayerStats] = {}
        for where in keys.values():
            key = Path(where).name
            if key not in cache:
                cache[key] = LayerStats.from_json(results / "runs" / key / "stats.json")
        stats[name] = {layer: cache[Path(where).name] for layer, where in keys.items()}
        nets[name] = plan.network(network, dataset, name)
        artifacts[name] = {a: directory / a for a in accelerators.get(name).artifacts}
    return Runs(network, dataset, nets, stats, artifacts)


def table(config: dict, runs: Runs, name: str) -> TableResult:
    return accelerators.get(name).table(
        runs.nets[name], runs.stats[name], runs.artifacts[name], plan.table_settings(config, name)
    )


def variant(config: dict, **sections: dict) -> dict:
    """`config` with keys of its sections replaced (e.g. archon={"overrides": {...}}, sparse={"bound": ...})."""
    out = copy.deepcopy(config)
    for section, values in sections.items():
        out[section] = {**out.get(section, {}), **copy.deepcopy(values)}
    return out


def before(config: dict) -> dict:
    from sparsity.params import load_params

    shipped_ratio = load_params("default").mac_gating_ratio  # from the `ert` of sparse.yaml: the shipped table
    sparse = config["sparse"]
    return variant(
        config,
        archon={"overrides": {**config["archon"].get("overrides", {}), **ARCHON_BEFORE}},
        sparse={"bound": "optimistic", "overrides": {**sparse.get("overrides", {}), "mac_gating_ratio": shipped_ratio}},
    )


@dataclass
class Total:
    energy_uJ: float
    cycles: int
    low_uJ: float | None = None
    high_uJ: float | None = None


def total(result: TableResult) -> Total:
    energy = sum(r["energy_uJ"] for r in result.rows)
    cycles = int(sum(r["cycles"] for r in result.rows))
    lows = [r.get("energy_low_uJ") for r in result.rows]
    if any(x is not None and not math.isnan(x) for x in lows):
        low = sum(r["energy_low_uJ"] for r in result.rows)
        high = sum(r["energy_high_uJ"] for r in result.rows)
        return Total(energy, cycles, low, high)
    return Total(energy, cycles)


# ----------------------------------------------------------------------------------------- cost terms

DENSE_LEVEL = (
    "accesses x energy per access: (reads + updates + fills) / block size x the component's largest action "
    "energy (Timeloop's rule)"
)
TERM_DOCS: dict[str, dict[str, tuple[str, str]]] = {
    "dense": {
        "mac": ("MACs x mac_random", "Timeloop run (energy table)"),
        "level": (DENSE_LEVEL, "Timeloop run (energy table)"),
        "depthwise_fix": ("paper form only: Inputs energy x (channels - 1), checked (docs below)", "closed form"),
    },
    "sparse": {
        "base": ("the dense run of the layer (the dense rows above)", "Timeloop run"),
        "weights": ("-E_W (1 - d (w + b) / w): kept weights move with their b-bit index", "Timeloop run, density"),
        "operands": (
            "-E (1 - d) x the MAC-driven share of the accesses (Inputs reads, Outputs reads + updates)",
            "Timeloop run (access counts), density",
        ),
        "mac": ("-E_MAC (1 - d)(1 - mac_gated / mac_random)", "Timeloop run, energy table"),
        "index_decode": (
            "performed MACs x the weights spad's zero-delta read (its address-generator add)",
            "imbalance analysis, energy table",
        ),
        "pointers": (
            "sum of E_W over the weight levels x pointer_bits / (w x M): one 16-bit pointer per column of M weights",
            "Timeloop run, closed form",
        ),
        "idle_pe": (
            "(cycles x PEs - performed MACs) x the idle actions of the PE's MAC and spads",
            "imbalance analysis, energy table",
        ),
    },
    "archon": {
        "run": ("the prediction layer's dense 16-bit run", "Timeloop run"),
        "weights": ("-(1 - 2/16) x all Weights energy (ternary weights)", "Timeloop run, closed form"),
        "mac": ("-the run's MAC energy (multiplies become additions)", "Timeloop run"),
        "inputs_quantized": ("-(1 - q/16) x all Inputs energy (q-bit activations)", "Timeloop run, closed form"),
        "outputs": (
            "pred_decom: -(1 - q/16) x DRAM Outputs; second: -GLB and DRAM Outputs (only signs leave)",
            "Timeloop run, closed form",
        ),
        "pred_macs": ("0.22 pJ x predicted outputs (one full multiply each)", "closed form (paper constant)"),
        "pred_adds": ("0.043 pJ x MACs x q/16 (low-precision additions)", "closed form (paper constant)"),
        "sign_writes": ("proxy mode only: outputs x 1 bit x 128 pJ / 16 bits", "closed form"),
        "dw_fix": ("paper form only: the checked depthwise input fix", "closed form / mapping"),
        "main_level": (
            "the fused k x k convolution's run, its DRAM Weights removed: " + DENSE_LEVEL,
            "Timeloop run (main arch)",
        ),
        "weight_DRAM": (
            "kept fused words S per main-run copy, passes t, free GLB words F: (R + (S - R) t) e_DRAM, "
            "R = min(S, F) when e_DRAM + (1 + t) e_GLB < t e_DRAM else 0",
            "closed form on the main run's mapping, capacity and energies",
        ),
        "weight_GLB": (
            "R (1 + t) e_GLB: one write and t reads of the resident fused weights",
            "closed form on the main run's mapping, capacity and energies",
        ),
        "pred_DRAM": (
            "2 x spilled mask bits x e_DRAM / 16: masks beyond pred_glb written and read back",
            "closed form on pred_glb's capacity, main run's DRAM energy",
        ),
        "pred_glb": ("resident mask rows x (pred_glb write + read)", "action counts x overhead energy table"),
        "binary_decoder": ("ceil(main cycles x 16 x A) x process", "action counts x overhead energy table"),
        "pred_buffer": (
            "64 PEs x (ceil(mid/8) x tiles x taps writes + A x cycles reads)",
            "action counts x overhead energy table",
        ),
        "adders": ("64 x ceil(A x cycles) adds", "action counts x overhead energy table"),
        "masks_AND": ("64 x ceil(A x cycles) processes", "action counts x overhead energy table"),
        "zero_replace_flag": ("64 x ceil(A x cycles) processes (mux_)", "action counts x overhead energy table"),
        "zero_replacing": ("64 x ceil(2 A x cycles) processes (mux)", "action counts x overhead energy table"),
        "adder_fifo": (
            "64 x 2 x adder_fifo_ops_per_add x adds (0 by default)",
            "action counts x overhead energy table",
        ),
        "edge": ("fused head/tail layers: their run on the predictions arch", "Timeloop run"),
    },
}


def _level_terms(
    stats: LayerStats, copies: int, out: dict[str, float], skip: tuple[str, str] | None = None, prefix: str = ""
) -> None:
    out[f"{prefix}MAC"] = out.get(f"{prefix}MAC", 0.0) + stats.mac_energy_pJ * copies
    for lvl in stats.levels[1:]:
        for tensor, t in lvl.tensors.items():
            if (lvl.name, tensor) != skip:
                key = f"{prefix}{lvl.name} {tensor}"
                out[key] = out.get(key, 0.0) + t.energy_pJ * copies


def dense_terms(runs: Runs, result: TableResult) -> list[tuple[str, float, str]]:
    terms: dict[str, float] = {}
    fix = 0.0
    for layer in runs.nets["dense"].layers():
        details = result.details[layer.name]
        _level_terms(runs.stats["dense"][layer.name], details["repeat"], terms)
        fix += details["depthwise_fix_pJ"] * details["repeat"]
    rows = [(k, v, "mac" if k == "MAC" else "level") for k, v in terms.items()]
    return rows + [("depthwise input fix", fix, "depthwise_fix")]


def sparse_terms(result: TableResult) -> list[tuple[str, float, str]]:
    base = weights = mac = 0.0
    operands: dict[str, float] = {}
    costs: dict[str, float] = {}
    for details in result.details.values():
        base += details["dense_energy_pJ"]
        for key, saving in details["savings_pJ"].items():
            level, tensor = key.split("/")
            if tensor == "Weights":
                weights -= saving
            elif tensor == "MAC":
                mac -= saving
            else:
                key = f"{level} {tensor} (skipped MACs)"
                operands[key] = operands.get(key, 0.0) - saving
        for key, cost in details.get("costs_pJ", {}).items():
            costs[key] = costs.get(key, 0.0) + cost
    rows = [("dense runs", base, "base"), ("Weights with indices (all levels)", weights, "weights")]
    rows += [(k, v, "operands") for k, v in operands.items()]
    rows += [("MAC gating of skipped MACs", mac, "mac")]
    return rows + [(k.replace("_", " "), v, k) for k, v in costs.items()]


def archon_terms(runs: Runs, result: TableResult, form: str) -> list[tuple[str, float, str]]:
    from accelerators.dense import repeat

    rows: list[tuple[str, float, str]] = []
    net, stats = runs.nets["archon"], runs.stats["archon"]
    pred: dict[tuple[str, str], float] = {}
    main: dict[str, float] = {}
    overhead: dict[str, float] = {}
    for block in net.blocks:
        details = result.details[f"b{block.index}"]
        for role, terms in details["prediction_terms"].items():
            phase = "pred_decom" if role == "pred_decom" else "pred_conv"
            for key, value in terms.items():
                pred[(phase, key)] = pred.get((phase, key), 0.0) + value
        source = (
            block.layer("main")
            if details["main_from"] == block.index
            else next(b for b in net.blocks if b.index == details["main_from"]).layer("main")
        )
        run = stats[source.name]
        _level_terms(run, repeat(source, form), main, skip=(run.levels[-1].name, "Weights"))
        for key, value in details["overhead_terms"].items():
            overhead[key] = overhead.get(key, 0.0) + value
    for (phase, key), value in pred.items():
        rows.append((f"{phase}: {key.replace('_', ' ')}", value, key))
    rows += [(f"main: {k}", v, "main_level") for k, v in main.items()]
    rows += [(f"overhead: {k}", v, k) for k, v in overhead.items()]
    edge = sum(r["energy_uJ"] * PJ_PER_UJ for r in result.rows if r["part"] != "body")
    return rows + [("fused head and tail layers", edge, "edge")]


# ----------------------------------------------------------------------------------------- sensitivity


def _raw_archon(preset: str, network: str, dataset: str) -> dict:
    spec = yaml.safe_load((ROOT / "fusion" / "presets.yaml").read_text())["presets"][preset]
    per = spec.pop("per_network", None) or {}
    return {**spec, **per.get(network, {}), **per.get(f"{network}/{dataset}", {})}


def _raw_sparse(preset: str) -> dict:
    spec = yaml.safe_load((ROOT / "arch" / "eyeriss" / "sparse.yaml").read_text())["presets"][preset]
    spec.pop("bounds", None)
    return spec


def sensitivity_cases(config: dict, networks: list[tuple[str, str]]) -> list[tuple[str, str, str, dict]]:
    """(label, why, accelerator, {network: config variant or None}) of every knob switch measured."""
    cases: list[tuple[str, str, str, dict]] = []
    archon_knobs: dict[str, dict] = {}
    for network, dataset in networks:
        default, paper = _raw_archon("default", network, dataset), _raw_archon("paper", network, dataset)
        for knob in default:
            if default[knob] != paper[knob] and knob not in RUN_KNOBS and knob not in ARCHON_BEFORE:
                archon_knobs.setdefault(knob, {})[network] = paper[knob]
    for knob, values in archon_knobs.items():
        label = f"ARCHON `{knob}` default -> paper ({_fmt(next(iter(values.values())))})"
        cases.append(
            (
                label,
                "paper value",
                "archon",
                {n: variant(config, archon={"overrides": {knob: v}}) for n, v in values.items()},
            )
        )
    new = [
        ("weight_refetch", "tiles", "fused weights: mapping -> every kept weight from DRAM per 64-pixel tile"),
        ("mask_storage", "proxy", "masks: pred_glb + spill -> the paper's proxy (sign writes, pred_glb x 128/18)"),
        ("count_pred_glb", False, "the resident masks' pred_glb energy not counted"),
    ]
    for knob, value, why in new:
        cases.append(
            (
                f"ARCHON `{knob}` -> {_fmt(value)} (issue 16 knob off)",
                why,
                "archon",
                {n: variant(config, archon={"overrides": {knob: value}}) for n, _ in networks},
            )
        )
    cases.append(
        (
            "ARCHON all three issue-16 knobs off (the issue-15 default)",
            "before",
            "archon",
            {n: variant(config, archon={"overrides": ARCHON_BEFORE}) for n, _ in networks},
        )
    )
    default, paper = _raw_sparse("default"), _raw_sparse("paper")
    for knob in default:
        if default[knob] != paper[knob] and knob not in ("target_sparsity", "index_decode", "pointer_bits", "idle_pe"):
            cases.append(
                (
                    f"sparse `{knob}` default -> paper ({_fmt(paper[knob])})",
                    "paper value",
                    "sparse",
                    {n: variant(config, sparse={"overrides": {knob: paper[knob]}}) for n, _ in networks},
                )
            )
    for knob, off in (("index_decode", 0), ("pointer_bits", 0), ("idle_pe", 0)):
        cases.append(
            (
                f"sparse `{knob}` off (conservative bound without it)",
                "issue 16 cost",
                "sparse",
                {n: variant(config, sparse={"overrides": {knob: off}}) for n, _ in networks},
            )
        )
    cases.append(
        (
            "sparse `bound` conservative -> optimistic",
            "issue 16 bound",
            "sparse",
            {n: variant(config, sparse={"bound": "optimistic"}) for n, _ in networks},
        )
    )
    from sparsity.params import load_params

    ratio = load_params("default").mac_gating_ratio
    cases.append(
        (
            f"sparse MAC gating ratio from the runs' table -> the shipped table's ({ratio:.4f})",
            "energy table",
            "sparse",
            {n: variant(config, sparse={"overrides": {"mac_gating_ratio": ratio}}) for n, _ in networks},
        )
    )
    return cases


def _fmt(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"parts", "kinds"}:
        return f"parts {', '.join(value['parts'])}; kinds {', '.join(value['kinds'])}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict) and not value:
        return "{}"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


NOTES = [
    "",
    "## Notes and limits",
    "",
    "* *Why the sparse band is narrow.* The costs the optimistic bound omits are small next to data movement in this "
    "energy model: decoding an index is one 8-bit address-generator add (0.05-0.06 pJ) per performed MAC against a "
    "2.2-3.8 pJ MAC; a 16-bit pointer per column of M weights adds 1/M of the dense weight traffic; an idle PE-cycle "
    "costs the idle actions of the MAC and three spads (0.03-0.11 pJ). A random-access penalty for the ifmap spad is "
    "not needed: Timeloop's rule (and the embedded model) already charges every access at the component's largest "
    "action energy, i.e. a changing address and changing data.",
    "* *Fused weights.* The main run's mapping was searched without the fused weights: its global-buffer tiles of "
    "Inputs and Outputs are taken as they are and only the space they leave is offered to the weights (a mapper that "
    "knew the weights could choose smaller tiles; the model is an upper bound in that sense). Bank conflicts and the "
    "buffer's bandwidth are not modelled; a weight that stays is written once and read once per pass at the run's "
    "energy per word. With one pass (8x8 blocks) nothing stays: the buffer would add a write and a read to the one "
    "DRAM read.",
    "* *Masks.* Every sign bit of the block's prediction layers is stored until the main phase reads it (the phases "
    "run one after another). Spilled masks are written to DRAM and read back once; they are not staged through "
    "pred_glb. pred_glb and the fusion-unit components keep the hand-written overhead table "
    "(arch/archon/overhead/ERT.fuseloop.yaml: Accelergy's bitwise gates cannot be derived), whatever `energy_tables`.",
    "* *Closed forms left as they were.* The prediction layers' 0.22 pJ multiply per output and 0.043 pJ addition per "
    "MAC are the paper's constants, not figures of the energy table (their share is below 0.1 %).",
]


# ----------------------------------------------------------------------------------------- markdown


def _uJ(pJ: float) -> str:
    return f"{pJ / PJ_PER_UJ:,.1f}"


def term_table(name: str, rows: list[tuple[str, float, str]], energy_uJ: float) -> list[str]:
    docs = TERM_DOCS[name]
    out = ["| term | formula | source | uJ | share |", "|---|---|---|---:|---:|"]
    previous = None
    for label, pJ, key in rows:
        if abs(pJ) < 1e-9 and key not in ("depthwise_fix",):
            continue
        formula, source = docs.get(key, ("", "")) if key != previous else ("as above", "as above")
        previous = key
        out.append(f"| {label} | {formula} | {source} | {_uJ(pJ)} | {100 * pJ / PJ_PER_UJ / energy_uJ:.1f} % |")
    covered = sum(pJ for _, pJ, _ in rows) / PJ_PER_UJ
    out.append(f"| **total** | | | **{covered:,.1f}** | {100 * covered / energy_uJ:.1f} % |")
    return out


def headline(label: str, totals: dict[str, Total], band: bool = True) -> list[str]:
    d, s, a = totals["dense"], totals["sparse"], totals["archon"]
    band = band and s.low_uJ is not None and s.high_uJ is not None
    low, high = s.low_uJ or 0.0, s.high_uJ or 0.0
    sband = f" ({low:,.1f} - {high:,.1f})" if band else ""
    ratio = f" ({low / a.energy_uJ:.3f} - {high / a.energy_uJ:.3f})" if band else ""
    return [
        f"| {label} | {d.energy_uJ:,.1f} | {d.cycles:,} | {s.energy_uJ:,.1f}{sband} | {s.cycles:,} | "
        f"{a.energy_uJ:,.1f} | {a.cycles:,} | {d.cycles / a.cycles:.3f} | {s.cycles / a.cycles:.3f} | "
        f"{d.energy_uJ / a.energy_uJ:.3f} | {s.energy_uJ / a.energy_uJ:.3f}{ratio} |"
    ]


def _role_uJ(result: TableResult, role: str) -> float:
    return sum(r["energy_uJ"] for r in result.rows if r["role"] == role)


def on_chip_weights(runs: Runs) -> list[str]:
    """Levels other than DRAM where an ARCHON main run keeps weights (none on arch/archon/main)."""
    found = set()
    for block in runs.nets["archon"].blocks:
        stats = runs.stats["archon"][block.layer("main").name]
        found |= {lvl.name for lvl in stats.levels[1:-1] if "Weights" in lvl.tensors}
    return sorted(found)


def depthwise_section(
    paper_config: dict, coupled: dict[str, dict[str, TableResult]], networks: list[tuple[str, str]]
) -> list[str]:
    """Paper-form runs (C=1 depthwise problems): the depthwise layers' energy with the artifact's closed-form fix and
    with the checked one, next to the coupled form's."""
    results = Path(paper_config["results"])
    lines = [
        "",
        "## The paper-form depthwise fix, checked",
        "",
        "The same sweep with `problem.depthwise: paper` (C=1 depthwise runs, mapped by the same mapper): the "
        "depthwise layers' energy (dense `conv` rows, ARCHON `pred_conv` rows) with the artifact's closed form "
        "(`depthwise_fix: artifact` / `dw_fix_check: artifact`: Inputs energy x (channels - 1) at the GLB and "
        "DRAM whatever the mapping) and with the checked fix (the closed form where each input word is read "
        "once, else the mapping's own traffic on the channel-coupled problem), and the coupled runs' energy "
        "(another mapping of the exact problem).",
        "",
        "| network | rows | artifact fix uJ | checked fix uJ | coupled runs uJ |",
        "|---|---|---:|---:|---:|",
    ]
    for network, dataset in networks:
        if not (results / network / dataset).is_dir():
            continue
        runs = load_runs(results, network, dataset, ("dense", "archon"))
        for name, role in (("dense", "conv"), ("archon", "pred_conv")):
            artifact = variant(
                paper_config, problem={"depthwise_fix": "artifact"}, archon={"overrides": {"dw_fix_check": "artifact"}}
            )
            checked = variant(
                paper_config, problem={"depthwise_fix": "checked"}, archon={"overrides": {"dw_fix_check": "checked"}}
            )
            lines.append(
                f"| {LABELS[network]} | {name} {role} | {_role_uJ(table(artifact, runs, name), role):,.1f} | "
                f"{_role_uJ(table(checked, runs, name), role):,.1f} | "
                f"{_role_uJ(coupled[network][name], role):,.1f} |"
            )
    return lines


def _config_text(source: str) -> list[str]:
    """The sweep's config file, its results directory left out."""
    return [
        line
        for line in Path(source).read_text().splitlines()
        if not line.startswith("results:") and not line.lstrip().startswith("#")
    ]


def write_report(config: dict, source: str, out: Path, paper_config: dict | None = None) -> str:
    results = Path(config["results"])
    results = results if results.is_absolute() else ROOT / results
    started = time.perf_counter()
    networks = [p for p in NETWORKS if (results / p[0] / p[1]).is_dir()]
    if not networks or networks[0] != NETWORKS[0]:
        raise SystemExit(f"{results}: needs at least mobilenet/cifar10 (the shares are of its totals)")
    runs = {n: load_runs(results, n, d) for n, d in networks}
    after = {n: {a: table(config, runs[n], a) for a in ACCELERATORS} for n, _ in networks}
    old = before(config)
    prior = {n: {a: table(old, runs[n], a) for a in ACCELERATORS} for n, _ in networks}
    totals = {n: {a: total(r) for a, r in after[n].items()} for n, _ in networks}
    prior_totals = {n: {a: total(r) for a, r in prior[n].items()} for n, _ in networks}

    lines = [
        "# The cost model, term by term",
        "",
        "<!-- Generated by `python benchmarks/model_report.py --config <cfg>`; do not edit by hand. -->",
        "",
        f"Every energy term of the three accelerators' default models, measured on the default configuration "
        f"(`energy_tables: {config['energy_tables']}`, the default mapper settings, embedded engine; the sweep "
        "under *Reproducing* below), each with its formula, where its numbers come from and its share of the "
        "accelerator's MobileNetV2/CIFAR-10 total. *Timeloop run*: the layer's mapper run (embedded engine or real "
        "Timeloop) priced with the run's energy table; *energy table*: a per-action figure of that table (derived "
        "or the paper's); *closed form*: a formula of the post-processing (fuseloop's knobs: `fusion/params.py`, "
        "`sparsity/params.py`).",
        "",
        "## Totals before and after issue 16",
        "",
        "Before: the issue-15 defaults (ARCHON `weight_refetch: tiles`, `mask_storage: proxy`, `count_pred_glb: "
        "false`; sparse without bounds, i.e. today's optimistic bound, with its MAC gating ratio from the shipped "
        "table). After: the defaults of this page; the sparse energy is the `conservative` bound (`sparse.bound`), "
        "the band in brackets is optimistic - conservative. Speedup and energy ratio: the other accelerator's "
        "cycles / energy over ARCHON's (above 1: ARCHON is faster / uses less).",
        "",
        "| network | dense uJ | dense cycles | sparse uJ | sparse cycles | ARCHON uJ | ARCHON cycles | speedup vs "
        "dense | vs sparse | energy dense / ARCHON | sparse / ARCHON |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, _ in networks:
        lines += headline(f"{LABELS[n]} before", prior_totals[n], band=False)
        lines += headline(f"{LABELS[n]} after", totals[n])
    lines += [
        "",
        "Change per accelerator (after - before):",
        "",
        "| network | accelerator | before uJ | after uJ | change |",
        "|---|---|---:|---:|---:|",
    ]
    for n, _ in networks:
        for a in ACCELERATORS:
            b, x = prior_totals[n][a].energy_uJ, totals[n][a].energy_uJ
            lines.append(f"| {LABELS[n]} | {a} | {b:,.1f} | {x:,.1f} | {x - b:+,.1f} uJ ({100 * (x - b) / b:+.1f} %) |")

    mob = runs["mobilenet"]
    lines += [
        "",
        "## Dense (Eyeriss, arch/eyeriss): MobileNetV2/CIFAR-10",
        "",
        "Each layer's run energy x its repeat (a grouped layer is one group run G times); depthwise layers in "
        "the coupled form need no input fix. Summed over layers per level and tensor.",
        "",
    ]
    lines += term_table("dense", dense_terms(mob, after["mobilenet"]["dense"]), totals["mobilenet"]["dense"].energy_uJ)
    lines += [
        "",
        "## Sparse (the Eyeriss with zero-weight skipping): MobileNetV2/CIFAR-10",
        "",
        "The dense run re-costed (sparsity/energy.py) at each layer's measured density d (w = 16, b = 10); "
        "cycles from the slowest PE of each processing pass on the dense mapping. The last three terms are the "
        "costs of finding the non-zero weights that only the conservative bound (reported) charges.",
        "",
    ]
    lines += term_table("sparse", sparse_terms(after["mobilenet"]["sparse"]), totals["mobilenet"]["sparse"].energy_uJ)
    lines += [
        "",
        "## ARCHON (arch/archon): MobileNetV2/CIFAR-10",
        "",
        "Per fused block: the two prediction layers (dense runs on the predictions arch, adjusted, "
        "fusion/predictions.py), the fused main convolution (its run on the main arch without its DRAM weight "
        "traffic, fusion/main.py) and the fusion-unit overhead (fusion/overhead.py; A = 24 adds per PE per "
        "cycle, tiles = the main convolution's output tiles, fusion.main.main_tiles); plus the fused head and "
        "tail layers. e_DRAM, e_GLB: the main run's "
        "own energy per word access (vector access energy / block size of its energy table).",
        "",
    ]
    lines += term_table(
        "archon",
        archon_terms(mob, after["mobilenet"]["archon"], config["problem"]["depthwise"]),
        totals["mobilenet"]["archon"].energy_uJ,
    )
    facts = after["mobilenet"]["archon"].details
    b1 = facts["b1"]["overhead_facts"]
    lines += [
        "",
        f"Block 1 of MobileNetV2 (16 -> 864 -> 24 at 32x32): {b1['fused_weights']:,.0f} kept fused weights = "
        f"{b1['fused_weight_words']:,.0f} words with their indices; the main run leaves "
        f"{b1['main_glb_free_words']:,.0f} GLB words free and streams its weights "
        f"{b1['weight_passes']:.0f} times (once per output tile of its mapping), so "
        f"{b1['resident_weight_words']:,.0f} words stay and the rest is read {b1['weight_passes']:.0f} times; "
        f"its masks are {b1['mask_bits']:,} bits against pred_glb's "
        f"{b1['pred_glb_bits']:,}: {b1['spilled_mask_bits']:,} spill to DRAM.",
        "",
        "The main runs keep weights on chip at: "
        + (", ".join(on_chip_weights(mob)) or "no level (arch/archon/main bypasses them at every level but DRAM)")
        + "; the fused weights' only on-chip traffic is therefore weight_GLB (the main run's DRAM weight "
        "energy, the dense weights' traffic, is removed from main_e).",
    ]
    if paper_config is not None:
        lines += depthwise_section(paper_config, after, networks)

    lines += [
        "",
        "## Sensitivity",
        "",
        "Each knob switched alone from its default to the value in brackets, the table step re-run on the same "
        "runs; change of that accelerator's total (energy; cycles where they move). Not measurable this way: "
        + "; ".join(f"`{k}` ({v})" for k, v in RUN_KNOBS.items())
        + "; the sparse `target_sparsity` (other pruned weights); the depthwise fix knobs (`dw_fix_*`, "
        "`problem.depthwise_fix`), which act on paper-form runs only (the default runs are coupled).",
        "",
        "| knob | accelerator | " + " | ".join(LABELS[n] for n, _ in networks) + " |",
        "|---|---|" + "---:|" * len(networks),
    ]
    for label, _why, name, per_network in sensitivity_cases(config, networks):
        cells = []
        for n, _ in networks:
            changed = per_network.get(n)
            if changed is None:
                cells.append("")
                continue
            t, base = total(table(changed, runs[n], name)), totals[n][name]
            change = t.energy_uJ - base.energy_uJ
            cell = f"{change:+,.1f} uJ ({100 * change / base.energy_uJ:+.2f} %)"
            if t.cycles != base.cycles:
                cell += f", {t.cycles - base.cycles:+,} cycles"
            cells.append(cell)
        lines.append(f"| {label} | {name} | " + " | ".join(cells) + " |")
    lines += NOTES
    lines += [
        "",
        "## Reproducing",
        "",
        "The sweep (default settings; the results directory is any), then this page:",
        "",
        "```yaml",
        *_config_text(source),
        "```",
        "",
        "```",
        "snakemake --cores 2 --configfile <that file>",
    ]
    if paper_config is not None:
        lines += [
            "snakemake --cores 2 --configfile <the same with problem: {depthwise: paper}, accelerators: [dense, "
            "archon] and another results directory>"
        ]
    lines += [
        "python benchmarks/model_report.py --config <that file>"
        + (" --paper-form-config <the paper-form one>" if paper_config is not None else ""),
        "```",
    ]
    lines += [""]
    print(f"table steps: {time.perf_counter() - started:.0f} s")
    text = "\n".join(lines)
    out.write_text(text)
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="the workflow config of the sweep (its results directory)")
    parser.add_argument(
        "--paper-form-config",
        help="optional: the same sweep with problem.depthwise: paper "
        "(accelerators dense and archon), for the depthwise-fix section",
    )
    parser.add_argument("--out", default=str(ROOT / "docs" / "model.md"))
    args = parser.parse_args(argv)
    config = wfconfig.validate(yaml.safe_load(Path(args.config).read_text()), args.config)
    paper = None
    if args.paper_form_config:
        paper = wfconfig.validate(yaml.safe_load(Path(args.paper_form_config).read_text()), args.paper_form_config)
    write_report(config, args.config, Path(args.out), paper)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
