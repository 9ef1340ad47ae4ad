"""Per-layer cost models beside the Timeloop energies: precision, approximate multipliers, MicroNet score,
partial-sum energy, stochastic bitstream cost, and accuracy with approximate arithmetic (see costs/README.md).

Importing the package is cheap: TensorFlow is imported only by the Keras-facing modules (quantized, digits).
"""
from .choices import ChoicesError, ChoiceTable, LayerChoice, load_choices, parse_choices
from .multipliers import Multiplier, MultiplierError, library_multiplier

__all__ = [
    "ChoicesError", "ChoiceTable", "LayerChoice", "load_choices", "parse_choices",
    "Multiplier", "MultiplierError", "library_multiplier",
]
