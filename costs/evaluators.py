"""Accuracy evaluators: a function from a choice vector to an accuracy.

    Evaluator = Callable[[Mapping[str, LayerChoice]], float]

`choices` maps every layer name of the network (zoo / from_keras naming) to its LayerChoice; the function returns
the accuracy in [0, 1] (higher is better) and should be deterministic for a given choice vector (a search caches
results by it). Users plug their own as "package.module:function"; the built-in one is "costs.digits:evaluate"
(a small CNN on scikit-learn's digits, quantised inference with the multipliers' product tables).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from .choices import LayerChoice

Evaluator = Callable[[Mapping[str, LayerChoice]], float]
BUILTIN = {"digits": "costs.digits:evaluate"}


class EvaluatorError(ValueError):
    """An evaluator reference that cannot be loaded."""


def load_evaluator(reference: str) -> Evaluator:
    """ "module:function" (or a built-in name: digits) -> the callable."""
    spec = BUILTIN.get(reference, reference)
    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name:
        raise EvaluatorError(
            f"evaluator {reference!r}: expected 'package.module:function' or one of {', '.join(BUILTIN)}"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EvaluatorError(f"evaluator {reference!r}: cannot import {module_name}: {exc}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise EvaluatorError(f"evaluator {reference!r}: {module_name} has no function {function_name!r}")
    return function
