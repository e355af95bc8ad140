"""The hooks under the real `pre-commit run`, installed from this checkout as users install them.

The hook repository is a copy of the project committed with a fixed identity and date, so its
commit id depends only on the content: pre-commit's environment (a ~20 s pip install) is built
once per content and reused from the pytest cache until the code changes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REGISTRY, ROOT
from tests.readme_recipes_test import recipe

pytestmark = pytest.mark.slow

_SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "build",
    "dist",
}
_FIXED = {
    "GIT_AUTHOR_NAME": "ecr-ptc test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "ecr-ptc test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}
USER_FILES = {
    "Dockerfile": "FROM alpine:3.20\nRUN true\n",
    "svc/api.Dockerfile": "FROM python:3.12-slim\n",
    "svc/worker.dockerfile": "FROM node:20\n",
    "Containerfile": "FROM quay.io/centos/centos:stream9\n",
    "compose.yaml": "services:\n  db:\n    image: postgres:16\n",
    "deploy/pod.yml": "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: redis:7\n",
    "chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    "chart/values.yaml": "image:\n  repository: bitnami/nginx\n  tag: 1.27.0\n",
    "chart/templates/deploy.yaml": "image: {{ .Values.image.repository }}\n",
    # Plain YAML under templates/ without a Chart.yaml: manifests like any other.
    "ops/templates/pod.yaml": "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: busybox\n",
    "kustomization.yaml": "images:\n  - name: app\n    newName: ghcr.io/acme/app\n    newTag: v1\n",
    ".github/workflows/ci.yml": "jobs:\n  t:\n    runs-on: ubuntu-latest\n    container: node:20\n",
    # An Azure template under templates/ is a pipeline: the hooks' `exclude` lets it through.
    ".azure-pipelines/templates/build.yml": "jobs:\n  - job: b\n    container: python:3.12\n",
    ".devcontainer/devcontainer.json": '{\n  // JSONC\n  "image": "ubuntu:24.04",\n}\n',
    "notes.md": "FROM alpine is not a Dockerfile\n",
}
REACHED = [
    name
    for name in USER_FILES
    if name not in ("chart/Chart.yaml", "chart/templates/deploy.yaml", "notes.md")
]


def _hooks() -> list[dict[str, str]]:
    from ruamel.yaml import YAML

    hooks: list[dict[str, str]] = YAML(typ="safe", pure=True).load(
        (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    )
    return hooks


@pytest.mark.parametrize("hook", ["ecr-ptc-fix", "ecr-ptc-lint"])
def test_hook_files_are_the_scanners_patterns(hook: str) -> None:
    from migrate.kinds.registry import FILES

    (found,) = [h for h in _hooks() if h["id"] == hook]
    assert found["files"] == FILES


def test_generated_files_are_current() -> None:
    """`.pre-commit-hooks.yaml`'s `files:` and the docs' table of kinds come from the kinds
    (scripts/generate.py); a kind added without running it fails here."""
    done = subprocess.run(
        [sys.executable, "scripts/generate.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _project_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0:
        names = [n for n in listed.stdout.split("\0") if n]
    else:  # not a git checkout (an unpacked archive): everything but caches and environments
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    return sorted(
        ROOT / n
        for n in names
        if not _SKIP_DIRS.intersection(Path(n).parts) and (ROOT / n).is_file()
    )


def _git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="session")
def hooks(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str, dict[str, str]]]:
    store = getattr(request.config, "cache", None)  # None under `-p no:cacheprovider`
    cache = Path(store.mkdir("ecr-ptc-pre-commit")) if store else tmp_path_factory.mktemp("hooks")
    repo = cache / "hook-repo"
    shutil.rmtree(repo, ignore_errors=True)
    for path in _project_files():
        target = repo / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    (cache / "gitconfig").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECR_PTC_", "GIT_"))}
    env |= _FIXED | {
        "GIT_CONFIG_GLOBAL": str(cache / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PRE_COMMIT_HOME": str(cache / "home"),
    }
    _git(repo, "init", "-q", "-b", "main", env=env)
    _git(repo, "add", "-A", env=env)
    _git(repo, "commit", "-q", "-m", "hooks under test", env=env)
    yield repo, _git(repo, "rev-parse", "HEAD", env=env).strip(), env
    # Drop environments of earlier contents whose configs are gone (pytest keeps 3 temp dirs).
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "gc"], env=env, capture_output=True, check=False
    )


def _pre_commit(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--color", "never", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def test_hooks_under_real_pre_commit(
    tmp_path: Path, hooks: tuple[Path, str, dict[str, str]]
) -> None:
    hook_repo, rev, env = hooks
    config = recipe("pre-commit")  # the README's snippet, pointed at this checkout
    config = re.sub(r"(?m)^(\s*- repo:).*$", rf"\1 {hook_repo}", config)
    config = re.sub(r"(?m)^(\s*rev:).*$", rf"\1 {rev}", config)
    assert REGISTRY in config
    user = tmp_path / "user"
    for name, text in {**USER_FILES, ".pre-commit-config.yaml": config}.items():
        (user / name).parent.mkdir(parents=True, exist_ok=True)
        (user / name).write_text(text)
    _git(user, "init", "-q", "-b", "main", env=env)
    _git(user, "add", "-A", env=env)
    _git(user, "commit", "-q", "-m", "init", env=env)

    lint = _pre_commit(user, env, "ecr-ptc-lint", "--all-files")
    assert lint.returncode == 1, lint.stdout + lint.stderr
    assert "Dockerfile:1:6: PTC001 alpine:3.20" in lint.stdout
    linted = {line.split(":")[0] for line in lint.stdout.splitlines() if ": PTC00" in line}
    assert linted == set(REACHED)

    fix = _pre_commit(user, env, "ecr-ptc-fix", "--all-files")
    assert fix.returncode == 1, fix.stdout + fix.stderr
    assert "files were modified by this hook" in fix.stdout
    # The recipe's fix hook runs --prove=off: the chart's and the kustomization's rewrites are
    # written on the static rules, and counted once.
    assert fix.stdout.count("not proven (--prove off)") == 1, fix.stdout
    assert (user / "Dockerfile").read_text() == (
        f"FROM {REGISTRY}/docker-hub/library/alpine:3.20\nRUN true\n"
    )
    for name in REACHED:
        assert REGISTRY in (user / name).read_text(), name
    assert (user / "notes.md").read_text() == USER_FILES["notes.md"]

    again = _pre_commit(user, env, "ecr-ptc-fix", "--all-files")
    assert again.returncode == 0, again.stdout + again.stderr
    assert _pre_commit(user, env, "ecr-ptc-lint", "--all-files").returncode == 0
