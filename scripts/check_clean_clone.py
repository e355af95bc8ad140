"""CI's check that a user's clone stands on its own: clone this repository into an empty
directory (no ../shared beside it), run the README's two commands there as written — the one
that sets up and tries the bundled example, then the test command — and require that the tests
pass with every corpus test skipped for the one stated reason.

    python scripts/check_clean_clone.py    # from .ci/run, after the suite
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import NO_CORPUS


def readme_command(name: str) -> str:
    """The fenced block right after `<!-- command: NAME -->` in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- command: {name} -->\s*```(?:sh|bash)\n(.*?)```", readme, re.DOTALL)
    if found is None:
        raise SystemExit(f"README.md has no `<!-- command: {name} -->` block")
    return found[1].strip()


def run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    print(f"$ {command}", flush=True)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout[-4000:], done.stderr[-4000:], sep="\n", flush=True)
    return done


def main() -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECR_PTC_", "PYTEST_"))}
    env.pop("VIRTUAL_ENV", None)
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "ecr-ptc"  # nothing beside it: no ../shared
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)

        tried = run(readme_command("try"), clone, env)
        # The example holds references to migrate: `fix --diff` shows them and exits 1.
        if tried.returncode not in (0, 1) or "+++ " not in tried.stdout:
            print("clean clone: the README's first command did not show the example's diff")
            return 1

        tested = run(readme_command("test"), clone, env)
        if tested.returncode != 0:
            print(f"clean clone: the README's test command failed ({tested.returncode})")
            return 1
        skipped = [line for line in tested.stdout.splitlines() if line.startswith("SKIPPED")]
        if len(skipped) != 1 or not skipped[0].endswith(NO_CORPUS):
            print(f"clean clone: corpus tests must skip with one stated reason, got {skipped}")
            return 1
    print("clean clone: the README's commands pass without ../shared")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
