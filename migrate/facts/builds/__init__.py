"""Images this repository builds itself: never pulled from a registry, so never rewritten.

Collected once per run from the files whose names can declare a build (`of(repo)`), before
any reference is classified, so a hook run on one manifest still knows that skaffold builds its
`image: frontend`. `SOURCES` names each source module with the files it reads (a regex over
'/'-separated repository paths); the module has the same names (the `Source` protocol):

    TOOL: str                                   shown in the finding (`built by skaffold: ...`)
    names(path, text, repo) -> Iterator[(str, int)]   image names as written, with 1-based lines

A module is imported only when a file of its own changed since the index was kept (`_cache`):
a hook run on one Dockerfile reads the index and imports none of them.

Names are matched by normalised repository name, tag and digest aside (`frontend` and
`docker.io/library/frontend:dev` are one image).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from migrate import reference
from migrate.context import Repo
from migrate.facts.builds import _cache

# A build file over this size is not a build file (a vendored bundle, generated output).
MAX_SIZE = 1024 * 1024


if TYPE_CHECKING:  # defining a typing.Protocol is start-up a hook would pay for nothing

    class Source(Protocol):
        TOOL: str

        def names(self, path: Path, text: str, repo: Repo) -> Iterator[tuple[str, int]]: ...


SOURCES: tuple[tuple[str, str], ...] = (  # the module in this package, the files it reads
    ("skaffold", r"(?:^|/)skaffold[^/]*\.ya?ml$"),
    ("tilt", r"(?:^|/)(?:Tiltfile(?:\.[^/]*)?|[^/]+\.tiltfile)$"),
    ("compose", r"(?:^|/)(?:docker-)?compose(?:\.[^/]*)?\.ya?ml$"),
    ("bake", r"(?:^|/)docker-bake(?:\.[^/]*)?\.(?:hcl|json)$"),
    ("scripts", r"(?:^|/)(?:[Mm]akefile|GNUmakefile|[^/]+\.mk|[^/]+\.(?:sh|bash))$"),
    (
        "ci_scripts",
        (
            r"(?:^|/)\.github/workflows/[^/]+\.ya?ml$|\.gitlab-ci\.ya?ml$|(?:^|/)\.circleci/.+\.ya?ml$"
            r"|(?:^|/)\.drone\.yml$|(?:^|/)\.woodpecker(?:/[^/]+)?\.ya?ml$"
            r"|(?:^|/)\.?bitbucket-pipelines\.ya?ml$|buildkite\.ya?ml$|(?:^|/)\.buildkite/.+\.ya?ml$"
            r"|(?:^|/)\.azuredevops/.+\.ya?ml$|azure.*pipelines?.*\.ya?ml$"
        ),
    ),
)
_FILES = re.compile("|".join(f"(?:{files})" for _, files in SOURCES))
_DOTENV = re.compile(r"(?:^|/)\.env$")  # Compose resolves a built image's name through it


class Build(NamedTuple):
    name: str  # normalised repository name: docker.io/library/frontend
    path: str  # repository-relative, '/'-separated
    line: int
    tool: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def index(repo: Repo) -> dict[str, Build]:
    """Every built image by normalised name; the first declaration (path order) names it.
    Kept in the git directory between runs while no build file (nor `.env`) changes."""
    root = repo.root.resolve()
    candidates = [rel for rel in repo.files if _FILES.search(rel)]
    stamp = _cache.stamp(root, [*candidates, *(r for r in repo.files if _DOTENV.search(r))])
    cached = _cache.load(root, stamp)
    if cached is not None:
        return {b[0]: Build(*b) for b in cached}
    found = _collect(root, candidates, repo)
    _cache.store(root, stamp, [list(build) for build in found.values()])
    return found


def _collect(root: Path, candidates: list[str], repo: Repo) -> dict[str, Build]:
    found: dict[str, Build] = {}
    for rel in candidates:
        text = _read(root, rel)
        if text is None:
            continue
        for module, files in SOURCES:
            if not re.search(files, rel):
                continue
            source = _load(module)
            for written, line in source.names(root / rel, text, repo):
                name = normalise(written)
                if name is not None and name not in found:
                    found[name] = Build(name, rel, line, source.TOOL)
    return found


def _load(module: str) -> Source:
    from importlib import import_module

    source: Source = import_module(f"{__name__}.{module}")
    return source


def normalise(written: str) -> str | None:
    """The repository name `written` names, tag and digest aside; None if it is not one (a
    variable left in the name, a typo)."""
    text = written.strip()
    if "$" in text:
        # Only the tag may vary (`app:$(TAG)`, `app:${VERSION:-dev}`): the name is known.
        head = text[: text.find("$")]
        if ":" not in head.rpartition("/")[2]:
            return None
        text = head[: head.rfind(":")]
    try:
        return reference.parse(text).name
    except reference.ReferenceError:
        return None


def _read(root: Path, rel: str) -> str | None:
    """The text of a file that stays inside the repository, else None (facts, not findings:
    a broken build file is reported by its own scanner, if it has one)."""
    path = root / rel
    try:
        real = path.resolve(strict=True)
        if not real.is_relative_to(root) or not real.is_file() or real.stat().st_size > MAX_SIZE:
            return None
        return real.read_bytes().decode("utf-8-sig")
    except (OSError, RuntimeError, UnicodeDecodeError):
        return None


def of(repo: Repo) -> Mapping[str, Build]:
    """The images `repo` builds, by normalised name, collected once per run."""
    return repo.memo(of, lambda: index(repo))


def built_by(repo: Repo, name: str) -> str | None:
    """Where `repo` builds the image of normalised name `name` ("path:line (tool)"), if it does."""
    build = of(repo).get(name)
    return None if build is None else f"{build.where} ({build.tool})"
