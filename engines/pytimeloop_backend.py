"""`PyTimeloopEngine`: Timeloop through its Python bindings (`pytimeloop`, Accelergy-Project/timeloop-python).

The bindings' application classes take the whole Timeloop input as one YAML document (the input files
concatenated, as its `timeloop-mapper.py` script does). Two generations of their API are supported, each checked
against timeloop-python's source (Accelergy-Project/timeloop-python):

* C++ bindings (since May 2024, `bindings/applications.cpp`): `pytimeloop.app.MapperApp(Config(yaml_text, "yaml"),
  outdir, "timeloop-mapper").run()` returns a result with `stats_string` and `mapping_string`;
  `ModelApp(Config(...), outdir, "timeloop-model").run()` returns one with `stats_string` (`Config` from
  `pytimeloop.config`). The applications also write their usual output files into `outdir`;
* Python classes (2022 to May 2024, `pytimeloop/app/{mapper,model}.py`): `MapperApp(yaml_text,
  default_out_dir=outdir).run_subprocess(outdir)` returns the stats.txt and map.txt texts (it runs the Timeloop
  binaries itself); `ModelApp` likewise.

The texts are written into the output directory as `timeloop-mapper.stats.txt` / `.map.txt` (or
`timeloop-model.*`) and read with `engines.parsers.parse_run`, so results look exactly like the binary
backend's. Options are the binary backend's mapper options (timeout, victory_condition,
optimization_metrics, use_energy_tables).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from specs.energy import ERT_FILE_NAMES

from .base import Engine, EngineError, PathLike
from .mapping import Mapping
from .parsers import ParseError, parse_run
from .stats import LayerStats
from .timeloop import (
    EFFECTIVE_MAPPER_FILE,
    MAPPER_BINARY,
    MAPPING_FILE,
    MODEL_BINARY,
    TimeloopEngine,
    _existing,
    _output_dir,
)
from .timeloop_inputs import (
    COMPONENTS_DIR,
    arch_input_files,
    effective_mapper,
    fanout_levels,
    mapping_to_yaml,
    problem_shape,
)

MODULE = "pytimeloop"
OPTIONS = ("timeout", "victory_condition", "optimization_metrics", "use_energy_tables")
INPUT_FILE = "fuseloop-input.yaml"


def pytimeloop_available() -> bool:
    """True when the `pytimeloop` bindings can be imported."""
    try:
        _app_module()
    except EngineError:
        return False
    return True


def _app_module():
    try:
        importlib.import_module(MODULE)
        return importlib.import_module(f"{MODULE}.app")
    except ImportError as exc:
        raise EngineError(
            f"the pytimeloop Python bindings cannot be imported ({exc}); install Timeloop's Python "
            "bindings (Accelergy-Project/timeloop-python), or use engine: timeloop (the binaries) or "
            "engine: embedded in the workflow config"
        ) from None


def default_external_engine(**options: Any) -> Engine:
    """The preferred real-Timeloop backend: pytimeloop when importable, else the binaries."""
    if pytimeloop_available():
        return PyTimeloopEngine(**{k: v for k, v in options.items() if k in OPTIONS})
    return TimeloopEngine(**options)


class PyTimeloopEngine(Engine):
    name = "pytimeloop"

    def __init__(
        self,
        timeout: int | None = None,
        victory_condition: int | None = None,
        optimization_metrics: Sequence[str] | None = None,
        use_energy_tables: bool = True,
        **unknown: Any,
    ):
        if unknown:
            raise EngineError(
                f"unknown pytimeloop engine option(s) {sorted(unknown)}; options are {', '.join(OPTIONS)}"
            )
        self.app = _app_module()
        self.mapper_overrides = {
            "timeout": timeout,
            "victory_condition": victory_condition,
            "optimization_metrics": optimization_metrics,
        }
        self.use_energy_tables = bool(use_energy_tables)

    def evaluate(
        self,
        arch: PathLike,
        problem: PathLike,
        constraints: Sequence[PathLike],
        mapper: PathLike,
        *,
        outdir: PathLike | None = None,
        threads: int = 1,
    ) -> LayerStats:
        files = arch_input_files(arch, self.use_energy_tables)
        problem = _existing(problem, "problem")
        constraint_files = [_existing(c, "constraints") for c in constraints]
        with _output_dir(outdir) as out:
            settings_file = out / EFFECTIVE_MAPPER_FILE
            settings_file.write_text(
                yaml.safe_dump(effective_mapper(mapper, threads, self.mapper_overrides), sort_keys=False)
            )
            text = _concatenate(files + [settings_file, problem] + constraint_files, out)
            stats_text, map_text = self._call(self.app.MapperApp, text, out, mapper=True)
            stats = self._results(out, MAPPER_BINARY, stats_text, map_text)
            stats.meta.update(threads=int(threads), mapper_settings=str(settings_file))
        return stats

    def model(
        self, arch: PathLike, problem: PathLike, mapping: Mapping, *, outdir: PathLike | None = None
    ) -> LayerStats:
        files = arch_input_files(arch, self.use_energy_tables)
        problem = _existing(problem, "problem")
        dims, data_spaces = problem_shape(problem)
        with _output_dir(outdir) as out:
            mapping_file = out / MAPPING_FILE
            mapping_file.write_text(mapping_to_yaml(mapping, dims, data_spaces, fanout_levels(arch)))
            text = _concatenate(files + [problem, mapping_file], out)
            stats_text, map_text = self._call(self.app.ModelApp, text, out, mapper=False)
            return self._results(out, MODEL_BINARY, stats_text, map_text)

    # ---- helpers -----------------------------------------------------------------------
    def _call(self, app_class, text: str, out: Path, mapper: bool) -> tuple[str, str]:
        """Run one pytimeloop application; (stats.txt text, map.txt text)."""
        tool = MAPPER_BINARY if mapper else MODEL_BINARY
        try:
            if hasattr(app_class, "run_subprocess"):  # Python classes: the binaries in a subprocess
                stats_text, map_text = app_class(text, default_out_dir=str(out)).run_subprocess(str(out))
            else:  # C++ bindings: in process
                config = importlib.import_module(f"{MODULE}.config").Config(text, "yaml")
                result = app_class(config, str(out), tool).run()
                stats_text = getattr(result, "stats_string", "")
                map_text = getattr(result, "mapping_string", "") if mapper else _written(out, f"{tool}.map.txt")
        except EngineError:
            raise
        except Exception as exc:  # the bindings raise plain Exceptions
            raise EngineError(f"pytimeloop {tool} failed in {out}: {exc}") from None
        if not stats_text or not str(stats_text).strip():
            raise EngineError(f"pytimeloop {tool} returned no stats for {out} (no valid mapping found?)")
        return str(stats_text), str(map_text)

    def _results(self, out: Path, tool: str, stats_text: str, map_text: str) -> LayerStats:
        (out / f"{tool}.stats.txt").write_text(stats_text)
        (out / f"{tool}.map.txt").write_text(map_text)
        try:
            stats = parse_run(out, prefix=f"{tool}.")
        except ParseError as exc:
            raise EngineError(f"pytimeloop {tool} output cannot be read: {exc}") from None
        stats.engine = self.name
        stats.meta.update(outdir=str(out), input=str(out / INPUT_FILE))
        return stats


def _written(out: Path, name: str) -> str:
    """A file the in-process application wrote into `out` ("" when it wrote none)."""
    path = out / name
    return path.read_text() if path.is_file() else ""


def _concatenate(files: list[Path], out: Path) -> str:
    """All input files as one YAML document (written to the output directory for reference).

    With an ERT among them the component-class files are left out: Timeloop then uses the ERT instead of
    calling Accelergy, and each component file repeats the top-level key `compound_components`, which a
    single concatenated document cannot hold twice."""
    if any(Path(f).name in ERT_FILE_NAMES for f in files):
        files = [f for f in files if Path(f).parent.name != COMPONENTS_DIR]
    text = "\n".join(Path(f).read_text() for f in files) + "\n"
    (out / INPUT_FILE).write_text(text)
    return text
