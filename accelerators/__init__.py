"""Accelerators as plug-ins: one module per accelerator behind `accelerators.base.Accelerator`.

The registry maps a config name to its plug-in class ("module:Class", imported on first use, so importing one
plug-in never imports the others). To add an accelerator, write its module and add one line here
(docs/accelerators.md).
"""

from __future__ import annotations

import importlib
from functools import cache

from .base import Accelerator, AcceleratorError

REGISTRY: dict[str, str] = {
    "dense": "accelerators.dense:Dense",
    "sparse": "accelerators.sparse:Sparse",
    "archon": "accelerators.archon:Archon",
    "systolic": "accelerators.systolic:Systolic",
    "hybrid": "accelerators.hybrid:Hybrid",  # opt-in (not in the default sweep): fusion per block
}


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


@cache
def get(name: str) -> Accelerator:
    """The plug-in registered as `name`."""
    if name not in REGISTRY:
        raise AcceleratorError(f"unknown accelerator {name!r}; registered: {', '.join(REGISTRY)}")
    module, cls = REGISTRY[name].split(":")
    plugin = getattr(importlib.import_module(module), cls)()
    if plugin.name != name:
        raise AcceleratorError(f"{REGISTRY[name]} calls itself {plugin.name!r}, registered as {name!r}")
    return plugin


def all_plugins() -> list[Accelerator]:
    return [get(name) for name in REGISTRY]


def default_sweep() -> list[str]:
    """The accelerators a config that leaves `accelerators` out evaluates (opt-in plug-ins excluded)."""
    return [name for name in REGISTRY if get(name).in_default_sweep]


def mapped(name: str) -> str:
    """The accelerator whose mapper runs `name` uses (itself, or the one it re-costs)."""
    return get(name).runs_of or name


__all__ = ["Accelerator", "AcceleratorError", "REGISTRY", "all_plugins", "default_sweep", "get", "mapped", "names"]
