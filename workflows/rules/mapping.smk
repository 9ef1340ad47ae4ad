# One mapper run per layer, each in its own output directory. With `mapping: artifact` a layer whose exact problem
# the paper artifact recorded evaluates that run's mapping instead (arch/mappers/artifact_mappings.json).
RECORDED_MAPPINGS = ["arch/mappers/artifact_mappings.json"] if CONFIG.get("mapping") == "artifact" else []


rule map_layer:
    input:
        problems=f"{RESULTS}/{{network}}/{{dataset}}/{{mapped}}/problems",
        recorded=RECORDED_MAPPINGS,
    output:
        f"{RESULTS}/{{network}}/{{dataset}}/{{mapped}}/runs/{{layer}}/stats.json",
    params:
        settings=lambda w: settings_json("engine", "engine_options", "mapping"),
    threads: CONFIG.get("threads_per_layer", 1)
    log:
        log_path("map_layer", "{network}", "{dataset}", "{mapped}", "{layer}"),
    benchmark:
        bench_path("map_layer", "{network}", "{dataset}", "{mapped}", "{layer}")
    shell:
        "{CLI} map --inputs {input.problems}/{wildcards.layer} --settings {params.settings:q}"
        " --threads {threads} --out {output} > {log} 2>&1"
