"""`ecr-ptc pr` on real repositories in temp dirs: the commit, the branch, the push, the PR."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from migrate.pr.body import TITLE
from tests.forge_test import TOKEN, FakeApi
from tests.helpers import REGISTRY, run_cli

ORIGINAL = {
    "Dockerfile": b"FROM alpine:3.20\r\nRUN echo hi\r\n",
    "deploy/app.yaml": (
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n"
        b'    - name: a\n      image: "quay.io/prometheus/node-exporter:v1.8.2"  # pin\n'
    ),
    "compose.yaml": b"services:\n  web:\n    image: nginx:1.27\n",
    "base/Dockerfile": b"FROM gcr.io/distroless/static\n",  # PTC003: reported, not changed
    "README.md": b"docs\n",
}
MIGRATED = {
    "Dockerfile": f"FROM {REGISTRY}/docker-hub/library/alpine:3.20\r\nRUN echo hi\r\n".encode(),
    "deploy/app.yaml": ORIGINAL["deploy/app.yaml"].replace(
        b"quay.io/", f"{REGISTRY}/quay/".encode()
    ),
    "compose.yaml": f"services:\n  web:\n    image: {REGISTRY}/docker-hub/library/nginx:1.27\n".encode(),
}
BRANCH = "ecr-ptc/migrate"


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git config (a CI machine has none): identity from the environment."""
    (tmp_path / "gitconfig").write_text("")
    for key, value in {
        "GIT_AUTHOR_NAME": "ecr-ptc test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "ecr-ptc test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "GITHUB_API_URL", "GITLAB_API_URL"):
        monkeypatch.delenv(key, raising=False)
    for key in [k for k in os.environ if k.startswith("ECR_PTC_")]:
        monkeypatch.delenv(key)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def blob(cwd: Path, rev: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=cwd, capture_output=True, check=True
    ).stdout


def make_repo(path: Path, files: dict[str, bytes] = ORIGINAL, branch: str = "main") -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", branch)
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "init")
    return path


def tree(path: Path, names: Iterable[str] = ORIGINAL) -> dict[str, bytes]:
    return {name: (path / name).read_bytes() for name in names}


def test_one_commit_with_exactly_the_changed_files_byte_for_byte(
    tmp_path: Path, git_env: None
) -> None:
    repo = make_repo(tmp_path / "repo")
    start = git(repo, "rev-parse", "main").strip()

    done = run_cli("pr", "--registry", REGISTRY, "--body-file", str(tmp_path / "body.md"), cwd=repo)

    assert done.returncode == 0, done.stderr
    assert git(repo, "rev-list", f"main..{BRANCH}").split() == [
        git(repo, "rev-parse", BRANCH).strip()
    ]
    assert git(repo, "rev-parse", f"{BRANCH}^").strip() == start
    assert sorted(git(repo, "diff", "--name-only", "main", BRANCH).split()) == sorted(MIGRATED)
    for name, data in MIGRATED.items():
        assert blob(repo, BRANCH, name) == data
    assert git(repo, "log", "-1", "--format=%B", BRANCH).startswith(
        f"{TITLE}\n\nRewrite 3 image references in 3 files to {REGISTRY}:\n"
    )
    # The original branch: same commit, checked out again, its files as they were.
    assert git(repo, "rev-parse", "main").strip() == start
    assert git(repo, "branch", "--show-current").strip() == "main"
    assert tree(repo) == ORIGINAL
    assert git(repo, "status", "--porcelain") == ""
    body = (tmp_path / "body.md").read_text()
    assert f"Dockerfile:1  alpine:3.20 → {REGISTRY}/docker-hub/library/alpine:3.20" in body
    assert "| `base/Dockerfile:1` | PTC003 |" in body
    assert done.stdout == ""  # the description went to the file


def test_staging_goes_through_git_attributes_and_hooks(tmp_path: Path, git_env: None) -> None:
    files = {
        ".gitattributes": b"*.yaml text eol=crlf\n",
        "compose.yaml": b"services:\r\n  web:\r\n    image: nginx:1.27\r\n",
    }
    repo = make_repo(tmp_path / "repo", files)
    hooks = repo / ".git" / "hooks"
    (hooks / "commit-msg").write_text('#!/bin/sh\nprintf "\\nHook-Seen: yes\\n" >> "$1"\n')
    (hooks / "commit-msg").chmod(0o755)

    done = run_cli("pr", "--registry", REGISTRY, cwd=repo)

    assert done.returncode == 0, done.stderr
    # The index holds LF (eol=crlf is a checkout conversion): only the reference line differs.
    assert blob(repo, BRANCH, "compose.yaml") == (
        f"services:\n  web:\n    image: {REGISTRY}/docker-hub/library/nginx:1.27\n".encode()
    )
    assert git(repo, "diff", "--numstat", "main", BRANCH).split() == ["1", "1", "compose.yaml"]
    assert "Hook-Seen: yes" in git(repo, "log", "-1", "--format=%B", BRANCH)
    assert f"compose.yaml:3  nginx:1.27 → {REGISTRY}" in done.stdout  # body on stdout
    assert git(repo, "status", "--porcelain") == ""


