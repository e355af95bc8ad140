"""A small ECR (JSON 1.1) + STS and IAM (query/XML) endpoint on 127.0.0.1 for end-to-end tests,
with ECR's registry API (tests/fake_registry.py) on the same port.

moto and LocalStack implement neither pull-through cache nor the registry API, so this serves
what the CLI uses: the rules (paged by `nextToken`), their validation, repository creation
templates (paged), the registry scanning configuration, GetAuthorizationToken, DescribeImages,
STS GetCallerIdentity and IAM SimulatePrincipalPolicy (paged by `Marker`). It answers with AWS's
error shapes and records each request so a test can check the SigV4 `Authorization` header.
Bounded: it answers at most MAX_REQUESTS requests and every socket has a timeout.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from tests.fake_registry import FakeRegistry

TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
MAX_REQUESTS = 1000
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Seen:
    target: str  # X-Amz-Target, or "STS.<Action>"
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeEcr:
    rules: list[dict[str, Any]] = field(default_factory=list)  # API-shaped PullThroughCacheRule
    page_size: int = 2
    account: str = ACCOUNT
    # target (e.g. "DescribePullThroughCacheRules") -> (HTTP status, __type, message)
    errors: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    validations: dict[str, str | None] = field(default_factory=dict)  # prefix -> failure or None
    templates: list[dict[str, Any]] = field(default_factory=list)  # API-shaped templates
    scanning: dict[str, Any] = field(default_factory=lambda: {"scanType": "BASIC", "rules": []})
    lacking: set[str] = field(default_factory=set)  # IAM actions no principal is allowed
    registry: FakeRegistry = field(default_factory=FakeRegistry)
    requests: list[Seen] = field(default_factory=list)
    url: str = ""

    def targets(self) -> list[str]:
        return [seen.target for seen in self.requests]

    # -- ECR -----------------------------------------------------------------------------------
    def answer(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if target in self.errors:
            status, kind, message = self.errors[target]
            return status, {"__type": kind, "message": message}
        if target == "DescribePullThroughCacheRules":
            return self._describe(body)
        if target == "ValidatePullThroughCacheRule":
            return self._validate(body)
        if target == "DescribeRepositoryCreationTemplates":
            return self._templates(body)
        if target == "GetRegistryScanningConfiguration":
            return 200, {"registryId": self.account, "scanningConfiguration": self.scanning}
        if target == "GetAuthorizationToken":
            return 200, {
                "authorizationData": [
                    {
                        "authorizationToken": self.registry.authorization_token(),
                        "expiresAt": 1_700_043_200,
                        "proxyEndpoint": f"https://{self.account}.dkr.ecr.us-east-1.amazonaws.com",
                    }
                ]
            }
        if target == "DescribeImages":
            return self._images(body)
        return 400, {"__type": "UnknownOperationException", "message": target}

    def _templates(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        start = int(body["nextToken"].removeprefix("page-")) if "nextToken" in body else 0
        page = self.templates[start : start + self.page_size]
        out: dict[str, Any] = {"registryId": self.account, "repositoryCreationTemplates": page}
        if start + self.page_size < len(self.templates):
            out["nextToken"] = f"page-{start + self.page_size}"
        return 200, out

    def _images(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = body["repositoryName"]
        tag = body["imageIds"][0]["imageTag"]
        cached = self.registry.cached(name, tag)
        if cached is None:
            return 400, {
                "__type": "RepositoryNotFoundException",
                "message": f"The repository with name '{name}' does not exist",
            }
        if not cached:
            return 400, {"__type": "ImageNotFoundException", "message": f"no image {tag}"}
        detail = {"registryId": self.account, "repositoryName": name, "imageTags": [tag]}
        return 200, {"imageDetails": [detail]}

    # -- IAM -----------------------------------------------------------------------------------
    def simulate(self, form: dict[str, str]) -> str:
        """SimulatePrincipalPolicy's XML, one result per action and resource, two a page."""
        actions = [v for k, v in sorted(form.items()) if k.startswith("ActionNames.member.")]
        resources = [v for k, v in form.items() if k.startswith("ResourceArns.member.")] or ["*"]
        results = [(a, r) for r in resources for a in actions]
        start = int(form.get("Marker", "0"))
        page = results[start : start + 2]
        members = "".join(
            "<member>"
            f"<EvalActionName>{escape(action)}</EvalActionName>"
            f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
            f"<EvalDecision>{'implicitDeny' if action in self.lacking else 'allowed'}"
            "</EvalDecision><MatchedStatements/><MissingContextValues/>"
            "</member>"
            for action, resource in page
        )
        more = start + 2 < len(results)
        marker = f"<Marker>{start + 2}</Marker>" if more else ""
        return (
            '<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            f"<SimulatePrincipalPolicyResult><IsTruncated>{str(more).lower()}</IsTruncated>"
            f"{marker}<EvaluationResults>{members}</EvaluationResults>"
            "</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>r</RequestId>"
            "</ResponseMetadata></SimulatePrincipalPolicyResponse>"
        )

    def _describe(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("registryId", self.account) != self.account:
            return 400, {
                "__type": "InvalidParameterException",
                "message": f"registry {body.get('registryId')} is not this account",
            }
        start = int(body["nextToken"].removeprefix("page-")) if "nextToken" in body else 0
        size = min(self.page_size, int(body.get("maxResults", self.page_size)))
        page = self.rules[start : start + size]
        out: dict[str, Any] = {
            "pullThroughCacheRules": [
                {**rule, "registryId": self.account, "createdAt": 1_700_000_000} for rule in page
            ]
        }
        if start + size < len(self.rules):
            out["nextToken"] = f"page-{start + size}"
        return 200, out

    def _validate(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        prefix = body["ecrRepositoryPrefix"]
        rule = next((r for r in self.rules if r["ecrRepositoryPrefix"] == prefix), None)
        if rule is None:
            return 400, {
                "__type": "PullThroughCacheRuleNotFoundException",
                "message": f"The pull through cache rule with prefix '{prefix}' does not "
                f"exist in the registry with id '{self.account}'",
            }
        failure = self.validations.get(prefix)
        out = {**rule, "registryId": self.account, "isValid": failure is None}
        if failure is not None:
            out["failure"] = failure
        return 200, out


def _handler(fake: FakeEcr) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a stuck client cannot hold a thread for long

        def do_POST(self) -> None:  # http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            if len(fake.requests) >= MAX_REQUESTS:
                self._send(500, b"{}", "application/x-amz-json-1.1")
                return
            target = headers.get("x-amz-target", "")
            if target:
                body = json.loads(raw or "{}")
                fake.requests.append(Seen(target, headers, body))
                status, out = fake.answer(target.removeprefix(TARGET_PREFIX), body)
                self._send(status, json.dumps(out).encode(), "application/x-amz-json-1.1")
                return
            form = dict(urllib.parse.parse_qsl(raw))
            action = form.get("Action", "")
            service = "IAM" if action == "SimulatePrincipalPolicy" else "STS"
            fake.requests.append(Seen(f"{service}.{action}", headers, form))
            if service == "IAM":
                self._iam(form)
            else:
                self._sts(form)

        def do_GET(self) -> None:  # the registry API
            headers = {k.lower(): v for k, v in self.headers.items()}
            if len(fake.requests) >= MAX_REQUESTS:
                self._send(500, b"{}", "application/json")
                return
            fake.requests.append(Seen(f"GET {self.path}", headers, {}))
            fake.registry.denied = frozenset(fake.lacking)
            status, extra, body = fake.registry.answer(self.path, headers, fake.url, fake.rules)
            self.send_response(status)
            for key, value in {**extra, "Content-Length": str(len(body))}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _iam(self, form: dict[str, str]) -> None:
            if "IAM.SimulatePrincipalPolicy" in fake.errors:
                status, kind, message = fake.errors["IAM.SimulatePrincipalPolicy"]
                self._send(status, _xml_error(kind, message), "text/xml")
                return
            self._send(200, fake.simulate(form).encode(), "text/xml")

        def _sts(self, form: dict[str, str]) -> None:
            if "STS.GetCallerIdentity" in fake.errors:
                status, kind, message = fake.errors["STS.GetCallerIdentity"]
                self._send(status, _xml_error(kind, message), "text/xml")
                return
            body = (
                '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                f"<GetCallerIdentityResult><Arn>arn:aws:iam::{fake.account}:user/ci</Arn>"
                f"<UserId>AIDAEXAMPLEUSERID0000</UserId><Account>{fake.account}</Account>"
                "</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId>"
                "</ResponseMetadata></GetCallerIdentityResponse>"
            )
            self._send(200, body.encode(), "text/xml")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet tests
            pass

    return Handler


def _xml_error(kind: str, message: str) -> bytes:
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{kind}</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>r</RequestId>"
        "</ErrorResponse>"
    ).encode()


@contextmanager
def serve(fake: FakeEcr) -> Iterator[FakeEcr]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


SECRET_KEY = "fakeSecretKeyThatMustNeverBePrinted000000"
ACCESS_KEY = "AKIAFAKEACCESSKEY000"


def aws_env(fake: FakeEcr | None, region: str = "us-east-1", **extra: str) -> dict[str, str]:
    """Dummy credentials and no shared config, so nothing on this machine leaks in."""
    env = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "2",
        "AWS_RETRY_MODE": "standard",
    }
    if fake is not None:
        env["AWS_ENDPOINT_URL_ECR"] = fake.url
        env["AWS_ENDPOINT_URL_STS"] = fake.url
        env["AWS_ENDPOINT_URL_IAM"] = fake.url
        env["ECR_PTC_REGISTRY_URL"] = fake.url
    env.update(extra)
    return env


def rule(prefix: str, url: str, credential: bool = False, **more: str) -> dict[str, Any]:
    item: dict[str, Any] = {"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": url, **more}
    if credential:
        item["credentialArn"] = (
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:"
            f"ecr-pullthroughcache/{prefix}-AbCdEf"
        )
    return item
