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


# Source files whose edits must re-run the steps that read them (Snakemake compares their modification times).
ARCH_DIRS = {"dense": ["arch/eyeriss"], "sparse": ["arch/eyeriss"],
             "archon": ["arch/archon/predictions", "arch/archon/predictions-128KiB", "arch/archon/main",
                        "arch/archon/overhead"]}


def arch_files(accelerator):
    files = []
    for directory in ARCH_DIRS[accelerator]:
        files += sorted(str(p) for p in Path(directory).rglob("*") if p.is_file() and p.suffix in (".yaml", ".j2"))
    return files


def network_file(network):
    return f"workloads/networks/{network}.yaml"
