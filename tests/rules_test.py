"""Needed vs existing rules: pure tables, references scanned from real Dockerfiles."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from migrate.aws import rules
from migrate.aws.account import AccountRule
from migrate.aws.assess import Assessment, assess
from migrate.config import Config, Rule
from migrate.findings import Finding, Status
from migrate.output import report
from migrate.output import rules as rules_report
from migrate.rewrite import engine
from tests.helpers import REGISTRY
from tests.stub_account import StubAccount

HUB = "registry-1.docker.io"
SECRET = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
)
OTHER_ECR = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"


def _findings(tmp_path: Path, dockerfile: str, config: Config) -> list[Finding]:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return [f for r in engine.run(["Dockerfile"], config, tmp_path) for f in r.findings]


def _check(
    tmp_path: Path,
    dockerfile: str,
    existing: tuple[Rule, ...],
    own: Config | None = None,
    aws: bool = False,
    validations: dict[str, str | None] | None = None,
    registry: str = REGISTRY,
) -> rules.Check:
    """As the CLI does it: under --aws the account's rules classify, else the config's."""
    own = own or Config()
    effective = (
        replace(own, registry=registry, rules=existing) if aws else replace(own, registry=registry)
    )
    needs = rules.needed(_findings(tmp_path, dockerfile, effective), effective, own)
    return rules.check(needs, existing, own, registry, validations)


def _statuses(result: rules.Check) -> list[tuple[str, str, str]]:
    return [(s.prefix, s.upstream, s.status) for s in result.rules]


CASES = (
    pytest.param(
        "FROM nginx:1\n",
        (AccountRule("docker-hub", HUB, credential_arn=SECRET),),
        False,
        [("docker-hub", HUB, "ok")],
        id="ok",
    ),
    pytest.param(
        "FROM nginx:1\nFROM quay.io/a/b:1\n",
        (),
        False,
        [("docker-hub", HUB, "missing"), ("quay", "quay.io", "missing")],
        id="missing",
    ),
    pytest.param(
        "FROM nginx:1\n",
        (AccountRule("docker-hub", HUB),),
        False,
        [("docker-hub", HUB, "no-credentials")],
        id="hub-without-credentials",
    ),
    pytest.param(
        "FROM ghcr.io/o/a:1\n",
        (AccountRule("github", "ghcr.io"),),
        False,
        [("github", "ghcr.io", "no-credentials")],
        id="ghcr-without-credentials",
    ),
    pytest.param(
        "FROM quay.io/a/b:1\n",
        (AccountRule("quay", "quay.io"),),
        False,
        [("quay", "quay.io", "ok")],
        id="quay-needs-no-credentials",
    ),
    pytest.param(
        "FROM quay.io/a/b:1\n",
        (AccountRule("quay", "ghcr.io"),),
        False,
        [("quay", "quay.io", "mismatch")],
        id="prefix-bound-elsewhere",
    ),
    pytest.param(
        "FROM quay.io/a/b:1\n",
        (AccountRule("mirror-quay", "quay.io"),),
        False,
        [("quay", "quay.io", "mismatch")],
        id="config-prefix-disagrees-without-aws",
    ),
    pytest.param(
        "FROM quay.io/a/b:1\n",
        (AccountRule("mirror-quay", "quay.io"),),
        True,
        [("mirror-quay", "quay.io", "ok")],
        id="aws-any-prefix-serves-the-upstream",
    ),
    pytest.param(
        "FROM quay.io/a/b:1\n",
        (),
        True,
        [("quay", "quay.io", "missing")],
        id="aws-unserved-takes-the-default-prefix",
    ),
    pytest.param(
        "FROM nginx@sha256:" + "a" * 64 + "\n",
        (),
        False,
        [("docker-hub", HUB, "missing")],
        id="digest-only-counts-once",
    ),
    pytest.param("FROM gcr.io/a/b:1\nFROM localhost:5000/x\n", (), False, [], id="nothing-needed"),
    pytest.param("# ecr-ptc: ignore\nFROM nginx:1\n", (), False, [], id="suppressed-needs-no-rule"),
    pytest.param(
        "# ecr-ptc: ignore[PTC001]\nFROM nginx@sha256:" + "a" * 64 + "\n",
        (),
        False,
        [],
        id="suppressed-digest-only-needs-no-rule",
    ),
)


@pytest.mark.parametrize(("dockerfile", "existing", "aws", "expected"), CASES)
def test_check(
    tmp_path: Path,
    dockerfile: str,
    existing: tuple[Rule, ...],
    aws: bool,
    expected: list[tuple[str, str, str]],
) -> None:
    result = _check(tmp_path, dockerfile, existing, aws=aws)
    assert _statuses(result) == expected
    assert result.failed == any(status != "ok" for *_, status in expected)


def test_reference_counts_and_messages(tmp_path: Path) -> None:
    result = _check(
        tmp_path,
        "FROM nginx:1\nFROM nginx:2\nFROM quay.io/a/b:1\n",
        (AccountRule("quay", "quay.io"),),
    )
    by_prefix = {s.prefix: s for s in result.rules}
    assert by_prefix["docker-hub"].message == (
        "no rule in the account; 2 references need it (first at Dockerfile:1:6)"
    )
    assert by_prefix["quay"].message == "exists; 1 reference uses it"


def test_cached_reference_without_its_rule_is_ptc005(tmp_path: Path) -> None:
    result = _check(tmp_path, f"FROM {REGISTRY}/docker-hub/library/nginx:1\n", ())
    assert _statuses(result) == [("docker-hub", HUB, "missing")]
    [finding] = result.findings
    assert (finding.code, finding.line, finding.column, finding.prefix) == (
        "PTC005",
        1,
        6,
        "docker-hub",
    )
    assert finding.status is Status.CACHED and finding.target is None
    assert "no rule for docker-hub/" in finding.message


def test_aws_cached_reference_needs_its_own_prefix_even_when_another_serves_the_upstream(
    tmp_path: Path,
) -> None:
    # The account caches Docker Hub under team-mirror/, but this file already points at
    # docker-hub/: it is broken until docker-hub exists (or the file is migrated again).
    existing = (AccountRule("team-mirror", HUB, credential_arn=SECRET),)
    result = _check(
        tmp_path, f"FROM {REGISTRY}/docker-hub/library/nginx:1\nFROM nginx:2\n", existing, aws=True
    )
    assert _statuses(result) == [("docker-hub", HUB, "missing"), ("team-mirror", HUB, "ok")]
    assert "serves registry-1.docker.io under team-mirror/" in result.rules[0].message
    assert [f.code for f in result.findings] == ["PTC005"]


def test_cached_reference_with_its_rule_is_fine(tmp_path: Path) -> None:
    existing = (AccountRule("docker-hub", HUB, credential_arn=SECRET),)
    for aws in (False, True):
        result = _check(
            tmp_path, f"FROM {REGISTRY}/docker-hub/library/nginx:1\n", existing, aws=aws
        )
        assert _statuses(result) == [("docker-hub", HUB, "ok")] and not result.findings


def test_other_private_repositories_need_nothing(tmp_path: Path) -> None:
    result = _check(tmp_path, f"FROM {REGISTRY}/team/app:1\n", (), aws=True)
    assert result.rules == () and result.findings == ()


def test_explicit_config_that_disagrees_with_the_account_is_reported_under_aws(
    tmp_path: Path,
) -> None:
    own = Config(
        rules=(
            Rule("docker-hub", HUB),
            Rule("quay", "quay.io"),
            Rule("gitlab", "registry.gitlab.com"),
        )
    )
    existing = (
        AccountRule("team-mirror", HUB, credential_arn=SECRET),
        AccountRule("quay", "ghcr.io"),
    )
    result = _check(tmp_path, "FROM nginx:1\n", existing, own=own, aws=True)
    assert _statuses(result) == [
        ("team-mirror", HUB, "ok"),
        ("docker-hub", HUB, "mismatch"),
        ("quay", "quay.io", "mismatch"),  # gitlab: neither in the account nor needed -> silent
    ]
    assert "make .ecr-ptc.yaml say team-mirror" in result.rules[1].message
    assert "binds it to ghcr.io" in result.rules[2].message


def test_default_rules_are_not_a_statement_about_the_account(tmp_path: Path) -> None:
    existing = (
        AccountRule("team-mirror", HUB, credential_arn=SECRET),
        AccountRule("github", "quay.io"),
    )
    result = _check(tmp_path, "FROM nginx:1\n", existing, aws=True)
    assert _statuses(result) == [("team-mirror", HUB, "ok")]


def test_aws_unserved_upstream_takes_the_configs_prefix(tmp_path: Path) -> None:
    own = Config(rules=(Rule("dh", HUB),))
    result = _check(tmp_path, "FROM nginx:1\n", (), own=own, aws=True)
    assert _statuses(result) == [("dh", HUB, "missing")]


@pytest.mark.parametrize(
    ("existing", "expected"),
    (
        pytest.param(
            (AccountRule("cg-ex", "cgr.dev", "example.com", SECRET),),
            "ok",
            id="same-upstream-prefix",
        ),
        pytest.param(
            (AccountRule("cg-ex", "cgr.dev", None, SECRET),), "mismatch", id="account-rule-is-root"
        ),
        pytest.param(
            (AccountRule("cg-ex", "cgr.dev", "other.org", SECRET),), "mismatch", id="other-prefix"
        ),
    ),
)
def test_upstream_repository_prefix_must_match(
    tmp_path: Path, existing: tuple[Rule, ...], expected: str
) -> None:
    own = Config(rules=(Rule("cg-ex", "cgr.dev", "example.com"),))
    result = _check(tmp_path, "FROM cgr.dev/example.com/nginx:1\n", existing, own=own)
    assert [(s.prefix, s.status) for s in result.rules] == [("cg-ex", expected)]


def test_aws_upstream_prefix_rule_does_not_serve_other_paths(tmp_path: Path) -> None:
    # cgr.dev/chainguard/... is not under the account's example.com rule: it needs a root rule,
    # and the console's prefix for it is already taken by that rule.
    existing = (AccountRule("chainguard", "cgr.dev", "example.com", SECRET),)
    result = _check(
        tmp_path,
        "FROM cgr.dev/chainguard/static:1\nFROM cgr.dev/example.com/a:1\n",
        existing,
        aws=True,
    )
    assert _statuses(result) == [
        ("chainguard", "cgr.dev", "mismatch"),
        ("chainguard", "cgr.dev", "ok"),
    ]


@pytest.mark.parametrize(
    ("registry", "existing", "expected"),
    (
        pytest.param(
            REGISTRY, (AccountRule("ecr", OTHER_ECR),), "no-credentials", id="cross-account-no-role"
        ),
        pytest.param(
            REGISTRY,
            (AccountRule("ecr", OTHER_ECR, custom_role_arn="arn:aws:iam::123456789012:role/r"),),
            "ok",
            id="cross-account-with-role",
        ),
        pytest.param(
            "210987654321.dkr.ecr.us-east-1.amazonaws.com",
            (AccountRule("ecr", OTHER_ECR),),
            "ok",
            id="same-account-cross-region-needs-no-role",
        ),
        pytest.param(REGISTRY, (), "missing", id="missing"),
    ),
)
def test_cross_account_ecr(
    tmp_path: Path, registry: str, existing: tuple[Rule, ...], expected: str
) -> None:
    own = Config(rules=(Rule("ecr", OTHER_ECR),))
    result = _check(
        tmp_path, f"FROM {OTHER_ECR}/team/app:1\n", existing, own=own, registry=registry
    )
    assert [(s.prefix, s.upstream, s.status) for s in result.rules] == [
        ("ecr", OTHER_ECR, expected)
    ]


def test_validation_failure_is_invalid_with_awss_text(tmp_path: Path) -> None:
    existing = (
        AccountRule("docker-hub", HUB, credential_arn=SECRET),
        AccountRule("quay", "quay.io"),
    )
    failure = "Unable to authenticate with the upstream registry"
    result = _check(
        tmp_path,
        "FROM nginx:1\nFROM quay.io/a/b:1\n",
        existing,
        validations={"docker-hub": failure, "quay": None},
    )
    assert _statuses(result) == [("docker-hub", HUB, "invalid"), ("quay", "quay.io", "ok")]
    assert result.rules[0].message.endswith(failure)


def test_quota_note(tmp_path: Path) -> None:
    existing = tuple(AccountRule(f"p{i:02}", "quay.io") for i in range(49))
    result = _check(tmp_path, "FROM nginx:1\nFROM ghcr.io/a/b:1\n", existing)
    assert [s.status for s in result.rules] == ["missing", "missing"]
    assert result.notes == (
        (
            "2 missing rules but a registry holds at most 50 and this one has 49: "
            "only 1 more can be created"
        ),
    )


def test_ruleless_region(tmp_path: Path) -> None:
    registry = "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
    result = _check(tmp_path, "FROM nginx:1\n", (), registry=registry)
    assert result.rules[0].message.endswith("rules cannot be created in cn-north-1")
    assert "cannot be created in cn-north-1" in result.notes[0]
    assert rules.limits(
        "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", (Rule("a", "quay.io"),), 0
    )
    assert rules.limits(REGISTRY, (Rule("a", "quay.io"),), 0) == ()


def test_cross_partition_ecr_upstream_note() -> None:
    [note] = rules.limits(
        REGISTRY, (Rule("cn", "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn"),), 0
    )
    assert "another AWS partition" in note


# --- output ---------------------------------------------------------------------------------------
def _mixed(tmp_path: Path, **account: Any) -> Assessment:
    existing = (
        AccountRule("docker-hub", HUB, credential_arn=SECRET),
        AccountRule("github", "ghcr.io"),
    )
    text = f"FROM nginx:1\nFROM ghcr.io/o/a:1\nFROM quay.io/a/b:1\nFROM {REGISTRY}/kubernetes/pause:3\n"
    config = Config(registry=REGISTRY)
    findings = _findings(tmp_path, text, config)
    return assess(findings, config, Config(), StubAccount(existing, **account))


def test_json_output(tmp_path: Path) -> None:
    body = json.loads(rules_report.render(_mixed(tmp_path), (), 1, "json"))
    assert set(body) >= {"rules", "findings"}
    assert [(r["prefix"], r["status"]) for r in body["rules"]] == [
        ("docker-hub", "ok"),
        ("github", "no-credentials"),
        ("kubernetes", "missing"),
        ("quay", "missing"),
    ]
    assert all(set(r) == {"prefix", "upstream", "status", "message"} for r in body["rules"])
    assert [(f["code"], f["line"], f["prefix"]) for f in body["findings"]] == [
        ("PTC005", 4, "kubernetes")
    ]


def test_text_output(tmp_path: Path) -> None:
    lines = rules_report.render(_mixed(tmp_path), (), 1, "text").splitlines()
    assert lines[0] == "ok: docker-hub/ -> registry-1.docker.io: exists; 1 reference uses it"
    assert lines[-2].startswith("Dockerfile:4:6: PTC005 ")
    assert lines[-1] == "4 rules: 1 ok, 2 missing, 1 no-credentials; 1 PTC005"
    nothing = assess([], Config(registry=REGISTRY), Config(), StubAccount())
    assert rules_report.render(nothing, (), 0, "text") == "no rules needed\n"


def test_github_output(tmp_path: Path) -> None:
    lines = rules_report.render(_mixed(tmp_path), (), 1, "github").splitlines()
    assert lines[0].startswith("::error title=ecr-ptc rule github/::no-credentials: ")
    assert len([line for line in lines if line.startswith("::error title=ecr-ptc rule")]) == 3
    assert lines[-1].startswith("::error file=Dockerfile,line=4,col=6,")


def test_sarif_output(tmp_path: Path) -> None:
    log = json.loads(rules_report.render(_mixed(tmp_path), (), 1, "sarif"))
    run = log["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["PTC005"]
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is True
    levels = [n["level"] for n in invocation["toolExecutionNotifications"]]
    # the rules, then the four prefixes' templates: none covers them, a warning each
    assert levels == ["note", "error", "error", "error"] + ["warning"] * 4


def test_rules_check_renders_every_lint_format() -> None:
    """`rules check --format` offers what scan and lint offer: a new format needs its rules
    renderer."""
    assert set(rules_report.FORMATTERS) == set(report.FORMATTERS)


def test_rules_plan_offers_every_emitter() -> None:
    """`--emit` choices are plan.EMITTERS, read when click asks (not on the hook path)."""
    from migrate.aws import plan
    from migrate.cli import rules_plan

    [emit] = [p for p in rules_plan.params if p.name == "emit"]
    assert list(emit.type.choices) == sorted(plan.EMITTERS)  # type: ignore[attr-defined]
