"""`ecr-ptc warm`: fill the pull-through cache before the first deploy by asking it for every
reference's manifest, as `docker pull` would, and say per reference what happened.

Manifests are enough: on a manifest request ECR imports the image (a multi-architecture tag
brings "the manifest list and each image referenced in the manifest list") into a repository it
creates, so layers are never downloaded here
(the user guide's considerations for pull through cache: awsdocs/amazon-ecr-user-guide,
doc_source/pull-through-cache.md; docs/rules-and-warm.md).

Off the hook path: cli.py imports this package only for `warm`; boto3 is imported inside aws.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any

from migrate.aws import client as aws
from migrate.aws.errors import AwsDenied, AwsError, one_line
from migrate.aws.warm.pull import GOOD, Result, Retry, warm
from migrate.aws.warm.registry import Registry
from migrate.aws.warm.targets import Target, targets

__all__ = ["Result", "Retry", "Target", "Warmed", "run", "targets"]

CONCURRENCY = 8


@dataclass(frozen=True)
class Warmed:
    results: tuple[Result, ...]  # in the order of the targets
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return any(r.status not in GOOD and r.status != "error" for r in self.results)

    @property
    def errors(self) -> bool:
        return any(r.status == "error" for r in self.results)


class _CacheCheck:
    """Was a tag in the cache before the pull (ecr:DescribeImages)? Without the permission the
    answer is unknown for every reference, said once."""

    def __init__(self, account: aws.Account) -> None:
        self.account = account
        self.denied: str | None = None

    def __call__(self, target: Target) -> bool | None:
        if self.denied is not None or target.tag is None:
            return None
        try:
            return aws.image_cached(self.account, target.repository, target.tag)
        except AwsDenied as exc:
            self.denied = str(exc)
            return None
        except AwsError:
            return None


def run(
    found: Sequence[Target],
    account: aws.Account,
    *,
    base_url: str | None = None,
    concurrency: int = CONCURRENCY,
    retry: Retry | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[Iterable[Future[Result]]], Iterator[Future[Result]]] | None = None,
) -> Warmed:
    """Raises AwsError when no registry token can be had; every other failure is a Result."""
    if not found:
        return Warmed(())
    user, password = aws.authorization(account)
    secrets = (password, *account.secrets)
    registry = Registry(base_url or f"https://{account.registry}", user, password)
    check = _CacheCheck(account)
    results: list[Result | None] = [None] * len(found)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="warm") as pool:
        futures: dict[Future[Result], int] = {
            pool.submit(warm, target, registry, check, sleep, retry or Retry()): n
            for n, target in enumerate(found)
        }
        done: Iterable[Future[Result]] = as_completed(futures)
        for future in progress(done) if progress else done:
            result = future.result()
            results[futures[future]] = replace(result, message=one_line(result.message, secrets))
    notes: tuple[str, ...] = ()
    if check.denied:
        notes = (f"cannot tell cached from filled: {check.denied}",)
    return Warmed(tuple(r for r in results if r is not None), notes)


def label(future: Any) -> str:
    """The progress line's text for a finished reference."""
    return str(future.result().target.reference)


def run_for(
    options: Any, *, concurrency: int = CONCURRENCY, base_url: str | None = None
) -> tuple[Warmed, tuple[Any, ...]]:
    """`ecr-ptc warm` on a session's options: the references `fix` would write (nothing is
    written) and those already on the cache, warmed; with the files that could not be read."""
    import sys

    from migrate.aws.warm.registry import check_url
    from migrate.commands import session
    from migrate.output import progress

    if base_url:
        try:
            check_url(base_url)
        except ValueError as exc:
            raise session.SessionError(f"--registry-url: {exc}") from None
    host = options.config.registry or ""
    account = options.account or session.aws_call(lambda: aws.connect(host))
    _, report = session.run(options, fix=True)
    found = targets(report.findings, host)
    track: Callable[[Iterable[Future[Result]]], Iterator[Future[Result]]] | None = None
    if progress.wanted(options.output):

        def track(done: Iterable[Future[Result]]) -> Iterator[Future[Result]]:
            return progress.track(done, label, sys.stderr, noun="reference")

    warmed = session.aws_call(
        lambda: run(found, account, base_url=base_url, concurrency=concurrency, progress=track)
    )
    return warmed, tuple(report.errors)
