"""Opening the pull/merge request, against a local endpoint that checks requests as the APIs do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from migrate.pr import forge
from migrate.pr.forge import ForgeError, Remote, parse_remote

TOKEN = "ghp_s3cr3tT0k3nThatMustNeverBePrinted"


class FakeApi:
    """GitHub's POST /repos/{owner}/{repo}/pulls and GitLab's POST /projects/{id}/merge_requests,
    checked the way the real services check them: 401 without the token, 404 for another
    repository, 422 for a missing field (docs.github.com/rest/pulls/pulls#create-a-pull-request,
    docs.gitlab.com/api/merge_requests/#create-mr)."""

    def __init__(
        self, repo: str, token: str = TOKEN, status: int = 201, answer: dict[str, Any] | None = None
    ) -> None:
        self.repo, self.token, self.status, self.answer = repo, token, status, answer
        self.requests: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                # HTTP header names are case-insensitive (urllib sends `Private-token`).
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = {
                    "method": "POST",
                    "path": self.path,
                    "headers": headers,
                    "json": json.loads(raw or b"null"),
                }
                api.requests.append(request)
                self._reply(*api.respond(request))

            def do_GET(self) -> None:
                self._reply(405, {"message": "Method Not Allowed"})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def respond(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        headers, body = request["headers"], request["json"]
        if request["path"].startswith("/projects/"):  # GitLab
            if headers.get("private-token") != self.token:
                return 401, {"message": "401 Unauthorized"}
            if request["path"] != f"/projects/{self.repo.replace('/', '%2F')}/merge_requests":
                return 404, {"message": "404 Project Not Found"}
            missing = [k for k in ("source_branch", "target_branch", "title") if not body.get(k)]
            if missing:
                return 400, {"message": {k: ["can't be blank"] for k in missing}}
            return self.status, self.answer or {
                "iid": 7,
                "web_url": f"https://gitlab.example/{self.repo}/-/merge_requests/7",
            }
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}
        if not headers.get("user-agent"):  # GitHub refuses requests without one
            return 403, {"message": "Request forbidden by administrative rules."}
        if request["path"] != f"/repos/{self.repo}/pulls":
            return 404, {"message": "Not Found"}
        missing = [k for k in ("title", "head", "base") if not body.get(k)]
        if missing or headers.get("content-type") != "application/json":
            return 422, {
                "message": "Validation Failed",
                "errors": [{"field": k, "code": "missing_field"} for k in missing],
            }
        return self.status, self.answer or {
            "number": 1,
            "html_url": f"https://github.com/{self.repo}/pull/1",
        }

    def __enter__(self) -> FakeApi:  # noqa: PYI034 (typing.Self is 3.11+)
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github() -> Iterator[FakeApi]:
    with FakeApi("acme/widgets") as api:
        yield api


REMOTES = [
    pytest.param(
        "https://github.com/acme/widgets.git", Remote("github.com", "acme/widgets"), id="https"
    ),
    pytest.param(
        "https://x-access-token:abc@github.com/acme/widgets",
        Remote("github.com", "acme/widgets"),
        id="https-token",
    ),
    pytest.param("git@github.com:acme/widgets.git", Remote("github.com", "acme/widgets"), id="scp"),
    pytest.param(
        "ssh://git@gitlab.com:22/group/sub/project.git",
        Remote("gitlab.com", "group/sub/project"),
        id="ssh-port",
    ),
    pytest.param(
        "git@gitlab.example.com:group/project",
        Remote("gitlab.example.com", "group/project"),
        id="scp-gitlab",
    ),
    pytest.param(
        "https://GitHub.com/acme/widgets/", Remote("github.com", "acme/widgets"), id="case-slash"
    ),
]
REMOTES_NOOP = [
    pytest.param("/srv/git/widgets.git", id="path"),
    pytest.param("file:///srv/git/widgets.git", id="file-url"),
    pytest.param("https://github.com/widgets", id="no-owner"),
]


@pytest.mark.parametrize(("url", "expected"), REMOTES)
def test_parse_remote(url: str, expected: Remote) -> None:
    assert parse_remote(url) == expected


@pytest.mark.parametrize("url", REMOTES_NOOP)
def test_parse_remote_noop(url: str) -> None:
    assert parse_remote(url) is None


def test_github_pull_request_as_the_api_receives_it(github: FakeApi) -> None:
    url = forge.open_request(
        "git@github.com:acme/widgets.git",
        "ecr-ptc/migrate",
        "main",
        "Title",
        "Body | text",
        {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url},
    )

    assert url == "https://github.com/acme/widgets/pull/1"
    [request] = github.requests
    assert (request["method"], request["path"]) == ("POST", "/repos/acme/widgets/pulls")
    assert request["headers"]["accept"] == "application/vnd.github+json"
    assert request["headers"]["x-github-api-version"] == "2022-11-28"
    assert request["json"] == {
        "title": "Title",
        "head": "ecr-ptc/migrate",
        "base": "main",
        "body": "Body | text",
    }


def test_gitlab_merge_request_as_the_api_receives_it() -> None:
    with FakeApi("group/sub/project") as gitlab:
        url = forge.open_request(
            "https://gitlab.example.com/group/sub/project.git",
            "ecr-ptc/migrate",
            "develop",
            "T",
            "B",
            {"GITLAB_TOKEN": TOKEN, "GITLAB_API_URL": gitlab.url, "GITHUB_TOKEN": "other"},
        )

    assert url == "https://gitlab.example/group/sub/project/-/merge_requests/7"
    [request] = gitlab.requests
    assert request["path"] == "/projects/group%2Fsub%2Fproject/merge_requests"
    assert "authorization" not in request["headers"]
    assert request["json"] == {
        "source_branch": "ecr-ptc/migrate",
        "target_branch": "develop",
        "title": "T",
        "description": "B",
        "remove_source_branch": True,
    }


def test_api_refusal_is_one_line_in_the_apis_words_without_the_token() -> None:
    answer = {
        "message": "Validation Failed",
        "errors": [
            {
                "resource": "PullRequest",
                "code": "custom",
                "message": "A pull request already exists for acme:ecr-ptc/migrate.",
            }
        ],
    }
    with (
        FakeApi("acme/widgets", status=422, answer=answer) as api,
        pytest.raises(ForgeError) as err,
    ):
        forge.open_request(
            f"https://x:{TOKEN}@github.com/acme/widgets",
            "ecr-ptc/migrate",
            "main",
            "T",
            "B",
            {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api.url},
        )

    assert str(err.value) == (
        "GitHub API: 422 Validation Failed: A pull request already exists for acme:ecr-ptc/migrate."
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param({}, "needs GITHUB_TOKEN", id="no-token"),
        pytest.param({"GITHUB_TOKEN": "wrong"}, "401 Bad credentials", id="bad-token"),
    ],
)
def test_token_problems(github: FakeApi, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ForgeError, match=message) as err:
        forge.open_request(
            "https://github.com/acme/widgets",
            "b",
            "main",
            "T",
            "B",
            {**environ, "GITHUB_API_URL": github.url},
        )
    assert TOKEN not in str(err.value) and "wrong" not in str(err.value)


