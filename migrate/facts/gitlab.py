"""A GitLab pipeline's shape beyond one file: which files the root `.gitlab-ci.yml` includes
locally (GitLab CI files whatever their names), and which variables its jobs use as images.

GitLab merges the root file and every included file into one configuration, so a variable
given a value in one file (`variables: {LINT_IMAGE: ...}`) may be the image of a job in another
(`image: $LINT_IMAGE`). Computed once per run (`of(repo)`), only for repositories
with a root `.gitlab-ci.yml` and only when a file of the pipeline is read.
https://docs.gitlab.com/ci/yaml/includes/
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from migrate.context import Repo
from migrate.kinds import ci as _ci
from migrate.occurrence import ScanError
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence, fields, string

ROOTS = (".gitlab-ci.yml", ".gitlab-ci.yaml")
# Top-level keys that are not jobs (https://docs.gitlab.com/ci/yaml/#global-keywords).
GLOBAL_KEYS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "spec", "image", "services"}
    | {"cache", "before_script", "after_script", "types", "pages:deploy"}
)
_MAX_FILES = 500  # a runaway include glob is not a pipeline


@dataclass(frozen=True)
class Pipeline:
    files: frozenset[str]  # '/'-separated, relative to the root: the root file and its includes
    image_variables: frozenset[str]  # names used as a whole image value (`image: $NAME`)
    defined: frozenset[str]  # names given a value in some file's top-level `variables:`


NONE = Pipeline(frozenset(), frozenset(), frozenset())


def pipeline(root: Path, listed: tuple[str, ...] | None = None) -> Pipeline:
    """The pipeline of the repository at `root` (whose files are `files`, '/'-separated; by
    default `Repo(root).files`, listed on the first wildcard only); files that do not parse are skipped (their own scan reports
    them)."""
    start = next((name for name in ROOTS if (root / name).is_file()), None)
    if start is None:
        return NONE

    def every() -> tuple[str, ...]:
        nonlocal listed
        if listed is None:
            listed = Repo(root).files
        return listed

    files, todo = {start}, [start]
    used: set[str] = set()
    defined: set[str] = set()
    while todo and len(files) < _MAX_FILES:
        docs = _documents(root / todo.pop())
        for doc in docs:
            keys = fields(doc) if isinstance(doc, Mapping) else {}
            used.update(image_variables(keys))
            defined.update(variables(keys.get("variables")))
            for pattern in local_includes(keys.get("include")):
                for found in _expand(root, pattern, every):
                    if found not in files:
                        files.add(found)
                        todo.append(found)
    return Pipeline(frozenset(files), frozenset(used), frozenset(defined))


def _documents(path: Path) -> list[Node]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
        return _yaml.documents(text)
    except (OSError, UnicodeDecodeError, ScanError):
        return []


def local_includes(node: Node | None) -> Iterator[str]:
    """`include: path`, `include: [path, {local: path}, ...]`: the local ones; a string that is
    a URL is a remote include."""
    entries = node.items if isinstance(node, Sequence) else [node]
    for entry in entries:
        target = string(entry)
        if target is None and isinstance(entry, Mapping):
            target = string(fields(entry).get("local"))
        if target is not None and "://" not in target.value:
            yield target.value.strip()


def _expand(root: Path, pattern: str, every: Callable[[], tuple[str, ...]]) -> list[str]:
    """Local include paths are relative to the repository root, and a wildcard matches the
    repository's own files only (never a walk of the file system, never outside the root)."""
    relative = pattern.lstrip("/")
    if "$" in relative or not relative:
        return []  # `$CI_*` in a path: decided when the pipeline runs
    top = root.resolve()
    if "*" not in relative:
        candidates = [root / relative]
    else:
        matches = wildcard(relative).fullmatch
        candidates = [root / rel for rel in every() if matches(rel)][:_MAX_FILES]
    out = []
    for path in candidates:
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if real.is_file() and real.is_relative_to(top):
            out.append(real.relative_to(top).as_posix())
    return out


def wildcard(pattern: str) -> re.Pattern[str]:
    """GitLab's wildcard include, as its repository search: `**` is any text, `/` included,
    `*` any text within one directory; so `configs/**.yml` is every `.yml` under configs/,
    `configs/**/*.yml` those in its subdirectories, `*.yml` those at the root."""
    parts = (
        ".*" if p == "**" else "[^/]*" if p == "*" else re.escape(p) for p in _STARS.split(pattern)
    )
    return re.compile("".join(parts))


_STARS = re.compile(r"(\*\*|\*)")


def jobs(keys: dict[str, Node]) -> Iterator[tuple[str, dict[str, Node]]]:
    """Every job of a document, hidden ones (`.template`) included, and `default:`."""
    for name, value in keys.items():
        if isinstance(value, Mapping) and (name == "default" or name not in GLOBAL_KEYS):
            yield name, fields(value)


def image_node(keys: dict[str, Node]) -> Node | None:
    return _ci.image_or_name(keys.get("image"), "name")


def service_nodes(keys: dict[str, Node]) -> Iterator[Node | None]:
    for entry in _ci.items(keys.get("services")):
        yield _ci.image_or_name(entry, "name")


def image_variables(keys: dict[str, Node]) -> Iterator[str]:
    """Names of variables that are a whole image value at the top, in `default:` or a job."""
    for scope in (keys, *(job for _, job in jobs(keys))):
        for node in (image_node(scope), *service_nodes(scope)):
            scalar = string(node)
            name = _ci.variable(scalar.value) if scalar else None
            if name:
                yield name


def variables(node: Node | None) -> dict[str, Scalar]:
    """`variables:` entries with a string value: `NAME: value` or `NAME: {value: ...}`."""
    out: dict[str, Scalar] = {}
    if isinstance(node, Mapping):
        for name, value in fields(node).items():
            scalar = string(_ci.image_or_name(value, "value"))
            if scalar is not None:
                out[name] = scalar
    return out


def of(repo: Repo) -> Pipeline:
    """The pipeline of `repo`, read once per run."""
    return repo.memo(of, lambda: pipeline(repo.root, repo.files))
