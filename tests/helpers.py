"""Shared test constants and the subprocess runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
VECTORS = FIXTURES / "vectors" / "image_references.tsv"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def _corpus() -> Path | None:
    """The real-world corpus (read-only): $ECR_PTC_CORPUS, else ../shared/corpus beside the clone."""
    given = os.environ.get("ECR_PTC_CORPUS")
    found = Path(given) if given else ROOT.parent / "shared" / "corpus"
    return found.resolve() if found.is_dir() else None


CORPUS = _corpus()
NO_CORPUS = (
    "real-world corpus not found: set ECR_PTC_CORPUS to a checkout of shared/corpus (.ci/run does)"
)


def corpus() -> Path:
    """The corpus, in a test marked `corpus` (tests/conftest.py skips those without it)."""
    assert CORPUS is not None, "mark the test `pytest.mark.corpus`"
    return CORPUS


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