def test_a_hook_that_rejects_the_commit_leaves_everything_as_it_was(
    tmp_path: Path, git_env: None
) -> None:
    repo = make_repo(tmp_path / "repo")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'policy says no' >&2\nexit 1\n")
    hook.chmod(0o755)

    done = run_cli("pr", "--registry", REGISTRY, cwd=repo)

    assert done.returncode == 2
    assert "git commit failed: policy says no" in done.stderr
    assert git(repo, "branch", "--list", BRANCH) == ""
    assert git(repo, "branch", "--show-current").strip() == "main"
    assert tree(repo) == ORIGINAL and git(repo, "status", "--porcelain") == ""


def test_dirty_files_it_would_touch_are_refused_by_name(tmp_path: Path, git_env: None) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "Dockerfile").write_bytes(ORIGINAL["Dockerfile"] + b"RUN make\r\n")
    (repo / "extra").mkdir()
    (repo / "extra" / "Dockerfile").write_bytes(b"FROM busybox\n")
    (repo / "README.md").write_bytes(b"edited, but pr does not touch it\n")

    done = run_cli("pr", "--registry", REGISTRY, cwd=repo)

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Dockerfile (has uncommitted changes)" in done.stderr
    assert "extra/Dockerfile (untracked)" in done.stderr
    assert "README.md" not in done.stderr and "compose.yaml" not in done.stderr
    assert git(repo, "branch", "--list", BRANCH) == ""
    assert (repo / "Dockerfile").read_bytes() == ORIGINAL["Dockerfile"] + b"RUN make\r\n"


def test_other_uncommitted_work_stays_out_of_the_commit_and_in_the_tree(
    tmp_path: Path, git_env: None
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "README.md").write_bytes(b"work in progress\n")
    (repo / "notes.txt").write_bytes(b"staged, not committed\n")
    git(repo, "add", "notes.txt")

    done = run_cli("pr", "--registry", REGISTRY, cwd=repo)

    assert done.returncode == 0, done.stderr
    assert sorted(git(repo, "diff", "--name-only", "main", BRANCH).split()) == sorted(MIGRATED)
    assert sorted(git(repo, "status", "--porcelain").splitlines()) == [
        " M README.md",
        "A  notes.txt",
    ]
    assert (repo / "README.md").read_bytes() == b"work in progress\n"


@pytest.mark.parametrize(
    ("setup", "code", "message"),
    [
        pytest.param("migrated", 1, "nothing to migrate", id="nothing-to-migrate"),
        pytest.param("branch-exists", 2, f"branch '{BRANCH}' already exists", id="branch-exists"),
        pytest.param("unknown-remote", 2, "no remote named 'origin'", id="unknown-remote"),
        pytest.param("not-a-repo", 2, "is not inside a git work tree", id="not-a-repo"),
    ],
)
def test_refusals(tmp_path: Path, git_env: None, setup: str, code: int, message: str) -> None:
    args = ["pr", "--registry", REGISTRY]
    if setup == "not-a-repo":
        repo = tmp_path / "plain"
        repo.mkdir()
        (repo / "Dockerfile").write_bytes(ORIGINAL["Dockerfile"])
    else:
        repo = make_repo(tmp_path / "repo", MIGRATED if setup == "migrated" else ORIGINAL)
    if setup == "branch-exists":
        git(repo, "branch", BRANCH)
    if setup == "unknown-remote":
        args.append("--push")
    before = git(repo, "for-each-ref") if setup != "not-a-repo" else ""

    done = run_cli(*args, cwd=repo)

    assert done.returncode == code
    assert message in done.stderr and done.stderr.count("\n") == 1
    if setup != "not-a-repo":
        assert git(repo, "for-each-ref") == before
        assert git(repo, "status", "--porcelain") == ""


