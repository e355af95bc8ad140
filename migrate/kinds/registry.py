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
`fixtures/<NAME>/`; `scripts/generate.py` then brings the pre-commit `files:` and the docs'
list of kinds up to date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from migrate.context import FileContext, Repo
from migrate.kinds import (
    azure_pipelines,
    bitbucket,
    buildkite,
    cdk,
    circleci,
    cloudbuild,
    compose,
    devcontainer,
    dockerfile,
    dotenv,
    drone,
    github_actions,
    gitlab_ci,
    helm,
    helm_templates,
    json_patch,
    kubernetes,
    kustomize,
    terraform,
    woodpecker,
)
from migrate.occurrence import Occurrence


class Scanner(Protocol):
    NAME: str
    FILES: str

    def by_name(self, path: Path) -> bool: ...

    def claims(self, path: Path, text: str) -> bool: ...

    def scan(self, text: str, context: FileContext = ...) -> Iterator[Occurrence]: ...


# Order decides ties: the first scanner that claims a file scans it. CI kinds come before the
# generic ones, whose content sniffing (a top-level `services:`, YAML beside a Chart.yaml) would
# otherwise take CI files.
CI_SCANNERS: tuple[Scanner, ...] = (
    github_actions,
    gitlab_ci,
    bitbucket,
    circleci,
    azure_pipelines,
    drone,
    woodpecker,
    cloudbuild,
    buildkite,
    devcontainer,
)
SCANNERS: tuple[Scanner, ...] = (
    dockerfile,
    *CI_SCANNERS,
    compose,
    kustomize,
    helm,
    helm_templates,
    kubernetes,
    json_patch,
    dotenv,
    terraform,
    cdk,
)

# What pre-commit's `files:` holds (tests/precommit_test.py compares .pre-commit-hooks.yaml).
FILES = "|".join(f"(?:{files})" for files in dict.fromkeys(s.FILES for s in SCANNERS))
_FILES = re.compile(FILES)


def is_candidate(path: Path) -> bool:
    """Cheap, name-only test run before a file is read: could any scanner want it?"""
    return _FILES.search(path.as_posix()) is not None


def scanner_for(path: Path, text: str, repo: Repo | None = None) -> Scanner | None:
    for scanner in SCANNERS:
        if scanner.claims(path, text):
            if getattr(scanner, "DEFERS_TO_GENERIC", False) and _generic(path, text):
                continue
            return scanner
    if repo is not None:  # only for files no name or content claims: repository facts cost
        for scanner in SCANNERS:
            included = getattr(scanner, "included", None)
            if included is not None and included(path, repo):
                return scanner
    return None


def _generic(path: Path, text: str) -> bool:
    """A file of a generic kind: by its name Compose, Helm values or Kustomize, or by its content
    a Kubernetes manifest."""
    return (
        compose.by_name(path)
        or kustomize.by_name(path)
        or helm.is_values(path)
        or kubernetes.claims(path, text)
    )
