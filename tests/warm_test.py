"""`ecr-ptc warm` against the local fake ECR (tests/fake_ecr.py, tests/fake_registry.py): real
boto3 for GetAuthorizationToken and DescribeImages, the registry API over HTTP, no stubs."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from migrate.aws import client as aws
from migrate.aws import warm as warm_api
from tests.e2e_helpers import Done, in_process
from tests.fake_ecr import ACCESS_KEY, SECRET_KEY, FakeEcr, aws_env, rule, serve
from tests.fake_registry import PASSWORD, image, index, sha256
from tests.helpers import FIXTURES, REGISTRY

HUB = "registry-1.docker.io"
SCHEMA = Path(__file__).with_name("warm.schema.json")
INDEX, PLATFORMS = index("linux/amd64", "linux/arm64")
AMD64 = sha256(image("linux/amd64"))
STALE = "sha256:" + "b" * 64


@pytest.fixture
def fake() -> Iterator[FakeEcr]:
    with serve(FakeEcr(page_size=1)) as running:
        running.rules = [
            rule("docker-hub", HUB, credential=True),
            rule("quay", "quay.io"),
            rule("github", "ghcr.io", credential=True),
            rule("kubernetes", "registry.k8s.io"),
        ]
        yield running


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Done]:
    return in_process(monkeypatch, capsys)


def _statuses(done: Done) -> dict[str, str]:
    body = json.loads(done.stdout)
    return {r["reference"].removeprefix(f"{REGISTRY}/"): r["status"] for r in body["references"]}


def _valid(body: object) -> None:
    import jsonschema

    jsonschema.validate(body, json.loads(SCHEMA.read_text()))


def test_every_outcome(fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done]) -> None:
    upstreams = fake.registry
    upstreams.upstream(HUB, "library/nginx", tags={"1.27": INDEX}, children=PLATFORMS)
    upstreams.upstream(HUB, "library/redis", tags={"7": image("redis")}, throttle=2)
    upstreams.upstream(HUB, "library/busybox", tags={"1.36": image("busybox")}, throttle=9)
    upstreams.upstream(HUB, "library/alpine", tags={"3.20": image("alpine")})
    upstreams.upstream("quay.io", "prometheus/node-exporter", tags={"v1.8.2": image("ne")})
    upstreams.upstream("ghcr.io", "acme/app", tags={"1.0": image("app")}, refuse_credentials=True)
    upstreams.upstream("registry.k8s.io", "pause", tags={"3.10": image("pause")})
    upstreams.cache[("kubernetes/pause", "3.9")] = image("pause-3.9")  # warmed last week
    (tmp_path / "Dockerfile").write_text(
        f"FROM nginx:1.27@{AMD64}\n"  # an index; the pin is its amd64 image
        "FROM redis:7\n"  # throttled twice, then served
        "FROM busybox:1.36\n"  # throttled beyond the retries
        f"FROM alpine:3.20@{STALE}\n"  # the tag moved on since the pin
        "FROM quay.io/prometheus/node-exporter:v9\n"  # no such tag upstream
        "FROM ghcr.io/acme/app:1.0\n"  # the rule's secret is wrong
        f"FROM {REGISTRY}/kubernetes/pause:3.9\n"  # already on the cache, and cached
        f"FROM registry.k8s.io/pause@{sha256(image('pause'))}\n"  # digest alone, not cached
        "ARG TAG=1\nFROM registry.k8s.io/pause:${TAG}\n"  # templated tag
    )

    done = cli(tmp_path, aws_env(fake), "warm", "--registry", REGISTRY, "--format", "json")

    assert done.returncode == 1, done
    body = json.loads(done.stdout)
    _valid(body)
    assert _statuses(done) == {
        f"docker-hub/library/nginx:1.27@{AMD64}": "filled",
        "docker-hub/library/redis:7": "filled",
        "docker-hub/library/busybox:1.36": "throttled",
        f"docker-hub/library/alpine:3.20@{STALE}": "digest-mismatch",
        "quay/prometheus/node-exporter:v9": "not-found",
        "github/acme/app:1.0": "upstream-auth",
        "kubernetes/pause:3.9": "cached",
        f"kubernetes/pause@{sha256(image('pause'))}": "digest-only",
        "kubernetes/pause:${TAG}": "skipped",
    }
    by_status = {r["status"]: r for r in body["references"]}
    nginx, redis = body["references"][:2]
    assert nginx["served"] == sha256(INDEX)  # the index; the pin is one of its images
    assert redis["attempts"] == 3  # two 429s, then served
    assert by_status["throttled"]["attempts"] == 4  # bounded
    assert by_status["digest-mismatch"]["served"] == sha256(image("alpine"))
    assert "not the pinned" in by_status["digest-mismatch"]["message"]
    assert "write a tag beside it" in by_status["digest-only"]["message"]
    assert by_status["cached"]["locations"] == [{"path": "Dockerfile", "line": 7, "column": 6}]
    assert body["summary"]["filled"] == 2 and body["summary"]["served"] == 0
    # the index brought its platform images into the cache: a pull by the pinned digest works
    assert ("docker-hub/library/nginx", AMD64) in upstreams.cache
    # GetAuthorizationToken signed like any ECR call; the registry got the token as Basic auth
    [token] = [s for s in fake.requests if s.target.endswith("GetAuthorizationToken")]
    assert token.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    basic = base64.b64encode(f"AWS:{PASSWORD}".encode()).decode()
    gets = [s for s in fake.requests if s.target.startswith("GET /v2/")]
    assert {s.headers["authorization"] for s in gets} == {f"Basic {basic}"}
    assert all("application/vnd.oci.image.index.v1+json" in s.headers["accept"] for s in gets)
    assert PASSWORD not in done.stdout + done.stderr and SECRET_KEY not in done.stdout

    (tmp_path / "app.Dockerfile").write_text(f"FROM nginx@{AMD64}\n")  # a digest, now cached

    again = cli(tmp_path, aws_env(fake), "warm", "--registry", REGISTRY, "--format", "json")

    assert _statuses(again)["docker-hub/library/redis:7"] == "cached"
    assert _statuses(again)[f"docker-hub/library/nginx:1.27@{AMD64}"] == "cached"
    assert _statuses(again)[f"docker-hub/library/nginx@{AMD64}"] == "cached"


def test_the_example_repository(fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done]) -> None:
    """fixtures/example, warmed after `fix` (run on a copy), the account in every state."""
    repo = tmp_path / "example"
    shutil.copytree(FIXTURES / "example", repo)
    assert cli(repo, aws_env(fake), "fix", "--registry", REGISTRY).returncode == 1
    up = fake.registry.upstream
    up(HUB, "docker/dockerfile", tags={"1.7": INDEX}, children=PLATFORMS)  # a multi-arch index
    up(HUB, "library/python", tags={"3.12-slim": image("python")}, throttle=1)
    up(HUB, "library/golang", tags={"1.23": image("golang")}, throttle=99)
    up(HUB, "library/redis", tags={"7.4-alpine": image("redis")})
    up(HUB, "library/postgres", tags={"16.4": image("postgres")})
    up(HUB, "library/busybox", tags={"1.36": image("busybox")})
    up(HUB, "bitnami/nginx", tags={"1.27.2": image("nginx")})
    up("ghcr.io", "astral-sh/uv", refuse_credentials=True)
    up("ghcr.io", "example/web", refuse_credentials=True)
    up("quay.io", "prometheus/prometheus", tags={})  # the tag is gone upstream
    up("quay.io", "prometheus/nginx-exporter", tags={"1.3.0": image("exporter")})
    up("registry.k8s.io", "git-sync/git-sync", tags={"v4.2.4": image("git-sync")})
    fake.registry.cache[("docker-hub/library/postgres", "16.4")] = image("postgres")

    done = cli(repo, aws_env(fake), "warm", "--registry", REGISTRY, "--format", "json")

    assert done.returncode == 1, done
    body = json.loads(done.stdout)
    _valid(body)
    assert {k: v for k, v in body["summary"].items() if v} == {
        "cached": 1,
        "filled": 7,
        "not-found": 1,
        "upstream-auth": 2,
        "throttled": 1,
    }
    assert _statuses(done)["docker-hub/library/golang:1.23"] == "throttled"
    assert _statuses(done)["quay/prometheus/prometheus:v2.54.1"] == "not-found"
    assert _statuses(done)["docker-hub/library/postgres:16.4"] == "cached"
    # the Kustomize `images[].name` is a matcher, not a pull: busybox is warmed once, by tag
    assert [r["reference"] for r in body["references"]].count(
        f"{REGISTRY}/docker-hub/library/busybox:1.36"
    ) == 1
    assert not any(r["reference"].endswith("/busybox") for r in body["references"])


def test_text_and_exit_0_when_all_are_served(fake: FakeEcr, tmp_path: Path) -> None:
    """The installed entry point, as CI runs it before the merge."""
    fake.registry.upstream(HUB, "library/nginx", tags={"1.27": INDEX}, children=PLATFORMS)
    fake.registry.upstream("quay.io", "a/b", tags={"1": image("b")})
    (tmp_path / "Dockerfile").write_text("FROM nginx:1.27\nFROM quay.io/a/b:1\nFROM nginx:1.27\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECR_PTC_"))}

    done = subprocess.run(
        [sys.executable, "-m", "migrate", "warm", "--registry", REGISTRY, "."],
        cwd=tmp_path,
        env={**env, **aws_env(fake)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert done.returncode == 0, done
    nginx = f"{REGISTRY}/docker-hub/library/nginx:1.27 {sha256(INDEX)}"
    quay = f"{REGISTRY}/quay/a/b:1 {sha256(image('b'))}"
    assert done.stdout.splitlines() == [
        f"filled: {nginx} (Dockerfile:1:6 and 1 more): filled from the upstream now",
        f"filled: {quay} (Dockerfile:2:6): filled from the upstream now",
        "2 references: 2 filled",
    ]
    assert done.stderr == ""  # no progress line when stdout is not a terminal


def test_bearer_challenge(fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done]) -> None:
    """A registry (or proxy) that wants a Bearer token gets the Basic credentials at its realm."""
    fake.registry.bearer = True
    fake.registry.upstream("quay.io", "a/b", tags={"1": image("b")})
    (tmp_path / "Dockerfile").write_text("FROM quay.io/a/b:1\n")

    done = cli(tmp_path, aws_env(fake), "warm", "--registry", REGISTRY)

    assert done.returncode == 0, done
    gets = [s.target for s in fake.requests if s.target.startswith("GET ")]
    assert gets == [
        "GET /v2/quay/a/b/manifests/1",
        "GET /token?scope=repository%3Aquay%2Fa%2Fb%3Apull&service=fake-ecr",
        "GET /v2/quay/a/b/manifests/1",
    ]


def test_denied_without_describe_images(
    fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done]
) -> None:
    """The puller lacks ecr:BatchImportUpstreamImage: the registry refuses the first pull. Without
    ecr:DescribeImages nobody can tell cached from filled: said once, not an error."""
    fake.registry.upstream("quay.io", "a/b", tags={"1": image("b")})
    fake.registry.upstream("quay.io", "a/c", tags={"1": image("c")})
    fake.registry.cache[("quay/a/c", "1")] = image("c")
    fake.lacking = {"ecr:BatchImportUpstreamImage"}
    fake.errors["DescribeImages"] = (400, "AccessDeniedException", "not authorized")
    (tmp_path / "Dockerfile").write_text("FROM quay.io/a/b:1\nFROM quay.io/a/c:1\n")

    done = cli(tmp_path, aws_env(fake), "warm", "--registry", REGISTRY, "--concurrency", "1")

    assert done.returncode == 1, done
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"denied: {REGISTRY}/quay/a/b:1 (Dockerfile:1:6): the registry")
    assert "ecr:BatchImportUpstreamImage" in lines[0]
    assert lines[1].startswith(f"served: {REGISTRY}/quay/a/c:1 ")
    assert lines[2].startswith("note: cannot tell cached from filled: access denied")
    describes = [s for s in fake.requests if s.target.endswith("DescribeImages")]
    assert len(describes) == 1  # asked once, then never again


def test_token_refused_is_one_line(fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done]) -> None:
    fake.errors["GetAuthorizationToken"] = (400, "AccessDeniedException", "no ecr token for you")
    (tmp_path / "Dockerfile").write_text("FROM quay.io/a/b:1\n")

    done = cli(tmp_path, aws_env(fake), "warm", "--registry", REGISTRY)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "ecr-ptc: access denied (AccessDeniedException) while getting a registry token "
        "(ecr:GetAuthorizationToken): no ecr token for you\n"
    )


def test_nothing_to_warm_needs_no_token(
    fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done]
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    done = cli(tmp_path, aws_env(fake), "warm", "--registry", REGISTRY)
    assert (done.returncode, done.stdout) == (0, "no references to warm\n")
    assert fake.requests == []


def test_unreachable_registry_is_an_error_after_bounded_retries(
    fake: FakeEcr, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for key, value in aws_env(fake).items():
        monkeypatch.setenv(key, value)
    account = aws.connect(REGISTRY)
    [target] = warm_api.targets(_finding(), REGISTRY)
    waits: list[float] = []

    warmed = warm_api.run(
        [target], account, base_url=f"http://127.0.0.1:{port}", sleep=waits.append
    )

    [result] = warmed.results
    assert (result.status, result.attempts) == ("error", 4)
    assert result.message.startswith("cannot reach the registry: ")
    assert warmed.errors and not warmed.failed
    assert len(waits) == 3 and all(0 < w <= 20 for w in waits)  # backoff, bounded


def _finding() -> list[object]:
    from migrate.findings import Finding, Status

    return [
        Finding(
            "Dockerfile", 1, 6, 1, 20, "PTC002", Status.PUBLIC, "", kind="from",
            original="quay.io/a/b:1", reference="quay.io/a/b:1", upstream="quay.io",
            prefix="quay", target=f"{REGISTRY}/quay/a/b:1",
        )
    ]  # fmt: skip


def test_warm_stays_off_the_hook_path() -> None:
    from tests.startup_test import FORBIDDEN

    assert "migrate.aws.warm" in FORBIDDEN


def test_json_schema_is_strict() -> None:
    """The schema is a contract: it rejects an unknown status and an extra key."""
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    body = {"references": [], "summary": {}, "notes": [], "errors": []}
    jsonschema.validate(body, schema)
    for broken in ({**body, "extra": 1}, {**body, "notes": [1]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)
    assert schema["properties"]["references"]["items"]["properties"]["status"]["enum"] == list(
        warm_api.pull.STATUSES
    )


def test_progress_counts_references() -> None:
    import io

    from migrate.output import progress

    stream = io.StringIO()
    ticks = iter(range(10))
    items = list(
        progress.track(
            ["a", "b"], str, stream, clock=lambda: next(ticks), delay=0, noun="reference"
        )
    )
    assert items == ["a", "b"]
    assert "ecr-ptc: 2 references b" in stream.getvalue()


@pytest.mark.parametrize(
    ("url", "reason"),
    (
        ("http://proxy.example.com", "plain http is only for this machine"),
        ("ftp://127.0.0.1", "is not an http(s) base URL"),
    ),
)
def test_registry_url_that_would_leak_the_token(
    fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done], url: str, reason: str
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM quay.io/a/b:1\n")
    env = aws_env(fake, ECR_PTC_REGISTRY_URL=url)
    done = cli(tmp_path, env, "warm", "--registry", REGISTRY)
    assert done.returncode == 2
    assert done.stderr.startswith(f"ecr-ptc: --registry-url: {url!r}")
    assert reason in done.stderr
    assert fake.requests == []  # stopped before any AWS call
