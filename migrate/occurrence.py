"""What a scanner yields: an image reference found in a file, with the exact spans to rewrite.

Scanners find; they never build replacement text (that is `edits.plan`). A scanner raises
`ScanError` for input it cannot understand; the engine turns it into one PTC900 finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple


class Part(NamedTuple):
    """A span of the decoded text (BOM excluded) and what the rewrite puts there.

    role 'ref':      the full reference; becomes target name + the tag/digest text as written
    role 'name':     an image name without tag; becomes the target name
    role 'registry': a registry host alone; becomes the ECR registry host
    role 'path':     a repository path beside a separate registry; becomes <prefix>/<upstream path>
    role 'head':     the leading part of a name composed from several values or whose literal
                     rest follows elsewhere (a chart's `docker.io/library` + `traefik`, a
                     chart-wide `global.hub`, an ARG default before `/library/node`); becomes
                     the target name less what follows it
    role 'allow':    a `false` that must be `true` for the rewrite to work (a Bitnami-style
                     chart's global.security.allowInsecureImages); becomes `true`
    role 'allow-key', 'allow-security', 'allow-global': an empty span at the start of a line
                     (or the end of the file) where that setting's missing keys go; becomes
                     those lines, indented as the lines around them
    role 'library':  an official Docker Hub name after a head that serves other images too
                     (`global.image.registry: docker.io` + `memcached`); becomes
                     `library/<name>`, so that the head's rewrite is the same for every image
    """

    role: str
    start: int
    end: int


class _Rare(NamedTuple):
    """What only some kinds set, None in nearly every occurrence: one slot holds them all."""

    code: str | None = None
    note: str | None = None
    kept: str | None = None
    credentials: bool | None = None
    before_login: str | None = None
    package: str | None = None
    beside: tuple[str, str] | None = None


# Every field a dataclass field (eq, hash, repr, `dataclasses.replace` as for any record), but
# seven slots, not thirteen: the fields only some kinds set share one (`_Rare`) and are read
# through properties. A dense values file holds 10^5 occurrences twice over, scanned and
# re-scanned (bench/dense.py), where a slot per field cost 48 bytes more each, and a frozen
# dataclass's own `__init__` (each field through object.__setattr__) several times the time of
# this one, which sets the slots through their descriptors.
@dataclass(frozen=True, init=False)
class Occurrence:
    __slots__ = ("_rare", "at", "end", "kind", "parts", "unresolved", "written")

    kind: str  # where it was found: 'from', 'copy-from', 'mount-from', 'syntax', 'image', ...
    written: str  # the reference as it reads (for split maps: assembled registry/repo:tag@digest)
    parts: tuple[Part, ...]  # what to rewrite; empty when nothing can be rewritten
    at: int  # offset reported as the finding's position
    end: int  # end offset of the reported range
    unresolved: str | None  # why this is not a concrete reference (PTC004), if so; default None
    # What only some kinds know, always by name, each None unless given:
    code: str | None  # the verdict code when unresolved, if not PTC004 (e.g. PTC012)
    # How `written` was found when the text does not show it (a variable resolved from `.env`
    # or ARG defaults): added to the finding's message.
    note: str | None
    # Why a concrete reference has no parts: added to the message when it would be rewritten.
    kept: str | None
    # CI images: whether the job declares registry credentials where its CI system has a place
    # for them (GitHub `credentials:`, CircleCI `auth`/`aws_auth`, ...); None: no such place.
    credentials: bool | None
    # Pulled before any step of its job can log in to a registry (a GitHub `docker://` step):
    # why, said when a rewrite is held back (PTC015) unless the config says the runners log in.
    before_login: str | None
    # A Crossplane package named without a registry, as written: `written` is it under
    # Crossplane's default registry, and the config's `crossplane-registry` may name another.
    package: str | None
    # What its rewrite changes beside it, or would need to, said once per file when it is
    # rewritten: (code, message), e.g. a Bitnami-style chart's guard setting (`allow` parts).
    beside: tuple[str, str] | None

    def __init__(
        self,
        kind: str,
        written: str,
        parts: tuple[Part, ...],
        at: int,
        end: int,
        unresolved: str | None = None,
        *,
        code: str | None = None,
        note: str | None = None,
        kept: str | None = None,
        credentials: bool | None = None,
        before_login: str | None = None,
        package: str | None = None,
        beside: tuple[str, str] | None = None,
    ) -> None:
        _set_kind(self, kind)
        _set_written(self, written)
        _set_parts(self, parts)
        _set_at(self, at)
        _set_end(self, end)
        _set_unresolved(self, unresolved)
        rare = (code, note, kept, credentials, before_login, package, beside)
        _set_rare(self, None if rare == _NONE else _Rare(*rare))

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Pickled (a pool worker's results) and copied as its fields: the default restores
        # slots one by one through the frozen __setattr__, which refuses them.
        rare = self._rare or _NONE  # type: ignore[attr-defined]
        return _restored, (self.kind, self.written, self.parts, self.at, self.end,
                           self.unresolved, *rare)  # fmt: skip


_NONE = _Rare()
_SETTERS = {name: getattr(Occurrence, name).__set__ for name in Occurrence.__slots__}
_set_kind, _set_written, _set_parts = _SETTERS["kind"], _SETTERS["written"], _SETTERS["parts"]
_set_at, _set_end, _set_unresolved = _SETTERS["at"], _SETTERS["end"], _SETTERS["unresolved"]
_set_rare = _SETTERS["_rare"]


def _rare_field(index: int) -> property:
    def get(occ: Occurrence) -> object:
        rare = occ._rare  # type: ignore[attr-defined]
        return None if rare is None else rare[index]

    return property(get)


for _index, _name in enumerate(_Rare._fields):
    setattr(Occurrence, _name, _rare_field(_index))


def _restored(
    kind: str, written: str, parts: tuple[Part, ...], at: int, end: int, unresolved: str | None,
    *rare: object,
) -> Occurrence:  # fmt: skip
    return Occurrence(kind, written, parts, at, end, unresolved, **dict(zip(_Rare._fields, rare)))  # type: ignore[arg-type]


def set_beside(occ: Occurrence, parts: tuple[Part, ...], beside: tuple[str, str]) -> None:
    """`replace(occ, parts=parts, beside=beside)` in place, for the scanner that made `occ`
    while nothing else holds it: a dense values file has 10^5 of them (a copy of each was a
    tenth of `fix`'s time and its peak memory)."""
    rare = occ._rare  # type: ignore[attr-defined]
    _set_parts(occ, parts)
    _set_rare(occ, _only_beside(beside) if rare is None else rare._replace(beside=beside))


@lru_cache(maxsize=64)
def _only_beside(beside: tuple[str, str]) -> _Rare:
    """One for every occurrence that sets nothing else rare: a guarded values file's
    occurrences all carry the same few `beside`, and a `_Rare` each would outweigh the slots
    saved."""
    return _Rare(beside=beside)


class ScanError(Exception):
    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason
