"""One reference -> verdict: the upstream table, ECR recognition, targets and refusals."""

from __future__ import annotations

import pytest

from migrate.classify import classify, fails_lint
from migrate.config import Config, Rule
from migrate.findings import Status
from tests.helpers import REGISTRY

CONFIG = Config(registry=REGISTRY)


@pytest.mark.parametrize(
    ("written", "code", "upstream", "target"),
    (
        pytest.param(
            "nginx:1.27",
            "PTC001",
            "registry-1.docker.io",
            f"{REGISTRY}/docker-hub/library/nginx:1.27",
            id="official",
        ),
        pytest.param(
            "nginx",
            "PTC001",
            "registry-1.docker.io",
            f"{REGISTRY}/docker-hub/library/nginx",
            id="no-latest-added",
        ),
        pytest.param(
            "bitnami/redis:7.2",
            "PTC001",
            "registry-1.docker.io",
            f"{REGISTRY}/docker-hub/bitnami/redis:7.2",
            id="user-repo",
        ),
        pytest.param(
            "docker.io/nginx",
            "PTC001",
            "registry-1.docker.io",
            f"{REGISTRY}/docker-hub/library/nginx",
            id="docker.io",
        ),
        pytest.param(
            "index.docker.io/nginx:1",
            "PTC001",
            "registry-1.docker.io",
            f"{REGISTRY}/docker-hub/library/nginx:1",
            id="index-alias",
        ),
        pytest.param(
            "registry-1.docker.io/nginx:1",
            "PTC001",
            "registry-1.docker.io",
            f"{REGISTRY}/docker-hub/library/nginx:1",
            id="registry-1-alias",
        ),
        pytest.param(
            "registry.hub.docker.com/library/nginx",
            "PTC001",
            "registry-1.docker.io",
            f"{REGISTRY}/docker-hub/library/nginx",
            id="hub-alias",
        ),
        pytest.param(
            "quay.io/prometheus/node-exporter:v1.8.2",
            "PTC002",
            "quay.io",
            f"{REGISTRY}/quay/prometheus/node-exporter:v1.8.2",
            id="quay",
        ),
        pytest.param(
            "ghcr.io/a/b@sha256:" + "a" * 64,
            "PTC002",
            "ghcr.io",
            f"{REGISTRY}/github/a/b@sha256:" + "a" * 64,
            id="ghcr-digest",
        ),
        pytest.param(
            "registry.k8s.io/pause:3.10",
            "PTC002",
            "registry.k8s.io",
            f"{REGISTRY}/kubernetes/pause:3.10",
            id="k8s",
        ),
        pytest.param(
            "public.ecr.aws/nginx/nginx:1",
            "PTC002",
            "public.ecr.aws",
            f"{REGISTRY}/ecr-public/nginx/nginx:1",
            id="ecr-public",
        ),
        pytest.param(
            "registry.gitlab.com/g/p:1",
            "PTC002",
            "registry.gitlab.com",
            f"{REGISTRY}/gitlab/g/p:1",
            id="gitlab",
        ),
        pytest.param(
            "cgr.dev/chainguard/static",
            "PTC002",
            "cgr.dev",
            f"{REGISTRY}/chainguard/chainguard/static",
            id="chainguard",
        ),
        pytest.param(
            "node:${NODE_VERSION}-alpine",
            "PTC001",
            "registry-1.docker.io",
            f"{REGISTRY}/docker-hub/library/node:${{NODE_VERSION}}-alpine",
            id="variable-tag",
        ),
    ),
)
def test_rewritable(written: str, code: str, upstream: str, target: str) -> None:
    verdict = classify(written, CONFIG)
    assert (verdict.status, verdict.code, verdict.upstream, verdict.target) == (
        Status.PUBLIC,
        code,
        upstream,
        target,
    )


