"""`pr` against a hostile repository and a hostile forge (issue 21, defects 1, 5 and 6, and the
push failure's lines); real repositories in temp dirs, the forge on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate import cli
from migrate.output import formats
from migrate.pr import forge
from tests.forge_test import TOKEN, FakeApi
from tests.git_pr_test import (
    BRANCH,
    ORIGINAL,
    _github_clone,
    _rejecting_remote,
    git,
    git_env,  # noqa: F401  (a fixture)
    make_repo,
    tree,
)
from tests.helpers import REGISTRY, run_cli

pytestmark = pytest.mark.usefixtures("git_env")


# --- defect 1: --body-file through a committed symlink ----------------------------------------


def _outside(tmp_path: Path) -> Path:
    target = tmp_path / "outside" / "site-packages" / "evil.pth"
    target.parent.mkdir(parents=True)
    target.write_text("original\n")
    return target


def test_a_committed_symlink_as_body_file_is_refused_before_any_commit(tmp_path: Path) -> None:
    target = _outside(tmp_path)
    repo = make_repo(tmp_path / "repo")
    (repo / "pr.md").symlink_to(target)
    git(repo, "add", "pr.md")
    git(repo, "commit", "-q", "-m", "a link")

    done = run_cli("pr", "--registry", REGISTRY, "--body-file", "pr.md", cwd=repo)

    assert done.returncode == 2
    assert done.stderr == "ecr-ptc: --body-file pr.md is a symlink: not written through\n"
    assert target.read_text() == "original\n"
    assert (repo / "pr.md").is_symlink()
    assert git(repo, "branch", "--list", BRANCH) == ""  # refused before anything was done


@pytest.mark.parametrize("named", ["docs/pr.md", "docs/../pr.md"])
def test_a_directory_symlink_out_of_the_repository_is_refused(tmp_path: Path, named: str) -> None:
    target = _outside(tmp_path)
    repo = make_repo(tmp_path / "repo")
    (repo / "docs").symlink_to(target.parent)  # docs/.. is then outside/, not the repository

    done = run_cli("pr", "--registry", REGISTRY, "--body-file", named, cwd=repo)

    assert done.returncode == 2
    assert "is a symlink out of the repository" in done.stderr
    assert sorted(p.name for p in target.parent.parent.rglob("*")) == ["evil.pth", "site-packages"]
    assert git(repo, "branch", "--list", BRANCH) == ""


def test_a_fifo_as_body_file_is_refused_without_hanging(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {**ORIGINAL, ".gitignore": b"pr.md\n"})
    os.mkfifo(repo / "pr.md")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECR_PTC_")}

    done = subprocess.run(  # bounded: before the fix the open waited for a reader forever
        [sys.executable, "-m", "migrate", "pr", "--registry", REGISTRY, "--body-file", "pr.md"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert done.stderr == "ecr-ptc: --body-file pr.md is not a regular file\n"


def test_the_body_file_is_replaced_whole_inside_the_repository_and_out(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {**ORIGINAL, ".gitignore": b"out/\n"})
    (repo / "out").mkdir()
    (repo / "out" / "pr.md").write_text("an old description, longer than the new one\n" * 999)
    (repo / "out" / "pr.md").chmod(0o600)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "linked").symlink_to(repo / "out")  # a link outside: the user's

    done = run_cli("pr", "--registry", REGISTRY, "--body-file", "out/pr.md", cwd=repo)
    again = run_cli(
        "pr", "--registry", REGISTRY, "--body-file", str(tmp_path / "elsewhere/linked/b.md"),
        cwd=repo,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    body = (repo / "out" / "pr.md").read_text()
    assert "compose.yaml:3  nginx:1.27" in body and "an old description" not in body
    assert (repo / "out" / "pr.md").stat().st_mode & 0o777 == 0o600  # its mode is kept
    assert sorted(p.name for p in (repo / "out").iterdir()) == ["b.md", "pr.md"]  # no temp file
    assert again.returncode == 0, again.stderr  # reusing the branch; the body written through
    assert (repo / "out" / "b.md").read_text() == body


# --- defects 5 and 6: the forge redirects, or answers without the request's URL ---------------


class _Elsewhere:
    """Another host (another port on 127.0.0.1): records whatever reaches it."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                outer.seen.append({k.lower(): v for k, v in self.headers.items()})
                data = b'{"html_url": "https://example.invalid/pull/666"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[_Elsewhere]:
    server = _Elsewhere()
    yield server
    server.close()


