"""Shared test constants and the subprocess runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "fixtures"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a subprocess, as pre-commit and CI run it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ECR_PTC_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "migrate", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )
