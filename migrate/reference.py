"""Docker image reference grammar, as ``reference.ParseNormalizedNamed`` in
github.com/distribution/reference v0.6.0 with go-digest v1.0.0 (sha256/384/512 registered).

Pure string work, stdlib only: this is imported by the pre-commit hook on every run.
The conformance table is fixtures/vectors/image_references.tsv (tests/reference_test.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ImageRef", "ReferenceError", "parse", "split_variable_tag"]

_DEFAULT_DOMAIN = "docker.io"
_LEGACY_DEFAULT_DOMAIN = "index.docker.io"
_OFFICIAL_PREFIX = "library/"
_LOCALHOST = "localhost"
_NAME_TOTAL_LENGTH_MAX = 255

# Built from the same fragments as regexp.go so a diff against upstream stays readable.
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = _DOMAIN_COMPONENT + r"(?:\." + _DOMAIN_COMPONENT + r")*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_AND_PORT = r"(?:" + _DOMAIN_NAME + "|" + _IPV6 + r")(?::[0-9]+)?"
_PATH_COMPONENT = _ALPHANUMERIC + r"(?:" + _SEPARATOR + _ALPHANUMERIC + r")*"
_REMOTE_NAME = _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"

# Always used with fullmatch(): Go's `$` never matches before a trailing newline, Python's does.
# re.ASCII because Go's \w is ASCII-only.
_REFERENCE_RE = re.compile(
    rf"((?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII
)
_NAME_RE = re.compile(rf"(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})", re.ASCII)
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")
# go-digest's own, looser, grammar: decides "unsupported" versus "invalid format".
_GO_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
# The algorithms a Docker binary registers (crypto/sha256, crypto/sha512), by hex length.
_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_LOWER_HEX_RE = re.compile(r"[a-f0-9]+")

# A tag with shell/Compose variables in it: tag characters, $NAME, ${...} (one nesting level,
# for Compose defaults such as ${TAG:-${DEFAULT}}). Whitespace never belongs to a reference.
_VAR_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?![A-Za-z0-9_])"  # lookahead: no backtracking into names
_VAR_INNER = rf"\$\{{{_VAR_NAME}[^{{}}$\s]*\}}"
_VAR_BRACED = rf"\$\{{{_VAR_NAME}(?:[^{{}}$\s]|{_VAR_INNER}|\${_VAR_NAME})*\}}"
_VAR_TAG_RE = re.compile(rf"(?:[\w.-]|\${_VAR_NAME}|{_VAR_BRACED})+(?:@({_DIGEST}))?", re.ASCII)


# The name shadows the builtin (weakref's) ReferenceError inside this module; it is the
# project's API name, and the builtin is never needed here.
class ReferenceError(ValueError):
    """A string Docker would refuse; ``kind`` is one of format, uppercase, too-long, digest,
    identifier, empty, and ``str(err)`` is Go's error text."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __reduce__(self) -> tuple[type[ReferenceError], tuple[str, str]]:
        # The two-argument constructor breaks the default pickling used by multiprocessing.
        return (type(self), (self.kind, self.message))


@dataclass(frozen=True)
class ImageRef:
    domain: str
    path: str
    tag: str | None
    digest: str | None
    written_name: str

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def tail(self) -> str:
        # Tag and digest are captured verbatim and digests are never rewritten, so this is
        # exactly the input's text after the name.
        tag = f":{self.tag}" if self.tag is not None else ""
        return tag + (f"@{self.digest}" if self.digest is not None else "")

    @property
    def familiar(self) -> str:
        if self.domain != _DEFAULT_DOMAIN:
            return self.name + self.tail
        path = self.path
        # Only single-level official names lose "library/": Hub could one day nest under it.
        if path.startswith(_OFFICIAL_PREFIX) and "/" not in path[len(_OFFICIAL_PREFIX) :]:
            path = path[len(_OFFICIAL_PREFIX) :]
        return path + self.tail

    def __str__(self) -> str:
        return self.name + self.tail


