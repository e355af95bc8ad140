"""One dense Helm values file: time and peak memory of `fix` on it (hardening issue, item 9).

    python bench/dense.py                  # 128,550 references in ~9.4 MB, 3 runs, medians
    python bench/dense.py --refs 30000 --profile   # where the memory goes at the peak

The file the issue measured (21.5 s, 772 MB before this work) had 128,550 references in
9.4 MB: ~73 bytes per reference, so it is nearly all image keys. This one mixes the shapes a
values file holds, in that density: `image: repo/name:tag` strings (in lists and maps),
Bitnami-like `registry`/`repository`/`tag` maps, `repository` maps holding a full reference,
and digest-pinned maps. Every byte depends on the seed and the counts only. Each run is a
child process (`ECR_PTC_JOBS=1`: one file is one process's work) on a fresh copy; peak RSS
is the child's `ru_maxrss`.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrate.occurrence import Occurrence

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
NAMES = (
    "nginx",
    "redis",
    "bitnami/redis",
    "bitnami/postgresql",
    "grafana/grafana",
    "library/busybox",
    "quay.io/prometheus/node-exporter",
    "quay.io/jetstack/cert-manager-controller",
    "registry.k8s.io/pause",
    "ghcr.io/fluxcd/source-controller",
    "public.ecr.aws/karpenter/controller",
    "gcr.io/distroless/static",
)
TAGS = ("1.27", "7.4.1-debian-12-r0", "v1.8.2", "3.10", "latest", "16.4.0")


def generate(refs: int, seed: int = 0) -> str:
    """A values file with exactly `refs` image references."""
    rng = random.Random(seed)
    out: list[str] = []
    made = 0
    block = 0
    while made < refs:
        block += 1
        out.append(f"c{block}:\n")
        shape = rng.randrange(4)
        name, tag = rng.choice(NAMES), rng.choice(TAGS)
        if shape == 0:  # a list of containers, each a plain string
            count = min(refs - made, rng.randint(1, 4))
            out.append("  containers:\n")
            for i in range(count):
                out.append(
                    f"    - name: c{i}\n      image: {rng.choice(NAMES)}:{rng.choice(TAGS)}\n"
                )
            made += count
        elif shape == 1:  # Bitnami-style map
            registry = name.split("/")[0] if "." in name.split("/")[0] else "docker.io"
            path = name[len(registry) + 1 :] if registry != "docker.io" else name
            out.append(
                f"  image:\n    registry: {registry}\n    repository: {path}\n    tag: {tag}\n"
            )
            made += 1
        elif shape == 2:  # repository holding a full reference
            out.append(f'  image:\n    repository: {name}\n    tag: "{tag}"\n')
            made += 1
        else:  # a plain string under a key ending in Image
            out.append(f"  sidecarImage: {name}:{tag}\n")
            made += 1
        if block % 4 == 0:
            out.append(f"  replicas: {rng.randint(1, 5)}\n")
    return "".join(out)


def _run(path: Path, workdir: Path) -> tuple[float, int, int]:
    env = {**os.environ, "ECR_PTC_JOBS": "1"}
    ecr_ptc = Path(sys.executable).parent / "ecr-ptc"
    start = time.perf_counter()
    child = subprocess.Popen(
        [str(ecr_ptc), "fix", "--registry", REGISTRY, path.name],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stderr is not None
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 1:
        raise SystemExit(f"fix exited {code}:\n{err.decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss, code


def _profile(text: str, top: int) -> None:
    """tracemalloc over one in-process fix: the lines that hold the most where a dense file
    peaks, as the verifying re-scan gives back its last reference (the scan's tree, both
    occurrence lists and both texts alive), and what is still held at the end."""
    import tracemalloc

    from migrate.cli import main
    from migrate.rewrite import one_file, verify

    in_order = verify.in_text_order
    counted: list[int] = []
    at_peak: list[tracemalloc.Snapshot] = []

    def scanned(found: Iterable[Occurrence]) -> list[Occurrence]:
        ordered = in_order(found)
        counted.append(len(ordered))  # as many as the re-scan will give back
        return ordered

    def rescanned(found: Iterable[Occurrence]) -> list[Occurrence]:
        def watched() -> Iterator[Occurrence]:
            for count, occ in enumerate(found, 1):
                if count == counted[0]:
                    at_peak.append(tracemalloc.take_snapshot())
                yield occ

        return in_order(watched())

    one_file.in_text_order, verify.in_text_order = scanned, rescanned  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "values.yaml").write_text(text)
        here = os.getcwd()
        os.chdir(tmp)
        os.environ["ECR_PTC_JOBS"] = "1"
        tracemalloc.start(8)
        try:
            main(["fix", "--registry", REGISTRY, "values.yaml"])
        finally:
            os.chdir(here)
            one_file.in_text_order = verify.in_text_order = in_order  # type: ignore[attr-defined]
        peak = tracemalloc.get_traced_memory()[1]
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
    print(f"tracemalloc peak: {peak / 2**20:.1f} MiB")
    shown = [("at the re-scan's last reference", at_peak[0])] if at_peak else []
    for title, taken in [*shown, ("retained at the end", snapshot)]:
        taken = taken.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        held = sum(stat.size for stat in taken.statistics("filename"))
        print(f"{title}: {held / 2**20:.1f} MiB")
        for stat in taken.statistics("lineno")[:top]:
            print(f"  {stat.size / 2**20:7.2f} MiB  {stat.count:8d}  {stat.traceback[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=int, default=128_550)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="tracemalloc, in process")
    args = parser.parse_args(argv)
    text = generate(args.refs, args.seed)
    size = len(text.encode())
    print(f"values.yaml: {size / 1e6:.1f} MB, {args.refs:,} references")
    if args.profile:
        _profile(text, 25)
        return 0
    times, peaks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "source.yaml"
        source.write_text(text)
        for _ in range(args.runs):
            shutil.copyfile(source, work / "values.yaml")
            seconds, rss_kib, _ = _run(work / "values.yaml", work)
            times.append(seconds)
            peaks.append(rss_kib)
    print(
        f"fix: median {statistics.median(times):.2f} s (runs: "
        f"{', '.join(f'{t:.2f}' for t in times)}), peak RSS {max(peaks) / 1024:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
