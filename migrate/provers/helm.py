"""Helm: render a chart before and after its rewrite with Helm's own engine and compare the
container images of every pod template. A chart whose images do not all come out as their cache
targets (or unchanged) keeps its files as they are (PTC010); a chart that does not render on
its own is rewritten by the static rules alone and says so (PTC011); a rendered image that no
rewrite reached is reported (PTC014).

Both renders read a staging copy (`staging`), never the chart in place: only the chart's
regular files inside the repository, bounded, so `.Files.Get` reads nothing a symlink reaches
outside it. They run in a child process (`helm_child`) bounded in time and memory; whatever
stops a render is a PTC011 note with a one-line reason."""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING

from migrate import reference
from migrate.config import Config
from migrate.context import Repo
from migrate.facts.charts import chart_root
from migrate.provers import staging
from migrate.provers.protocol import Change, Objection

if TYPE_CHECKING:
    from migrate.provers.helm_child import Rendering
    from migrate.provers.helm_compare import Wrong

NAME = "helm"
PREFIX = "ecr-ptc-helm-"  # the staging copies' names, swept when a killed run left them
_DEFAULTS = ""  # the render with the chart's own values.yaml


def unit(path: Path, repo: Repo) -> Path | None:
    """The chart of a values file or a template: the nearest Chart.yaml above, in the repo."""
    if not path.name.lower().endswith((".yaml", ".yml", ".tpl")):
        return None
    chart = chart_root(path, repo.root)
    if chart is None or path.name == "Chart.yaml" and path.parent == chart:
        return None
    return chart


def prove(
    unit: Path, changes: Mapping[Path, Change], repo: Repo, config: Config
) -> Iterator[Objection]:
    seen: set[tuple[Path, str]] = set()  # one objection of a code per file, the first
    for objection in _objections(unit, changes, repo, config):
        if (objection.path, objection.code) not in seen:
            seen.add((objection.path, objection.code))
            yield objection


