"""Docker Official Images: `docker.io/library/X` is rewritten only when X exists (PTC008
otherwise), the table ships with the package, config adds names, and the refresh script reads
a git history of docker-library/official-images correctly (offline: a small local one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from migrate import official
from migrate.classify import classify
from migrate.cli import main
from migrate.config import Config, ConfigError, load
from migrate.findings import Status
from tests.helpers import REGISTRY, ROOT

SCRIPT = ROOT / "scripts" / "refresh_official_images.py"


def test_table_holds_current_and_deprecated_names() -> None:
    rows = dict(official.parse(official.DATA.read_text(encoding="utf-8").splitlines()))
    assert rows["nginx"] == "current" and rows["centos"] == "deprecated"
    assert len(rows) > 150 and set(rows.values()) == {"current", "deprecated"}
    assert official.names() == frozenset(rows)


@pytest.mark.parametrize(
    ("written", "config", "code", "status"),
    [
        ("nginx:1.27", Config(), "PTC001", Status.PUBLIC),
        ("docker.io/library/centos:7", Config(), "PTC001", Status.PUBLIC),  # deprecated, pullable
        ("frontend", Config(), "PTC008", Status.NOT_OFFICIAL),
        ("auto", Config(), "PTC008", Status.NOT_OFFICIAL),
        ("frontend", Config(official_images=("frontend",)), "PTC001", Status.PUBLIC),
        ("acme/frontend:1", Config(), "PTC001", Status.PUBLIC),  # not library/: any user's
    ],
)
def test_classify(written: str, config: Config, code: str, status: Status) -> None:
    verdict = classify(written, config.with_registry(REGISTRY))
    assert (verdict.code, verdict.status) == (code, status)
    if code == "PTC008":
        assert verdict.target is None and verdict.upstream is None
        assert (
            "not a Docker Official Image: a local build, a placeholder or a typo" in verdict.message
        )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("official-images: [my-base, acme.tools]\n", None),
        ("official-images: my-base\n", None),
        (
            "\nofficial-images: [My-Base]\n",
            "2: official-images: 'My-Base' is not a Docker Hub name",
        ),
        ("official-images: {a: b}\n", "1: official-images must be a list of strings"),
    ],
)
def test_config_key(text: str, error: str | None, tmp_path: Path) -> None:
    path = tmp_path / ".ecr-ptc.yaml"
    path.write_text(text)
    if error is None:
        assert load(path).official_images in (("my-base", "acme.tools"), ("my-base",))
    else:
        with pytest.raises(ConfigError) as caught:
            load(path)
        assert str(caught.value).endswith(error) or error in str(caught.value)


def test_lint_warns_without_failing_unless_asked(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / "Dockerfile").write_text("FROM my-base:1\n")
    assert main(["lint", "Dockerfile"]) == 0
    assert main(["lint", "--fail-on", "PTC008", "Dockerfile"]) == 1
    assert main(["fix", "--check", "--registry", REGISTRY, "Dockerfile"]) == 0
    (in_tmp / ".ecr-ptc.yaml").write_text("official-images: [my-base]\n")
    assert main(["fix", "--registry", REGISTRY, "Dockerfile"]) == 1
    assert (in_tmp / "Dockerfile").read_text() == f"FROM {REGISTRY}/docker-hub/library/my-base:1\n"
    out = capsys.readouterr().out
    assert (
        "Dockerfile:1:6: PTC008 my-base:1: docker.io/library/my-base is not a Docker Official"
        in out
    )


def _git(repo: Path, *args: str) -> None:
    env = {"GIT_AUTHOR_DATE": "2026-01-02T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-02T00:00:00Z"}
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        env={**env, "PATH": "/usr/bin:/bin", "HOME": str(repo)},
    )


def test_refresh_script_reads_the_history(tmp_path: Path) -> None:
    repo = tmp_path / "official-images"
    (repo / "library").mkdir(parents=True)
    _git(repo, "init", "-q")
    for name in ("alpine", "centos", "old-name"):
        (repo / "library" / name).write_text(f"Tags: {name}\n")
    (repo / "README.md").write_text("not an image\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "add")
    _git(repo, "rm", "-q", "library/centos")
    _git(repo, "mv", "library/old-name", "library/new-name")
    _git(repo, "commit", "-qm", "deprecate centos, rename old-name")

    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--repo", str(repo), "--output", "-"],
        capture_output=True,
        text=True,
        check=True,
    )

    rows = dict(official.parse(done.stdout.splitlines()))
    assert rows == {
        "alpine": "current",
        "centos": "deprecated",
        "new-name": "current",
        "old-name": "deprecated",
    }
    assert "(main branch history up to commit" in done.stdout and "2026-01-02" in done.stdout


def test_table_is_package_data() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'migrate = ["data/*.tsv"]' in pyproject
