# One job per distinct mapper run (content-keyed: identical runs anywhere in the sweep are mapped once). The job is
# told one layer that has the run and the run settings; it rebuilds the run and checks its key.
rule map_run:
    input:
        lambda w: plan.run_arch_files(RUNS[w.key].spec),
    output:
        f"{RESULTS}/runs/{{key}}/stats.json",
    params:
        origin=lambda w: f"{RUNS[w.key].network}/{RUNS[w.key].dataset}/{RUNS[w.key].accelerator}/{RUNS[w.key].layer}",
        settings=lambda w: as_json(plan.run_settings(CONFIG, RUNS[w.key].mapper_kind)),
        cache=(f"--cache {shlex.quote(CONFIG['run_cache'])}" if CONFIG.get("run_cache") else ""),
    threads: CONFIG["threads_per_layer"]
    log:
        log_path("map_run", "{key}"),
    benchmark:
        bench_path("map_run", "{key}")
    shell:
        "{CLI} map --key {wildcards.key} --origin {params.origin:q} --settings {params.settings:q}"
        " --threads {threads} {params.cache} --out {output:q} --log {log:q}"


# Per-network inputs an accelerator prepares once (e.g. the sparse accelerator's pruned weights).
def prepare_inputs(w):
    return [str(p) for p in accelerators.get(w.accelerator).artifact_inputs(
        w.artifact, plan.network(w.network, w.dataset, w.accelerator), CONFIG)]


rule prepare:
    input:
        prepare_inputs,
    output:
        f"{RESULTS}/{{network}}/{{dataset}}/{{accelerator}}/{{artifact}}",
    params:
        settings=lambda w: as_json(plan.artifact_settings(CONFIG, w.accelerator)),
        # the inputs' content: a user model replaced by a file with an older modification time (cp -p, rsync -a,
        # wget) re-runs the step too
        content=lambda w: plan.content_digest(prepare_inputs(w)),
    log:
        log_path("prepare", "{network}", "{dataset}", "{accelerator}", "{artifact}"),
    benchmark:
        bench_path("prepare", "{network}", "{dataset}", "{accelerator}", "{artifact}")
    shell:
        "{CLI} prepare --accelerator {wildcards.accelerator} --artifact {wildcards.artifact:q}"
        " --network {wildcards.network:q} --dataset {wildcards.dataset:q} --settings {params.settings:q}"
        " --out {output:q} --log {log:q}"
