"""`TimeloopEngine`: runs the real `timeloop-mapper` / `timeloop-model` binaries (2021 command line).

Command line (Timeloop's own convention: YAML inputs, then `-o <existing output directory>`):

    timeloop-mapper arch.yaml components/*.yaml [ERT.yaml ART.yaml] <mapper> <problem> <constraints...> -o <outdir>
    timeloop-model  arch.yaml components/*.yaml [ERT.yaml ART.yaml] <problem> <mapping> -o <outdir>

Each call runs in its own output directory (`outdir`, or a fresh temporary one), with the working
directory set to it and standard input closed. The mapper gets an effective copy of the mapper settings
(`fuseloop-mapper.yaml`: `live-status: false`, `num-threads` = threads, plus the timeout /
victory-condition / optimization-metrics options of the engine); the model gets the mapping as a
Timeloop mapping YAML (`fuseloop-mapping.yaml`). Console output goes to `timeloop-mapper.log` /
`timeloop-model.log`. Results are read back with `engines.parsers.parse_run`.

Engine options (workflow config `engine_options`):
  binary_dir            directory holding the binaries (else $FUSELOOP_TIMELOOP_BIN, else PATH)
  timeout               mapper: consecutive invalid mappings before a thread gives up
  victory_condition     mapper: consecutive non-improving valid mappings before a thread stops
  optimization_metrics  mapper: e.g. [delay, energy]
  use_energy_tables     pass the arch directory's ERT.yaml/ART.yaml (default true; false lets Timeloop call Accelergy)
  process_timeout_s     wall-clock limit per Timeloop process (default: none)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .base import Engine, EngineError, PathLike
from .mapping import Mapping
from .parsers import ParseError, parse_run
from .stats import LayerStats
from .timeloop_inputs import arch_input_files, effective_mapper, fanout_levels, mapping_to_yaml, problem_shape

BINARY_ENV = "FUSELOOP_TIMELOOP_BIN"
MAPPER_BINARY = "timeloop-mapper"
MODEL_BINARY = "timeloop-model"
EFFECTIVE_MAPPER_FILE = "fuseloop-mapper.yaml"
MAPPING_FILE = "fuseloop-mapping.yaml"
LOCK_FILE = ".fuseloop-timeloop.lock"
OUTPUT_SUFFIXES = (
    "stats.txt",
    "map.txt",
    "map+stats.xml",
    "map.cfg",
    "map.cpp",
    "log",
    "ERT.yaml",
    "ERT_summary.yaml",
    "ART.yaml",
    "ART_summary.yaml",
    "flattened_architecture.yaml",
    "accelergy.log",
)
NO_MAPPING_MESSAGE = "no valid mappings found"
LOG_TAIL_LINES = 3
OPTIONS = (
    "binary_dir",
    "timeout",
    "victory_condition",
    "optimization_metrics",
    "use_energy_tables",
    "process_timeout_s",
)


class TimeloopEngine(Engine):
    """The real Timeloop binaries as an `Engine` (see the module docstring for options and files)."""

    name = "timeloop"

    def __init__(
        self,
        binary_dir: PathLike | None = None,
        timeout: int | None = None,
        victory_condition: int | None = None,
        optimization_metrics: Sequence[str] | None = None,
        use_energy_tables: bool = True,
        process_timeout_s: float | None = None,
        **unknown: Any,
    ):
        if unknown:
            raise EngineError(f"unknown timeloop engine option(s) {sorted(unknown)}; options are {', '.join(OPTIONS)}")
        self.binary_dir = Path(binary_dir) if binary_dir else None
        self.mapper_overrides = {
            "timeout": timeout,
            "victory_condition": victory_condition,
            "optimization_metrics": optimization_metrics,
        }
        self.use_energy_tables = bool(use_energy_tables)
        self.process_timeout_s = process_timeout_s

    # ---- binaries ---------------------------------------------------------------
    def binary(self, name: str) -> Path:
        """Path of `name`: in `binary_dir`, else in $FUSELOOP_TIMELOOP_BIN, else on PATH."""
        configured = self.binary_dir or (Path(os.environ[BINARY_ENV]) if os.environ.get(BINARY_ENV) else None)
        if configured is not None:
            directory = configured.parent if configured.is_file() else configured
            candidate = directory / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
            source = "engine option binary_dir" if self.binary_dir else f"${BINARY_ENV}"
            raise EngineError(
                f"{name} not found in {directory} (from {source}); point it to the directory that "
                f"holds the Timeloop binaries, or use the embedded engine (engine: embedded in the "
                "workflow config)"
            )
        found = shutil.which(name)
        if found is None:
            raise EngineError(
                f"{name} is not on PATH; install Timeloop and put its bin directory on PATH, or set "
                f"{BINARY_ENV}=/dir/with/timeloop/bin (or engine_options: {{binary_dir: ...}}), or use "
                "the embedded engine (engine: embedded in the workflow config)"
            )
        return Path(found)

    # ---- Engine interface ------------------------------------------------------------
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
        """Run timeloop-mapper on one layer and return the best mapping's stats (mapping attached)."""
        binary = self.binary(MAPPER_BINARY)
        inputs = arch_input_files(arch, self.use_energy_tables)
        problem, constraints = _existing(problem, "problem"), [_existing(c, "constraints") for c in constraints]
        with _output_dir(outdir) as out:
            settings = effective_mapper(mapper, threads, self.mapper_overrides)
            mapper_file = out / EFFECTIVE_MAPPER_FILE
            mapper_file.write_text(yaml.safe_dump(settings, sort_keys=False))
            command = [
                str(binary),
                *map(str, inputs),
                str(mapper_file),
                str(problem),
                *map(str, constraints),
                "-o",
                str(out),
            ]
            log = self._run(command, out, MAPPER_BINARY, problem)
            if NO_MAPPING_MESSAGE in _read(log) or not (out / f"{MAPPER_BINARY}.stats.txt").is_file():
                raise EngineError(
                    f"{MAPPER_BINARY} found no valid mapping for {problem} within the search "
                    "criteria (relax the constraints, or raise timeout / victory_condition); "
                    f"log: {log}"
                )
            stats = self._read_results(out, MAPPER_BINARY, log)
            stats.meta.update(threads=int(threads), mapper_settings=str(mapper_file))
        return stats

    def model(
        self, arch: PathLike, problem: PathLike, mapping: Mapping, *, outdir: PathLike | None = None
    ) -> LayerStats:
        """Run timeloop-model on one fixed mapping (written as a Timeloop mapping YAML)."""
        binary = self.binary(MODEL_BINARY)
        inputs = arch_input_files(arch, self.use_energy_tables)
        problem = _existing(problem, "problem")
        dims, data_spaces = problem_shape(problem)
        text = mapping_to_yaml(mapping, dims, data_spaces, fanout_levels(arch))
        with _output_dir(outdir) as out:
            mapping_file = out / MAPPING_FILE
            mapping_file.write_text(text)
            command = [str(binary), *map(str, inputs), str(problem), str(mapping_file), "-o", str(out)]
            log = self._run(command, out, MODEL_BINARY, problem)
            stats = self._read_results(out, MODEL_BINARY, log)
            stats.meta.update(mapping_file=str(mapping_file))
        return stats

    # ---- helpers ---------------------------------------------------------------------------
    def _run(self, command: list[str], out: Path, tool: str, problem: Path) -> Path:
        """Run one Timeloop process in `out`; its console output goes to `<tool>.log`. Returns the log path."""
        log = out / f"{tool}.log"
        try:
            with open(log, "w") as handle:
                result = subprocess.run(
                    command,
                    cwd=out,
                    stdin=subprocess.DEVNULL,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    timeout=self.process_timeout_s,
                )
        except subprocess.TimeoutExpired:
            raise EngineError(
                f"{tool} did not finish within {self.process_timeout_s} s on {problem} "
                f"(engine option process_timeout_s); log: {log}"
            ) from None
        except OSError as exc:
            raise EngineError(f"cannot run {command[0]}: {exc.strerror}; log: {log}") from None
        if result.returncode != 0:
            status = f"signal {-result.returncode}" if result.returncode < 0 else f"exit status {result.returncode}"
            tail = " | ".join(_read(log).strip().splitlines()[-LOG_TAIL_LINES:]) or "no output"
            raise EngineError(f"{tool} failed ({status}) on {problem}: {tail}; full log: {log}")
        return log

    def _read_results(self, out: Path, tool: str, log: Path) -> LayerStats:
        try:
            stats = parse_run(out, prefix=f"{tool}.")
        except ParseError as exc:
            raise EngineError(f"{tool} finished but its output cannot be read: {exc}; log: {log}") from None
        stats.engine = self.name
        stats.meta.update(outdir=str(out), log=str(log))
        return stats


def _existing(path: PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"{path}: {what} file does not exist")
    return path.resolve()


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


class _output_dir:
    """The run's output directory, created if needed and held exclusively for the run (a lock file makes
    a second concurrent run on the same directory fail instead of mixing outputs); stale Timeloop outputs
    from an earlier run are removed first."""

    def __init__(self, outdir: PathLike | None):
        self.path = Path(tempfile.mkdtemp(prefix="fuseloop-timeloop-")) if outdir is None else Path(outdir)

    def __enter__(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        self.path = self.path.resolve()
        self.lock = self.path / LOCK_FILE
        try:
            os.close(os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            raise EngineError(
                f"{self.path}: another Timeloop run is using this output directory "
                f"(remove {LOCK_FILE} if no run is active)"
            ) from None
        for tool in (MAPPER_BINARY, MODEL_BINARY):
            for suffix in OUTPUT_SUFFIXES:
                (self.path / f"{tool}.{suffix}").unlink(missing_ok=True)
        return self.path

    def __exit__(self, *exc_info) -> None:
        self.lock.unlink(missing_ok=True)
