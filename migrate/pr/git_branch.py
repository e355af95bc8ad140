"""The one-off migration branch: refuse dirty files, branch from HEAD, fix, commit, push.

GitPython is imported inside the functions (it adds ~66 ms to start-up that lint and fix, the
pre-commit path, must not pay). Staging and committing go through the git command line, not
GitPython's own index writer, so `.gitattributes` (eol, filters such as LFS) and the
repository's hooks behave exactly as they do for a person running `git commit`.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migrate.rewrite.results import FileResult


class Failure(enum.Enum):
    """What went wrong, for the caller to turn into an exit code and advice."""

    NOTHING = "nothing"  # nothing to migrate
    REFUSED = "refused"  # the repository is not in a state to migrate from (dirty, branch taken)
    GIT = "git"  # a git command failed
    PUSH = "push"  # the branch and its commit exist; the push failed


class GitError(Exception):
    def __init__(
        self, message: str, kind: Failure = Failure.GIT, detail: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.detail = detail  # lines to show under the message: git's own words, one per line


@dataclass(frozen=True)
class Migration:
    branch: str
    base: str  # the branch HEAD was on, or its commit id when detached
    detached: bool
    commit: str
    files: tuple[str, ...]  # repository-relative paths in the commit
    results: tuple[FileResult, ...]


class Repository:
    def __init__(self, cwd: Path) -> None:
        import git  # GitPython, only on this path

        try:
            self._repo = git.Repo(cwd, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitError(f"{cwd} is not inside a git work tree", Failure.REFUSED) from None
        if self._repo.bare or self._repo.working_tree_dir is None:
            raise GitError("pr needs a work tree, not a bare repository", Failure.REFUSED)
        self.root = Path(self._repo.working_tree_dir).resolve()
        self._git = self._repo.git
        # Paths are file names, never globs: `Dockerfile[1]` must not match `Dockerfile1`.
        self._git.update_environment(GIT_LITERAL_PATHSPECS="1")
        if not self._repo.head.is_valid():
            raise GitError("the repository has no commit to branch from", Failure.REFUSED)

    def _run(self, *args: str, kind: Failure = Failure.GIT) -> str:
        # Raw streams rather than GitCommandError, whose text wraps git's words in its own.
        status, out, err = self._git.execute(
            ["git", *args], with_extended_output=True, with_exceptions=False
        )
        if status != 0:
            # All of git's words: a rejected push explains itself over several lines (hints).
            detail = [line.rstrip() for line in _redact(str(err or out)).strip().splitlines()]
            detail = [line for line in detail if line]
            if not detail:
                raise GitError(f"git {args[0]} failed: exit {status}", kind)
            if len(detail) == 1:
                raise GitError(f"git {args[0]} failed: {detail[0]}", kind)
            raise GitError(f"git {args[0]} failed:", kind, tuple(f"  {d}" for d in detail))
        return str(out)

    def relative(self, cwd: Path, display: str) -> str:
        """A path as the engine shows it (relative to cwd), as git names it: the real file,
        because a symlink's target is what fix rewrote."""
        real = Path(os.path.realpath(cwd / display))
        return real.relative_to(self.root).as_posix()

    def refuse_dirty(self, paths: Sequence[str]) -> None:
        """Changes of the user's own in the files fix would touch must not land in the commit."""
        out = self._run(
            "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored", "--", *paths
        )
        dirty = []
        entries = iter(out.split("\0"))
        for entry in entries:
            state, name = entry[:2], entry[3:]
            if state[:1] in ("R", "C"):
                next(entries, None)  # -z puts a rename's source in a field of its own
            if name:  # the pathspec already limits the report to these files
                reason = {"??": "untracked", "!!": "ignored by git"}.get(
                    state, "has uncommitted changes"
                )
                dirty.append(f"{name} ({reason})")
        if dirty:
            raise GitError(
                "commit or stash these first; pr would rewrite them: " + ", ".join(dirty),
                Failure.REFUSED,
            )

    def migrate(
        self,
        cwd: Path,
        branch: str,
        expected: Sequence[str],
        fix: Callable[[], Sequence[FileResult]],
        message: Callable[[Sequence[FileResult]], str],
        *,
        force: bool = False,
    ) -> Migration:
        """Branch from HEAD, run `fix`, commit exactly the files it changed, return to the
        original branch. `expected`: the files a dry run would change, already checked clean.
        Any failure after branching puts everything back as it was. `force`: an existing
        branch of that name is recreated from HEAD."""
        self._run("check-ref-format", "--branch", branch)
        head = self._repo.head
        detached = head.is_detached
        start = head.commit.hexsha
        base = start if detached else head.ref.name
        if any(h.name == branch for h in self._repo.heads):
            if not force:
                raise GitError(
                    f"branch {branch!r} already exists and is not this migration of HEAD: "
                    "delete it, pass --branch NAME, or --force-branch to recreate it",
                    Failure.REFUSED,
                )
            if not detached and head.ref.name == branch:
                raise GitError(
                    f"branch {branch!r} is checked out: switch away first", Failure.REFUSED
                )
            self._run("branch", "-D", branch)
        self._run("checkout", "--quiet", "-b", branch)
        files: list[str] = []
        try:
            results = tuple(fix())
            files = [self.relative(cwd, r.path) for r in results if r.changed]
            if not files:
                raise GitError("nothing to migrate", Failure.NOTHING)
            self._run("add", "--", *files)
            # `--only` semantics (paths after --): whatever else the user had staged stays out.
            self._run("commit", "--quiet", "-m", message(results), "--", *files)
            commit = self._repo.head.commit.hexsha
        except BaseException:  # Ctrl-C included: fix may have written some files already
            self._restore(start, base, detached, branch, sorted({*expected, *files}))
            raise
        self._switch(base, detached)
        return Migration(branch, base, detached, commit, tuple(files), results)

    def earlier(
        self, branch: str, expected: Sequence[str], results: Sequence[FileResult]
    ) -> Migration | None:
        """The migration an earlier run left on `branch`, if it is exactly this one: one commit
        on top of HEAD changing exactly the `expected` files (a rerun after a failed push)."""
        if not any(h.name == branch for h in self._repo.heads):
            return None
        tip = self._repo.heads[branch].commit
        head = self._repo.head
        if [p.hexsha for p in tip.parents] != [head.commit.hexsha]:
            return None
        changed = self._run("diff", "--name-only", "-z", head.commit.hexsha, tip.hexsha)
        if sorted(n for n in changed.split("\0") if n) != sorted(expected):
            return None
        base = head.commit.hexsha if head.is_detached else head.ref.name
        return Migration(
            branch, base, head.is_detached, tip.hexsha, tuple(expected), tuple(results)
        )

    def _switch(self, base: str, detached: bool) -> None:
        self._run("checkout", "--quiet", *(["--detach"] if detached else []), base)

    def _restore(
        self, start: str, base: str, detached: bool, branch: str, files: Sequence[str]
    ) -> None:
        """Best effort: the files were clean before, so their HEAD version is the user's."""
        try:
            if files:
                self._run("checkout", start, "--", *files)
            self._switch(base, detached)
            self._run("branch", "-D", branch)
        except GitError:
            pass  # the first error is the one to show; this one would only hide it

    def remote_url(self, remote: str) -> str:
        url = self._repo.config_reader().get_value(f'remote "{remote}"', "url", "")
        if not url:
            raise GitError(f"no remote named {remote!r}", Failure.REFUSED)
        return str(url)

    def push(self, remote: str, branch: str) -> None:
        self.remote_url(remote)
        refspec = f"refs/heads/{branch}:refs/heads/{branch}"
        self._run("push", "--quiet", "--set-upstream", remote, refspec, kind=Failure.PUSH)

    def pr_base(self, migration: Migration, remote: str) -> str:
        """What the pull request merges into: the branch the original one tracks on `remote`,
        else the original branch's own name, else (detached HEAD) the remote's default branch."""
        base = migration.base
        if migration.detached:
            listed = self._run("ls-remote", "--symref", remote, "HEAD")
            found = re.search(r"^ref: refs/heads/(\S+)\tHEAD$", listed, re.MULTILINE)
            if found is None:
                raise GitError(
                    f"HEAD was detached and {remote!r} names no default branch", Failure.REFUSED
                )
            return found[1]
        config: Any = self._repo.config_reader()
        tracked = config.get_value(f'branch "{base}"', "remote", "")
        merge = str(config.get_value(f'branch "{base}"', "merge", ""))
        if tracked == remote and merge.startswith("refs/heads/"):
            return merge.removeprefix("refs/heads/")
        return base


def _redact(text: str) -> str:
    """Git quotes remote URLs in its errors; a token in `https://user:token@host` must not show."""
    return re.sub(r"(//)[^/@\s]+@", r"\1", text)
