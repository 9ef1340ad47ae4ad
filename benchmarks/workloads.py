"""Workloads speed: `import workloads`, and rendering every problem of the default sweep.

Run: /work/venv/bin/python benchmarks/workloads.py [--repeat N]

1. Wall time of `python -c "import workloads"` in a fresh interpreter (minus a bare `python -c pass`).
2. The default sweep (workflows/config/default.yaml: its network/dataset pairs, baseline + fused, both depthwise
   forms): building the networks (cold zoo caches), turning every layer into problems, rendering them as Timeloop
   v0.3 and v0.4 YAML, and writing the v0.3 files to a temporary directory. Target: well under 30 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def interpreter_seconds(code: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
    return best


def sweep_pairs() -> list[tuple[str, str]]:
    config = yaml.safe_load((ROOT / "workflows" / "config" / "default.yaml").read_text())
    return [(entry["network"], entry["dataset"]) for entry in config["sweep"]]


def render_sweep(outdir: Path) -> dict[str, float]:
    from workloads import zoo
    from workloads.problem import problems_for, render_problem

    zoo._read.cache_clear()
    zoo.load_network_file.cache_clear()
    counts: dict[str, float] = {"networks": 0, "layers": 0, "problems": 0, "files": 0}
    start = time.perf_counter()
    for network, dataset in sweep_pairs():
        for variant in zoo.variants():
            net = zoo.load_network(network, dataset, variant)
            counts["networks"] += 1
            for layer in net.layers():
                counts["layers"] += 1
                for form in ("coupled", "paper"):
                    for i, problem in enumerate(problems_for(layer, form)):
                        text = render_problem(problem, "0.3")
                        render_problem(problem, "0.4")
                        counts["problems"] += 1
                        path = outdir / network / dataset / variant / form / f"{layer.name}.{i}.yaml"
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_text(text)
                        counts["files"] += 1
    counts["seconds"] = time.perf_counter() - start
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is reported)")
    args = parser.parse_args()

    bare = interpreter_seconds("pass", args.repeat)
    light = interpreter_seconds("import workloads", args.repeat)
    print(f"import workloads: {light - bare:.3f} s (interpreter start {bare:.3f} s not included)")

    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(render_sweep(Path(tmp)))
    best = min(runs, key=lambda run: run["seconds"])
    print(
        f"default sweep: {len(sweep_pairs())} network/dataset pairs x baseline+fused = {best['networks']} networks, "
        f"{best['layers']} layers, {best['problems']} problems (both depthwise forms), each rendered as v0.3 and "
        f"v0.4, v0.3 written to disk: {best['seconds']:.2f} s (target: well under 30 s)"
    )


if __name__ == "__main__":
    main()
