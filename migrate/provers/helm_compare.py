"""Two renders of one chart, before and after a rewrite: is every image the cache target of what
it was, or unchanged?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from migrate import reference, registries
from migrate.config import Config
from migrate.provers.protocol import is_cache_target
from migrate.provers.rendered import Rendered


class Wrong(NamedTuple):
    where: str
    before: str
    after: str | None  # None: the container is gone


def wrong(before: list[Rendered], after: list[Rendered], config: Config) -> Iterator[Wrong]:
    """Images that render as something other than their cache target (or themselves)."""
    later = dict(after)
    for where, image in before:
        now = later.pop(where, None)
        if now is None or (now != image and not is_cache_target(image, now, config)):
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
