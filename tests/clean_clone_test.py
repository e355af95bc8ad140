"""The suite stands on its own: a clone with no ../shared beside it (a user's clone) passes the
README's test command, every corpus test skipped with the one reason, said once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import NO_CORPUS, ROOT

pytestmark = pytest.mark.slow


def _readme_test_command() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"```sh\n(\.venv/bin/python -m pytest[^\n]*)\n```", readme)
    assert command, "README names its test command in a sh block"
    return command[1].split()


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_a_clone_without_shared_passes_the_test_command(tmp_path: Path) -> None:
    clone = tmp_path / "clone"  # nothing beside it: no ../shared
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECR_PTC_", "PYTEST_"))}
    env["PYTHONPATH"] = str(clone)  # the clone's code, in the subprocesses its tests start too
    command = _readme_test_command()
    assert command[:3] == [".venv/bin/python", "-m", "pytest"]
    # This interpreter has the test extra installed. Slow tests (a real pre-commit install, and
    # this test itself) are left out.
    args = [sys.executable, *command[1:], "-p", "no:cacheprovider", "-m", "not slow"]

    done = subprocess.run(args, cwd=clone, env=env, capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, skipped
    assert skipped[0].endswith(NO_CORPUS)
    assert re.search(r"\d+ passed, \d+ skipped", done.stdout)
