# fuseloop: evaluate the configured networks on the dense, sparse and ARCHON accelerators.
#   snakemake --cores 8                                   # default sweep (workflows/config/default.yaml)
#   snakemake --cores 2 --configfile .test/config.yaml    # the tiny CI sweep
import sys
from pathlib import Path

from workflows import config as wfconfig
from workflows import plan

configfile: "workflows/config/default.yaml"
report: "workflows/report/workflow.rst"

CONFIG = wfconfig.validate(config, source=", ".join(map(str, workflow.overwrite_configfiles)) or "workflows/config/default.yaml")
RESULTS = CONFIG["results"]
PAIRS = wfconfig.pairs(CONFIG)
ACCELERATORS = CONFIG["accelerators"]
CLI = f"{sys.executable} -m workflows.cli"  # the interpreter running Snakemake (its venv)

wildcard_constraints:
    network = r"[a-z0-9_]+",
    dataset = r"[a-z0-9_]+",
    accelerator = r"dense|sparse|archon",
    mapped = r"dense|archon",
    layer = r"[A-Za-z0-9_.]+",

include: "workflows/rules/common.smk"
include: "workflows/rules/problems.smk"
include: "workflows/rules/mapping.smk"
include: "workflows/rules/sparse.smk"
include: "workflows/rules/tables.smk"
include: "workflows/rules/report.smk"

rule all:
    input:
        f"{RESULTS}/summary.csv",
        expand(f"{RESULTS}/{{p.network}}/{{p.dataset}}/res.csv", p=PAIRS),
        f"{RESULTS}/plots/done.txt",
