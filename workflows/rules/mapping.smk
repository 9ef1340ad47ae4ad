import json

# Energy and area tables derived from an arch (energy_tables: derived): a copy of the arch's run files with its
# ERT/ART, named by the arch's content, so an arch edit gives a new copy (and new run keys) and nothing is stale.
DERIVED_ARCHS = plan.derived_archs(RUNS)  # {copy name: source arch directory}


rule arch_tables:
    input:
        lambda w: plan.run_arch_files(next(r.spec for r in RUNS.values() if plan.derived_arch(r.spec) == w.archid)),
    output:
        directory(f"{RESULTS}/archs/{{archid}}"),
    params:
        source=lambda w: DERIVED_ARCHS[w.archid],
    log:
        log_path("arch_tables", "{archid}"),
    benchmark:
        bench_path("arch_tables", "{archid}")
    shell:
        "{CLI} tables --arch {params.source:q} --preset derived --out {output:q} --log {log:q}"


def run_inputs(w):
    spec = RUNS[w.key].spec
    copy = plan.derived_arch(spec)
    return [f"{RESULTS}/archs/{copy}"] if copy else plan.run_arch_files(spec)


# One job per distinct mapper run (content-keyed: identical runs anywhere in the sweep are mapped once). The job is
# told one layer that has the run and the run settings; it rebuilds the run and checks its key.
rule map_run:
    input:
        run_inputs,
    output:
        f"{RESULTS}/runs/{{key}}/stats.json",
    params:
        origin=lambda w: f"{RUNS[w.key].network}/{RUNS[w.key].dataset}/{RUNS[w.key].accelerator}/{RUNS[w.key].layer}",
        settings=lambda w: as_json({**plan.run_settings(CONFIG, RUNS[w.key].mapper_kind),
                                     "options": json.loads(RUNS[w.key].options)}),
        cache=(f"--cache {shlex.quote(CONFIG['run_cache'])}" if CONFIG.get("run_cache") else ""),
        arch=lambda w: (f"--arch-dir {shlex.quote(RESULTS + '/archs/' + plan.derived_arch(RUNS[w.key].spec))}"
                        if plan.derived_arch(RUNS[w.key].spec) else ""),
    threads: CONFIG["threads_per_layer"]
    log:
        log_path("map_run", "{key}"),
    benchmark:
        bench_path("map_run", "{key}")
    shell:
        "{CLI} map --key {wildcards.key} --origin {params.origin:q} --settings {params.settings:q}"
        " --threads {threads} {params.cache} {params.arch} --out {output:q} --log {log:q}"


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
