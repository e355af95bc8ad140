"""Two renders of one chart, before and after a rewrite: is every image the cache target of what
it was, or unchanged?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from migrate import reference, registries
from migrate.charts.images import Rendered


class Wrong(NamedTuple):
    where: str
    before: str
    after: str | None  # None: the container is gone


def wrong(before: list[Rendered], after: list[Rendered]) -> Iterator[Wrong]:
    """Images that render as something other than their cache target (or themselves)."""
    later = dict(after)
    for where, image in before:
        now = later.pop(where, None)
        if now is None or (now != image and not is_cache_target(image, now)):
            yield Wrong(where, image, now)
    for where, image in later.items():  # a container the original did not render
        yield Wrong(where, "", image)


def unmigrated(after: list[Rendered]) -> dict[str, str]:
    """Image -> where, for rendered images still pulled straight from a cacheable upstream."""
    out: dict[str, str] = {}
    for where, image in after:
        try:
            ref = reference.parse(image)
        except reference.ReferenceError:
            continue
        if registries.ecr_host(ref.domain) is None and registries.upstream_for_url(ref.domain):
            out.setdefault(image, where)
    return out


def is_cache_target(before: str, after: str) -> bool:
    """`after` is `before` pulled through a cache: an ECR host, a rule prefix, then exactly the
    upstream path (Docker Hub's `library/` included) and the same tag and digest text.

    The prefix itself is not checked against the rules (the prover sees no config): a chart can
    get a rewrite wrong only by composing the strings differently, which changes the path."""
    try:
        old, new = reference.parse(before), reference.parse(after)
    except reference.ReferenceError:
        return False
    if registries.ecr_host(new.domain) is None or old.tail != new.tail:
        return False
    path = registries.upstream_path(old.domain, old.path)
    prefix, slash, rest = new.path.rpartition("/" + path)
    return bool(slash) and not rest and registries.is_valid_prefix(prefix)
