from __future__ import annotations

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
