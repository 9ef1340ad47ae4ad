# Per-layer tables per accelerator, then the network's layers.csv / res.csv, then the sweep summary.
def accelerator_inputs(w):
    inputs = layer_stats(w.network, w.dataset, w.accelerator)
    if w.accelerator == "sparse":
        inputs += sparse_results(w.network, w.dataset)
    if w.accelerator == "archon":
        inputs += ["fusion/presets.yaml"] + arch_files("archon")
    return inputs


rule accelerator_table:
    input:
        accelerator_inputs,
    output:
        f"{RESULTS}/{{network}}/{{dataset}}/{{accelerator}}/layers.csv",
    params:
        settings=lambda w: settings_json("engine", "problem", "sparse", "archon"),
        root=RESULTS,
    log:
        log_path("accelerator_table", "{network}", "{dataset}", "{accelerator}"),
    benchmark:
        bench_path("accelerator_table", "{network}", "{dataset}", "{accelerator}")
    shell:
        "{CLI} table --network {wildcards.network} --dataset {wildcards.dataset}"
        " --accelerator {wildcards.accelerator} --results {params.root} --settings {params.settings:q}"
        " --out {output} > {log} 2>&1"


rule network_tables:
    input:
        expand(f"{RESULTS}/{{{{network}}}}/{{{{dataset}}}}/{{accelerator}}/layers.csv", accelerator=ACCELERATORS),
    output:
        layers=f"{RESULTS}/{{network}}/{{dataset}}/layers.csv",
        res=f"{RESULTS}/{{network}}/{{dataset}}/res.csv",
    log:
        log_path("network_tables", "{network}", "{dataset}"),
    shell:
        "{CLI} merge --inputs {input} --layers-out {output.layers} --res-out {output.res} > {log} 2>&1"


rule summary:
    input:
        expand(f"{RESULTS}/{{p.network}}/{{p.dataset}}/layers.csv", p=PAIRS),
    output:
        f"{RESULTS}/summary.csv",
    log:
        log_path("summary", "all"),
    shell:
        "{CLI} summary --inputs {input} --out {output} > {log} 2>&1"
