# Timeloop inputs (problem, constraints, mapper settings) for every layer run of one network/dataset/accelerator.
rule problems:
    input:
        network=lambda w: network_file(w.network),
        arch=lambda w: arch_files(w.mapped),
        presets=lambda w: ["fusion/presets.yaml"] if w.mapped == "archon" else [],  # knob prediction_arch
    output:
        directory(f"{RESULTS}/{{network}}/{{dataset}}/{{mapped}}/problems"),
    params:
        settings=lambda w: settings_json("problem", "mapper", "archon"),
    log:
        log_path("problems", "{network}", "{dataset}", "{mapped}"),
    benchmark:
        bench_path("problems", "{network}", "{dataset}", "{mapped}")
    shell:
        "{CLI} problems --network {wildcards.network} --dataset {wildcards.dataset}"
        " --accelerator {wildcards.mapped} --settings {params.settings:q} --out {output} > {log} 2>&1"
