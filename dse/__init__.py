"""Design-space search over per-layer choices and per-block fusion (issue 19): NSGA-II (pymoo) on integer genes,
evaluated from per-(layer, option) cost tables computed once (dse/README.md).

    fuseloop search SPACE.yaml [--config CONFIG.yaml] [--out DIR]      # or: python -m dse search ...
"""
