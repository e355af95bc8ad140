"""Open the pull request (GitHub) or merge request (GitLab) over their REST APIs, with urllib.

Tokens come from the environment (GITHUB_TOKEN or GH_TOKEN, GITLAB_TOKEN), travel only in a
request header and never appear in a message: errors quote the API's answer, not the request.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from migrate import __version__

TIMEOUT = 30  # seconds; both APIs answer a create in well under one
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?!//)(?P<path>.+)$")
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class ForgeError(Exception):
    pass


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


def open_request(
    remote_url: str,
    head: str,
    base: str,
    title: str,
    body: str,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Create the pull/merge request; return its web URL."""
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
        answer = _post(
            f"{api}/projects/{project}/merge_requests",
            {"PRIVATE-TOKEN": token},
            {
                "source_branch": head,
                "target_branch": base,
                "title": title,
                "description": body,
                "remove_source_branch": True,
            },
            "GitLab",
        )
        return str(answer.get("web_url", ""))
    token = environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN")
    default_api = (
        "https://api.github.com" if remote.host == "github.com" else f"https://{remote.host}/api/v3"
    )
    api = environ.get("GITHUB_API_URL") or default_api  # set by Actions runners, GHES included
    if not token:
        raise ForgeError("--open on GitHub needs GITHUB_TOKEN (pull-requests: write)")
    answer = _post(
        f"{api}/repos/{remote.path}/pulls",
        {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
        {"title": title, "head": head, "base": base, "body": body},
        "GitHub",
    )
    return str(answer.get("html_url", ""))


def _post(
    url: str, auth: dict[str, str], payload: dict[str, object], name: str
) -> dict[str, object]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" and not (
        parts.scheme == "http" and parts.netloc.split(":")[0] in _LOOPBACK
    ):
        raise ForgeError(
            f"{name} API URL {url!r} is not https: the token would travel in clear text"
        )
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={
            **auth,
            "Content-Type": "application/json",
            "User-Agent": f"ecr-ptc/{__version__}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise ForgeError(f"{name} API: {exc.code} {_explain(exc)}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ForgeError(f"{name} API at {parts.scheme}://{parts.netloc}: {reason}") from None
    except json.JSONDecodeError:
        raise ForgeError(f"{name} API answered with something that is not JSON") from None
    return answer if isinstance(answer, dict) else {}


def _explain(error: urllib.error.HTTPError) -> str:
    """The API's own words: GitHub's `message` + `errors[].message`, GitLab's `message`."""
    try:
        answer = json.loads(error.read() or b"{}")
    except (json.JSONDecodeError, OSError):
        return str(error.reason)
    if not isinstance(answer, dict):
        return str(error.reason)
    words = [answer.get("message") or error.reason]
    for item in answer.get("errors") or []:
        words.append(item.get("message") or item.get("code") if isinstance(item, dict) else item)
    flat = [json.dumps(w) if isinstance(w, (dict, list)) else str(w) for w in words if w]
    return ": ".join(flat)


def _redact(url: str) -> str:
    """Drop `user:token@` from a URL before it is shown."""
    return re.sub(r"//[^/@\s]+@", "//", url)
