"""`ecr-ptc pr`: the one-off migration as one workflow — dry run, refuse dirty files, branch,
fix, commit, push, describe, open the pull request. Git lives in `git_pr`, the forge in
`forge`, the description in `pr_body`; this module puts them in order and decides what a
failure leaves behind. It prints nothing itself: progress goes to `say`, the result is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migrate.config import Config
from migrate.pr.git_branch import Failure, GitError, Migration, Repository

__all__ = ["Done", "Failure", "MigrationError", "Request", "run"]

if TYPE_CHECKING:
    from migrate.aws.assess import Assessment
    from migrate.commands.session import Options
    from migrate.rewrite.results import FileResult

Fix = Callable[[bool], Sequence["FileResult"]]  # write? -> results


@dataclass(frozen=True)
class Request:
    cwd: Path
    config: Config  # with the registry, and the account's rules under --aws
    own: Config  # the config as written, to check against the account
    account: Any  # aws.Account under --aws, else None
    branch: str
    remote: str | None  # push here (None: do not push)
    open_pr: bool
    body_file: Path | None
    force_branch: bool = False

    @classmethod
    def of(
        cls,
        options: Options,
        branch: str,
        push: str | None,
        open_pr: bool,
        body_file: str | None,
        force_branch: bool,
    ) -> Request:
        """`--open` pushes too: to `--push`'s remote, else origin."""
        remote = push or ("origin" if open_pr else None)
        own = options.own or options.config
        body = Path(body_file) if body_file else None
        return cls(options.cwd, options.config, own, options.account, branch, remote, open_pr,
                   body, force_branch)  # fmt: skip


@dataclass(frozen=True)
class Done:
    migration: Migration
    body: str  # the description (already written to body_file when one was given)
    url: str | None  # the pull request opened


class MigrationError(Exception):
    def __init__(
        self, message: str, kind: Failure, body: str | None = None, detail: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.body = body  # the description, when the migration got that far
        self.detail = detail  # lines under the message (git's answer, what to do next)


def run(request: Request, fix: Fix, say: Callable[[str], None]) -> Done:
    try:
        return _run(request, fix, say)
    except GitError as exc:
        raise MigrationError(str(exc), exc.kind, detail=exc.detail) from None


def _run(request: Request, fix: Fix, say: Callable[[str], None]) -> Done:
    from migrate.pr import body as pr_body

    repo = Repository(request.cwd)
    planned = fix(False)  # writes nothing: which files, are they clean?
    touched = [repo.relative(request.cwd, r.path) for r in planned if r.changed]
    if not touched:
        raise GitError("nothing to migrate: no reference needs rewriting", Failure.NOTHING)
    repo.refuse_dirty(touched)
    if request.body_file:  # a --body-file that would be refused is refused before any commit
        _body_file(request, repo, None)
    if request.remote:
        remote_url = repo.remote_url(request.remote)  # an unknown remote fails before any commit
        if request.open_pr:  # as do a missing token and an API URL that is not https
            from migrate.pr import forge

            try:
                forge.prepare(remote_url)
            except forge.ForgeError as exc:
                raise GitError(
                    f"--open: {exc}; nothing was committed or pushed", Failure.REFUSED
                ) from None
    found = _assess(request, planned)  # an AWS error fails before anything is committed
    host = request.config.registry or ""
    earlier = None if request.force_branch else repo.earlier(request.branch, touched, planned)
    if earlier is not None:
        migration = earlier
        say(
            f"reusing {request.branch} ({earlier.commit[:12]}): an earlier run committed this migration"
        )
    else:
        migration = repo.migrate(
            request.cwd,
            request.branch,
            touched,
            lambda: fix(True),
            lambda results: pr_body.commit_message(pr_body.summarise(host, results)),
            force=request.force_branch,
        )
        say(
            f"committed {len(migration.files)} files to {request.branch} "
            f"({migration.commit[:12]}); {migration.base} is unchanged"
        )
    pushed: GitError | None = None
    if request.remote:
        try:
            repo.push(request.remote, request.branch)
            say(f"pushed {request.branch} to {request.remote}")
        except GitError as exc:
            pushed = exc  # the description is still written: the work is done but for the push
    body = _describe(found, migration, limit=request.open_pr and pushed is None)
    if request.body_file:
        _body_file(request, repo, body)
    if pushed is not None:
        raise MigrationError(
            f"{request.branch} is committed ({migration.commit[:12]}) but not pushed. {pushed}",
            Failure.PUSH,
            body,
            (
                *pushed.detail,
                (
                    "Rerun the same command to push it (the branch is reused), or push it "
                    f"yourself: git push -u {request.remote} {request.branch}"
                ),
            ),
        )
    url = None
    if request.open_pr and request.remote:
        url = _open(repo, request, migration, body)
    return Done(migration, body, url)


def _body_file(request: Request, repo: Repository, body: str | None) -> None:
    from migrate.pr import body_file

    assert request.body_file is not None
    try:
        if body is None:
            body_file.check(request.body_file, request.cwd, repo.root)
        else:
            body_file.write(request.body_file, body, request.cwd, repo.root)
    except body_file.BodyFileError as exc:
        raise GitError(str(exc), Failure.REFUSED if body is None else Failure.GIT) from None


def _open(repo: Repository, request: Request, migration: Migration, body: str) -> str:
    from migrate.pr import body as pr_body
    from migrate.pr import forge

    assert request.remote is not None
    base = repo.pr_base(migration, request.remote)
    remote_url = repo.remote_url(request.remote)
    try:
        return forge.open_request(remote_url, request.branch, base, pr_body.TITLE, body)
    except forge.ForgeError as exc:
        raise GitError(
            f"{request.branch} is pushed, but the pull request was not opened: {exc}"
        ) from None


def _assess(request: Request, planned: Sequence[FileResult]) -> Assessment:
    """The rules, as `rules plan` (and with --aws `rules check`) would print them."""
    from migrate.aws.assess import assess
    from migrate.aws.errors import AwsError

    findings = [f for r in planned for f in r.findings]
    try:
        return assess(findings, request.config, request.own, request.account)
    except AwsError as exc:
        raise GitError(str(exc)) from None


def _describe(found: Assessment, migration: Migration, limit: bool) -> str:
    from migrate.aws import plan as plan_api
    from migrate.pr import body as pr_body

    check = (
        None
        if found.check is None
        else [
            {"prefix": s.prefix, "upstream": s.upstream, "status": s.status, "message": s.message}
            for s in found.check.rules
        ]
    )
    rule_plan = plan_api.Plan.of(found)
    return pr_body.body(
        pr_body.summarise(found.registry, migration.results),
        found.needed,
        plan=plan_api.cli(rule_plan),
        renovate=plan_api.renovate(rule_plan),
        check=check,
        limit=pr_body.GITHUB_BODY_LIMIT if limit else None,
    )
