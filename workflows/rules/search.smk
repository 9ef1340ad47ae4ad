# Optional design-space search (config `search.space`, dse/): only in the DAG when a space is configured.
if SEARCH:
    rule search:
        input:
            SEARCH.inputs,
        output:
            pareto=f"{SEARCH.out}/pareto.csv",
            evaluated=f"{SEARCH.out}/evaluated.csv",
            progress=f"{SEARCH.out}/progress.csv",
            plot=report(f"{SEARCH.out}/pareto.png", caption="../report/pareto.rst", category="Search"),
            plot_svg=f"{SEARCH.out}/pareto.svg",
        params:
            space=SEARCH.path,
            settings=as_json(SEARCH.settings),
            out=SEARCH.out,
        log:
            log_path("search", SEARCH.space.name),
        benchmark:
            bench_path("search", SEARCH.space.name)
        shell:
            "{CLI} search --space {params.space:q} --results {RESULTS:q} --settings {params.settings:q}"
            " --out {params.out:q} --log {log:q}"
