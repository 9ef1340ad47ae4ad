"""Analysis: per-layer tables, head/body/tail res tables, summaries, plots, pandas loaders, validation."""

from .load import Results, load_results
from .summary import summarize
from .tables import accelerator_totals, res_table

__all__ = ["Results", "load_results", "summarize", "res_table", "accelerator_totals"]
