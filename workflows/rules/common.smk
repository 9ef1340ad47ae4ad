# Shared helpers. Each rule passes only the settings it reads as `params` (a rerun trigger), and declares every
# file it reads as an input, so Snakemake re-runs exactly the steps whose settings or files changed.
import json as _json


def as_json(settings):
    return _json.dumps(settings, sort_keys=True)


def log_path(rule_name, *parts):
    return f"{RESULTS}/logs/{rule_name}/" + ".".join(parts) + ".log"


def bench_path(rule_name, *parts):
    return f"{RESULTS}/benchmarks/{rule_name}/" + ".".join(parts) + ".tsv"


def layer_runs(w):
    """{layer: run key} of the runs an accelerator's table reads."""
    return {run.layer: run.key for run in plan.runs(CONFIG, w.network, w.dataset, w.accelerator)}
