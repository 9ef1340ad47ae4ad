"""The workflow glue: config validation, the plan derived from the accelerator plug-ins, the steps the Snakemake
rules call and their command line. Nothing below this package imports it."""