def test_push_to_a_bare_repository_that_a_second_clone_can_fetch(
    tmp_path: Path, git_env: None
) -> None:
    bare = tmp_path / "shared.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    repo = make_repo(tmp_path / "repo")
    git(repo, "remote", "add", "backup", str(bare))
    git(repo, "push", "-q", "backup", "main")

    done = run_cli(
        "pr", "--push", "backup", "--registry", REGISTRY, "--branch", "migrate/ecr", cwd=repo
    )

    assert done.returncode == 0, done.stderr
    assert "pushed migrate/ecr to backup" in done.stderr
    git(tmp_path, "clone", "-q", str(bare), "second")
    second = tmp_path / "second"
    git(second, "fetch", "-q", "origin", "migrate/ecr")
    assert git(second, "rev-parse", "FETCH_HEAD") == git(repo, "rev-parse", "migrate/ecr")
    for name, data in MIGRATED.items():
        assert blob(second, "FETCH_HEAD", name) == data
    assert git(second, "rev-parse", "origin/main") == git(repo, "rev-parse", "main")


def _github_clone(tmp_path: Path) -> Path:
    """A repo whose origin reads https://github.com/acme/widgets.git; git's url.insteadOf sends
    the push to a local bare repository, as it would send it to GitHub."""
    bare = tmp_path / "widgets.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    repo = make_repo(tmp_path / "repo", branch="work")
    git(repo, "config", f"url.{bare}.insteadOf", "https://github.com/acme/widgets.git")
    git(repo, "remote", "add", "origin", "https://github.com/acme/widgets.git")
    git(repo, "push", "-q", "-u", "origin", "work:main")  # local `work` tracks origin's main
    return bare


def test_open_pushes_and_opens_the_github_pull_request(tmp_path: Path, git_env: None) -> None:
    bare = _github_clone(tmp_path)
    with FakeApi("acme/widgets") as api:
        done = run_cli(
            "pr",
            "--open",
            "--registry",
            REGISTRY,
            cwd=tmp_path / "repo",
            env={"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api.url},
        )

    assert done.returncode == 0, done.stderr
    assert done.stdout == "https://github.com/acme/widgets/pull/1\n"
    [request] = api.requests
    assert request["path"] == "/repos/acme/widgets/pulls"
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    sent = request["json"]
    assert (sent["title"], sent["head"], sent["base"]) == (TITLE, BRANCH, "main")
    assert f"compose.yaml:3  nginx:1.27 → {REGISTRY}/docker-hub/library/nginx:1.27" in sent["body"]
    assert blob(bare, BRANCH, "compose.yaml") == MIGRATED["compose.yaml"]
    assert TOKEN not in done.stdout + done.stderr


def test_detached_head_opens_against_the_remotes_default_branch(
    tmp_path: Path, git_env: None
) -> None:
    _github_clone(tmp_path)
    repo = tmp_path / "repo"
    git(repo, "checkout", "-q", "--detach")
    start = git(repo, "rev-parse", "HEAD")
    with FakeApi("acme/widgets") as api:
        done = run_cli(
            "pr",
            "--open",
            "--registry",
            REGISTRY,
            cwd=repo,
            env={"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api.url},
        )

    assert done.returncode == 0, done.stderr
    assert api.requests[0]["json"]["base"] == "main"
    assert git(repo, "rev-parse", "HEAD") == start
    assert git(repo, "branch", "--show-current") == ""  # still detached, where it was


def test_an_ignored_file_named_explicitly_is_refused(tmp_path: Path, git_env: None) -> None:
    repo = make_repo(tmp_path / "repo", {**ORIGINAL, ".gitignore": b"gen/\n"})
    (repo / "gen").mkdir()
    (repo / "gen" / "Dockerfile").write_bytes(b"FROM alpine\n")

    done = run_cli("pr", "--registry", REGISTRY, "gen/Dockerfile", "Dockerfile", cwd=repo)

    assert done.returncode == 2
    assert "gen/Dockerfile (ignored by git)" in done.stderr and ", Dockerfile" not in done.stderr
    assert git(repo, "branch", "--list", BRANCH) == ""


def test_open_failure_says_the_branch_is_pushed(tmp_path: Path, git_env: None) -> None:
    bare = _github_clone(tmp_path)
    answer = {
        "message": "Validation Failed",
        "errors": [{"message": "A pull request already exists"}],
    }
    with FakeApi("acme/widgets", status=422, answer=answer) as api:
        done = run_cli(
            "pr",
            "--open",
            "--registry",
            REGISTRY,
            cwd=tmp_path / "repo",
            env={"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": api.url},
        )

    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"ecr-ptc: {BRANCH} is pushed, but the pull request was not opened: "
        "GitHub API: 422 Validation Failed: A pull request already exists"
    )
    assert git(bare, "branch", "--list", BRANCH).strip() == BRANCH


def test_aws_puts_the_accounts_rules_in_the_description(
    tmp_path: Path,
    git_env: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from migrate.aws import client as aws
    from migrate.aws.templates import Scanning
    from migrate.cli import main

    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbC"
    account = aws.Account(
        REGISTRY,
        "123456789012",
        "us-east-1",
        (aws.AccountRule("docker-hub", "registry-1.docker.io", credential_arn=arn),),
    )
    monkeypatch.setattr(aws, "read_account", lambda registry, **_: account)
    monkeypatch.setattr(aws, "list_templates", lambda account: ())
    monkeypatch.setattr(aws, "read_scanning", lambda account: Scanning("BASIC", ()))
    repo = make_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)

    assert main(["pr", "--aws", "--registry", REGISTRY]) == 0

    body = capsys.readouterr().out
    # quay.io has no rule in the account: not rewritten, reported missing, planned.
    assert sorted(git(repo, "diff", "--name-only", "main", BRANCH).split()) == [
        "Dockerfile",
        "compose.yaml",
    ]
    assert "| `docker-hub` | `registry-1.docker.io` | ok |" in body
    assert "| `quay` | `quay.io` | missing |" in body
    plan = body.split("```sh\n", 1)[1].split("```", 1)[0]
    assert (
        "--ecr-repository-prefix quay " in plan and "--ecr-repository-prefix docker-hub" not in plan
    )
    assert "| `deploy/app.yaml:7` | PTC002 |" in body


def _rejecting_remote(tmp_path: Path, repo: Path) -> Path:
    """A bare remote whose pre-receive hook refuses every push with a message of several
    lines, as a protected branch or a server-side policy does."""
    bare = tmp_path / "guarded.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\necho 'policy: pushes need a ticket' >&2\n"
        "echo 'policy: see https://wiki.example.invalid/push' >&2\nexit 1\n"
    )
    hook.chmod(0o755)
    git(repo, "remote", "add", "origin", str(bare))
    return hook