def _split_docker_domain(text: str) -> tuple[str, str]:
    first, slash, rest = text.partition("/")
    if not slash:
        return _DEFAULT_DOMAIN, _OFFICIAL_PREFIX + text
    if first == _LEGACY_DEFAULT_DOMAIN:
        domain = _DEFAULT_DOMAIN
    elif first == _LOCALHOST or "." in first or ":" in first or first.lower() != first:
        # Namespaces are lowercase, so an uppercase first component can only be a host.
        domain = first
    else:
        return _DEFAULT_DOMAIN, text
    if domain == _DEFAULT_DOMAIN and "/" not in rest:
        rest = _OFFICIAL_PREFIX + rest
    return domain, rest


def _check_digest(digest: str) -> None:
    algorithm, _, encoded = digest.partition(":")
    length = _HEX_LENGTH.get(algorithm)
    if length is None:
        if _GO_DIGEST_RE.fullmatch(digest) is None:
            raise ReferenceError("digest", "invalid checksum digest format")
        raise ReferenceError("digest", "unsupported digest algorithm")
    # go-digest checks the length before the alphabet, hence "length" for short uppercase hex.
    if len(encoded) != length:
        raise ReferenceError("digest", "invalid checksum digest length")
    if _LOWER_HEX_RE.fullmatch(encoded) is None:
        raise ReferenceError("digest", "invalid checksum digest format")


def parse(text: str) -> ImageRef:
    """Parse ``text`` exactly as Docker's ParseNormalizedNamed does."""
    if _IDENTIFIER_RE.fullmatch(text):
        raise ReferenceError(
            "identifier",
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings",
        )
    domain, remainder = _split_docker_domain(text)
    remote = remainder.partition(":")[0]
    if remote.lower() != remote:
        raise ReferenceError(
            "uppercase", f"invalid reference format: repository name ({remote}) must be lowercase"
        )
    full = f"{domain}/{remainder}"
    match = _REFERENCE_RE.fullmatch(full)
    if match is None:
        lowered = full.lower()
        if lowered != full and _REFERENCE_RE.fullmatch(lowered):
            raise ReferenceError("uppercase", "repository name must be lowercase")
        # Go's ErrNameEmpty is unreachable here (a domain is always prepended), so "" gets
        # Go's format message but its own kind, which callers find more useful.
        raise ReferenceError("empty" if text == "" else "format", "invalid reference format")
    name, tag, digest = match.group(1, 2, 3)
    # Always matches (same language as the name group); the captures differ from the first
    # match only when the domain fails its grammar, e.g. "a_b.com/x" -> domain "".
    name_match = _NAME_RE.fullmatch(name)
    assert name_match is not None
    found_domain, path = name_match.group(1) or "", name_match.group(2)
    if len(path) > _NAME_TOTAL_LENGTH_MAX:
        raise ReferenceError(
            "too-long", f"repository name must not be more than {_NAME_TOTAL_LENGTH_MAX} characters"
        )
    if digest is not None:
        _check_digest(digest)
    tail_length = len(full) - len(name)
    return ImageRef(
        domain=found_domain,
        path=path,
        tag=tag,
        digest=digest,
        written_name=text[: len(text) - tail_length],
    )


def split_variable_tag(text: str) -> tuple[str, str] | None:
    """Split ``name:tag-with-$VARS[@digest]`` into (name, ":tag…") when only the tag varies."""
    dollar = text.find("$")
    if dollar < 0 or "@" in text[:dollar]:
        return None
    colon = text.rfind(":", 0, dollar)
    if colon < 0 or "/" in text[colon:dollar]:
        return None
    match = _VAR_TAG_RE.fullmatch(text, colon + 1)
    if match is None:
        return None
    digest = match.group(1)
    name = text[:colon]
    try:
        if digest is not None:
            _check_digest(digest)
        ref = parse(name)
    except ReferenceError:
        return None
    if ref.tag is not None or ref.digest is not None:
        # e.g. "localhost:5000:${V}": the name part already carries a tag.
        return None
    return name, text[colon:]
