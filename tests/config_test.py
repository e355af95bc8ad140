from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

from migrate import config
from migrate.config import Config, ConfigError, Rule
from tests.helpers import REGISTRY


def _load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / ".ecr-ptc.yaml"
    path.write_text(text)
    return config.load(path)


def test_full_config(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        f"""\
registry: {REGISTRY}
rules:
  docker-hub: registry-1.docker.io
  hub-alias: docker.io
  cg: {{upstream: cgr.dev, upstream-prefix: example.com}}
  azure: myreg.azurecr.io
  ecr: 210987654321.dkr.ecr.eu-west-1.amazonaws.com
lint:
  fail-on: [docker-hub]
exclude: ["charts/vendor/**"]
private: ["registry.example.com"]
""",
    )
    assert loaded.registry == REGISTRY
    assert loaded.rules == (
        Rule("docker-hub", "registry-1.docker.io"),
        Rule("hub-alias", "registry-1.docker.io"),
        Rule("cg", "cgr.dev", "example.com"),
        Rule("azure", "myreg.azurecr.io"),
        Rule("ecr", "210987654321.dkr.ecr.eu-west-1.amazonaws.com"),
    )
    assert loaded.fail_on == ("docker-hub",)
    assert loaded.excluded("charts/vendor/x/values.yaml") and not loaded.excluded("charts/x.yaml")


def test_ci_and_include_tests(tmp_path: Path) -> None:
    assert not _load(tmp_path, "").runners_log_in and not _load(tmp_path, "").include_tests
    loaded = _load(
        tmp_path,
        "ci:\n  github-runners-have-ecr-credential-helper: true\ninclude-tests: true\n"
        "crossplane-registry: Index.Docker.io\n",
    )
    assert loaded.runners_log_in and loaded.include_tests
    assert loaded.crossplane_registry == "index.docker.io"


def test_defaults_are_the_console_prefixes(tmp_path: Path) -> None:
    assert [r.prefix for r in _load(tmp_path, "").rules] == [
        "docker-hub",
        "ecr-public",
        "kubernetes",
        "quay",
        "github",
        "gitlab",
        "chainguard",
    ]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    (
        pytest.param("registri: x\n", 1, "unknown key 'registri'", id="unknown-key"),
        pytest.param("lint:\n  fail-on: [x]\n", 2, "lint.fail-on: unknown 'x'", id="bad-fail-on"),
        pytest.param("registry: example.com\n", 1, "is not a private ECR host", id="bad-registry"),
        pytest.param(
            "rules:\n  ok: quay.io\n  gg: gcr.io\n",
            3,
            "'gcr.io' is not an upstream",
            id="unsupported-upstream",
        ),
        pytest.param("rules:\n  UPPER: quay.io\n", 2, "bad prefix 'UPPER'", id="bad-prefix"),
        pytest.param(
            "rules:\n  qq: {upstream: quay.io, mirror: x}\n",
            2,
            "unknown key 'rules.qq.mirror'",
            id="bad-rule-key",
        ),
        pytest.param("exclude: 3\n", 1, "exclude must be a list of strings", id="bad-exclude"),
        pytest.param("a: [\n", 2, "invalid YAML", id="invalid-yaml"),
        pytest.param("- 1\n", 1, "must be a mapping", id="not-a-mapping"),
        pytest.param(
            "ci:\n  github-runners-have-ecr-credential-helper: yes please\n",
            2,
            "ci.github-runners-have-ecr-credential-helper must be true or false",
            id="bad-ci-helper",
        ),
        pytest.param("ci:\n\n  runners: true\n", 3, "unknown key 'ci.runners'", id="unknown-ci"),
        pytest.param("ci: [x]\n", 1, "ci must be a mapping", id="ci-not-a-mapping"),
        pytest.param(
            "crossplane-registry: https://x/\n", 1, "is not a registry host", id="bad-crossplane"
        ),
        pytest.param(
            "include-tests: 1\n", 1, "include-tests must be true or false", id="bad-tests"
        ),
    ),
)
def test_errors_name_file_line_and_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, line: int, reason: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert caught.value.line == line
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f".ecr-ptc.yaml:{line}: ")


