# One mapper run per layer, each in its own output directory.
rule map_layer:
    input:
        problems=f"{RESULTS}/{{network}}/{{dataset}}/{{mapped}}/problems",
    output:
        f"{RESULTS}/{{network}}/{{dataset}}/{{mapped}}/runs/{{layer}}/stats.json",
    params:
        settings=lambda w: settings_json("engine", "engine_options"),
    threads: CONFIG.get("threads_per_layer", 1)
    log:
        log_path("map_layer", "{network}", "{dataset}", "{mapped}", "{layer}"),
    benchmark:
        bench_path("map_layer", "{network}", "{dataset}", "{mapped}", "{layer}")
    shell:
        "{CLI} map --inputs {input.problems}/{wildcards.layer} --settings {params.settings:q}"
        " --threads {threads} --out {output} > {log} 2>&1"