def test_token_never_travels_in_clear_text_off_this_machine() -> None:
    with pytest.raises(ForgeError, match="not https"):
        forge.open_request(
            "https://github.com/acme/widgets",
            "b",
            "main",
            "T",
            "B",
            {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": "http://api.example.com"},
        )


def test_unreachable_api_is_one_line() -> None:
    with FakeApi("acme/widgets") as api:
        closed = api.url
    with pytest.raises(ForgeError, match=r"^GitHub API at http://127\.0\.0\.1:\d+: "):
        forge.open_request(
            "https://github.com/acme/widgets",
            "b",
            "main",
            "T",
            "B",
            {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": closed},
        )


@pytest.mark.parametrize(
    ("host", "environ", "kind"),
    [
        ("github.com", {}, "github"),
        ("github.example.com", {"GITLAB_TOKEN": "t"}, "github"),
        ("gitlab.com", {"GITHUB_TOKEN": "t"}, "gitlab"),
        ("git.example.com", {"GITLAB_TOKEN": "t"}, "gitlab"),
        ("git.example.com", {"GITHUB_TOKEN": "t", "GITLAB_TOKEN": "t"}, "github"),
    ],
)
def test_which_forge(host: str, environ: dict[str, str], kind: str) -> None:
    assert forge.kind_of(Remote(host, "a/b"), environ) == kind


# --- hardening: a token the API echoes is never printed, nor is anything it says raw ----------


@pytest.mark.parametrize(
    ("remote", "environ", "kind"),
    [
        pytest.param("https://github.com/acme/widgets", {"GITHUB_TOKEN": TOKEN}, "GitHub", id="gh"),
        pytest.param("https://gitlab.com/acme/widgets", {"GITLAB_TOKEN": TOKEN}, "GitLab", id="gl"),
    ],
)
def test_token_echoed_by_the_api_is_redacted(
    remote: str, environ: dict[str, str], kind: str
) -> None:
    from urllib.parse import quote

    answer = {
        "message": f"Bad credentials for token {TOKEN}\n::error::INJECTED",
        "errors": [{"message": f"see https://example.test/?token={quote(TOKEN, safe='')}"}],
    }
    with FakeApi("acme/widgets", token="another", status=401, answer=answer) as api:
        api.respond = lambda request: (401, answer)  # type: ignore[method-assign]
        key = "GITHUB_API_URL" if kind == "GitHub" else "GITLAB_API_URL"
        with pytest.raises(ForgeError) as err:
            forge.open_request(remote, "b", "main", "T", "B", {**environ, key: api.url})

    message = str(err.value)
    assert TOKEN not in message and quote(TOKEN, safe="") not in message
    assert message.count("<redacted>") == 2
    assert "\n" not in message and message.startswith(f"{kind} API: 401 Bad credentials for ")


def test_token_shaped_words_are_redacted_even_when_not_ours() -> None:
    # A proxy or a misconfigured API may echo another credential: GitHub's and GitLab's shapes.
    words = "ghp_" + "a" * 36 + " github_pat_" + "B" * 40 + " glpat-" + "c" * 20
    assert forge.redact(f"x {words} y", ()) == "x <redacted> <redacted> <redacted> y"


def test_api_url_is_checked_before_the_request_is_built() -> None:
    for api in ("http://api.example.com", "ftp://127.0.0.1/", "http://127.0.0.1.evil.test"):
        with pytest.raises(ForgeError, match="not https"):
            forge.prepare(
                "https://github.com/acme/widgets", {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api}
            )
    for api in ("http://127.0.0.1:8080", "http://localhost", "http://[::1]:1", "https://x.test"):
        forge.prepare(
            "https://github.com/acme/widgets", {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api}
        )
    with pytest.raises(ForgeError, match="needs GITHUB_TOKEN"):
        forge.prepare("https://github.com/acme/widgets", {})
    with pytest.raises(ForgeError, match="cannot tell the forge"):
        forge.prepare("/srv/git/widgets.git", {"GITHUB_TOKEN": TOKEN})
