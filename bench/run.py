"""Benchmark: the hook's start-up, and scan/fix throughput, beside baselines from the same run.

    .venv/bin/python bench/run.py                 # 25 MB tree, 5 runs each
    .venv/bin/python bench/run.py 5 25 --runs 7   # two sizes: peak RSS must not grow with size

Each size's tree comes from `bench/generate.py` (made once, kept in bench/out/). Every command
runs as a child process, round-robin across the commands so drift hits all of them alike; the
table shows the median wall time, the ratio to its baseline (`python -c pass` for the hook,
`grep -r image` for the tree), and peak RSS from wait4() (the largest process of the child's
tree: with a process pool, each worker stays at or below it) and CPU seconds (user + system of
the whole tree: on a busy machine, wall time shows the contention and CPU time does not).
Renovate's extraction on the same trees: bench/renovate.py (it needs Node 24 and Renovate,
installed outside the repository).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import MB, generate  # a script beside this one, not a package

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

HOOK_DOCKERFILE = "FROM node:20-bookworm AS build\nRUN npm ci\nFROM nginx:1.27\nCOPY --from=build /app /usr/share/nginx/html\n"
HOOK_COMPOSE = "services:\n  web:\n    image: nginx:1.27\n  cache:\n    image: redis:7.4\n"


@dataclass
class Row:
    label: str
    command: list[str]
    expect: tuple[int, ...]  # exit codes that mean the command did its job
    before: Callable[[], None] | None = None  # untimed set-up (fresh copy to fix)
    env: dict[str, str] | None = None
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system, the child's whole tree
    rss_kb: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # An installed package has its bytecode compiled by pip; PYTHONDONTWRITEBYTECODE would make
    # every run recompile ecr-ptc's modules (~40 ms of the hook) and measure that instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("ECR_PTC_JOBS", None)
    env.update(extra or {})
    return env


def _once(row: Row) -> None:
    if row.before:
        row.before()
    env = _env(row.env)
    start = time.perf_counter()
    child = subprocess.Popen(row.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert child.stdout is not None and child.stderr is not None
    # Read the output, as a terminal or a pipe would: grep writing to /dev/null stops at each
    # file's first match, which would flatter the baseline.
    while child.stdout.read(1 << 16):
        pass
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    row.times.append(time.perf_counter() - start)
    row.cpu.append(usage.ru_utime + usage.ru_stime)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in row.expect:
        raise SystemExit(f"{row.label}: exit {child.returncode}\n{err.decode(errors='replace')}")
    row.rss_kb = max(row.rss_kb, usage.ru_maxrss)  # KiB on Linux


def _measure(rows: Sequence[Row], runs: int) -> None:
    for row in rows:  # warm-up: bytecode, page cache; not counted
        _once(row)
        row.times.clear()
        row.cpu.clear()
    for _ in range(runs):
        for row in rows:
            _once(row)


def _tool(name: str) -> str:
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else shutil.which(name) or name


def _tree_stats(tree: Path) -> tuple[int, int]:
    files = size = 0
    for directory, dirnames, filenames in os.walk(tree):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            files += 1
            size += os.path.getsize(os.path.join(directory, name))
    return files, size


def _fresh_copy(tree: Path, work: Path) -> Callable[[], None]:
    def copy() -> None:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(tree, work, symlinks=True)

    return copy


def _hook_rows(work: Path, runs: int) -> list[Row]:
    ecr_ptc = _tool("ecr-ptc")
    work.mkdir(parents=True, exist_ok=True)
    dockerfile, compose = work / "Dockerfile", work / "compose.yaml"

    def reset() -> None:
        dockerfile.write_text(HOOK_DOCKERFILE)
        compose.write_text(HOOK_COMPOSE)

    reset()
    return [
        Row("python -c pass", [sys.executable, "-c", "pass"], (0,)),
        Row("ecr-ptc lint Dockerfile", [ecr_ptc, "lint", str(dockerfile)], (1,), reset),
        Row(
            "ecr-ptc fix Dockerfile",
            [ecr_ptc, "fix", "--registry", REGISTRY, str(dockerfile)],
            (1,),
            reset,
        ),
        Row(
            "ecr-ptc fix compose.yaml",
            [ecr_ptc, "fix", "--registry", REGISTRY, str(compose)],
            (1,),
            reset,
        ),
    ]


def _tree_rows(tree: Path, work: Path) -> list[Row]:
    ecr_ptc = _tool("ecr-ptc")
    copy = _fresh_copy(tree, work / "fix")
    return [
        Row("grep -r image", ["grep", "-r", "--exclude-dir=.git", "image", str(tree)], (0,)),
        Row("ecr-ptc scan", [ecr_ptc, "scan", str(tree)], (0,)),
        Row(
            "ecr-ptc scan (1 process)",
            [ecr_ptc, "scan", str(tree)],
            (0,),
            env={"ECR_PTC_JOBS": "1"},
        ),
        Row("ecr-ptc fix", [ecr_ptc, "fix", "--registry", REGISTRY, str(work / "fix")], (1,), copy),
    ]


def _table(title: str, rows: Sequence[Row], base: Row) -> str:
    out = [
        f"\n{title}",
        "",
        "| command | median s | min s | x baseline | CPU s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratio = row.median / base.median
        out.append(
            f"| {row.label} | {row.median:.3f} | {min(row.times):.3f} | {ratio:.1f} | "
            f"{statistics.median(row.cpu):.2f} | {row.rss_kb / 1024:.0f} |"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=float, default=[25.0], help="tree sizes in MB")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (median)")
    parser.add_argument("--hook-runs", type=int, default=21)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-hook", action="store_true")
    args = parser.parse_args(argv)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs "
        f"(hook: {args.hook_runs}); medians; load average {os.getloadavg()[0]:.1f} "
        "(other processes share the cores: keep it near 0)"
    )
    with tempfile.TemporaryDirectory(prefix="ecr-ptc-bench-") as scratch:
        if not args.no_hook:
            hook = _hook_rows(Path(scratch, "hook"), args.hook_runs)
            _measure(hook, args.hook_runs)
            print(_table("Hook: one small file (baseline: python -c pass)", hook[1:], hook[0]))
            print(
                f"  python -c pass: {hook[0].median * 1000:.0f} ms; "
                + "; ".join(f"{r.label}: {r.median * 1000:.0f} ms" for r in hook[1:])
            )
        for size in args.sizes:
            tree = HERE / "out" / f"tree-{size:g}mb-seed{args.seed}"
            if not tree.exists():
                generate(tree, size, args.seed)
            files, size_bytes = _tree_stats(tree)
            rows = _tree_rows(tree, Path(scratch))
            _measure(rows, args.runs)
            grep, scan, serial, fix = rows
            print(
                _table(
                    f"Tree: {size_bytes / MB:.1f} MB, {files} files (baseline: grep -r image)",
                    rows[1:],
                    grep,
                )
            )
            print(
                f"  grep: {grep.median:.3f} s; scan: {scan.median:.3f} s "
                f"({size_bytes / MB / scan.median:.0f} MB/s); fix/scan: {fix.median / scan.median:.2f}; "
                f"1 process/pool: {serial.median / scan.median:.2f}"
            )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
