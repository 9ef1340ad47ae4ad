# Sparse Eyeriss: pruned weights once per network/dataset, then each layer re-costed from its dense run.
rule pruned_weights:
    input:
        network=lambda w: network_file(w.network),
        params="arch/eyeriss/sparse.yaml",
    output:
        f"{RESULTS}/{{network}}/{{dataset}}/sparse/model/weights.npz",
    params:
        settings=lambda w: settings_json("sparse"),
    log:
        log_path("pruned_weights", "{network}", "{dataset}"),
    benchmark:
        bench_path("pruned_weights", "{network}", "{dataset}")
    shell:
        "{CLI} prune --network {wildcards.network} --dataset {wildcards.dataset}"
        " --settings {params.settings:q} --out {output} > {log} 2>&1"


rule sparse_layer:
    input:
        dense=f"{RESULTS}/{{network}}/{{dataset}}/dense/runs/{{layer}}/stats.json",
        weights=f"{RESULTS}/{{network}}/{{dataset}}/sparse/model/weights.npz",
        params="arch/eyeriss/sparse.yaml",
    output:
        f"{RESULTS}/{{network}}/{{dataset}}/sparse/runs/{{layer}}/sparse.json",
    params:
        settings=lambda w: settings_json("sparse", "problem"),
    log:
        log_path("sparse_layer", "{network}", "{dataset}", "{layer}"),
    benchmark:
        bench_path("sparse_layer", "{network}", "{dataset}", "{layer}")
    shell:
        "{CLI} sparse --network {wildcards.network} --dataset {wildcards.dataset} --layer {wildcards.layer}"
        " --dense {input.dense} --weights {input.weights} --settings {params.settings:q} --out {output} > {log} 2>&1"
