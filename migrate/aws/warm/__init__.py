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

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, as_completed
from concurrent.futures import TimeoutError as Overdue
from dataclasses import dataclass, field, replace
from typing import Any

from migrate.aws import client as aws
from migrate.aws.errors import AwsDenied, AwsError, one_line
from migrate.aws.warm.pull import GOOD, STOPPED, Result, Retry, warm
from migrate.aws.warm.registry import DEADLINE, Registry
from migrate.aws.warm.targets import Target, targets

__all__ = ["Result", "Retry", "Target", "Warmed", "run", "targets"]

CONCURRENCY = 8
RUN_DEADLINE = 1800.0  # seconds for the whole run; what is left then is an error, not a hang
_JOIN = 2.0  # seconds the stopped workers get to close their connections before we go


@dataclass(frozen=True)
class Warmed:
    results: tuple[Result, ...]  # in the order of the targets
    notes: tuple[str, ...] = ()
    # Ctrl-C or SIGTERM ended the run: the results so far are printed, then this is raised.
    interrupted: BaseException | None = field(default=None, compare=False)

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
    sleep: Callable[[float], object] | None = None,
    progress: Callable[[Iterable[Future[Result]]], Iterator[Future[Result]]] | None = None,
    deadline: float = RUN_DEADLINE,
    request_deadline: float = DEADLINE,
) -> Warmed:
    """Raises AwsError when no registry token can be had; every other failure is a Result, and
    every target has one: when the run's deadline passes, or Ctrl-C or SIGTERM arrives, the
    requests under way end at once and the references not done say so."""
    if not found:
        return Warmed(())
    until = time.monotonic() + deadline
    user, password = aws.authorization(account)
    stop = threading.Event()
    registry = Registry(
        base_url or f"https://{account.registry}",
        user,
        password,
        deadline=request_deadline,
        stop=stop,
    )
    check = _CacheCheck(account)
    pause = sleep or stop.wait  # a retry's wait ends when the run stops

    def one(target: Target) -> Result:
        return warm(target, registry, check, pause, retry or Retry())

    futures = _start(found, one, concurrency, stop)
    interrupted: BaseException | None = None
    unfinished = STOPPED
    try:
        done: Iterable[Future[Result]] = as_completed(futures, timeout=until - time.monotonic())
        for _ in progress(done) if progress else done:
            pass
    except Overdue:
        unfinished = f"not warmed: the run's deadline ({deadline:g} s) passed first"
    except BaseException as exc:  # noqa: BLE001  Ctrl-C, SIGTERM: report what is done, then go
        interrupted = exc
    finally:
        stop.set()  # the watchdog ends the requests under way; no worker takes another
    collected = list(_collect(found, futures, unfinished))
    registry.close()
    secrets = (*registry.secrets, *account.secrets)
    results = [replace(result, message=one_line(result.message, secrets)) for result in collected]
    notes: tuple[str, ...] = ()
    if check.denied:
        notes = (f"cannot tell cached from filled: {check.denied}",)
    return Warmed(tuple(results), notes, interrupted)


def _start(
    found: Sequence[Target],
    one: Callable[[Target], Result],
    concurrency: int,
    stop: threading.Event,
) -> list[Future[Result]]:
    """Daemon workers, not a ThreadPoolExecutor: its threads are joined at exit, so one stuck
    in a call nothing can interrupt (DNS, an AWS call) would keep a stopped run alive."""
    futures: list[Future[Result]] = [Future() for _ in found]
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for n in range(len(found)):
        todo.put(n)

    def work() -> None:
        while not stop.is_set():
            try:
                n = todo.get_nowait()
            except queue.Empty:
                return
            futures[n].set_running_or_notify_cancel()
            try:
                result = one(found[n])
            except BaseException as exc:  # noqa: BLE001  never a future left without a result
                result = Result(found[n], "error", f"not warmed: {type(exc).__name__}")
            futures[n].set_result(result)

    for n in range(min(concurrency, len(found))):
        threading.Thread(target=work, name=f"warm-{n}", daemon=True).start()
    return futures


def _collect(
    found: Sequence[Target], futures: Sequence[Future[Result]], unfinished: str
) -> Iterator[Result]:
    """Each target's result, in order; the workers still busy get a moment to finish."""
    wait_until = time.monotonic() + _JOIN
    for target, future in zip(found, futures):
        if future.running():
            try:
                future.result(timeout=max(0.0, wait_until - time.monotonic()))
            except Overdue:
                pass
        yield future.result() if future.done() else Result(target, "error", unfinished)


def label(future: Any) -> str:
    """The progress line's text for a finished reference."""
    return str(future.result().target.reference)


def run_for(
    options: Any,
    *,
    concurrency: int = CONCURRENCY,
    base_url: str | None = None,
    deadline: float = RUN_DEADLINE,
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
        lambda: run(
            found,
            account,
            base_url=base_url,
            concurrency=concurrency,
            progress=track,
            deadline=deadline,
        )
    )
    return warmed, tuple(report.errors)
