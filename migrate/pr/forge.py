"""Open the pull request (GitHub) or merge request (GitLab) over their REST APIs, with urllib.

Tokens come from the environment (GITHUB_TOKEN or GH_TOKEN, GITLAB_TOKEN), travel only in a
request header, only over https (or to this machine), and never appear in a message: errors
quote the API's answer, with any token it echoes redacted and its control characters escaped.
`prepare` checks all of that before `ecr-ptc pr --open` commits or pushes anything.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from migrate import __version__
from migrate.output.printable import printable

TIMEOUT = 30  # seconds; both APIs answer a create in well under one
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?!//)(?P<path>.+)$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
# What a GitHub or GitLab token looks like, should an API or a proxy echo one that is not ours:
# github.blog/2021-04-05-behind-githubs-new-authentication-token-formats, GitLab's `glpat-`.
_TOKEN_SHAPES = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|gl(?:pat|oas|dt|rt|ptt|ft)-[\w-]{20,})"
    r"|(?i:bearer|token)\s+[A-Za-z0-9._~+/=-]{16,}"
)
_LIMIT = 300  # characters of the API's words in one line


class ForgeError(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib follows a 30x with the request's headers, the token among them, to wherever the
    Location says (plain http and another host included): refuse, so the 30x is an HTTPError."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
_MAX_ANSWER = 1024 * 1024  # a create answer is a few KiB


@dataclass(frozen=True)
class Target:
    """Where and how `open_request` will post, checked before anything is pushed."""

    name: str  # GitHub or GitLab
    url: str  # the create endpoint
    headers: dict[str, str]
    token: str


@dataclass(frozen=True)
class Remote:
    host: str
    path: str  # owner/repo (GitHub) or group/subgroup/project (GitLab), without .git


def parse_remote(url: str) -> Remote | None:
    """`https://host/owner/repo.git`, `ssh://git@host:22/owner/repo`, `git@host:owner/repo.git`."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in ("http", "https", "ssh", "git", "git+ssh") and parsed.hostname:
        host, path = parsed.hostname.lower(), parsed.path
    else:
        match = _SCP_LIKE.match(url)
        if match is None or "/" in match["host"]:
            return None
        host, path = match["host"].lower(), match["path"]
    path = path.strip("/").removesuffix(".git").strip("/")
    return Remote(host, path) if "/" in path else None


