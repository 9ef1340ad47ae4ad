"""Energy and area tables (Accelergy ERT/ART formats) derived from an arch directory.

    from estimation import derive_tables, check_tables
    ert, art = derive_tables("arch/eyeriss", "results/tables/eyeriss", "derived")   # or preset "paper"
    check_tables("arch/eyeriss", ert, art)       # TableMismatch naming the component if they do not match

`python -m estimation ARCH_DIR [--out DIR] [--preset derived|paper] [--check]`. The `derived` preset prices
every component with the hwcomponents packages (Python >= 3.12; `python -m estimation.install` makes their
CACTI runnable); `paper` is the shipped 45 nm table. See arch/README.md ("Derived energy tables").
"""

from specs.components import SpecError
from specs.table_record import TableMismatch, check_tables

from .tables import PRESETS, derive_tables, documents, table_names

__all__ = ["PRESETS", "SpecError", "TableMismatch", "check_tables", "derive_tables", "documents", "table_names"]
