# Per-layer rows per accelerator, then the network's layers.csv / res.csv, then the sweep summary.
def table_inputs(w):
    plugin = accelerators.get(w.accelerator)
    runs = [f"{RESULTS}/runs/{key}/stats.json" for key in sorted(set(layer_runs(w).values()))]
    artifacts = [f"{RESULTS}/{w.network}/{w.dataset}/{w.accelerator}/{name}" for name in plugin.artifacts]
    return runs + artifacts + plan.table_files(w.accelerator)


rule accelerator_table:
    input:
        table_inputs,
    output:
        f"{RESULTS}/{{network}}/{{dataset}}/{{accelerator}}/layers.csv",
    params:
        settings=lambda w: as_json(plan.table_settings(CONFIG, w.accelerator)),
        runs=lambda w: as_json(layer_runs(w)),
    log:
        log_path("accelerator_table", "{network}", "{dataset}", "{accelerator}"),
    benchmark:
        bench_path("accelerator_table", "{network}", "{dataset}", "{accelerator}")
    shell:
        "{CLI} table --accelerator {wildcards.accelerator} --network {wildcards.network:q}"
        " --dataset {wildcards.dataset:q} --runs {params.runs:q} --results {RESULTS:q}"
        " --settings {params.settings:q} --out {output:q} --log {log:q}"


rule network_tables:
    input:
        expand(f"{RESULTS}/{{{{network}}}}/{{{{dataset}}}}/{{accelerator}}/layers.csv", accelerator=ACCELERATORS),
    output:
        layers=f"{RESULTS}/{{network}}/{{dataset}}/layers.csv",
        res=f"{RESULTS}/{{network}}/{{dataset}}/res.csv",
    log:
        log_path("network_tables", "{network}", "{dataset}"),
    shell:
        "{CLI} merge --inputs {input:q} --layers-out {output.layers:q} --res-out {output.res:q} --log {log:q}"


rule summary:
    input:
        expand(f"{RESULTS}/{{p.network}}/{{p.dataset}}/layers.csv", p=PAIRS),
    output:
        f"{RESULTS}/summary.csv",
    log:
        log_path("summary", "all"),
    shell:
        "{CLI} summary --inputs {input:q} --out {output:q} --log {log:q}"
