# fuseloop: evaluate the configured networks on the registered accelerators (accelerators/).
#   snakemake --cores 8                                   # default sweep (workflows/config/default.yaml)
#   snakemake --cores 2 --configfile .test/config.yaml    # the tiny CI sweep
import shlex
import sys

import accelerators
from workflows import config as wfconfig
from workflows import costplan
from workflows import plan

configfile: "workflows/config/default.yaml"
report: "workflows/report/workflow.rst"

CONFIG = wfconfig.validate(config, source=", ".join(map(str, workflow.overwrite_configfiles)) or "workflows/config/default.yaml")
RESULTS = CONFIG["results"]
PAIRS = wfconfig.pairs(CONFIG)
ACCELERATORS = CONFIG["accelerators"]
COST_PAIRS = costplan.cost_pairs(CONFIG)  # pairs with a cost step (config `costs.choices`; none by default)
SEARCH = costplan.search_plan(CONFIG)  # the search step (config `search.space`; None by default)
RUNS = {**plan.all_runs(CONFIG), **(SEARCH.runs if SEARCH else {})}  # {key: PlannedRun}: every distinct run
CLI = f"{shlex.quote(sys.executable)} -m workflows.cli"  # the interpreter running Snakemake (its venv)

wildcard_constraints:
    network = r"[^/]+",
    dataset = r"[^/]+",
    accelerator = "|".join(accelerators.names()),
    key = r"[0-9a-f]{64}",
    archid = r"[^/]+",
    artifact = "|".join(a.replace(".", r"\.") for p in accelerators.all_plugins() for a in p.artifacts) or r"(?!)",

include: "workflows/rules/common.smk"
include: "workflows/rules/mapping.smk"
include: "workflows/rules/tables.smk"
include: "workflows/rules/report.smk"
include: "workflows/rules/costs.smk"
include: "workflows/rules/search.smk"

rule all:
    input:
        f"{RESULTS}/summary.csv",
        expand(f"{RESULTS}/{{p.network}}/{{p.dataset}}/res.csv", p=PAIRS),
        f"{RESULTS}/plots/done.txt",
        rules.costs.input if COST_PAIRS else [],
        rules.search.output if SEARCH else [],