def _objections(
    unit: Path, changes: Mapping[Path, Change], repo: Repo, config: Config
) -> Iterator[Objection]:
    if config.prove == "off":  # no static rule of its own: the scanners' rules decided
        return
    from migrate.provers import helm_cache
    from migrate.provers import helm_child as child  # the renderer: only for a chart
    from migrate.provers import helm_compare as compare
    from migrate.provers import helm_deps as deps

    missing = _installed()
    if missing is not None:
        yield from _each(changes, "PTC011", f"not render-verified: {missing}", blocks=False)
        return
    overrides = {str(p): _text(c.before) for p, c in changes.items() if _is_override(unit, p)}
    after_overrides = {k: _text(changes[Path(k)].after) for k in overrides}
    root = repo.root.resolve()
    # The copy is planned first and made only for what must be rendered: dependencies the
    # repository holds go into its charts/ (the user's chart is never written), under the
    # same bounds as the chart itself.
    plan = staging.Plan()
    try:
        budget = staging.Budget()
        plan.add_tree(root, unit, PurePosixPath(), budget, _SKIP)
        deps.stage(
            PurePosixPath(),
            deps.found(unit, deps.missing, repo.root),
            functools.partial(_plan_dependency, plan, root, budget),
            plan.has,
        )
    except staging.TooLarge as exc:
        message = f"not render-verified: the chart is too large to render ({exc})"
        yield from _each(changes, "PTC011", message, blocks=False)
        return
    replaced = {path.relative_to(unit).as_posix(): c.after for path, c in changes.items()}
    # The chart as it is was rendered by an earlier run if nothing it reads has changed since,
    # and so was the rewrite if an earlier run planned the same one (`fix --diff`, then `fix`):
    # only what no run rendered yet is staged and rendered.
    nothing: dict[str, bytes] = {}
    jobs = (("before", overrides, nothing), ("after", after_overrides, replaced))
    keys = helm_cache.keys(repo.root, plan, [(values, files) for _, values, files in jobs])
    kept = [_kept(helm_cache.load(repo.root, key), overrides) for key in keys]
    if all(have is not None for have in kept):
        before, after = (have.result for have in kept if have is not None)
    else:
        # The documents the chart as it is rendered are not parsed again in its rewrite's
        # render: only those whose text the rewrite changed.
        known = {k: v for have in kept if have is not None for k, v in have.documents.items()}
        scratch = _scratch(repo)
        _sweep(scratch)
        with tempfile.TemporaryDirectory(prefix=PREFIX, dir=scratch) as tmp:
            unrendered = []
            for (name, values, files), have in zip(jobs, kept):
                if have is None:
                    copy = Path(tmp) / name / unit.name
                    plan.materialize(copy, True, files)  # replaced files: never hard links
                    unrendered.append((copy, values))
            rendered = iter(child.render(unrendered, known=known))
            renderings = [have if have is not None else next(rendered) for have in kept]
        for key, have, rendering, (name, _, _) in zip(keys, kept, renderings, jobs):
            if have is None:  # a rewrite's memo serves no later render: the next rewrite's
                kept_as = rendering if name == "before" else rendering._replace(documents={})
                helm_cache.store(repo.root, key, kept_as)  # documents are not its documents
        before, after = (rendering.result for rendering in renderings)
    assert before is not None and after is not None
    for name in before:
        old, new = before[name], after[name]
        concerned = changes if name == _DEFAULTS else {Path(name): changes[Path(name)]}
        what = "the chart's defaults" if name == _DEFAULTS else f"{_rel(unit, name)} as values"
        if isinstance(old, str):
            yield from _each(concerned, "PTC011", f"not render-verified: {old}", blocks=False)
            continue
        if isinstance(new, str):
            message = f"renders with {what} before the rewrite but not after: {new}"
            yield from _each(changes, "PTC010", message)
            return
        problems = [_wrong(w) for w in compare.wrong(old, new, config)]
        if problems:
            message = f"with {what}, Helm would render {'; '.join(problems[:3])}" + (
                f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            )
            yield from _each(changes, "PTC010", message + ": the chart's rewrites are not written")
            return
        for image, where in compare.unmigrated(new).items():
            path, line, why = _defined_at(unit, image, where, concerned, name)
            yield Objection(
                path,
                line,
                "PTC014",
                f"with {what}, Helm renders {image} ({_where(where)}), which no rewrite reaches: "
                f"its name comes from {why}",
                False,
            )


_SKIP = frozenset({".git"})


def _kept(cached: Rendering | None, overrides: Mapping[str, str]) -> Rendering | None:
    """A kept render, if it has every values set this one asks for."""
    wanted = {_DEFAULTS, *overrides}
    return cached if cached is not None and set(cached.result) == wanted else None


def _plan_dependency(
    plan: staging.Plan, root: Path, budget: staging.Budget, source: Path, at: PurePath
) -> None:
    plan.add_tree(root, source, PurePosixPath(at), budget, _SKIP)


def _installed() -> str | None:
    """None when Helm's renderer is installed (the child loads it), else why not."""
    import importlib.util

    if importlib.util.find_spec("helm_python") is None:
        return "Helm's renderer is not installed (pip install 'ecr-ptc[helm]')"
    return None


@functools.cache
def _sweep(scratch: Path | None) -> None:
    """Once a process for each place: the staging copies a killed run left behind."""
    staging.sweep(scratch or Path(tempfile.gettempdir()), PREFIX)


def _scratch(repo: Repo) -> Path | None:
    """Where the copy of a chart goes: inside `.git` when there is one, on the repository's
    own file system, so that its files are hard links (a chart with large CRDs: ~40 ms
    rather than ~300 ms to copy); else the system's temp directory."""
    git = repo.root / ".git"
    return git if git.is_dir() and os.access(git, os.W_OK) else None


def _wrong(wrong: Wrong) -> str:
    where, before, after = wrong
    if not before:
        return f"a new container {after} ({_where(where)})"
    if after is None:
        return f"no container where {before} was ({_where(where)})"
    return f"{before} as {after} ({_where(where)})"


def _where(where: str) -> str:
    return where.split("#", 1)[0].split("/", 1)[-1]  # the template, without the chart's name


