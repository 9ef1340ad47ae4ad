# Optional cost columns (config `costs`, workflows/costplan.py): only in the DAG when `costs.choices` is set.
def cost_runs(w):
    """{accelerator: {layer: run key}} of every accelerator's rows."""
    return {a: {run.layer: run.key for run in plan.runs(CONFIG, w.network, w.dataset, a)} for a in ACCELERATORS}


def cost_inputs(w):
    pair = wfconfig.Pair(w.network, w.dataset)
    keys = sorted({key for runs in cost_runs(w).values() for key in runs.values()})
    return {
        "layers": f"{RESULTS}/{w.network}/{w.dataset}/layers.csv",
        "choices": costplan.choice_files(costplan.choices_for(CONFIG, pair)),
        "runs": [f"{RESULTS}/runs/{key}/stats.json" for key in keys],
    }


def cost_params(w):
    return {
        "runs": as_json(cost_runs(w)),
        "choices": costplan.choices_for(CONFIG, wfconfig.Pair(w.network, w.dataset)),
        "settings": as_json(costplan.step_settings(CONFIG)),
    }


rule pair_costs:
    input:
        unpack(cost_inputs),
    output:
        costs=f"{RESULTS}/{{network}}/{{dataset}}/costs.csv",
        summary=f"{RESULTS}/{{network}}/{{dataset}}/costs_summary.csv",
    params:
        runs=lambda w: cost_params(w)["runs"],
        choices=lambda w: cost_params(w)["choices"],
        settings=lambda w: cost_params(w)["settings"],
    log:
        log_path("pair_costs", "{network}", "{dataset}"),
    shell:
        "{CLI} costs --network {wildcards.network:q} --dataset {wildcards.dataset:q} --layers {input.layers:q}"
        " --runs {params.runs:q} --results {RESULTS:q} --choices {params.choices:q} --settings {params.settings:q}"
        " --out {output.costs:q} --summary-out {output.summary:q} --log {log:q}"


rule costs_summary:
    input:
        expand(f"{RESULTS}/{{p.network}}/{{p.dataset}}/costs_summary.csv", p=COST_PAIRS),
    output:
        f"{RESULTS}/costs_summary.csv",
    log:
        log_path("costs_summary", "all"),
    shell:
        "{CLI} costs_summary --inputs {input:q} --out {output:q} --log {log:q}"


rule cost_plots:
    input:
        unpack(cost_inputs),
    output:
        done=f"{RESULTS}/plots/costs/{{network}}.{{dataset}}.txt",
    params:
        runs=lambda w: cost_params(w)["runs"],
        choices=lambda w: cost_params(w)["choices"],
        settings=lambda w: cost_params(w)["settings"],
        outdir=f"{RESULTS}/plots/costs",
    log:
        log_path("cost_plots", "{network}", "{dataset}"),
    shell:
        "{CLI} cost_plots --network {wildcards.network:q} --dataset {wildcards.dataset:q} --layers {input.layers:q}"
        " --runs {params.runs:q} --results {RESULTS:q} --choices {params.choices:q} --settings {params.settings:q}"
        " --outdir {params.outdir:q} --done {output.done:q} --log {log:q}"


# Target `costs` (part of `all` when costs.choices is set).
rule costs:
    input:
        f"{RESULTS}/costs_summary.csv",
        expand(f"{RESULTS}/plots/costs/{{p.network}}.{{p.dataset}}.txt", p=COST_PAIRS),
