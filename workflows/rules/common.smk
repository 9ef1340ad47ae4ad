# Shared helpers. Each rule passes only the settings it uses as `params`, so Snakemake re-runs
# exactly the steps whose settings changed (params are a default rerun trigger).
import json as _json


def settings_json(*sections):
    """The named top-level config sections as one JSON string (a rule's params)."""
    return _json.dumps({name: CONFIG.get(name) for name in sections}, sort_keys=True)


def log_path(rule_name, *parts):
    return f"{RESULTS}/logs/{rule_name}/" + ".".join(parts) + ".log"


def bench_path(rule_name, *parts):
    return f"{RESULTS}/benchmarks/{rule_name}/" + ".".join(parts) + ".tsv"


def layer_stats(network, dataset, accelerator):
    """stats.json of every mapper run that an accelerator's table needs."""
    mapped = plan.mapped_runs(accelerator)
    return [
        f"{RESULTS}/{network}/{dataset}/{mapped}/runs/{layer}/stats.json"
        for layer in plan.layer_names(network, dataset, mapped)
    ]


def sparse_results(network, dataset):
    return [
        f"{RESULTS}/{network}/{dataset}/sparse/runs/{layer}/sparse.json"
        for layer in plan.layer_names(network, dataset, "sparse")
    ]
