"""`warm` against a registry that answers like an attacker (tests/hostile_registry.py): every
reference gets its own result, nothing hangs, a signal ends the run, no token is printed
(issue 21, defects 2, 7, 8 and 15)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from migrate.aws import client as aws
from migrate.aws import warm as warm_api
from migrate.aws.warm.targets import Target
from tests import hostile_registry
from tests.e2e_helpers import Done, in_process
from tests.fake_ecr import FakeEcr, aws_env, serve
from tests.fake_registry import PASSWORD
from tests.helpers import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake() -> Iterator[FakeEcr]:
    with serve(FakeEcr()) as running:  # GetAuthorizationToken and DescribeImages only
        yield running


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Done]:
    return in_process(monkeypatch, capsys)


def _dockerfile(path: Path, behaviours: list[str]) -> None:
    path.write_text("".join(f"FROM quay.io/{b}/x:1\n" for b in behaviours))


def _results(done: Done) -> dict[str, dict[str, object]]:
    body = json.loads(done.stdout)
    return {r["repository"].split("/")[1]: r for r in body["references"]}


def _target(behaviour: str, n: int = 0) -> Target:
    return Target(
        f"{REGISTRY}/quay/{behaviour}/{n}:1",
        f"quay/{behaviour}/{n}",
        "quay",
        "1",
        None,
        (("Dockerfile", n + 1, 6),),
    )


def _account(fake: FakeEcr, monkeypatch: pytest.MonkeyPatch) -> aws.Account:
    for key, value in aws_env(fake).items():
        monkeypatch.setenv(key, value)
    return aws.connect(REGISTRY)


HOSTILE = ["deep", "manifests-int", "errors-dict", "deep-error", "crlf-token", "garbage"]


def test_each_hostile_answer_is_that_references_result(
    fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done]
) -> None:
    # Defect 7: `"[" * 200000`, `{"manifests": 5}`, `{"errors": {"a": 1}}`, a CR LF in a
    # realm's token were each an internal error that lost every result.
    _dockerfile(tmp_path / "Dockerfile", ["good", *HOSTILE])
    with hostile_registry.serve() as registry:
        env = aws_env(fake, ECR_PTC_REGISTRY_URL=registry.url)
        done = cli(tmp_path, env, "warm", "--registry", REGISTRY, "--format", "json")

    assert "internal error" not in done.stderr
    assert done.returncode == 2, done.stderr
    results = _results(done)
    assert {name: r["status"] for name, r in results.items()} == {
        "good": "filled",
        "deep": "error",
        "manifests-int": "error",
        "errors-dict": "not-found",
        "deep-error": "error",
        "crlf-token": "denied",
        "garbage": "error",
    }
    assert "no usable manifest: the body is not a JSON object" in str(results["deep"]["message"])
    assert "manifests are not a list" in str(results["manifests-int"]["message"])
    assert "X-Injected" not in done.stdout


BAD_BODIES = {
    "empty": "the body is empty",
    "truncated": "cut short or altered",
    "wrong-digest": "cut short or altered",
    "wrong-type": "'text/html' is not an image index or manifest",
    "not-json": "not a JSON object",
}


def test_a_200_without_a_valid_manifest_is_not_filled(
    fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done]
) -> None:
    # Defect 15: an empty, cut or altered body was `filled`, with the digest of empty input.
    _dockerfile(tmp_path / "Dockerfile", ["good", *BAD_BODIES])
    with hostile_registry.serve() as registry:
        env = aws_env(fake, ECR_PTC_REGISTRY_URL=registry.url)
        done = cli(tmp_path, env, "warm", "--registry", REGISTRY, "--format", "json")

    assert done.returncode == 2, done.stderr
    results = _results(done)
    assert results.pop("good")["status"] == "filled"
    for name, why in BAD_BODIES.items():
        result = results[name]
        assert (result["status"], result["served"]) == ("error", None), result
        assert why in str(result["message"]), result
        assert result["attempts"] == 1  # an unusable answer is not asked for again


def test_the_token_is_redacted_in_every_form_sent(
    fake: FakeEcr, tmp_path: Path, cli: Callable[..., Done]
) -> None:
    # Defect 2: only the password was redacted, not base64("AWS:" + password) as sent.
    _dockerfile(tmp_path / "Dockerfile", ["echo"])
    with hostile_registry.serve() as registry:
        env = aws_env(fake, ECR_PTC_REGISTRY_URL=registry.url)
        done = cli(tmp_path, env, "warm", "--registry", REGISTRY)

    wire = base64.b64encode(f"AWS:{PASSWORD}".encode()).decode()
    printed = done.stdout + done.stderr
    assert "bad request: Authorization: <redacted>" in printed
    for form in (PASSWORD, wire, wire.rstrip("="), urllib.parse.quote(f"Basic {wire}", safe="")):
        assert form not in printed
    assert "QVdTOm" not in printed  # base64 of "AWS:", the start of every encoding of it


@pytest.mark.parametrize("behaviour", ["trickle", "trickle-headers"])
def test_a_trickling_answer_ends_at_the_requests_deadline(
    fake: FakeEcr, monkeypatch: pytest.MonkeyPatch, behaviour: str
) -> None:
    # Defect 8: one byte every few tenths of a second never trips a socket timeout.
    account = _account(fake, monkeypatch)
    with hostile_registry.serve(interval=0.2) as registry:
        started = time.monotonic()
        warmed = warm_api.run(
            [_target(behaviour), _target("good")],
            account,
            base_url=registry.url,
            request_deadline=1.0,
        )
        took = time.monotonic() - started

    slow, good = warmed.results
    assert (slow.status, slow.attempts) == ("error", 1)
    assert slow.message == "cannot reach the registry: no complete answer within 1 s"
    assert good.status == "filled"
    assert took < 4


def test_the_run_ends_at_its_deadline_with_a_result_for_every_reference(
    fake: FakeEcr, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = _account(fake, monkeypatch)
    targets = [_target("good", 0), *(_target("trickle", n) for n in range(1, 5))]
    with hostile_registry.serve(interval=0.2) as registry:
        started = time.monotonic()
        warmed = warm_api.run(targets, account, base_url=registry.url, concurrency=2, deadline=1.5)
        took = time.monotonic() - started

    assert took < 5
    assert [r.target for r in warmed.results] == targets
    assert warmed.results[0].status == "filled"
    for result in warmed.results[1:]:
        assert result.status == "error"
        assert result.message in (
            "not warmed: the run's deadline (1.5 s) passed first",
            warm_api.pull.STOPPED,
        )


@pytest.mark.parametrize(("signum", "said"), [(signal.SIGTERM, "terminated"),
                                              (signal.SIGINT, "aborted")])  # fmt: skip
def test_a_signal_ends_the_run_promptly_and_every_reference_is_reported(
    fake: FakeEcr, tmp_path: Path, signum: int, said: str
) -> None:
    # Defect 8: SIGTERM and SIGINT were ignored until every queued reference had been tried.
    _dockerfile(tmp_path / "Dockerfile", ["good", *(["trickle"] * 6)])
    (tmp_path / "Dockerfile").write_text(
        "FROM quay.io/good/x:1\n" + "".join(f"FROM quay.io/trickle/{n}:1\n" for n in range(6))
    )
    with hostile_registry.serve(interval=0.5) as registry:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECR_PTC_"))}
        env.update(aws_env(fake, ECR_PTC_REGISTRY_URL=registry.url, PYTHONPATH=str(ROOT)))
        command = [sys.executable, "-m", "migrate", "warm", "--registry", REGISTRY]
        child = subprocess.Popen(
            [*command, "--format", "json", "--concurrency", "2"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_requests(registry, 3, child)
        sent = time.monotonic()
        child.send_signal(signum)
        out, err = child.communicate(timeout=20)
        took = time.monotonic() - sent

    assert took < 3, took
    assert child.returncode == 2
    assert err.splitlines()[-1] == f"ecr-ptc: {said}"
    body = json.loads(out)
    assert len(body["references"]) == 7
    statuses = [r["status"] for r in body["references"]]
    assert statuses[0] == "filled" and set(statuses[1:]) == {"error"}
    assert {r["message"] for r in body["references"][1:]} == {warm_api.pull.STOPPED}


def _wait_for_requests(
    registry: hostile_registry.HostileServer, count: int, child: subprocess.Popen[str]
) -> None:
    for _ in range(400):
        if registry.requests >= count or child.poll() is not None:
            return
        time.sleep(0.025)
