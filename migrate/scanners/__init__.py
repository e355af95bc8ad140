"""File kinds: one module each, all with the same names (the `Scanner` protocol).

    NAME: str                          the file kind, as shown in output (`file_kind`)
    FILES: str                         regex over '/'-separated paths: every path of this kind
                                       (the walk and the pre-commit `files:` derive from it)
    by_name(path) -> bool              this kind whatever the content: a parse error is PTC900
    claims(path, text) -> bool         is this file of my kind? (name first, content second)
    scan(text, context) -> Iterator[Occurrence]   every image reference, with exact spans

A new kind is one module here plus one line in `SCANNERS`; nothing else changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from migrate.context import FileContext
from migrate.occurrence import Occurrence
from migrate.scanners import (
    compose,
    dockerfile,
    dotenv,
    helm,
    helm_templates,
    json_patch,
    kubernetes,
    kustomize,
)


class Scanner(Protocol):
    NAME: str
    FILES: str

    def by_name(self, path: Path) -> bool: ...

    def claims(self, path: Path, text: str) -> bool: ...

    def scan(self, text: str, context: FileContext = ...) -> Iterator[Occurrence]: ...


# Order decides ties: the first scanner that claims a file scans it.
SCANNERS: tuple[Scanner, ...] = (
    dockerfile,
    compose,
    kustomize,
    helm,
    helm_templates,
    kubernetes,
    json_patch,
    dotenv,
)

# What pre-commit's `files:` holds (tests/precommit_test.py compares .pre-commit-hooks.yaml).
FILES = "|".join(f"(?:{files})" for files in dict.fromkeys(s.FILES for s in SCANNERS))
_FILES = re.compile(FILES)


def is_candidate(path: Path) -> bool:
    """Cheap, name-only test run before a file is read: could any scanner want it?"""
    return _FILES.search(path.as_posix()) is not None


def scanner_for(path: Path, text: str) -> Scanner | None:
    for scanner in SCANNERS:
        if scanner.claims(path, text):
            return scanner
    return None
