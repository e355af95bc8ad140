"""Benchmark: `ecr-ptc warm` throughput against the local fake ECR (tests/fake_ecr.py), whose
upstreams answer after a fixed latency, as a real first pull through the cache does.

    .venv/bin/python bench/warm.py                  # 200 references, 100 ms each, 3 runs
    .venv/bin/python bench/warm.py 400 --latency 0.25 --runs 5

Each run is `warm --format json` in a child process on a fresh cache (every reference filled)
for each --concurrency; the table shows the median wall time and references per second. The
fake answers on 127.0.0.1, so the figures are the tool's own overhead plus the latency it is
told to simulate; a real registry adds the network.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.fake_ecr import FakeEcr, aws_env, rule, serve
from tests.fake_registry import image

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("references", type=int, nargs="?", default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per upstream answer")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 16])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        repo = Path(work)
        lines = [f"FROM quay.io/bench/image{n}:1\n" for n in range(args.references)]
        (repo / "Dockerfile").write_text("".join(lines))
        print(f"{args.references} references, upstream latency {args.latency * 1000:.0f} ms")
        print(f"{'concurrency':>11} | {'median':>8} | {'refs/s':>7}")
        for concurrency in args.concurrency:
            times = [_run(repo, args, concurrency) for _ in range(args.runs)]
            median = statistics.median(times)
            print(f"{concurrency:>11} | {median:>7.2f}s | {args.references / median:>7.1f}")


def _run(repo: Path, args: argparse.Namespace, concurrency: int) -> float:
    with serve(FakeEcr()) as fake:
        fake.rules = [rule("quay", "quay.io")]
        fake.registry.latency = args.latency
        for n in range(args.references):
            fake.registry.upstream("quay.io", f"bench/image{n}", tags={"1": image(str(n))})
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECR_PTC_"))}
        command = [sys.executable, "-m", "migrate", "warm", "--format", "json"]
        command += ["--registry", REGISTRY, "--concurrency", str(concurrency), "."]
        start = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=repo,
            env={**env, **aws_env(fake)},
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
    summary = json.loads(done.stdout)["summary"]
    assert done.returncode == 0 and summary["filled"] == args.references, done.stderr
    return elapsed


if __name__ == "__main__":
    main()