class _Redirecting(FakeApi):
    def __init__(self, location: str) -> None:
        super().__init__("acme/widgets")
        self.location = location
        handler = self.server.RequestHandlerClass
        api = self

        def do_POST(self: BaseHTTPRequestHandler) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            api.requests.append({"path": self.path})
            self.send_response(302)
            self.send_header("Location", api.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        handler.do_POST = do_POST  # type: ignore[attr-defined]


def test_a_redirect_from_the_forge_is_not_followed(elsewhere: _Elsewhere) -> None:
    with _Redirecting(f"{elsewhere.url}/steal") as api:
        env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api.url}
        with pytest.raises(forge.ForgeError) as raised:
            forge.open_request("https://github.com/acme/widgets", "b", "main", "t", "x", env)

    assert elsewhere.seen == []  # the token went nowhere else, nor did anything
    assert str(raised.value).startswith(
        f"GitHub API answered 302, a redirect to {elsewhere.url}/steal: not followed"
    )


@pytest.mark.parametrize(
    "answer",
    [{"number": 1}, {"html_url": ""}, {"html_url": ["x"]}, {"html_url": "javascript:alert(1)"}],
)
def test_an_answer_without_the_pull_requests_url_is_an_error(answer: dict[str, object]) -> None:
    with FakeApi("acme/widgets", answer=answer) as api:
        env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api.url}
        with pytest.raises(forge.ForgeError, match="answered without the pull request's html_url"):
            forge.open_request("https://github.com/acme/widgets", "b", "main", "t", "x", env)


def test_open_without_a_url_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    _github_clone(tmp_path)
    with FakeApi("acme/widgets", answer={"number": 1}) as api:
        done = run_cli(
            "pr", "--open", "--registry", REGISTRY, cwd=tmp_path / "repo",
            env={"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api.url},
        )  # fmt: skip

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines()[-1] == (
        f"ecr-ptc: {BRANCH} is pushed, but the pull request was not opened: GitHub API answered "
        "without the pull request's html_url: look on GitHub whether it was opened"
    )


def test_open_following_a_redirect_exits_2_and_sends_nothing_elsewhere(
    tmp_path: Path, elsewhere: _Elsewhere
) -> None:
    _github_clone(tmp_path)
    with _Redirecting(f"{elsewhere.url}/steal") as api:
        done = run_cli(
            "pr", "--open", "--registry", REGISTRY, cwd=tmp_path / "repo",
            env={"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api.url},
        )  # fmt: skip

    assert done.returncode == 2
    assert "redirect" in done.stderr.splitlines()[-1]
    assert elsewhere.seen == [] and TOKEN not in done.stderr


# --- a push failure's lines ----------------------------------------------------------------------


def test_a_push_failure_prints_lines_not_escaped_newlines(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    _rejecting_remote(tmp_path, repo)

    done = run_cli("pr", "--push", "--registry", REGISTRY, "--body-file", "../b.md", cwd=repo)

    assert done.returncode == 2
    assert "\\n" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[-1] == (
        "Rerun the same command to push it (the branch is reused), or push it yourself: "
        f"git push -u origin {BRANCH}"
    )
    assert "  remote: policy: pushes need a ticket" in lines
    assert tree(repo) == ORIGINAL


def test_a_line_under_an_error_is_never_a_workflow_command() -> None:
    assert cli._detail("  ::error::x") == "  \\x3a:error::x"
    assert cli._detail("remote: \x1b[31mred") == "remote: \\x1b[31mred"


# --- `--help` lists the formats the command accepts, and describes only those ----------------


@pytest.mark.parametrize(
    ("command", "subject"),
    [(["warm"], "warm"), (["scan"], "findings"), (["rules", "check"], "rules")],
)
def test_format_help_describes_only_the_formats_offered(command: list[str], subject: str) -> None:
    done = CliRunner().invoke(cli.cli, [*command, "--help"], terminal_width=200)
    described = done.output.split("--format [", 1)[1].split("[default", 1)[0]
    for name in formats.DESCRIPTIONS:
        assert (f"{name}:" in described) == (name in formats.NAMES[subject]), (name, described)
