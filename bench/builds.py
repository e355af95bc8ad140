"""Benchmark: what the build index (`migrate.facts.builds`) costs a pre-commit hook on one file.

    .venv/bin/python bench/builds.py                     # a generated repo with every build kind
    .venv/bin/python bench/builds.py ~/src/some-repo     # any git work tree: lint on one manifest

Prints the index's own cost in-process (built, then read back from its cache), and the median
wall time of `python -c pass`, of `ecr-ptc lint FILE` (FILE names a built image, so the index
is needed; after the first run it comes from the cache), and of the same with every build
file removed (the repository is still listed, nothing is read).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = {
    "skaffold.yaml": (
        "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n"
        + "".join(f"  - image: svc{i}\n    context: src/svc{i}\n" for i in range(12))
    ),
    "Tiltfile": "docker_build('acme/tilt', '.')\n",
    "Makefile": "IMAGE ?= acme/make\nbuild:\n\tdocker build -t $(IMAGE):dev .\n",
    "docker-bake.hcl": 'target "app" {\n  tags = ["acme/bake:1"]\n}\n',
    "compose.yaml": "services:\n  app:\n    build: .\n    image: acme/compose\n",
    "k8s/app.yaml": (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: svc3\n  - image: redis:7\n"
    ),
}
BUILD_FILES = ("skaffold.yaml", "Tiltfile", "Makefile", "docker-bake.hcl", "compose.yaml")


def _median(command: list[str], cwd: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _repo(where: Path, source: Path | None) -> tuple[Path, str]:
    if source is not None:
        shutil.copytree(source, where, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        manifest = next(str(p.relative_to(where)) for p in sorted(where.rglob("*.yaml")))
    else:
        for rel, text in FILES.items():
            (where / rel).parent.mkdir(parents=True, exist_ok=True)
            (where / rel).write_text(text)
        manifest = "k8s/app.yaml"
    subprocess.run(["git", "init", "-q"], cwd=where, check=True)
    return where, manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "repo", nargs="?", type=Path, help="a repository to copy (default: generated)"
    )
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args(argv)
    tool = str(Path(sys.executable).parent / "ecr-ptc")
    with tempfile.TemporaryDirectory(prefix="ecr-ptc-builds-") as scratch:
        repo, manifest = _repo(Path(scratch, "repo"), args.repo)
        bare = Path(scratch, "bare")
        shutil.copytree(repo, bare, symlinks=True)
        for name in BUILD_FILES:
            for path in bare.rglob(name):
                path.unlink()
        from migrate.context import Repo
        from migrate.facts import builds

        start = time.perf_counter()
        found = builds.of(Repo(repo))  # first run: build files read and parsed, cache written
        miss = time.perf_counter() - start
        start = time.perf_counter()
        builds.of(Repo(repo))
        hit = time.perf_counter() - start
        rows = {
            "python -c pass": _median([sys.executable, "-c", "pass"], repo, args.runs),
            f"ecr-ptc lint {manifest}": _median([tool, "lint", manifest], repo, args.runs),
            "  same, no build files": _median([tool, "lint", manifest], bare, args.runs),
        }
    print(
        f"{len(found)} built images; the index in-process: {miss * 1000:.1f} ms to build "
        f"(YAML parser import included), {hit * 1000:.1f} ms from .git/ecr-ptc-builds.json"
    )
    for label, seconds in rows.items():
        print(f"{label:<48} {seconds * 1000:6.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
