# Plots (PNG + SVG) for `snakemake --report`.
rule plots:
    input:
        summary=f"{RESULTS}/summary.csv",
        layers=expand(f"{RESULTS}/{{p.network}}/{{p.dataset}}/layers.csv", p=PAIRS),
    output:
        done=f"{RESULTS}/plots/done.txt",
        totals=report(
            f"{RESULTS}/plots/totals.png",
            caption="../report/totals.rst",
            category="Totals",
        ),
        phases=report(
            f"{RESULTS}/plots/archon_phases.png",
            caption="../report/phases.rst",
            category="ARCHON",
        ),
    params:
        outdir=f"{RESULTS}/plots",
    log:
        log_path("plots", "all"),
    shell:
        "{CLI} plots --summary {input.summary:q} --layers {input.layers:q} --outdir {params.outdir:q} --log {log:q}"
