"""`rules check --puller`, creation templates in `rules check` and `rules plan`, and AWS_REGION,
end to end: the CLI against the local fake (tests/fake_ecr.py) with real boto3."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.aws_e2e_test import FIVE, HUB, _run
from tests.e2e_helpers import Done, in_process
from tests.fake_ecr import ACCOUNT, FakeEcr, aws_env, rule, serve
from tests.helpers import REGISTRY
from tests.plan_test import _terraform

ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-node"
REPOS = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository"
# The repository of tests/aws_e2e_test.py needs five rules; the account has three of them.
THREE = [
    rule("docker-hub", HUB, credential=True),
    rule("quay", "quay.io"),
    rule("github", "ghcr.io", credential=True),
]


@pytest.fixture
def fake() -> Iterator[FakeEcr]:
    with serve(FakeEcr(page_size=1)) as running:
        yield running


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(FIVE)
    return tmp_path


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Done]:
    return in_process(monkeypatch, capsys)


def test_puller_lacks_batch_import(fake: FakeEcr, repo: Path, cli: Callable[..., Done]) -> None:
    fake.rules = list(THREE)
    fake.lacking = {"ecr:BatchImportUpstreamImage"}

    done = cli(repo, aws_env(fake), "rules", "check", "--registry", REGISTRY, "--puller", ROLE)

    assert done.returncode == 1, done
    lines = done.stdout.splitlines()
    assert f"puller: {ROLE} lacks ecr:BatchImportUpstreamImage on {REPOS}/docker-hub/*" in lines
    start = lines.index("puller: the smallest policy that grants it:") + 1
    end = lines.index("  }", start) + 1
    document = json.loads("\n".join(lines[start:end]))
    assert document["Statement"] == [
        {
            "Sid": "EcrPtcPullThroughCache1",
            "Effect": "Allow",
            "Action": "ecr:BatchImportUpstreamImage",
            "Resource": [
                f"{REPOS}/docker-hub/*",
                f"{REPOS}/ecr-public/*",
                f"{REPOS}/github/*",
                f"{REPOS}/kubernetes/*",
                f"{REPOS}/quay/*",
            ],
        }
    ]
    assert lines[-1] == "5 rules: 3 ok, 2 missing; the puller lacks 5 permissions"
    # IAM's simulator, signed for IAM, every page (two results a page) of each question
    simulated = [s for s in fake.requests if s.target == "IAM.SimulatePrincipalPolicy"]
    assert {s.body["PolicySourceArn"] for s in simulated} == {ROLE}
    assert all("/us-east-1/iam/aws4_request" in s.headers["authorization"] for s in simulated)
    assert [s.body.get("Marker") for s in simulated[:4]] == [None, None, "2", None]
    assert simulated[0].body["ResourceArns.member.1"] == "*"

    planned = cli(
        repo, aws_env(fake), "rules", "plan", "--registry", REGISTRY, "--puller", ROLE,
        "--emit", "terraform",
    )  # fmt: skip

    assert planned.returncode == 0, planned
    policy = _terraform(planned.stdout)["resource"]["aws_iam_role_policy"]["ecr_ptc_puller"]
    assert (policy["role"], policy["name"]) == ("eks-node", "ecr-ptc-pull-through-cache")


def test_puller_that_is_not_an_arn_stops_before_aws(
    fake: FakeEcr, repo: Path, cli: Callable[..., Done]
) -> None:
    done = cli(repo, aws_env(fake), "rules", "check", "--registry", REGISTRY, "--puller", "x")
    assert done.returncode == 2
    assert done.stderr.startswith("ecr-ptc: --puller 'x' is not an IAM role or user ARN")
    assert fake.requests == []


def test_two_missing_rules_two_templates_then_none_when_root_covers(
    fake: FakeEcr, repo: Path, cli: Callable[..., Done]
) -> None:
    fake.rules = list(THREE)
    # docker-hub and quay have templates; github has none; kubernetes and ecr-public need rules
    fake.templates = [
        {"prefix": "docker-hub", "appliedFor": ["PULL_THROUGH_CACHE"]},
        {"prefix": "quay", "appliedFor": ["PULL_THROUGH_CACHE"], "lifecyclePolicy": "{}"},
        {"prefix": "github", "appliedFor": ["REPLICATION"]},
    ]
    (repo / ".ecr-ptc.yaml").write_text("templates:\n  lifecycle:\n    keep-last: 20\n")

    done = cli(repo, aws_env(fake), "rules", "plan", "--aws", "--emit", "terraform")

    assert done.returncode == 0, done
    terraform = _terraform(done.stdout)["resource"]
    assert sorted(terraform["aws_ecr_pull_through_cache_rule"]) == ["ecr_public", "kubernetes"]
    templates = terraform["aws_ecr_repository_creation_template"]
    assert sorted(templates) == ["ecr_public", "github", "kubernetes"]
    assert '"countNumber" = 20' in templates["kubernetes"]["lifecycle_policy"]
    pages = [s for s in fake.requests if s.target.endswith("DescribeRepositoryCreationTemplates")]
    assert [s.body.get("nextToken") for s in pages] == [None, "page-1", "page-2"]

    check = cli(repo, aws_env(fake), "rules", "check", "--aws")
    assert "template: quay/: template quay/: lifecycle policy" in check.stdout
    assert "template: github/: no repository creation template" in check.stdout

    fake.templates.append({"prefix": "ROOT", "appliedFor": ["PULL_THROUGH_CACHE"]})
    fake.rules = [
        *THREE,
        rule("kubernetes", "registry.k8s.io"),
        rule("ecr-public", "public.ecr.aws"),
    ]

    covered = cli(repo, aws_env(fake), "rules", "plan", "--aws", "--emit", "terraform")

    assert _terraform(covered.stdout)["resource"] == {}
    assert covered.stderr.splitlines()[-1] == "ecr-ptc: nothing to create"


def test_templates_denied_is_a_note_not_a_failure(
    fake: FakeEcr, repo: Path, cli: Callable[..., Done]
) -> None:
    fake.rules = list(THREE)
    fake.errors["DescribeRepositoryCreationTemplates"] = (
        400,
        "AccessDeniedException",
        "not authorized to perform: ecr:DescribeRepositoryCreationTemplates",
    )
    done = cli(repo, aws_env(fake), "rules", "check", "--registry", REGISTRY, "--format", "json")
    assert done.returncode == 1  # two rules missing, as without templates
    body = json.loads(done.stdout)
    assert body["templates"] == []
    assert body["notes"][-1].startswith(
        "repository creation templates not checked: access denied (AccessDeniedException)"
    )


def test_aws_region_comes_before_aws_default_region(fake: FakeEcr, repo: Path) -> None:
    """GitHub's configure-aws-credentials sets AWS_REGION; the AWS CLI reads it first."""
    fake.rules = list(THREE)
    env = aws_env(fake, region="us-east-1", AWS_REGION="eu-west-1")

    done = _run(repo, env, "rules", "plan", "--aws", "--emit", "json")

    assert done.returncode == 0, done
    assert json.loads(done.stdout)["registry"] == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
    assert all("/eu-west-1/" in s.headers["authorization"] for s in fake.requests)


