"""The kustomizations of a repository and what each one reads, from `Repo.files` and the
kustomization files on disk (read once, on first use: `of(repo)`).

Rewrites change image values only, never what a kustomization reads, so the structure read from
disk holds for every state of a run (`flow` reads the values of each state).
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from migrate.context import Parsing, Repo
from migrate.facts.kustomize import model
from migrate.occurrence import Occurrence, ScanError

# The graph and the images flowing through it are read from every kustomization and patch of
# the repository: libyaml's parser repays its import many times over (a 21-kustomization tree
# spent 1.8 s in pure-Python composing otherwise).
REPOSITORY_WIDE = Parsing(fast=True)

Target = tuple[Literal["file", "dir", "unknown"], str]


@dataclass
class Node:
    """One kustomization directory ('' is the repository root)."""

    dir: str
    file: str  # the kustomization file, repository-relative
    kustomization: model.Kustomization | None  # None: unreadable (invalid YAML, not UTF-8)
    resources: list[Target] = field(default_factory=list)
    components: list[Target] = field(default_factory=list)
    patches: list[Target] = field(default_factory=list)

    @property
    def component(self) -> bool:
        return self.kustomization is not None and self.kustomization.component


class Graph:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._files = frozenset(repo.files)
        self._patch_images: dict[str, list[Occurrence] | ScanError] = {}
        self._kustomizations: dict[str, model.Kustomization | None | ScanError] = {}
        self.dirs: dict[str, str] = {}
        for rel in repo.files:
            directory, _, name = rel.rpartition("/")
            if name in model.NAMES and directory not in self.dirs:
                self.dirs[directory] = rel

    def __bool__(self) -> bool:
        return bool(self.dirs)

    # A scan, its verifying re-scan and the prover's flows before and after the run read the
    # same texts again and again (microservices-demo: ~300 parses of 40 files); by text, each
    # is parsed once.
    def patch_images(self, text: str, parsing: Parsing) -> list[Occurrence]:
        """`patches.scan(text)`, once per text."""
        from migrate.facts.kustomize import patches

        return _once(self._patch_images, text, lambda: list(patches.scan(text, parsing)))

    def kustomization(self, text: str, parsing: Parsing) -> model.Kustomization | None:
        """`model.read(text)`, once per text."""
        return _once(self._kustomizations, text, lambda: model.read(text, parsing))

    def read(self, rel: str) -> str | None:
        try:
            return (self.repo.root / rel).read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None

    @functools.cache  # noqa: B019 - one Graph per Repo, which lives for one run
    def node(self, directory: str) -> Node:
        rel = self.dirs[directory]
        text = self.read(rel)
        try:
            parsed = self.kustomization(text, REPOSITORY_WIDE) if text is not None else None
        except ScanError:
            parsed = None
        node = Node(directory, rel, parsed)
        if parsed is not None:
            node.resources = [self._resolve(directory, r) for r in parsed.resources]
            node.components = [self._resolve(directory, c) for c in parsed.components]
            node.patches = [self._resolve(directory, p) for p in parsed.patch_paths]
        return node

    def nodes(self) -> Iterator[Node]:
        for directory in self.dirs:
            yield self.node(directory)

    def _resolve(self, directory: str, target: str) -> Target:
        if model.is_remote(target):
            return ("unknown", target)
        rel = posixpath.normpath(posixpath.join(directory, target))
        rel = "" if rel == "." else rel
        if rel == ".." or rel.startswith(("../", "/")):
            return ("unknown", target)  # outside the repository
        if rel in self._files:
            return ("file", rel)
        if rel in self.dirs:
            return ("dir", rel)
        return ("unknown", target)

    @functools.cached_property
    def includers(self) -> dict[str, list[str]]:
        """Directory -> the kustomization directories that read it (resources, components)."""
        out: dict[str, list[str]] = {}
        for node in self.nodes():
            for kind, rel in (*node.resources, *node.components):
                if kind == "dir":
                    out.setdefault(rel, []).append(node.dir)
        return out

    @functools.cached_property
    def members(self) -> dict[str, list[str]]:
        """Repository file -> the kustomization directories that read it (its own file, a
        resource or a patch of theirs)."""
        out: dict[str, list[str]] = {}
        for node in self.nodes():
            out.setdefault(node.file, []).append(node.dir)
            for kind, rel in (*node.resources, *node.patches):
                if kind == "file":
                    out.setdefault(rel, []).append(node.dir)
        return out

    def closure(self, directory: str) -> set[str]:
        """The kustomization directories a build of `directory` reads, itself included."""
        out: set[str] = set()
        todo = [directory]
        while todo:
            current = todo.pop()
            if current in out:
                continue
            out.add(current)
            node = self.node(current)
            todo += [rel for kind, rel in (*node.resources, *node.components) if kind == "dir"]
        return out

    def files_of(self, directories: set[str]) -> set[str]:
        files: set[str] = set()
        for directory in directories:
            node = self.node(directory)
            files.add(node.file)
            files.update(rel for kind, rel in (*node.resources, *node.patches) if kind == "file")
        return files


T = TypeVar("T")


def _once(memo: dict[str, T | ScanError], text: str, parse: Callable[[], T]) -> T:
    """What `parse` makes of `text`, computed once; a ScanError is raised again each time."""
    if text not in memo:
        try:
            memo[text] = parse()
        except ScanError as exc:
            memo[text] = exc
    found = memo[text]
    if isinstance(found, ScanError):
        raise found
    return found


def of(repo: Repo) -> Graph:
    """The kustomizations of `repo`, read on first use, once per run."""
    return repo.memo(of, lambda: Graph(repo))
