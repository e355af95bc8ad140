"""The verdict codes and the Finding record every output format, suppression and config share."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Code(NamedTuple):
    code: str
    severity: Severity
    title: str


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("PTC001", Severity.ERROR, "pulled straight from Docker Hub"),
        Code(
            "PTC002",
            Severity.ERROR,
            "pulled straight from a registry that pull-through cache can serve",
        ),
        Code("PTC003", Severity.WARNING, "public registry that pull-through cache cannot serve"),
        Code("PTC004", Severity.INFO, "reference could not be resolved"),
        Code("PTC005", Severity.ERROR, "points at the cache, but no rule exists for its prefix"),
        Code(
            "PTC006", Severity.WARNING, "digest-pinned: the cache cannot fill from a digest alone"
        ),
        Code("PTC007", Severity.WARNING, "upstream path cannot be an ECR repository name"),
        Code(
            "PTC008",
            Severity.WARNING,
            "not a Docker Official Image: a local build, a placeholder or a typo",
        ),
        Code("PTC009", Severity.INFO, "built by this repository: never pulled from a registry"),
        Code("PTC010", Severity.WARNING, "rendering shows a different image: not rewritten"),
        Code("PTC011", Severity.INFO, "rewrite not verified by rendering"),
        Code("PTC012", Severity.WARNING, "YAML anchor shared with a value that is not migrated"),
        Code(
            "PTC013", Severity.WARNING, "CI job pulls from the cache without registry credentials"
        ),
        Code("PTC014", Severity.WARNING, "rendered image that no rewrite reaches"),
        Code(
            "PTC015",
            Severity.WARNING,
            "pulled while the CI job is set up, before any step can log in: not rewritten",
        ),
        Code(
            "PTC016", Severity.INFO, "chart setting changed beside the rewrite: the chart needs it"
        ),
        Code("PTC017", Severity.WARNING, "the chart may refuse the rewrite: a setting it needs"),
        Code("PTC900", Severity.ERROR, "file could not be read or parsed"),
    )
}


class Status(str, enum.Enum):
    """What a reference is, independent of whether it is a problem (scan lists them all)."""

    PUBLIC = "public"  # straight from a registry the cache can serve: rewrite it
    CACHED = "cached"  # already points at the pull-through cache
    PRIVATE = "private"  # a private registry (other ECR, localhost, configured private hosts)
    UNSUPPORTED = "unsupported"  # public, but pull-through cache cannot serve it
    UNRESOLVED = "unresolved"  # templated or otherwise not a concrete reference
    INVALID = "invalid"  # cannot become an ECR repository name
    NOT_OFFICIAL = "not-official"  # docker.io/library/X where X is no Docker Official Image
    BUILT = "built"  # an image this repository builds (skaffold, Tilt, Compose build:, ...)
    SUPPRESSED = "suppressed"  # `# ecr-ptc: ignore`
    REFUSED = "refused"  # a prover (Helm, kustomize) showed the rewrite would be wrong
    ERROR = "error"  # PTC900: the file itself


# Slots: a dense values file has 10^5 findings, and a __dict__ each would add ~100 bytes.
@dataclass(frozen=True, slots=True)
class Finding:
    path: str  # relative to the working directory, '/'-separated
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    end_column: int
    code: str | None  # None: a reference with nothing wrong (scan only)
    status: Status
    message: str
    file_kind: str | None = None
    kind: str | None = None  # where in the file: from, copy-from, image, image-map, ...
    original: str | None = None  # as written
    reference: str | None = None  # normalised, tag and digest as written
    upstream: str | None = None  # upstream registry URL a rule needs
    prefix: str | None = None  # the ECR repository prefix of that rule
    target: str | None = None  # rewritten text, None when not rewritable
    # lint lowers an error that `fail-on` does not fail on to a warning, so CI annotations and
    # code scanning agree with the exit code
    level: Severity | None = None

    @property
    def severity(self) -> Severity | None:
        if self.level is not None:
            return self.level
        return CODES[self.code].severity if self.code else None


def file_error(
    path: str, line: int, column: int, reason: str, file_kind: str | None = None
) -> Finding:
    return Finding(
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=column,
        code="PTC900",
        status=Status.ERROR,
        message=reason,
        file_kind=file_kind,
    )