def test_find_stops_at_the_git_root(tmp_path: Path) -> None:
    (tmp_path / ".ecr-ptc.yaml").write_text("")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    assert config.find(repo / "sub") is None
    (repo / ".ecr-ptc.yaml").write_text("")
    assert config.find(repo / "sub") == (repo / ".ecr-ptc.yaml").resolve()


# --- discovery outside git: never from a shared parent (hardening, item 8) -------------------


def _plain(tmp_path: Path) -> Path:
    """tmp_path/home/project, outside any git work tree; HOME is tmp_path/home."""
    project = tmp_path / "home" / "project"
    project.mkdir(parents=True)
    return project


def test_find_outside_git_stops_at_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _plain(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / ".ecr-ptc.yaml").write_text("exclude: ['**']\n")  # above home: never read
    assert config.find(project) is None
    (tmp_path / "home" / ".ecr-ptc.yaml").write_text("")  # home itself is still searched
    assert config.find(project) == (tmp_path / "home" / ".ecr-ptc.yaml").resolve()


def test_find_never_reads_a_shared_temp_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The case: `exclude: ["**"]` in the system temp directory made lint say 0 files.
    shared = tmp_path / "tmp"
    (shared / "work").mkdir(parents=True)
    os.chmod(shared, 0o1777)  # world-writable and sticky, like /tmp
    (shared / ".ecr-ptc.yaml").write_text("exclude: ['**']\n")
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    assert config.find(shared / "work") is None
    (shared / "work" / ".ecr-ptc.yaml").write_text("")
    assert config.find(shared / "work") == (shared / "work" / ".ecr-ptc.yaml").resolve()


def test_find_outside_git_stops_at_the_filesystem_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _plain(tmp_path)
    monkeypatch.setenv("HOME", "/nonexistent")
    (tmp_path / ".ecr-ptc.yaml").write_text("")
    assert config.find(project) == (tmp_path / ".ecr-ptc.yaml").resolve()
    # `project` and `home` on one file system, everything above on another (a mount point)
    real_stat = os.stat
    mounted = {str((tmp_path / "home").resolve()), str(project.resolve())}

    def stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        info = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        if str(path) in mounted:
            fields = list(info)
            fields[2] = info.st_dev + 1  # st_dev
            return os.stat_result(fields)
        return info

    monkeypatch.setattr(config.os, "stat", stat)
    assert config.find(project) is None


def test_find_in_git_is_unchanged_by_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "a" / "b").mkdir(parents=True)
    (repo / ".ecr-ptc.yaml").write_text("")
    monkeypatch.setenv("HOME", str(repo / "a"))  # a home inside a repository: the root still wins
    assert config.find(repo / "a" / "b") == (repo / ".ecr-ptc.yaml").resolve()


def test_config_used_is_named_in_verbose_output_and_scan_summary(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migrate.cli import main

    monkeypatch.setenv("HOME", str(in_tmp))
    (in_tmp / "sub").mkdir()
    (in_tmp / ".ecr-ptc.yaml").write_text(f"registry: {REGISTRY}\n")
    (in_tmp / "sub" / "Dockerfile").write_text("FROM nginx:1.27\n")
    monkeypatch.chdir(in_tmp / "sub")

    runs = {}
    for args in (["scan"], ["lint", "-v"], ["fix", "--check", "--verbose"], ["scan", "-v"]):
        captured = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(captured[0]), contextlib.redirect_stderr(captured[1]):
            main(args)
        runs[" ".join(args)] = (captured[0].getvalue(), captured[1].getvalue())

    assert runs["scan"][0].splitlines()[-1].endswith("; config ../.ecr-ptc.yaml")
    assert "config" not in runs["scan"][1]  # not verbose: stderr stays quiet
    for verbose in ("lint -v", "fix --check --verbose", "scan -v"):
        assert "ecr-ptc: config ../.ecr-ptc.yaml\n" in runs[verbose][1], runs[verbose]
    (in_tmp / ".ecr-ptc.yaml").unlink()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["scan"])
    assert out.getvalue().splitlines()[-1].endswith("; no config file")
