"""File kinds. Each scanner module has the same three names:

    NAME: str                                   the file kind, as shown in output
    claims(path: Path, text: str) -> bool       is this file of my kind? (name first, content second)
    scan(text: str) -> Iterator[Occurrence]     every image reference, with exact spans

Scanners find; they never build replacement text (that is `edits.plan`). A scanner raises
`ScanError` for input it cannot understand; the engine turns it into one PTC900 finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import NamedTuple, Protocol


class Part(NamedTuple):
    """A span of the decoded text (BOM excluded) and what the rewrite puts there.

    role 'ref':      the full reference; becomes target name + the tag/digest text as written
    role 'name':     an image name without tag; becomes the target name
    role 'registry': a registry host alone; becomes the ECR registry host
    role 'path':     a repository path beside a separate registry; becomes <prefix>/<upstream path>
    """

    role: str
    start: int
    end: int


@dataclass(frozen=True)
class Occurrence:
    kind: str  # where it was found: 'from', 'copy-from', 'mount-from', 'syntax', 'image', ...
    written: str  # the reference as it reads (for split maps: assembled registry/repo:tag@digest)
    parts: tuple[Part, ...]  # what to rewrite; empty when nothing can be rewritten
    at: int  # offset reported as the finding's position
    end: int  # end offset of the reported range
    unresolved: str | None = None  # why this is not a concrete reference (PTC004), if so


class ScanError(Exception):
    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


class Scanner(Protocol):
    NAME: str

    def claims(self, path: Path, text: str) -> bool: ...

    def scan(self, text: str) -> Iterator[Occurrence]: ...


YAML_SUFFIXES = (".yaml", ".yml")
DOCKERFILE_NAMES = ("dockerfile", "containerfile")


def is_candidate(path: Path) -> bool:
    """Cheap, name-only test run before a file is read: could any scanner want it?"""
    name = path.name.lower()
    if name.endswith(YAML_SUFFIXES) or name == "kustomization":
        return not in_helm_templates(path)
    return name.startswith(DOCKERFILE_NAMES) or name.endswith((".dockerfile", ".containerfile"))


def in_helm_templates(path: Path) -> bool:
    """Files under a chart's templates/ are Go templates, not YAML: never parsed, never an error."""
    parts = path.parts
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] == "templates":
            return (Path(*parts[:i]) / "Chart.yaml").is_file()
    return False


def _load() -> tuple[ModuleType, ...]:
    from migrate.scanners import dockerfile

    modules: list[ModuleType] = [dockerfile]
    # Order decides ties: the first scanner that claims a file scans it.
    for name in ("compose", "kustomize", "helm", "kubernetes"):
        try:
            modules.append(__import__(f"migrate.scanners.{name}", fromlist=[name]))
        except ModuleNotFoundError as exc:
            if exc.name != f"migrate.scanners.{name}":
                raise
    return tuple(modules)


SCANNERS: tuple[ModuleType, ...] = _load()


def scanner_for(path: Path, text: str) -> ModuleType | None:
    for scanner in SCANNERS:
        if scanner.claims(path, text):
            return scanner
    return None


__all__ = [
    "SCANNERS",
    "Iterator",
    "Occurrence",
    "Part",
    "ScanError",
    "Scanner",
    "in_helm_templates",
    "is_candidate",
    "scanner_for",
]