def kind_of(remote: Remote, environ: Mapping[str, str]) -> str:
    if "gitlab" in remote.host:
        return "gitlab"
    if "github" in remote.host:
        return "github"
    # A self-hosted forge under another name: the token that is set says which one it is.
    if environ.get("GITLAB_TOKEN") and not (environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN")):
        return "gitlab"
    return "github"


def prepare(remote_url: str, environ: Mapping[str, str] | None = None) -> Target:
    """The forge, endpoint and token for `remote_url`, or ForgeError saying what is missing:
    an unknown remote, no token, or an API URL that would send the token in clear text."""
    environ = os.environ if environ is None else environ
    remote = parse_remote(remote_url)
    if remote is None:
        raise ForgeError(
            f"cannot tell the forge and repository from the remote URL {_redact(remote_url)!r}"
        )
    if kind_of(remote, environ) == "gitlab":
        token = environ.get("GITLAB_TOKEN")
        api = environ.get("GITLAB_API_URL") or f"https://{remote.host}/api/v4"
        if not token:
            raise ForgeError("--open on GitLab needs GITLAB_TOKEN (a token with the api scope)")
        project = urllib.parse.quote(remote.path, safe="")
        url = f"{api.rstrip('/')}/projects/{project}/merge_requests"
        target = Target("GitLab", url, {"PRIVATE-TOKEN": token}, token)
    else:
        token = environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN")
        default_api = (
            "https://api.github.com"
            if remote.host == "github.com"
            else f"https://{remote.host}/api/v3"
        )
        api = environ.get("GITHUB_API_URL") or default_api  # set by Actions runners, GHES too
        if not token:
            raise ForgeError("--open on GitHub needs GITHUB_TOKEN (pull-requests: write)")
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        target = Target("GitHub", f"{api.rstrip('/')}/repos/{remote.path}/pulls", headers, token)
    parts = urllib.parse.urlsplit(target.url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        shown = printable(_redact(f"{parts.scheme}://{parts.netloc}"))
        raise ForgeError(
            f"{target.name} API URL {shown!r} is not https: the token would travel in clear text"
        )
    return target


def open_request(
    remote_url: str,
    head: str,
    base: str,
    title: str,
    body: str,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Create the pull/merge request; return its web URL."""
    target = prepare(remote_url, environ)
    if target.name == "GitLab":
        payload: dict[str, object] = {
            "source_branch": head,
            "target_branch": base,
            "title": title,
            "description": body,
            "remove_source_branch": True,
        }
        return _web_url(target, _post(target, payload), "web_url", "merge request")
    payload = {"title": title, "head": head, "base": base, "body": body}
    return _web_url(target, _post(target, payload), "html_url", "pull request")


def _web_url(target: Target, answer: dict[str, object], key: str, what: str) -> str:
    """The request's page, which the API must name: an answer without it (a proxy's page, an
    API that is not the forge's) is an error, not a success with nothing to show."""
    url = answer.get(key)
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise ForgeError(
            f"{target.name} API answered without the {what}'s {key}: look on {target.name} "
            f"whether it was opened"
        )
    return redact(url, (target.token,))


def _post(target: Target, payload: dict[str, object]) -> dict[str, object]:
    name, secrets = target.name, (target.token,)
    parts = urllib.parse.urlsplit(target.url)
    request = urllib.request.Request(
        target.url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={
            **target.headers,
            "Content-Type": "application/json",
            "User-Agent": f"ecr-ptc/{__version__}",
        },
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            answer = json.loads(response.read(_MAX_ANSWER) or b"{}")
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            where = redact(str(exc.headers.get("Location") or "elsewhere"), secrets)
            raise ForgeError(
                f"{name} API answered {exc.code}, a redirect to {where}: not followed, the "
                f"token goes to the API URL only (set {name.upper()}_API_URL if that is the API)"
            ) from None
        raise ForgeError(f"{name} API: {exc.code} {redact(_explain(exc), secrets)}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = redact(str(getattr(exc, "reason", exc)), secrets)
        where = redact(f"{parts.scheme}://{parts.netloc}", secrets)
        raise ForgeError(f"{name} API at {where}: {reason}") from None
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's recursion
        raise ForgeError(f"{name} API answered with something that is not JSON") from None
    return answer if isinstance(answer, dict) else {}


def _explain(error: urllib.error.HTTPError) -> str:
    """The API's own words: GitHub's `message` + `errors[].message`, GitLab's `message`."""
    try:
        answer = json.loads(error.read(_MAX_ANSWER) or b"{}")
    except (ValueError, RecursionError, OSError):
        return str(error.reason)
    if not isinstance(answer, dict):
        return str(error.reason)
    words = [answer.get("message") or error.reason]
    for item in answer.get("errors") or []:
        words.append(item.get("message") or item.get("code") if isinstance(item, dict) else item)
    flat = [json.dumps(w) if isinstance(w, (dict, list)) else str(w) for w in words if w]
    return ": ".join(flat)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """One printable line of an API's words: our tokens (as sent, and percent-encoded as a URL
    would carry them), token-shaped words and `user:token@` in URLs replaced, controls escaped,
    at most `_LIMIT` characters."""
    for secret in sorted((s for s in secrets if len(s) >= 8), key=len, reverse=True):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, "<redacted>")
    text = _TOKEN_SHAPES.sub("<redacted>", _redact(text))
    text = printable(" ".join(text.split()))
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def _redact(url: str) -> str:
    """Drop `user:token@` from a URL before it is shown."""
    return re.sub(r"//[^/@\s]+@", "//", url)
