"""File kinds: one module each, all with the same names (the `Scanner` protocol).

    NAME: str                          the file kind, as shown in output (`file_kind`)
    FILES: str                         regex over '/'-separated paths: every path of this kind
                                       (the walk and the pre-commit `files:` derive from it)
    by_name(path) -> bool              this kind whatever the content: a parse error is PTC900
    claims(path, text) -> bool         is this file of my kind? (name first, content second)
    included(path, repo) -> bool       optional: of my kind because another file of the repository
                                       says so (a GitLab CI `include:`); asked last
    scan(text, context) -> Iterator[Occurrence]   every image reference, with exact spans

    DEFERS_TO_GENERIC = True           optional: a kind whose pattern is a whole directory
                                       (`.circleci/`) leaves Compose, Helm values, Kustomize and
                                       Kubernetes files there to their own kinds

A new kind is one module beside this one plus one line in `SCANNERS`, with its fixtures under
`fixtures/<NAME>/`; `scripts/generate.py` then brings the pre-commit `files:`, the docs' list
of kinds and `declared.py` up to date.

A kind's module is imported only when a file needs it: the registry knows each kind's NAME and
FILES from `declared.py` (generated from the modules), and asks a kind's `claims` only for paths
its FILES matches (every path of the kind, so no claim is missed and the order still decides
ties). A hook on one Dockerfile imports the Dockerfile kind alone, and no YAML library.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from migrate.context import FileContext, Repo
from migrate.kinds import declared
from migrate.occurrence import Occurrence


class Scanner(Protocol):
    NAME: str
    FILES: str

    def by_name(self, path: Path) -> bool: ...

    def claims(self, path: Path, text: str) -> bool: ...

    def scan(self, text: str, context: FileContext = ...) -> Iterator[Occurrence]: ...


class Kind:
    """A kind's module, imported the first time more than its NAME and FILES is asked of it."""

    def __init__(self, module: str) -> None:
        self.module = f"{__package__}.{module}"
        found = declared.KINDS.get(module)
        if found is None:  # a kind declared.py does not know yet (generate.py --check says so)
            loaded = self.load()
            found = (loaded.NAME, loaded.FILES, hasattr(loaded, "included"))
        self.NAME, self.FILES, self.includes = found
        self._files: re.Pattern[str] | None = None
        self._loaded: ModuleType | None = None

    def load(self) -> ModuleType:
        # Asked for every file of its FILES, often several times: import_module's lookup
        # (import lock and all) would cost more than most kinds' claims.
        if self._loaded is None:
            self._loaded = importlib.import_module(self.module)
        return self._loaded

    def may_claim(self, posix: str) -> bool:
        """Its FILES matches the path: only then can the kind claim the file."""
        if self._files is None:
            self._files = re.compile(self.FILES)
        return self._files.search(posix) is not None

    def by_name(self, path: Path) -> bool:
        return bool(self.load().by_name(path))

    def claims(self, path: Path, text: str) -> bool:
        return bool(self.load().claims(path, text))

    def scan(self, text: str, context: FileContext | None = None) -> Iterator[Occurrence]:
        module = self.load()
        return module.scan(text) if context is None else module.scan(text, context)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:  # the module's other names (included, is_values)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.load(), name)

    def __repr__(self) -> str:
        return f"<kind {self.NAME} ({self.module})>"


# Order decides ties: the first scanner that claims a file scans it. CI kinds come before the
# generic ones, whose content sniffing (a top-level `services:`, YAML beside a Chart.yaml) would
# otherwise take CI files.
CI_SCANNERS: tuple[Kind, ...] = (
    Kind("github_actions"),
    Kind("gitlab_ci"),
    Kind("bitbucket"),
    Kind("circleci"),
    Kind("azure_pipelines"),
    Kind("drone"),
    Kind("woodpecker"),
    Kind("cloudbuild"),
    Kind("buildkite"),
    Kind("devcontainer"),
)
SCANNERS: tuple[Kind, ...] = (
    Kind("dockerfile"),
    *CI_SCANNERS,
    Kind("ecs_task_definition"),
    Kind("cloudformation"),
    Kind("copilot"),
    Kind("compose"),
    Kind("kustomize"),
    Kind("helm"),
    Kind("helm_templates"),
    Kind("kubernetes"),
    Kind("json_patch"),
    Kind("dotenv"),
    Kind("terraform"),
    Kind("cdk"),
)
_KIND = {kind.module.rsplit(".", 1)[1]: kind for kind in SCANNERS}

# What pre-commit's `files:` holds (tests/precommit_test.py compares .pre-commit-hooks.yaml).
FILES = "|".join(f"(?:{files})" for files in dict.fromkeys(s.FILES for s in SCANNERS))
_FILES = re.compile(FILES)


def is_candidate(path: Path | str) -> bool:
    """Cheap, name-only test run before a file is read: could any scanner want it? A string is
    a '/'-separated path."""
    return _FILES.search(path if isinstance(path, str) else path.as_posix()) is not None


def scanner_for(path: Path, text: str, repo: Repo | None = None) -> Kind | None:
    posix = path.as_posix()
    for scanner in SCANNERS:
        if scanner.may_claim(posix) and scanner.claims(path, text):
            if getattr(scanner, "DEFERS_TO_GENERIC", False) and _generic(path, text):
                continue
            return scanner
    if repo is not None:  # only for files no name or content claims: repository facts cost
        for scanner in SCANNERS:
            if scanner.includes and scanner.included(path, repo):
                return scanner
    return None


def _generic(path: Path, text: str) -> bool:
    """A file of a generic kind: by its name Compose, Helm values or Kustomize, or by its content
    a Kubernetes manifest."""
    return (
        _KIND["compose"].by_name(path)
        or _KIND["kustomize"].by_name(path)
        or _KIND["helm"].is_values(path)
        or _KIND["kubernetes"].claims(path, text)
    )