def _each(
    changes: Mapping[Path, Change], code: str, message: str, blocks: bool = True
) -> Iterator[Objection]:
    for path, change in changes.items():
        yield Objection(path, _first_changed_line(change), code, message, blocks)


def _first_changed_line(change: Change) -> int:
    for number, (old, new) in enumerate(
        zip(change.before.split(b"\n"), change.after.split(b"\n")), start=1
    ):
        if old != new:
            return number
    return 1


_VALUES_NAME = re.compile(r"^(?:.*[._-])?values(?:[._-].*)?\.ya?ml$", re.IGNORECASE)


def _is_override(chart: Path, path: Path) -> bool:
    """A values file of the chart other than its own values.yaml: beside Chart.yaml or named
    as one (`ci/prod-values.yaml`); not a template, nor Go-templated YAML (`files/job.yaml`)."""
    relative = path.relative_to(chart)
    if relative.parts[0] == "templates" or relative == Path("values.yaml"):
        return False
    return len(relative.parts) == 1 or bool(_VALUES_NAME.match(relative.name))


def _reported_on(chart: Path, concerned: Mapping[Path, Change]) -> Path:
    values = chart / "values.yaml"
    return values if values in concerned or len(concerned) != 1 else next(iter(concerned))


def _defined_at(
    chart: Path, image: str, where: str, concerned: Mapping[Path, Change], name: str
) -> tuple[Path, int, str]:
    """Where an image left pulling from upstream is defined: a values key that names it whole
    (the override file, then values.yaml), else a template literal that gives it as a default
    (the rendered template, then the helpers), else a values key with its bare name, else the
    first line of the values file. A bare name (`traefik`) comes last in the values: it is
    often the key of some other, disabled, component."""
    names = _names(image)
    values: list[tuple[Path, str]] = []
    if name != _DEFAULTS:
        values.append((Path(name), _text(concerned[Path(name)].after)))
    defaults = chart / "values.yaml"
    if defaults in concerned:
        values.append((defaults, _text(concerned[defaults].after)))
    elif (text := _read(defaults)) is not None:
        values.append((defaults, text))
    templates = chart / "templates"
    rendered = templates / _where(where).partition("/")[2]
    helpers = sorted(p for p in templates.rglob("*.tpl") if p.is_file())
    whole = [n for n in names if "/" in n or ":" in n]
    for candidates, files, pattern in (
        (whole, values, _VALUE_LINE),
        (names, [(p, _read(p)) for p in (rendered, *helpers)], _LITERAL),
        (names, values, _VALUE_LINE),
    ):
        for candidate in candidates:
            found = re.compile(pattern.format(re.escape(candidate)))
            for path, text in files:
                if text is not None and (line := _line_of(text, found)) is not None:
                    return path, line, _WHY[pattern]
    return _reported_on(chart, concerned), 1, "the chart's templates or a value left alone"


_VALUE_LINE = r"^[ \t]*(?:-[ \t]+)?[\w.\"'-]+:[ \t]+[\"']?{}(?:[\"'\s#:@]|$)"
_LITERAL = r"[\"'`]{}[\"'`]"
_WHY = {_VALUE_LINE: "a value left alone", _LITERAL: "a default in the chart's templates"}


def _names(image: str) -> list[str]:
    """What a chart may have written of an image, longest first: the whole reference, the name,
    the name without its registry (and without Docker Hub's `library/`)."""
    try:
        ref = reference.parse(image)
    except reference.ReferenceError:
        return [image]
    name = image.split("@", 1)[0]
    if ref.tag and name.endswith(f":{ref.tag}"):
        name = name[: -len(ref.tag) - 1]
    out = [image, name, ref.path]
    if ref.path.startswith("library/"):
        out.append(ref.path.removeprefix("library/"))
    return list(dict.fromkeys(n for n in out if n))


def _line_of(text: str, pattern: re.Pattern[str]) -> int | None:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.lstrip().startswith("#") and pattern.search(line):
            return number
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8", "replace") if path.is_file() else None
    except OSError:
        return None


def _rel(chart: Path, name: str) -> str:
    return Path(name).relative_to(chart).as_posix()


def _text(raw: bytes) -> str:
    return raw.decode("utf-8-sig", "replace")
