"""What a scanner yields: an image reference found in a file, with the exact spans to rewrite.

Scanners find; they never build replacement text (that is `edits.plan`). A scanner raises
`ScanError` for input it cannot understand; the engine turns it into one PTC900 finding.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
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


@dataclass(frozen=True, slots=True)  # slots: 10^5 of them in a dense values file
class Occurrence:
    kind: str  # where it was found: 'from', 'copy-from', 'mount-from', 'syntax', 'image', ...
    written: str  # the reference as it reads (for split maps: assembled registry/repo:tag@digest)
    parts: tuple[Part, ...]  # what to rewrite; empty when nothing can be rewritten
    at: int  # offset reported as the finding's position
    end: int  # end offset of the reported range
    unresolved: str | None = None  # why this is not a concrete reference (PTC004), if so
    _: KW_ONLY  # what only some kinds know, always by name
    code: str | None = None  # the verdict code when unresolved, if not PTC004 (e.g. PTC012)
    # How `written` was found when the text does not show it (a variable resolved from `.env`
    # or ARG defaults): added to the finding's message.
    note: str | None = None
    # Why a concrete reference has no parts: added to the message when it would be rewritten.
    kept: str | None = None
    # CI images: whether the job declares registry credentials where its CI system has a place
    # for them (GitHub `credentials:`, CircleCI `auth`/`aws_auth`, ...); None: no such place.
    credentials: bool | None = None
    # Pulled before any step of its job can log in to a registry (a GitHub `docker://` step):
    # why, said when a rewrite is held back (PTC015) unless the config says the runners log in.
    before_login: str | None = None
    # A Crossplane package named without a registry, as written: `written` is it under
    # Crossplane's default registry, and the config's `crossplane-registry` may name another.
    package: str | None = None
    # What its rewrite changes beside it, or would need to, said once per file when it is
    # rewritten: (code, message), e.g. a Bitnami-style chart's guard setting (`allow` parts).
    beside: tuple[str, str] | None = None


class ScanError(Exception):
    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason
