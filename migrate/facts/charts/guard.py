"""Bitnami-style charts refuse relocated images: their templates call the `common` library's
`common.errors.insecureImages`, which fails the render ("Original containers have been
substituted for unrecognized ones") when an image's registry or repository is not one the
chart's `images` annotation names, unless `global.security.allowInsecureImages` is true.
https://github.com/bitnami/charts/blob/main/bitnami/common/templates/_errors.tpl

Which values files configure such a chart: those of a chart in the repository that carries the
guard (itself, a chart it vendors, or one of the repository it depends on) or that depends on a
Bitnami chart; and those a helmfile release or an Argo CD Application installs a Bitnami chart
with, or a Flux HelmRelease takes its values from. `of(repo)` finds the latter once per run."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrate.context import Repo
from migrate.facts.charts import dependencies

CALL = "common.errors.insecureImages"
SETTING = "global.security.allowInsecureImages"
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt")
_MAX_DEPTH = 4
_MAX_FILE = 1 << 20  # a release file larger than this is not a helmfile
# An Argo CD Application document (not a CRD that describes one, which names `valueFiles` too).
_APPLICATION = re.compile(r"(?m)^kind:[ \t]*Application[ \t]*$")
_FLUX = re.compile(
    r"(?m)^kind:[ \t]*(?:HelmRelease|HelmRepository)[ \t]*$|configMapGenerator|secretGenerator"
)
# Tried first: a pattern that may start at any line start is tried at every offset.
_FLUX_WORDS = ("HelmRe", "Generator")
# A file that names none of these is no Application nor Flux file (ASCII: the same as bytes).
_WORDS = (b"valueFiles", *(word.encode() for word in _FLUX_WORDS))


def bitnami(source: str) -> bool:
    """A chart source that is Bitnami's: `bitnami/redis`, charts.bitnami.com,
    oci://registry-1.docker.io/bitnamicharts."""
    return "bitnami" in source.lower()


def carries(chart: Path, root: Path | None, depth: int = 0) -> bool:
    """The chart calls the guard, or a chart it vendors or depends on does (Bitnami's own
    dependencies counted without being read)."""
    if depth > _MAX_DEPTH:
        return False
    if _calls(chart / "templates"):
        return True
    vendored = chart / "charts"
    if vendored.is_dir() and not vendored.is_symlink():
        for sub in sorted(vendored.iterdir()):
            if sub.is_dir() and not sub.is_symlink() and carries(sub, root, depth + 1):
                return True
    for dependency in dependencies.declared(chart):
        if bitnami(str(dependency.get("repository") or "")):
            return True
        local = dependencies.local(chart, dependency, root) if root is not None else None
        if local is not None and carries(local, root, depth + 1):
            return True
    return False


def _calls(templates: Path) -> bool:
    if not templates.is_dir() or templates.is_symlink():
        return False
    for path in templates.rglob("*"):
        if path.suffix in _TEMPLATE_SUFFIXES and path.is_file() and not path.is_symlink():
            try:
                if CALL in path.read_text("utf-8", "replace"):
                    return True
            except OSError:
                continue
    return False


def of(repo: Repo) -> dict[Path, str]:
    """Values file (real path) -> the chart a helmfile release, an Argo CD Application or a
    Flux HelmRelease of the repository installs with it."""
    return repo.memo(of, lambda: dict(_releases(repo)))


def _releases(repo: Repo) -> Iterator[tuple[Path, str]]:
    flux = _Flux()
    for relative in repo.files:
        name = relative.rsplit("/", 1)[-1].lower()
        if not name.endswith((".yaml", ".yml", ".gotmpl")):
            continue
        path = repo.root / relative
        helmfile = name.startswith("helmfile") or "/helmfile.d/" in f"/{relative}"
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode) or info.st_size > _MAX_FILE:
                continue
            raw = path.read_bytes()
        except OSError:
            continue
        # Most YAML of a repository is none of these: its bytes say so before it is decoded.
        if not helmfile and not any(word in raw for word in _WORDS):
            continue
        # As read_text reads it: invalid bytes replaced, universal newlines.
        text = raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
        if helmfile:
            yield from _helmfile(path.parent, _load_all(text))
        elif "valueFiles" in text and _APPLICATION.search(text):
            yield from _argo(repo.root, _load_all(text))
        elif any(word in text for word in _FLUX_WORDS) and _FLUX.search(text):
            flux.read(path, _load_all(text))
    yield from flux.values()


class _Flux:
    """Flux: a HelmRelease takes its values `valuesFrom` a ConfigMap or Secret, which the
    kustomization beside it generates from files (`configMapGenerator`); its chart comes from
    a HelmRepository, named by `sourceRef`."""

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}  # HelmRepository name -> url
        self.releases: list[tuple[Path, str, str, set[str]]] = []  # dir, chart, source, maps
        self.generated: dict[tuple[Path, str], list[Path]] = {}  # (dir, map name) -> files

    def read(self, path: Path, docs: list[Any]) -> None:
        for doc in docs:
            spec = _dict(doc.get("spec"))
            if doc.get("kind") == "HelmRepository":
                name = _dict(doc.get("metadata")).get("name")
                self.urls[str(name)] = str(spec.get("url") or "")
            elif doc.get("kind") == "HelmRelease":
                chart = _dict(_dict(spec.get("chart")).get("spec"))
                source = _dict(chart.get("sourceRef"))
                listed = spec.get("valuesFrom")
                maps = {str(_dict(v).get("name")) for v in _list(listed)}
                if isinstance(chart.get("chart"), str):
                    entry = (path.parent, chart["chart"], str(source.get("name") or ""), maps)
                    self.releases.append(entry)
            else:
                for key in ("configMapGenerator", "secretGenerator"):
                    for generator in _list(doc.get(key)):
                        files = _list(_dict(generator).get("files"))
                        self.generated[(path.parent, str(_dict(generator).get("name")))] = [
                            path.parent / str(f).rpartition("=")[2] for f in files
                        ]

    def values(self) -> Iterator[tuple[Path, str]]:
        for directory, chart, source, maps in self.releases:
            described = f"{self.urls.get(source, source)} {chart}".strip()
            for name in maps:
                for file in self.generated.get((directory, name), ()):
                    yield file.resolve(), described


def _dict(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _load_all(text: str) -> list[Any]:
    """The documents of a release file; a helmfile's template lines (`{{ }}`) left out."""
    import yaml

    plain = "\n".join(line for line in text.split("\n") if "{{" not in line)
    try:  # libyaml's safe loader where there is one
        docs = yaml.load_all(plain, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return [d for d in docs if isinstance(d, dict)]
    except yaml.YAMLError:
        return []


def _helmfile(directory: Path, docs: list[Any]) -> Iterator[tuple[Path, str]]:
    urls: dict[str, str] = {}
    for doc in docs:
        for repository in doc.get("repositories") or ():
            if isinstance(repository, dict):
                urls[str(repository.get("name"))] = str(repository.get("url") or "")
    for doc in docs:
        for release in doc.get("releases") or ():
            if not isinstance(release, dict) or not isinstance(release.get("chart"), str):
                continue
            chart = release["chart"]
            source = f"{urls.get(chart.split('/', 1)[0], '')} {chart}".strip()
            for values in release.get("values") or ():
                if isinstance(values, str) and "{{" not in values:
                    yield (directory / values).resolve(), source


def _argo(root: Path, docs: list[Any]) -> Iterator[tuple[Path, str]]:
    for doc in docs:
        spec = doc.get("spec") if doc.get("kind") == "Application" else None
        if not isinstance(spec, dict):
            continue
        sources = [spec["source"]] if isinstance(spec.get("source"), dict) else []
        sources += [s for s in spec.get("sources") or () if isinstance(s, dict)]
        for source in sources:
            helm = source.get("helm")
            if not isinstance(helm, dict) or not isinstance(source.get("chart"), str):
                continue
            chart = f"{source.get('repoURL', '')} {source['chart']}".strip()
            for values in helm.get("valueFiles") or ():
                # `$values/...`: from the source the Application calls `values`, this repository
                if isinstance(values, str) and values.startswith("$"):
                    yield (root / values.partition("/")[2]).resolve(), chart
