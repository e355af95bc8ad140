"""What a scanner may know beyond the text of its file: where the file is, the repository it
belongs to (facts computed on first use, once per run), and how YAML is to be parsed.

Scanners stay pure functions of (text, context): the same context gives the same occurrences,
which is what lets the engine re-scan a rewritten text to verify it.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

T = TypeVar("T")

# Never walked for repository facts (nor for files to rewrite: walk.py uses the same set).
SKIPPED_DIRS = frozenset({".git", "node_modules", "vendor", ".venv", "venv", ".tox", "__pycache__"})


@dataclass(frozen=True)
class Parsing:
    """How YAML is composed. `fast`: libyaml's C parser (True), ruamel's pure composer (False),
    or by size (None: libyaml from `FAST_FROM` characters on, where it repays PyYAML's ~25 ms
    import). `prefilter`: which texts are not composed at all because they cannot hold an
    image — 'smart' (`_prefilter.may_hold`: CRD schemas too), 'words' (no key word in the
    text), 'off' (compose everything; tests compare the three)."""

    fast: bool | None = None
    prefilter: Literal["smart", "words", "off"] = "smart"

    FAST_FROM = 8 * 1024

    def use_fast(self, size: int) -> bool:
        return self.fast if self.fast is not None else size >= self.FAST_FROM


class Repo:
    """One repository of a run (its git work tree, or a walked directory outside git).

    Facts about the whole repository (`migrate.facts`: what it builds, its charts, its kustomize
    graph, its GitLab pipeline) are kept here through `memo`, each computed on first use by the
    module that knows it, so a hook run on one file pays only for the facts its file kind asks
    for, and this module imports none of them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._memo: dict[Hashable, Any] = {}

    def __repr__(self) -> str:
        return f"Repo({str(self.root)!r})"

    @functools.cached_property
    def files(self) -> tuple[str, ...]:
        """Every file of the repository, '/'-separated and relative to the root, sorted: what
        `git ls-files --cached --others --exclude-standard` lists, else every file."""
        listed = _git_files(self.root)
        if listed is None:
            listed = _walk_files(self.root)
        return tuple(sorted(p for p in listed if not SKIPPED_DIRS.intersection(p.split("/")[:-1])))

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A fact computed once per run (a directory's `.env`): a scan and its verifying re-scan
        see the same, even when this run rewrites the file the fact was read from."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class FileContext:
    path: Path | None = None  # the file's real path; None when scanning a bare text
    repo: Repo | None = None  # None: no repository facts (a text scanned on its own)
    parsing: Parsing = field(default_factory=Parsing)
    # Claimed by its name (compose.yaml, a kustomization): composed even without a key word,
    # so a parse error is reported rather than skipped with the text.
    named: bool = False


STANDALONE = FileContext()


def _git_files(root: Path) -> list[str] | None:
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    names = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [name for name in dict.fromkeys(names) if name]


def _walk_files(root: Path) -> list[str]:
    out = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
        relative = os.path.relpath(directory, root)
        for name in filenames:
            out.append(name if relative == "." else f"{relative}/{name}".replace(os.sep, "/"))
    return out