def test_puller_from_a_task_definition(
    fake: FakeEcr, repo: Path, cli: Callable[..., Done], tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The role ECS pulls with is the task definition's executionRoleArn (either shape).
    task = tmp_path_factory.mktemp("deploy") / "task.json"
    task.write_text(json.dumps({"taskDefinition": {"executionRoleArn": ROLE}}))
    fake.rules = list(THREE)
    fake.lacking = {"ecr:BatchImportUpstreamImage"}

    done = cli(repo, aws_env(fake), "rules", "check", "--registry", REGISTRY, "--puller", str(task))

    assert done.returncode == 1, done
    assert f"puller: {ROLE} lacks ecr:BatchImportUpstreamImage on {REPOS}/docker-hub/*" in (
        done.stdout.splitlines()
    )
    simulated = [s for s in fake.requests if s.target == "IAM.SimulatePrincipalPolicy"]
    assert simulated and {s.body["PolicySourceArn"] for s in simulated} == {ROLE}


def test_puller_task_definition_without_a_role_stops_before_aws(
    fake: FakeEcr, repo: Path, cli: Callable[..., Done], tmp_path_factory: pytest.TempPathFactory
) -> None:
    task = tmp_path_factory.mktemp("deploy") / "task.json"
    task.write_text('{"containerDefinitions": [{"image": "nginx"}]}')
    done = cli(repo, aws_env(fake), "rules", "check", "--registry", REGISTRY, "--puller", str(task))
    assert done.returncode == 2
    assert "not a task definition with an executionRoleArn" in done.stderr
    assert fake.requests == []
