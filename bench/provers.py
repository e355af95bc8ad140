"""Benchmark: what proving costs. `fix --check` over a tree of charts and kustomizations, with
the provers (Helm renders each chart before and after, kubectl builds each overlay) and
without, each run in its own process (one worker per CPU, as a user's run), round-robin,
medians of wall and CPU time (CPU of the whole process tree: kubectl included).

    .venv/bin/python bench/provers.py                      # the corpus' charts ($ECR_PTC_CORPUS)
    .venv/bin/python bench/provers.py path/to/tree --runs 9
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
# One `fix --check` in this process; `provers` picks the engine's default provers or none.
DRIVER = """
import sys
from pathlib import Path
from migrate.rewrite import engine
from migrate.config import Config
provers = {"provers": ()} if sys.argv[1] == "off" else {}
results = list(engine.run(["."], Config(registry=sys.argv[2]), Path.cwd(), fix=True, **provers))
print(sum(r.changed for r in results), sum(1 for r in results for f in r.findings if f.code in ("PTC010", "PTC011")))
"""


def _default_tree() -> Path:
    corpus = Path(os.environ.get("ECR_PTC_CORPUS") or ROOT.parent / "shared" / "corpus")
    tree = Path(tempfile.mkdtemp(prefix="ecr-ptc-provers-"))
    shutil.copytree(corpus / "charts", tree / "charts")
    shutil.copytree(corpus / "microservices-demo", tree / "microservices-demo")
    return tree


def _once(mode: str, tree: Path) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, mode, REGISTRY],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    tree = args.tree or _default_tree()
    timings: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    outputs = {}
    for _ in range(args.runs):
        for mode in ("off", "on"):
            wall, cpu, out = _once(mode, tree)
            timings[mode].append((wall, cpu))
            outputs[mode] = out
    print(f"tree: {tree} ({args.runs} runs each; changed files, PTC010/011 findings)")
    for mode, label in (("off", "static rules only"), ("on", "with provers")):
        wall = statistics.median(t[0] for t in timings[mode])
        cpu = statistics.median(t[1] for t in timings[mode])
        print(f"  {label:<18} wall {wall:6.2f} s  cpu {cpu:6.2f} s  [{outputs[mode]}]")
    for index, what in ((0, "wall time"), (1, "CPU")):
        off = statistics.median(t[index] for t in timings["off"])
        on = statistics.median(t[index] for t in timings["on"])
        print(f"  proving costs {100 * (on - off) / off:+.0f}% {what}")


if __name__ == "__main__":
    main()
