"""Issue 20's ratios, measured side by side in one run over the shared corpus trees.

    .venv/bin/python bench/ratios.py                 # 3 runs each, medians
    .venv/bin/python bench/ratios.py --runs 5 --startup   # and the hook's start-up (callgrind)
    .venv/bin/python bench/ratios.py --only kustomize     # microservices-demo and the hook only

Each tree is copied to a temporary git work tree (the caches under .git are warm after the
first, untimed, run: what a CI rerun sees). Proven runs are measured twice: on the same
rewrites (every build and render kept: `fix --diff`, then `fix`; a hook run again) and on a
new rewrite each run (another registry: what a hook on a change sees; the "before" builds and
renders are kept, the ones after the rewrite are not). Commands run as child processes,
round-robin so that drift hits all alike; wall time is the median, CPU the median of user +
system of the child's whole tree (on a busy machine CPU time shows the work, wall time the
contention). Ratios:

- scan vs `grep -rI image` (the floor any tool reading the files pays), per tree;
- `fix --check` without provers (`--prove off`) vs `scan`, and with them (`--prove auto`: Helm
  renders, kubectl builds) vs without;
- a hook on one kustomize base file and its kustomization, proven vs unproven;
- with --startup, `lint Dockerfile` vs `python -c pass` in instructions (bench/startup.py).
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
CORPUS = Path(os.environ.get("ECR_PTC_CORPUS") or ROOT.parent / "shared" / "corpus")
TREES = {"charts": "charts", "kustomize": "microservices-demo"}
HOOK = ["kustomize/base/cartservice.yaml", "kustomize/base/kustomization.yaml"]
NEW = ", a new rewrite"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECR_PTC_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package runs compiled bytecode
    env["PYTHONPATH"] = str(ROOT)
    return env


def _ecr_ptc(*args: str) -> list[str]:
    return [sys.executable, "-m", "migrate", *args]


def _time(command: list[str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--startup", action="store_true", help="also count start-up (valgrind)")
    parser.add_argument(
        "--only", choices=sorted(TREES), help="only this tree's rows (kustomize: and the hook's)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ecr-ptc-ratios-") as tmp:
        trees = {}
        for label, name in TREES.items():
            if args.only not in (None, label):
                continue
            tree = Path(tmp) / name
            shutil.copytree(CORPUS / name, tree, symlinks=True)
            subprocess.run(["git", "init", "-q"], cwd=tree, check=True)
            trees[label] = tree
        rows: dict[str, tuple[list[str], Path]] = {}
        for label, tree in trees.items():
            rows[f"{label}: grep -rI image"] = (["grep", "-rI", "image", "."], tree)
            rows[f"{label}: scan"] = (_ecr_ptc("scan", "."), tree)
            rows[f"{label}: fix --check --prove off"] = (
                _ecr_ptc("fix", "--check", "--prove", "off", "--registry", REGISTRY, "."),
                tree,
            )
            for suffix in ("", NEW):
                rows[f"{label}: fix --check --prove auto{suffix}"] = (
                    _ecr_ptc("fix", "--check", "--prove", "auto", "--registry", REGISTRY, "."),
                    tree,
                )
        with_hook = "kustomize" in trees
        for mode in ("off", "auto", f"auto{NEW}") if with_hook else ():
            rows[f"hook on one base: --prove {mode}"] = (
                _ecr_ptc(
                    "fix", "--check", "--prove", mode.removesuffix(NEW), "--registry", REGISTRY,
                    *HOOK,
                ),
                trees["kustomize"],
            )  # fmt: skip
        for command, cwd in rows.values():  # untimed: caches under .git filled, files in memory
            subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, check=False)
        walls: dict[str, list[float]] = {k: [] for k in rows}
        cpus: dict[str, list[float]] = {k: [] for k in rows}
        for run in range(args.runs):
            for label, (command, cwd) in rows.items():
                if label.endswith(NEW):  # another account each run: a rewrite not seen before
                    account = str(200_000_000_000 + run)  # never REGISTRY's, which is warm
                    command = [a.replace("123456789012", account) for a in command]
                wall, cpu = _time(command, cwd)
                walls[label].append(wall)
                cpus[label].append(cpu)
    wall = {k: statistics.median(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print("\n| command | wall s | CPU s |\n|---|---|---|")
    for label in rows:
        print(f"| {label} | {wall[label]:.2f} | {cpu[label]:.2f} |")

    def ratio(a: str, b: str) -> str:
        return f"{wall[a] / wall[b]:.1f}x wall, {cpu[a] / max(cpu[b], 0.005):.1f}x CPU"

    print("\n| ratio | target | measured |\n|---|---|---|")
    for label in trees:
        print(f"| {label}: scan / grep -rI image | 15x | {ratio(f'{label}: scan', f'{label}: grep -rI image')} |")  # fmt: skip
        off, auto = f"{label}: fix --check --prove off", f"{label}: fix --check --prove auto"
        print(f"| {label}: fix unproven / scan | 1.5x | {ratio(off, f'{label}: scan')} |")
        print(f"| {label}: fix proven / unproven, same rewrites | 1.5x | {ratio(auto, off)} |")
        print(f"| {label}: fix proven / unproven, a new rewrite | 1.5x | {ratio(auto + NEW, off)} |")  # fmt: skip
    for suffix, what in (("", "same rewrites"), (NEW, "a new rewrite")) if with_hook else ():
        hook = ratio(f"hook on one base: --prove auto{suffix}", "hook on one base: --prove off")
        print(f"| hook on one base + kustomization: proven / unproven, {what} | 3x | {hook} |")
    if args.startup:
        sys.path.insert(0, str(HERE))
        import startup  # a script beside this one

        startup.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
