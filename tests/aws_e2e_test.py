"""The real CLI, in a subprocess, against a local ECR endpoint (tests/fake_ecr.py) through
AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL_STS, with dummy credentials and no shared config."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e_helpers import Done, in_process
from tests.fake_ecr import (
    ACCESS_KEY,
    ACCOUNT,
    SECRET_KEY,
    TARGET_PREFIX,
    FakeEcr,
    aws_env,
    rule,
    serve,
)
from tests.helpers import REGISTRY
from tests.plan_test import _terraform

HUB = "registry-1.docker.io"
FIVE = (
    "FROM nginx:1.27\n"
    "FROM quay.io/prometheus/node-exporter:v1.8.2\n"
    "FROM ghcr.io/acme/app:1.0\n"
    "FROM registry.k8s.io/pause:3.10\n"
    "FROM public.ecr.aws/docker/library/redis:7\n"
)
THREE = [
    rule("docker-hub", HUB, credential=True),
    rule("quay", "quay.io"),
    rule("gitlab", "registry.gitlab.com", credential=True),
    rule("github", "ghcr.io"),
]
ALL_FIVE = [
    rule("docker-hub", HUB, credential=True),
    rule("quay", "quay.io"),
    rule("github", "ghcr.io", credential=True),
    rule("kubernetes", "registry.k8s.io"),
    rule("ecr-public", "public.ecr.aws"),
]


@pytest.fixture
def fake() -> Iterator[FakeEcr]:
    with serve(FakeEcr(page_size=1)) as running:
        yield running


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(FIVE)
    return tmp_path


def _run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECR_PTC_"))}
    return subprocess.run(
        [sys.executable, "-m", "migrate", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Done]:
    """The same CLI in this process (boto3 is imported once): for the cases beyond the main
    scenario, to keep the suite fast. boto3 reads the environment when each command starts."""
    return in_process(monkeypatch, capsys)


def _one_line_failure(done: Done) -> str:
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr and SECRET_KEY not in done.stderr
    return str(done.stderr)


def test_five_upstreams_three_rules_one_without_credentials(fake: FakeEcr, repo: Path) -> None:
    fake.rules = list(THREE)

    check = _run(repo, aws_env(fake), "rules", "check", "--aws")

    assert check.returncode == 1, check
    lines = check.stdout.splitlines()
    assert (
        "missing: kubernetes/ -> registry.k8s.io: no rule in the account; 1 reference needs it "
        "(first at Dockerfile:4:6)"
    ) in lines
    assert (
        "missing: ecr-public/ -> public.ecr.aws: no rule in the account; 1 reference needs it "
        "(first at Dockerfile:5:6)"
    ) in lines
    assert any(
        line.startswith("no-credentials: github/ -> ghcr.io: the rule has no credentialArn")
        for line in lines
    )
    assert lines[-1] == "5 rules: 2 ok, 2 missing, 1 no-credentials"
    # STS for the account, then every page of the rules, each request signed for its service;
    # then the repository creation templates and the scanning configuration
    assert fake.targets() == ["STS.GetCallerIdentity"] + [
        f"{TARGET_PREFIX}DescribePullThroughCacheRules"
    ] * 4 + [
        f"{TARGET_PREFIX}DescribeRepositoryCreationTemplates",
        f"{TARGET_PREFIX}GetRegistryScanningConfiguration",
    ]
    assert [seen.body.get("nextToken") for seen in fake.requests[1:5]] == [
        None,
        "page-1",
        "page-2",
        "page-3",
    ]
    assert all(seen.body["registryId"] == ACCOUNT for seen in fake.requests[1:5])
    for seen, service in zip(fake.requests, ["sts", "ecr", "ecr", "ecr", "ecr"]):
        authorization = seen.headers["authorization"]
        assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
        assert (
            f"/us-east-1/{service}/aws4_request" in authorization and "Signature=" in authorization
        )
    assert fake.requests[1].headers["content-type"] == "application/x-amz-json-1.1"

    planned = _run(repo, aws_env(fake), "rules", "plan", "--aws", "--emit", "terraform")

    assert planned.returncode == 0, planned
    terraform = _terraform(planned.stdout)
    assert terraform["resource"]["aws_ecr_pull_through_cache_rule"] == {
        "kubernetes": {
            "ecr_repository_prefix": "kubernetes",
            "upstream_registry_url": "registry.k8s.io",
        },
        "ecr_public": {
            "ecr_repository_prefix": "ecr-public",
            "upstream_registry_url": "public.ecr.aws",
        },
    }
    assert "github/ -> ghcr.io: no-credentials" in planned.stderr

    fake.rules = list(ALL_FIVE)
    done = _run(repo, aws_env(fake), "rules", "check", "--registry", REGISTRY)

    assert done.returncode == 0, done
    assert done.stdout.splitlines()[-1] == "5 rules: 5 ok"


def test_json_format_for_ci(fake: FakeEcr, repo: Path, cli: Callable[..., Done]) -> None:
    fake.rules = list(THREE)
    (repo / "app.Dockerfile").write_text(f"FROM {REGISTRY}/kubernetes/pause:3.10\n")

    done = cli(repo, aws_env(fake), "rules", "check", "--registry", REGISTRY, "--format", "json")

    assert done.returncode == 1
    body = json.loads(done.stdout)
    assert {r["prefix"]: r["status"] for r in body["rules"]} == {
        "docker-hub": "ok",
        "ecr-public": "missing",
        "github": "no-credentials",
        "kubernetes": "missing",
        "quay": "ok",
    }
    assert [(f["path"], f["code"]) for f in body["findings"]] == [("app.Dockerfile", "PTC005")]


def test_validate_reports_awss_failure(fake: FakeEcr, repo: Path, cli: Callable[..., Done]) -> None:
    fake.rules = list(ALL_FIVE)
    fake.validations = {"docker-hub": "Unable to authenticate with the upstream registry"}

    done = cli(
        repo,
        aws_env(fake),
        "rules",
        "check",
        "--registry",
        REGISTRY,
        "--validate",
        "--format",
        "json",
    )

    assert done.returncode == 1, done
    statuses = {r["prefix"]: (r["status"], r["message"]) for r in json.loads(done.stdout)["rules"]}
    assert statuses["docker-hub"] == (
        "invalid",
        "AWS could not validate the rule: Unable to authenticate with the upstream registry",
    )
    assert {status for status, _ in statuses.values()} == {"ok", "invalid"}
    validated = [
        s.body["ecrRepositoryPrefix"]
        for s in fake.requests
        if s.target == f"{TARGET_PREFIX}ValidatePullThroughCacheRule"
    ]
    assert sorted(validated) == ["docker-hub", "ecr-public", "github", "kubernetes", "quay"]


def test_validate_of_a_rule_deleted_meanwhile(
    fake: FakeEcr, repo: Path, cli: Callable[..., Done]
) -> None:
    fake.rules = list(ALL_FIVE)
    fake.errors["ValidatePullThroughCacheRule"] = (
        400,
        "PullThroughCacheRuleNotFoundException",
        "The pull through cache rule does not exist",
    )

    done = cli(repo, aws_env(fake), "rules", "check", "--registry", REGISTRY, "--validate")

    assert done.returncode == 1
    assert (
        "invalid: quay/ -> quay.io: AWS could not validate the rule: the rule no longer exists"
        in done.stdout
    )


@pytest.mark.parametrize(
    ("kind", "expected"),
    (
        pytest.param(
            "AccessDeniedException",
            "ecr-ptc: access denied (AccessDeniedException) while listing "
            f"the pull-through cache rules of {ACCOUNT} in us-east-1: User: arn:aws:iam::{ACCOUNT}:"
            "user/ci is not authorized to perform: ecr:DescribePullThroughCacheRules",
            id="access-denied",
        ),
        pytest.param(
            "com.amazonaws.ecr#ExpiredTokenException",
            "ecr-ptc: the AWS credentials have expired (ExpiredTokenException)",
            id="expired",
        ),
    ),
)
def test_aws_refusals_are_one_line(
    fake: FakeEcr, repo: Path, kind: str, expected: str, cli: Callable[..., Done]
) -> None:
    fake.errors["DescribePullThroughCacheRules"] = (
        400,
        kind,
        (
            f"User: arn:aws:iam::{ACCOUNT}:user/ci is not authorized to perform: "
            "ecr:DescribePullThroughCacheRules"
        ),
    )
    done = _run(repo, aws_env(fake), "rules", "check", "--registry", REGISTRY)
    assert _one_line_failure(done).startswith(expected)
    for command in (("rules", "plan", "--aws"), ("fix", "--aws")):
        assert _one_line_failure(
            cli(repo, aws_env(fake), *command, "--registry", REGISTRY)
        ).startswith(expected)
    assert (repo / "Dockerfile").read_text() == FIVE


def test_throttling_is_retried_then_one_line(fake: FakeEcr, repo: Path) -> None:
    fake.errors["DescribePullThroughCacheRules"] = (400, "ThrottlingException", "Rate exceeded")

    done = _run(repo, aws_env(fake, AWS_MAX_ATTEMPTS="2"), "rules", "check", "--registry", REGISTRY)

    assert _one_line_failure(done).startswith(
        "ecr-ptc: AWS throttled the requests (ThrottlingException)"
    )
    assert len(fake.requests) == 2  # AWS_MAX_ATTEMPTS is honoured


def test_sts_failure_is_one_line(fake: FakeEcr, repo: Path, cli: Callable[..., Done]) -> None:
    fake.errors["STS.GetCallerIdentity"] = (
        403,
        "InvalidClientTokenId",
        "The security token is invalid",
    )
    done = cli(repo, aws_env(fake), "rules", "check", "--aws")
    assert _one_line_failure(done).startswith(
        "ecr-ptc: AWS did not accept the credentials (InvalidClientTokenId) while asking STS"
    )


def test_no_credentials(fake: FakeEcr, repo: Path, cli: Callable[..., Done]) -> None:
    env = aws_env(fake)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    done = cli(repo, env, "rules", "check", "--registry", REGISTRY)
    assert _one_line_failure(done).startswith("ecr-ptc: no AWS credentials found")
    assert fake.requests == []


def test_unreachable_endpoint(repo: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = aws_env(None, AWS_ENDPOINT_URL_ECR=f"http://127.0.0.1:{port}", AWS_MAX_ATTEMPTS="1")
    done = _run(repo, env, "rules", "check", "--registry", REGISTRY)
    assert _one_line_failure(done).startswith("ecr-ptc: cannot reach AWS while listing")


def test_plan_without_aws_covers_every_needed_rule_offline(
    fake: FakeEcr, repo: Path, cli: Callable[..., Done]
) -> None:
    done = cli(repo, aws_env(fake), "rules", "plan", "--registry", REGISTRY, "--emit", "json")
    assert done.returncode == 0
    assert [r["ecrRepositoryPrefix"] for r in json.loads(done.stdout)["rules"]] == [
        "docker-hub",
        "ecr-public",
        "github",
        "kubernetes",
        "quay",
    ]
    assert fake.requests == []


def test_no_registry_stops_before_aws(fake: FakeEcr, repo: Path, cli: Callable[..., Done]) -> None:
    done = cli(repo, aws_env(fake), "rules", "check")
    assert _one_line_failure(done).startswith("ecr-ptc: no registry: pass --registry")
    assert fake.requests == []


def test_fix_aws_rewrites_to_the_accounts_prefix(
    fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done]
) -> None:
    fake.rules = [rule("team-mirror", "ghcr.io", credential=True), rule("dh", HUB, credential=True)]
    (tmp_path / "Dockerfile").write_text(
        "FROM ghcr.io/acme/app:1.0\nFROM nginx:1.27\nFROM quay.io/a/b:1\n"
    )

    done = _run(tmp_path, aws_env(fake), "fix", "--aws")

    assert done.returncode == 1, done
    registry = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    assert (tmp_path / "Dockerfile").read_text() == (
        f"FROM {registry}/team-mirror/acme/app:1.0\n"
        f"FROM {registry}/dh/library/nginx:1.27\n"
        "FROM quay.io/a/b:1\n"  # no quay rule in the account: rewriting would break the pull
    )
    check = cli(tmp_path, aws_env(fake), "rules", "check", "--aws")
    assert check.returncode == 1
    assert check.stdout.splitlines()[-1] == "3 rules: 2 ok, 1 missing"

    plan = cli(tmp_path, aws_env(fake), "rules", "plan", "--aws", "--emit", "renovate")
    assert json.loads(plan.stdout)["registryAliases"] == {
        f"{registry}/team-mirror": "ghcr.io",
        f"{registry}/quay": "quay.io",
        f"{registry}/dh": "docker.io",
    }


@pytest.mark.parametrize("command", ("scan", "lint"))
def test_scan_and_lint_never_import_boto3(repo: Path, command: str) -> None:
    code = (
        "import sys\n"
        "import migrate.cli\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'on import'\n"
        f"migrate.cli.main([{command!r}, '.'])\n"
        "loaded = sorted(m for m in ('boto3', 'botocore') if m in sys.modules)\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "LOADED []" in done.stderr, done.stderr
