"""After the rewrite: the setup each CI system needs (fix's stderr, the PR description) and the
lint option that catches a job pulling from the cache without credentials (PTC013)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.cli import main
from migrate.config import Config
from migrate.findings import CODES
from migrate.kinds import ci_login
from migrate.kinds.registry import CI_SCANNERS
from migrate.pr import body as pr_body
from migrate.rewrite import engine
from tests.helpers import REGISTRY

CACHED = f"{REGISTRY}/docker-hub/library/node:20"
UNDERSCORED = "123456789012_dkr_ecr_us_east_1_amazonaws_com"


def test_every_ci_kind_has_guidance_with_documentation() -> None:
    assert [g.kind for g in ci_login.for_kinds(s.NAME for s in CI_SCANNERS)] == [
        s.NAME for s in CI_SCANNERS
    ]
    for guidance in ci_login.GUIDANCE.values():
        assert guidance.docs and all(url.startswith("https://") for url in guidance.docs)
        assert REGISTRY in ci_login.render(guidance, REGISTRY)


def test_github_guidance_is_filled_in_for_the_registry() -> None:
    text = ci_login.render(ci_login.GUIDANCE["github-actions"], REGISTRY)
    assert f"steps.ecr.outputs.docker_username_{UNDERSCORED} }}}}" in text
    assert "role-to-assume: arn:aws:iam::123456789012:role/" in text
    assert "aws-region: us-east-1" in text
    assert "mask-password: 'false'" in text
    assert "username: ${{ needs.ecr-login.outputs.username }}" in text


def test_text_and_markdown_name_each_system_once_and_skip_other_kinds() -> None:
    kinds = ["gitlab-ci", "dockerfile", "gitlab-ci", "circleci", None]
    text = ci_login.text(kinds, REGISTRY)
    assert text.count("must log in") == 2
    assert text.index("GitLab CI") < text.index("CircleCI")
    assert '{"credHelpers": {"' + REGISTRY + '": "ecr-login"}}' in text
    assert "https://circleci.com/docs/pull-an-image-from-aws-ecr-with-oidc/" in text
    lines = ci_login.markdown(kinds, REGISTRY)
    assert lines[0] == "### CI registry credentials"
    assert sum(line.startswith("**") for line in lines) == 2
    assert ci_login.text(["compose", "helm"], REGISTRY) == ""
    assert ci_login.markdown([], REGISTRY) == []


def test_pr_description_has_the_ci_section(tmp_path: Path) -> None:
    (tmp_path / ".circleci").mkdir()
    (tmp_path / ".circleci/config.yml").write_text(
        "jobs:\n  a:\n    docker:\n      - image: cimg/base:current\n"
    )
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\n")
    results = engine.run(["."], Config(registry=REGISTRY), tmp_path, fix=True)
    summary = pr_body.summarise(REGISTRY, results)
    body = pr_body.body(summary, (), plan="", renovate="{}")
    assert "### CI registry credentials" in body
    assert "**CircleCI** (<https://circleci.com/docs/pull-an-image-from-aws-ecr-with-oidc/>" in body
    assert body.index("### CI registry credentials") < body.index("### Renovate")


def _workflow(credentials: bool) -> str:
    extra = "\n      credentials: {username: u, password: p}" if credentials else ""
    return f"jobs:\n  a:\n    container:\n      image: {CACHED}{extra}\n"


@pytest.mark.parametrize(
    ("credentials", "flag", "expected"),
    [
        pytest.param(False, True, 1, id="missing-fails"),
        pytest.param(True, True, 0, id="declared-passes"),
        pytest.param(False, False, 0, id="not-asked"),
    ],
)
def test_lint_require_ci_credentials(
    credentials: bool,
    flag: bool,
    expected: int,
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (in_tmp / ".github/workflows").mkdir(parents=True)
    (in_tmp / ".github/workflows/ci.yml").write_text(_workflow(credentials))
    args = ["lint", "--registry", REGISTRY, *(["--require-ci-credentials"] if flag else []), "."]
    assert main(args) == expected
    out = capsys.readouterr().out
    assert ("PTC013" in out) is bool(expected)
    if expected:
        assert ".github/workflows/ci.yml:4:14: PTC013 " in out
        assert "add `credentials:` fed by an earlier job's aws-actions/amazon-ecr-login" in out


def test_require_ci_credentials_from_the_config_and_suppressed(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / ".ecr-ptc.yaml").write_text("lint:\n  require-ci-credentials: true\n")
    (in_tmp / ".circleci").mkdir()
    config = f"jobs:\n  a:\n    docker:\n      - image: {CACHED}\n"
    (in_tmp / ".circleci/config.yml").write_text(config)
    assert main(["lint", "--registry", REGISTRY, "."]) == 1
    assert "PTC013" in capsys.readouterr().out

    (in_tmp / ".circleci/config.yml").write_text(
        config.replace("      - image", "      # ecr-ptc: ignore[PTC013]\n      - image")
    )
    assert main(["lint", "--registry", REGISTRY, "."]) == 0


def test_require_ci_credentials_must_be_a_boolean(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / ".ecr-ptc.yaml").write_text("lint:\n  require-ci-credentials: yes please\n")
    assert main(["lint", "."]) == 2
    assert "lint.require-ci-credentials must be true or false" in capsys.readouterr().err


def test_ptc013_is_a_known_code() -> None:
    assert CODES["PTC013"].title == "CI job pulls from the cache without registry credentials"
