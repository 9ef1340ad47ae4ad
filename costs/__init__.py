"""Per-layer cost models beside the Timeloop energies: precision, approximate multipliers, MicroNet score,
partial-sum energy, stochastic bitstream cost, and accuracy with approximate arithmetic (see costs/README.md).

Importing the package is cheap: TensorFlow is imported only by the Keras-facing modules (quantized, digits).
"""

from .choices import ChoicesError, ChoiceTable, LayerChoice, load_choices, parse_choices
from .multipliers import Multiplier, MultiplierError, library_multiplier

__all__ = [
    "ChoiceTable",
    "ChoicesError",
    "LayerChoice",
    "Multiplier",
    "MultiplierError",
    "library_multiplier",
    "load_choices",
    "parse_choices",
]
