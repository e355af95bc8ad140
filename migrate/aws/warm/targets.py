"""Which references `warm` pulls: what `fix` would write (its findings' targets) and what already
points at the cache, each once, with where it is written. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from migrate import reference
from migrate.findings import Finding, Status

# Kustomize's `images[].name` matches images in the bases; the base's own reference is pulled.
_NOT_PULLED = {"kustomize-name"}


@dataclass(frozen=True)
class Target:
    reference: str  # <registry>/<repository>[:tag][@digest], as the files will say
    repository: str  # the ECR repository name: <prefix>/<upstream path>
    prefix: str  # the pull-through cache rule's
    tag: str | None  # None with a digest: a digest-only pin; None without: Docker pulls latest
    digest: str | None
    where: tuple[tuple[str, int, int], ...]  # (path, line, column) of every place it is written
    skipped: str | None = None  # why it is not pulled (a variable in the tag)

    @property
    def pulled_by(self) -> str:
        """What the registry API is asked for: the tag when there is one."""
        return self.tag or self.digest or "latest"


def targets(findings: Iterable[Finding], registry: str) -> list[Target]:
    """In the order of first appearance."""
    found: dict[str, Target] = {}
    for f in findings:
        text = _cache_reference(f, registry)
        if text is None:
            continue
        where = (f.path, f.line, f.column)
        if text in found:
            known = found[text]
            if where not in known.where:
                found[text] = replace(known, where=(*known.where, where))
            continue
        found[text] = _target(text, registry, f.prefix or "", where)
    return list(found.values())


def _cache_reference(f: Finding, registry: str) -> str | None:
    if f.code == "PTC900" or f.kind in _NOT_PULLED:
        return None
    if f.status is Status.PUBLIC and f.target:
        return f.target
    if f.status is Status.CACHED and f.reference:
        return f.reference
    return None


def _target(text: str, registry: str, prefix: str, where: tuple[str, int, int]) -> Target:
    if "$" in text:
        name = text[len(registry) + 1 :].split("@", 1)[0].split(":", 1)[0]
        return Target(text, name, prefix, None, None, (where,), "the tag is a variable")
    ref = reference.parse(text)
    return Target(text, ref.path, prefix, ref.tag, ref.digest, (where,))