@pytest.mark.parametrize(
    ("written", "status", "code"),
    (
        pytest.param(
            f"{REGISTRY}/docker-hub/library/nginx:1", Status.CACHED, None, id="already-cached"
        ),
        pytest.param(f"{REGISTRY}/team/app:1", Status.PRIVATE, None, id="same-registry-other-repo"),
        pytest.param(
            "210987654321.dkr.ecr.eu-west-1.amazonaws.com/app:1",
            Status.PRIVATE,
            None,
            id="other-ecr",
        ),
        pytest.param(
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app",
            Status.PRIVATE,
            None,
            id="china-ecr",
        ),
        pytest.param(
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app",
            Status.PRIVATE,
            None,
            id="govcloud-fips",
        ),
        pytest.param("localhost:5000/app", Status.PRIVATE, None, id="localhost"),
        pytest.param("registry.example.com/app", Status.PRIVATE, None, id="unknown-host"),
        pytest.param("myreg.azurecr.io/app:1", Status.PRIVATE, None, id="acr-without-rule"),
        pytest.param("gcr.io/distroless/static", Status.UNSUPPORTED, "PTC003", id="gcr"),
        pytest.param(
            "us-docker.pkg.dev/p/r/i", Status.UNSUPPORTED, "PTC003", id="artifact-registry"
        ),
        pytest.param("mcr.microsoft.com/dotnet/sdk:8.0", Status.UNSUPPORTED, "PTC003", id="mcr"),
        pytest.param("k8s.gcr.io/pause", Status.UNSUPPORTED, "PTC003", id="k8s-gcr"),
        pytest.param("${REGISTRY}/nginx", Status.UNRESOLVED, "PTC004", id="variable-in-name"),
        pytest.param("{{ .Values.image }}", Status.UNRESOLVED, "PTC004", id="template"),
        pytest.param("NGINX", Status.UNRESOLVED, "PTC004", id="invalid"),
        pytest.param("quay.io/a__b/c", Status.INVALID, "PTC007", id="double-underscore"),
        pytest.param("quay.io/a--b/c", Status.INVALID, "PTC007", id="double-dash"),
        pytest.param("quay.io/a/" + "b" * 251, Status.INVALID, "PTC007", id="too-long-for-ecr"),
    ),
)
def test_not_rewritten(written: str, status: Status, code: str | None) -> None:
    verdict = classify(written, CONFIG)
    assert (verdict.status, verdict.code, verdict.target) == (status, code, None)


def test_rules_with_upstream_prefix_and_custom_prefixes() -> None:
    config = Config(
        registry=REGISTRY,
        rules=(
            Rule("mirror", "ghcr.io"),
            Rule("cg", "cgr.dev", "example.com"),
            Rule("other", "cgr.dev"),
            Rule("azure", "myreg.azurecr.io"),
            Rule("ecr", "210987654321.dkr.ecr.eu-west-1.amazonaws.com"),
        ),
    )
    assert classify("ghcr.io/a/b:1", config).target == f"{REGISTRY}/mirror/a/b:1"
    assert classify("cgr.dev/example.com/nginx:1", config).target == f"{REGISTRY}/cg/nginx:1"
    assert (
        classify("cgr.dev/chainguard/nginx", config).target == f"{REGISTRY}/other/chainguard/nginx"
    )
    assert classify("myreg.azurecr.io/app:1", config).target == f"{REGISTRY}/azure/app:1"
    assert (
        classify("210987654321.dkr.ecr.eu-west-1.amazonaws.com/app:1", config).target
        == f"{REGISTRY}/ecr/app:1"
    )
    unmapped = classify("quay.io/a/b", config)
    assert (unmapped.code, unmapped.target) == ("PTC002", None)
    assert "no rule" in unmapped.message


def test_without_registry_findings_have_no_target() -> None:
    verdict = classify("nginx", Config())
    assert (verdict.code, verdict.prefix, verdict.target) == ("PTC001", "docker-hub", None)


def test_digest_only() -> None:
    assert classify("nginx@sha256:" + "a" * 64, CONFIG).digest_only
    assert not classify("nginx:1@sha256:" + "a" * 64, CONFIG).digest_only


@pytest.mark.parametrize(
    ("code", "upstream", "prefix", "fail_on", "fails"),
    (
        ("PTC001", "registry-1.docker.io", "docker-hub", ("supported",), True),
        ("PTC002", "quay.io", "quay", ("supported",), True),
        ("PTC002", "quay.io", "quay", ("docker-hub",), False),
        ("PTC001", "registry-1.docker.io", "docker-hub", ("docker-hub",), True),
        ("PTC002", "quay.io", "quay", ("quay",), True),
        ("PTC003", None, None, ("supported",), False),
        ("PTC003", None, None, ("unsupported",), True),
        ("PTC006", "registry-1.docker.io", "docker-hub", ("PTC006",), True),
        ("PTC004", None, None, ("supported", "unsupported"), False),
        (None, None, None, ("supported",), False),
    ),
)
def test_fails_lint(
    code: str | None,
    upstream: str | None,
    prefix: str | None,
    fail_on: tuple[str, ...],
    fails: bool,
) -> None:
    assert fails_lint(code, upstream, prefix, fail_on) is fails


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "registry.example.org/team/app:1",
            (
                "registry.example.org/team/app:1 comes from registry.example.org, not a registry a "
                "pull-through cache serves (list it under `private:` in .ecr-ptc.yaml if it is yours)"
            ),
        ),
        ("localhost:5000/app:1", "localhost:5000/app:1 is in a private registry"),
    ],
)
def test_hosts_nobody_said_are_private_are_not_called_private(written: str, message: str) -> None:
    verdict = classify(written, Config())
    assert (verdict.status, verdict.code, verdict.message) == (Status.PRIVATE, None, message)
    configured = classify(written, Config(private=("registry.example.org", "localhost:5000")))
    assert configured.message == f"{written} is in a private registry"
