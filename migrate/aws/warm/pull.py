"""Warm one reference: ask the cache for its manifest as `docker pull` would, retry what is
worth retrying, and say what happened in the words of the person who has to act on it."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from migrate.aws.warm.answer import Answer
from migrate.aws.warm.deadline import Stopped
from migrate.aws.warm.registry import Registry, Unreachable
from migrate.aws.warm.targets import Target

STATUSES = (
    "cached",  # already in the cache
    "filled",  # not in the cache before; the manifest request filled it
    "served",  # served; whether it was cached before is unknown (no ecr:DescribeImages)
    "skipped",  # not pulled: a variable in the tag
    "not-found",  # the upstream (or the cache, with no rule) has no such image
    "upstream-auth",  # the upstream refused the rule's credentials
    "denied",  # the registry refused these credentials (IAM)
    "throttled",  # still throttled after the retries
    "digest-mismatch",  # the tag serves another digest than the one pinned beside it
    "digest-only",  # pinned by digest alone and not in the cache: cannot be filled
    "error",  # anything else: unreachable, too slow, a server error, an unusable answer
)
GOOD = frozenset({"cached", "filled", "served", "skipped"})
_RETRIED = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Retry:
    """Bounded: `attempts` requests at most, waiting Retry-After when the registry says, else
    `base` doubling (with jitter), never more than `cap` seconds at a time."""

    attempts: int = 4
    base: float = 1.0
    cap: float = 20.0

    def wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.cap)
        return min(self.base * 2.0 ** (attempt - 1) * (0.5 + random.random()), self.cap)


@dataclass(frozen=True)
class Result:
    target: Target
    status: str  # one of STATUSES
    message: str
    digest: str | None = None  # what the cache served
    attempts: int = 0  # manifest requests made


def warm(
    target: Target,
    registry: Registry,
    was_cached: Callable[[Target], bool | None],
    sleep: Callable[[float], object],
    retry: Retry,
) -> Result:
    """Never raises: whatever the registry answers, it is this reference's result."""
    try:
        return _warm(target, registry, was_cached, sleep, retry)
    except Stopped:
        return Result(target, "error", STOPPED)
    except Exception as exc:  # noqa: BLE001  one hostile answer must not lose every result
        return Result(target, "error", f"cannot use the registry's answer: {type(exc).__name__}")


STOPPED = "not warmed: the run was stopped before this reference finished"


def _warm(
    target: Target,
    registry: Registry,
    was_cached: Callable[[Target], bool | None],
    sleep: Callable[[float], object],
    retry: Retry,
) -> Result:
    if target.skipped:
        return Result(target, "skipped", f"not pulled: {target.skipped}")
    before = was_cached(target) if target.tag else None
    answer, attempts = _get(target, registry, sleep, retry)
    if isinstance(answer, str):
        return Result(target, "error", f"cannot reach the registry: {answer}", None, attempts)
    if answer.problem is not None:
        return Result(
            target,
            "error",
            f"the registry answered 200 with no usable manifest: {answer.problem}",
            None,
            attempts,
        )
    if answer.status == 200:
        return _served(target, answer, before, attempts)
    return _refused(target, answer, attempts)


def _get(
    target: Target, registry: Registry, sleep: Callable[[float], object], retry: Retry
) -> tuple[Answer | str, int]:
    attempt = 0
    while True:
        attempt += 1
        try:
            got = registry.manifest(target.repository, target.pulled_by)
            answer: Answer | str = got
            retried = got.status in _RETRIED
        except Unreachable as exc:
            answer, retried = str(exc), exc.retry
        if not retried or attempt >= retry.attempts:
            return answer, attempt
        sleep(retry.wait(attempt, None if isinstance(answer, str) else answer.retry_after))
        if registry.stop.is_set():
            raise Stopped()


def _served(target: Target, answer: Answer, before: bool | None, attempts: int) -> Result:
    def result(status: str, message: str) -> Result:
        return Result(target, status, message, answer.digest, attempts)

    if target.digest and target.tag is None:
        return result("cached", "in the cache by its digest")
    pinned_elsewhere = target.digest not in (answer.digest, *answer.children)
    if target.digest and pinned_elsewhere:
        return result(
            "digest-mismatch",
            f"{target.tag} now serves {answer.digest}, not the pinned {target.digest}: "
            "a first pull by the pinned digest will fail; pin the digest the tag serves, "
            "or a tag that serves the pinned one",
        )
    pinned = " (the pinned digest is one of its platform images)" if target.digest else ""
    if target.digest and target.digest == answer.digest:
        pinned = " (the pinned digest)"
    if before:
        return result("cached", f"already in the cache{pinned}")
    if before is False:
        return result("filled", f"filled from the upstream now{pinned}")
    return result("served", f"served{pinned}; whether it was cached before is unknown")


def _refused(target: Target, answer: Answer, attempts: int) -> Result:
    said = f"{answer.code}: {answer.message}" if answer.code else answer.message
    said = said or f"HTTP {answer.status}"

    def result(status: str, message: str) -> Result:
        return Result(target, status, message, None, attempts)

    if answer.status == 404 and target.tag is None:
        return result(
            "digest-only",
            "pinned by digest alone and not in the cache, which cannot fill from a digest: "
            f"write a tag beside it ({target.reference.split('@')[0]}:TAG@{target.digest}) "
            "and warm again, or pull it once by a tag that serves this digest",
        )
    if answer.status == 404:
        return result(
            "not-found",
            f"not found ({said}): the tag does not exist upstream, or no rule serves "
            f"{target.prefix}/ (see `ecr-ptc rules check`)",
        )
    if answer.status in (401, 403) and "upstream registry" in answer.message.lower():
        return result(
            "upstream-auth",
            f"the upstream refused the rule's credentials ({said}): update the secret the "
            f"{target.prefix}/ rule names",
        )
    if answer.status in (401, 403):
        return result(
            "denied",
            f"the registry refused the pull ({said}): a first pull needs "
            "ecr:BatchImportUpstreamImage and ecr:CreateRepository beside ecr:BatchGetImage "
            "(see `ecr-ptc rules check --puller ROLE_ARN`)",
        )
    if answer.status == 429:
        return result("throttled", f"still throttled after {attempts} attempts ({said})")
    return result("error", f"the registry answered HTTP {answer.status} ({said})")
