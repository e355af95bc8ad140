"""A hook's start-up in instructions, not seconds: `valgrind --tool=callgrind` counts what the
CPU executes, the same on an idle and a busy machine, where wall time is not.

    .venv/bin/python bench/startup.py        # prints each count and its ratio to `python -c pass`

Every command runs in the same interpreter, in a temporary git work tree holding one Dockerfile,
after one unmeasured run so that every module is compiled (`__pycache__`): a hook pays for
importing code, not for compiling it. The target (issue 20): `lint Dockerfile` at most 5x
`python -c pass`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "python -c 'import click'": ["-c", "import click"],
    "ecr-ptc lint Dockerfile": ["-m", "migrate", "lint", "Dockerfile"],
    "ecr-ptc fix Dockerfile": ["-m", "migrate", "fix", "--registry", REGISTRY, "Dockerfile"],
}
TARGET = 5.0


def instructions(args: list[str], cwd: Path, env: dict[str, str]) -> int:
    out = cwd / "callgrind.out"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    out.unlink(missing_ok=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind failed: {done.stderr[-500:]}")
    return int(found[1])


def main() -> int:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install -y valgrind)", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECR_PTC_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a hook's modules are compiled once, then cached
    env["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryDirectory(prefix="ecr-ptc-startup-") as tmp:
        work = Path(tmp)
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        counts = {}
        for name, args in COMMANDS.items():
            (work / "Dockerfile").write_text("FROM alpine:3.20\n")
            subprocess.run(
                [sys.executable, *args], cwd=work, env=env, capture_output=True, check=False
            )
            (work / "Dockerfile").write_text("FROM alpine:3.20\n")
            counts[name] = instructions(args, work, env)
    base = counts["python -c pass"]
    print(f"{'command':<32} {'instructions':>14} {'x python -c pass':>18}")
    for name, count in counts.items():
        print(f"{name:<32} {count:>14,} {count / base:>17.2f}x")
    ratio = counts["ecr-ptc lint Dockerfile"] / base
    print(f"lint Dockerfile: {ratio:.2f}x python -c pass (target at most {TARGET:.0f}x)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