def test_a_failed_push_keeps_the_commit_and_a_rerun_pushes_it(
    tmp_path: Path, git_env: None
) -> None:
    repo = make_repo(tmp_path / "repo")
    hook = _rejecting_remote(tmp_path, repo)
    body = tmp_path / "body.md"
    args = ("pr", "--push", "--registry", REGISTRY, "--body-file", str(body))

    failed = run_cli(*args, cwd=repo)

    assert failed.returncode == 2
    # git's whole answer, not its last line: the policy's reason is what the user needs.
    assert "policy: pushes need a ticket" in failed.stderr
    assert "policy: see https://wiki.example.invalid/push" in failed.stderr
    assert f"git push -u origin {BRANCH}" in failed.stderr
    commit = git(repo, "rev-parse", BRANCH).strip()
    assert blob(repo, BRANCH, "compose.yaml") == MIGRATED["compose.yaml"]
    assert "compose.yaml:3  nginx:1.27" in body.read_text(encoding="utf-8")
    assert git(repo, "branch", "--show-current").strip() == "main"

    hook.unlink()  # the policy is satisfied: the same command again
    body.unlink()
    again = run_cli(*args, cwd=repo)

    assert again.returncode == 0, again.stderr
    assert f"reusing {BRANCH} ({commit[:12]})" in again.stderr
    assert git(repo, "rev-parse", BRANCH).strip() == commit  # the same commit, not a second one
    assert git(tmp_path / "guarded.git", "rev-parse", BRANCH).strip() == commit
    assert "compose.yaml:3  nginx:1.27" in body.read_text(encoding="utf-8")


def test_force_branch_recreates_a_stale_branch(tmp_path: Path, git_env: None) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "branch", BRANCH)  # something else entirely: a branch of the same name
    stale = git(repo, "rev-parse", BRANCH).strip()

    refused = run_cli("pr", "--registry", REGISTRY, cwd=repo)
    forced = run_cli("pr", "--registry", REGISTRY, "--force-branch", cwd=repo)

    assert refused.returncode == 2 and "--force-branch" in refused.stderr
    assert forced.returncode == 0, forced.stderr
    assert git(repo, "rev-parse", f"{BRANCH}^").strip() == stale  # from HEAD, one commit
    assert sorted(git(repo, "diff", "--name-only", "main", BRANCH).split()) == sorted(MIGRATED)


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        pytest.param(
            {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": "http://api.example.com"},
            "not https",
            id="clear-text-api",
        ),
        pytest.param({}, "needs GITHUB_TOKEN", id="no-token"),
    ],
)
def test_open_checks_the_forge_before_anything_is_committed_or_pushed(
    env: dict[str, str], reason: str, tmp_path: Path, git_env: None
) -> None:
    bare = _github_clone(tmp_path)
    repo = tmp_path / "repo"

    done = run_cli("pr", "--open", "--registry", REGISTRY, cwd=repo, env=env)

    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert reason in line and "nothing was committed or pushed" in line, line
    assert git(repo, "branch", "--list", BRANCH) == ""
    assert git(bare, "branch", "--list", BRANCH) == ""
    assert tree(repo) == ORIGINAL
