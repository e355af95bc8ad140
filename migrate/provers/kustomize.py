"""The kustomize prover: a run's rewrites of a repository's kustomize files (kustomizations,
their resources and patch files) are written only if every `images:` override still applies to
the very images it applied to before, and, where `kubectl` is on PATH, every affected
kustomization builds the cache targets of the images it built before.

Static rule (`migrate.facts.kustomize.flow`, before and after the run): for each `images[]` entry,
every image its name matched must still be matched. A base rewritten while an overlay's name is
not, or a name renamed while its base is not (a hook run on one file of the two), would break
the override: the file doing it is refused (PTC010), saying which file to fix with it. An entry
whose name matched nothing (a base migrated earlier) may start matching again: that restores
it. Then `kubectl kustomize` builds each affected kustomization (or what proves it: its bases, a
probe of its components' rewritten files; `_Run._selected`) before and after; an image that
is neither the same nor its cache target refuses every rewritten file the build reads (PTC010).
No kubectl (or remote bases, Helm charts, a failing build): a PTC011 note, static rule only.
Refusing a file can break another override, so both checks repeat until nothing changes.
"""

from __future__ import annotations

import functools
import json
import os
import posixpath
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from migrate.config import Config
from migrate.context import Parsing, Repo
from migrate.facts.kustomize import model
from migrate.facts.kustomize.flow import Flow, Origin
from migrate.facts.kustomize.graph import Graph, Node
from migrate.facts.kustomize.graph import of as graph_of
from migrate.kinds.paths import YAML_SUFFIXES
from migrate.provers import kustomize_build as build
from migrate.provers import kustomize_cache as kept
from migrate.provers import staging
from migrate.provers.protocol import Change, Objection, is_cache_target
from migrate.syntax.yaml import where

NAME = "kustomize"
PREFIX = "ecr-ptc-kustomize-"  # the staging copies' names, swept when a killed run left them
# Kustomization keys that never change an image field (anything else may: `replacements`,
# `transformers`, `vars`, ...); patches are read for what they touch.
_PLAIN = frozenset({
    "apiVersion", "kind", "metadata", "resources", "bases", "components", "namespace",
    "namePrefix", "nameSuffix", "commonLabels", "labels", "commonAnnotations",
    "configMapGenerator", "secretGenerator", "generatorOptions", "buildMetadata", "sortOptions",
    "openapi", "crds",
})  # fmt: skip
_PATCH_KEYS = frozenset({"patches", "patchesStrategicMerge", "patchesJson6902"})
_TOP_KEY = re.compile(r"""^(?:"|')?([A-Za-z_][\w-]*)(?:"|')?[ \t]*:(?:[ \t]|$)""")
# A patch that never names an image field sets no image: it merges, moves, copies or deletes
# containers by name or position, the same whatever their images are, so each image it leaves
# is one its bases built (a component deleting `redis-cart`, one adding `env` to a container).
_TOUCHES = re.compile(r"image", re.IGNORECASE)
# The prover reads many small files, several times: libyaml's import pays off at once.
_PARSING = Parsing(fast=True)
_NOT_VERIFIED = "rewrite not verified by kustomize build"
# Probes (`_Run._probe_files`): the trees they are written in, and their kustomization's head.
AS_IS, REWRITTEN = "as-is", "rewritten"
Probe = tuple[str, ...]  # a component's rewritten resource files, repository-relative
_PROBE = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


def unit(path: Path, repo: Repo) -> Path | None:
    """Every kustomize file of a repository is one unit: overrides cross directories."""
    if not path.name.endswith(YAML_SUFFIXES) and path.name not in model.NAMES:
        return None
    try:
        rel = path.relative_to(repo.root).as_posix()
    except ValueError:
        return None
    graph = graph_of(repo)
    return repo.root if graph and rel in graph.members else None


def prove(
    unit: Path, changes: Mapping[Path, Change], repo: Repo, config: Config
) -> Iterator[Objection]:
    run = _Run(repo, changes, config)
    notes: dict[str, Objection] = {}
    while True:
        refused = list(run.static())
        if not refused and config.prove != "off":  # off: the static rule alone, no builds
            notes, refused = run.rendered()
        if not refused:
            break
        for objection in refused:
            run.refuse(objection)
    yield from run.refusals.values()
    yield from notes.values()


class _Run:
    def __init__(self, repo: Repo, changes: Mapping[Path, Change], config: Config) -> None:
        self.repo = repo
        self.config = config
        self.graph: Graph = graph_of(repo)
        self.changes: dict[str, tuple[Path, Change]] = {}
        for path, change in changes.items():
            try:
                self.changes[path.relative_to(repo.root).as_posix()] = (path, change)
            except ValueError:
                continue
        self.refusals: dict[str, Objection] = {}
        self.repaired: set[str] = set()  # names (after) of entries that match again
        self._built: dict[str, list[str] | str] = {}  # directory -> its images before the run
        self._flows: tuple[Flow, Flow] | None = None  # the last static check's, before and after
        self._changed: tuple[set[str] | None] | None = None  # `_changed_images`, once per check
        # (component, files) -> its probe's images before the run (`_before`), or None: it fails
        self._probed: dict[tuple[str, Probe], list[str] | None] = {}

    def refuse(self, objection: Objection) -> None:
        rel = objection.path.relative_to(self.repo.root).as_posix()
        self.refusals.setdefault(rel, objection)

    def before(self, rel: str) -> str | None:
        if rel in self.changes:
            return _decode(self.changes[rel][1].before)
        return self.graph.read(rel)

    def after(self, rel: str) -> str | None:
        if rel in self.changes and rel not in self.refusals:
            return _decode(self.changes[rel][1].after)
        return self.before(rel)

    def rewritten(self) -> set[str]:
        return {
            rel
            for rel, (_, change) in self.changes.items()
            if rel not in self.refusals and change.before != change.after
        }

    def static(self) -> Iterator[Objection]:
        before = Flow(self.graph, self.before, _PARSING).everything()
        after = Flow(self.graph, self.after, _PARSING).everything()
        self._flows, self._changed = (before, after), None
        rewritten = self.rewritten()
        for (directory, index), was in before.matched.items():
            now = after.matched.get((directory, index), set())
            lost, gained = was - now, (now - was) if was else set()
            file = self.graph.dirs[directory]
            old, new = _name(before, directory, index), _name(after, directory, index)
            if not was and now:  # the override applies again, as it did before the base moved
                self.repaired.add(new)
                self.repaired.update(_new_names(after, directory, index))
            if not lost and not gained:
                continue
            entry = f"images[{index}].name {old!r} in {file}"
            if old != new and file in rewritten:
                (origin, *_) = sorted(lost or gained)
                why = (
                    "is not rewritten by this run: kustomize would stop applying the override to it"
                    if lost
                    else "is not matched today: kustomize would start applying the override to it"
                )
                yield self._objection(
                    file,
                    before.where.get((file, "name", index), 0),
                    f"{entry} would become {new!r}, but {before.value[origin]} "
                    f"({_at(self, before, origin)}) {why}; fix both files in one run",
                )
            for origin in sorted(lost | gained):
                if origin[0] in rewritten and before.value[origin] != after.value[origin]:
                    verb = "no longer be" if origin in lost else "now be"
                    yield self._objection(
                        origin[0],
                        before.where.get(origin, 0),
                        f"{before.value[origin]} would {verb} matched by {entry} once rewritten "
                        f"to {after.value[origin]}: fix {file} in the same run",
                    )

    def rendered(self) -> tuple[dict[str, Objection], list[Objection]]:
        rewritten = self.rewritten()
        notes: dict[str, Objection] = {}
        affected = []
        for node in self.graph.nodes():
            if node.component or node.kustomization is None:
                continue
            closure = self.graph.closure(node.dir)
            files = self.graph.files_of(closure)
            if not files & rewritten:
                continue
            remote = next(filter(None, map(self._remote, sorted(closure))), None)
            if remote is not None:
                notes[node.dir] = self._note(node.file, remote)
            else:
                affected.append((node, files))
        cmd = build.command()
        if cmd is None:
            for node, _ in affected:
                notes[node.dir] = self._note(node.file, "kubectl is not on PATH: static rules only")
            return notes, []
        every = affected
        probes: dict[str, Probe] = {}
        if self.minimal:
            affected, probes = self._selected(every, rewritten)
        self._before(cmd, affected, probes)
        failed = {c for c, files in probes.items() if self._probed[(c, files)] is None}
        if failed:  # a component built alone fails: build the kustomizations applying it
            affected, probes = self._selected(every, rewritten, failed)
            self._before(cmd, affected, {})
        root = self.repo.root
        buildable = []
        for node, files in affected:
            before = self._built[node.dir]
            if isinstance(before, str):
                notes[node.dir] = self._note(
                    node.file, f"the build fails before the rewrite: {before}"
                )
            else:
                buildable.append((node, files, before))
        problems: dict[str, str] = {}
        probed: dict[str, str] = {}  # component -> what its probe found wrong
        if buildable or probes:
            _sweep()
            with (
                tempfile.TemporaryDirectory(prefix=PREFIX) as tmp,  # mode 0700
                tempfile.TemporaryDirectory(prefix=PREFIX) as probes_tmp,
            ):
                staged = self._stage(Path(tmp), affected) if buildable else Path(tmp)
                if staged is None:
                    for node, _, _ in buildable:
                        notes[node.dir] = self._note(node.file, "the tree is too large to stage")
                    buildable = []
                probe_tree = self._write_probes(Path(probes_tmp) / REWRITTEN, probes, after=True)
                jobs = [(staged or root, n.dir, self.graph.closure(n.dir)) for n, _, _ in buildable]
                jobs += [(probe_tree, c, {c}) for c in probes]
                afters = self._kept_builds(cmd, jobs)
                for (node, _, before), after in zip(buildable, afters):
                    problem = self._compare(before, after)
                    if problem is not None:
                        problems[node.dir] = problem
                for (component, held), after in zip(probes.items(), afters[len(buildable) :]):
                    was = self._probed[(component, held)]
                    assert was is not None  # a probe failing before the rewrite is not used
                    problem = self._compare(was, after)
                    if problem is not None:
                        probed[component] = problem
        built = {node.dir for node, _ in affected}
        return notes, self._verdicts(every, built, problems, probed, notes, rewritten)

    def _kept_builds(
        self, cmd: list[str], jobs: list[tuple[Path, str, set[str]]]
    ) -> list[list[str] | str]:
        """The builds of these directories of their trees (the repository, the staged copy
        with the rewrites, a tree of probes), each with the directories it reads, or what an
        earlier run built from the very same files."""
        root = self.repo.root
        keys = [kept.key(root, cmd, reads, tree) for tree, _, reads in jobs]
        out: list[list[str] | str | None] = [kept.load(root, key) for key in keys]
        fresh = [i for i, hit in enumerate(out) if hit is None]
        found = _builds(cmd, [self._dir(jobs[i][0], jobs[i][1]) for i in fresh])
        for i, images in zip(fresh, found):
            out[i] = images
            if not isinstance(images, str):
                kept.store(root, keys[i], images)
        return [images if images is not None else "not built" for images in out]

    def _verdicts(
        self,
        every: list[tuple[Node, set[str]]],
        built: set[str],
        problems: dict[str, str],
        probed: dict[str, str],
        notes: dict[str, Objection],
        rewritten: set[str],
    ) -> list[Objection]:
        """The refusals of every affected kustomization: its own build's, or, for one not
        built, what the builds of the kustomizations it reads and the probes of the components
        it applies found (it only adds their images, untransformed: `_selected`), as building
        it would have; its notes likewise."""
        affected = {node.dir for node, _ in every}
        memo: dict[str, tuple[str | None, Objection | None]] = {}

        def verdict(directory: str) -> tuple[str | None, Objection | None]:
            if directory in memo:
                return memo[directory]
            memo[directory] = (None, None)  # a cycle: kustomize refuses it, nothing to add
            if directory in built:
                found = (problems.get(directory), notes.get(directory))
            else:
                found = (None, None)
                for level in sorted(self._with_components(directory)):
                    if level in probed and found[0] is None:
                        found = (probed[level], None)
                    for kind, rel in self.graph.node(level).resources:
                        if kind != "dir" or rel not in affected:
                            continue
                        problem, note = verdict(rel)
                        if problem is not None and found[0] is None:
                            found = (problem, None)
                        elif note is not None and found == (None, None):
                            found = (None, note)
            memo[directory] = found
            return found

        refused: list[Objection] = []
        for node, files in every:
            problem, note = verdict(node.dir)
            if problem is not None:
                where = node.dir or "."
                for rel in sorted(files & rewritten):
                    refused.append(self._objection(rel, 0, f"kubectl kustomize {where}: {problem}"))
            elif note is not None and node.dir not in notes:
                notes[node.dir] = note._replace(path=self.repo.root / node.file)
        return refused

    # Prove only what can change. A kustomization's build is its resources' images (its own
    # files and its bases' builds), then its transformations: `images:`, patches, replacements,
    # components, plugins. One that transforms no image field builds every image of a base
    # exactly as the base's own build does, in the same order; so if the base's build shows the
    # rewrite right (each image the same or its cache target), so does its user's, and if the
    # base's shows it wrong, its user says so too (above: the same refusal as before). Hence
    # only these are built: a kustomization whose own files are rewritten, the smallest that
    # contains the rewrite, or whose components' rewritten files no probe can hold
    # (`_probe_files`); and one that transforms images (itself or a component), where the
    # result can differ from its bases'. "Transforms" is decided on the
    # text and errs towards building: any key beyond the plain ones below, any patch naming
    # `image` (`_TOUCHES`), an `images:` entry that may match a rewritten image
    # (`_may_transform_a_rewrite`), a patch file outside the repository, a kustomization not
    # read.
    minimal = True  # False: build every kustomization that reads a rewrite (tests compare)

    def _selected(
        self,
        affected: list[tuple[Node, set[str]]],
        rewritten: set[str],
        unprobed: set[str] | frozenset[str] = frozenset(),
    ) -> tuple[list[tuple[Node, set[str]]], dict[str, Probe]]:
        """The kustomizations to build, and the components to probe: component -> its
        rewritten resource files (`_probe_files`); `unprobed` components are not probed."""
        out = []
        probes: dict[str, Probe] = {}
        for node, files in affected:
            level = self._with_components(node.dir)
            theirs = {c: self._probe_files(c, rewritten) for c in sorted(level - {node.dir})}
            if (
                self.graph.files_of({node.dir}) & rewritten
                or any(f is None or f and c in unprobed for c, f in theirs.items())
                or any(map(self._transforms, level))
            ):
                out.append((node, files))
            else:
                probes.update((c, f) for c, f in theirs.items() if f)
        return out, probes

    # A component's own resource files are read by kustomize one by one, each into the images
    # it holds, whatever kustomization applies the component: a probe, a kustomization of those
    # files alone, built before and after the rewrite, shows how kustomize reads each rewritten
    # image of them (the same or its cache target, as many, or the build failing) as any
    # kustomization applying the component would read it. One that transforms no image field
    # (`_selected`: neither it nor any component it applies; the component's `images:`, patches
    # and other keys are its own to `_transforms`) then only adds those images to its bases', as
    # they are, deleting or copying resources by name alike before and after: so its build is
    # right where its bases' builds and its components' probes are, and wrong where one of them
    # is (`_verdicts`). A probe costs what a plain base costs; building the kustomization would
    # also merge every patch of every component it applies (kubectl loads its OpenAPI schema
    # for them: 0.3 s of CPU each on microservices-demo's test kustomizations).
    def _probe_files(self, component: str, rewritten: set[str]) -> Probe | None:
        """A component's rewritten files, if they are resources under its directory that a
        probe can hold: () none is rewritten; None some cannot be probed (its kustomization,
        a patch file, a file named like a kustomization) and only its users' builds prove it."""
        node = self.graph.node(component)
        files = self.graph.files_of({component}) & rewritten
        if not files:
            return ()
        resources = {rel for kind, rel in node.resources if kind == "file"}
        prefix = f"{component}/" if component else ""
        if not files <= resources or any(
            not rel.startswith(prefix) or rel[len(prefix) :] in model.NAMES for rel in files
        ):
            return None
        return tuple(sorted(files))

    def _before(
        self, cmd: list[str], affected: list[tuple[Node, set[str]]], probes: dict[str, Probe]
    ) -> None:
        """The builds of these kustomizations (`_built`) and probes (`_probed`: None where
        one fails, and its users are built instead) as the files are, side by side."""
        root = self.repo.root
        fresh = [node.dir for node, _ in affected if node.dir not in self._built]
        todo = {c: files for c, files in probes.items() if (c, files) not in self._probed}
        if not fresh and not todo:
            return
        _sweep()
        with tempfile.TemporaryDirectory(prefix=PREFIX) as tmp:  # mode 0700
            tree = self._write_probes(Path(tmp) / AS_IS, todo, after=False)
            jobs = [(root, d, self.graph.closure(d)) for d in fresh]
            found = self._kept_builds(cmd, jobs + [(tree, c, {c}) for c in todo])
        self._built.update(zip(fresh, found))
        for (component, files), images in zip(todo.items(), found[len(fresh) :]):
            self._probed[(component, files)] = None if isinstance(images, str) else images

    def _write_probes(self, tree: Path, probes: dict[str, Probe], after: bool) -> Path:
        """Each probe at its component's place in `tree`: its rewritten resource files (as
        they are, or rewritten) at their places, and a kustomization naming them."""
        for component, files in probes.items():
            top = self._dir(tree, component)
            prefix = f"{component}/" if component else ""
            names = [rel[len(prefix) :] for rel in files]
            for rel, name in zip(files, names):
                change = self.changes[rel][1]
                _write_private(top / name, change.after if after else change.before)
            listed = "".join(f"- {json.dumps(name)}\n" for name in names)
            _write_private(top / "kustomization.yaml", f"{_PROBE}resources:\n{listed}".encode())
        return tree

    def _with_components(self, directory: str) -> set[str]:
        """The kustomization and the components it applies (theirs too)."""
        out: set[str] = set()
        todo = [directory]
        while todo:
            current = todo.pop()
            if current not in out:
                out.add(current)
                todo += [r for k, r in self.graph.node(current).components if k == "dir"]
        return out

    def _transforms(self, directory: str) -> bool:
        node = self.graph.node(directory)
        text = self.before(node.file)
        if text is None or node.kustomization is None:
            return True
        entries = node.kustomization.entries
        if node.kustomization.odd_images or entries and self._may_transform_a_rewrite(entries):
            return True
        for line in text.splitlines():
            if not line or line[0] in " \t#-" or line.startswith(("---", "...")):
                continue
            key = _TOP_KEY.match(line)
            if key is None or key[1] not in _PLAIN and key[1] not in _PATCH_KEYS:
                if key is not None and key[1] == "images" and entries:
                    continue  # overrides that match no rewritten image: the same before and after
                return True
        if any(_TOUCHES.search(p.value) for p in node.kustomization.inline_patches):
            return True
        for kind, rel in node.patches:
            patch = self.before(rel) if kind == "file" else None
            if patch is None or _TOUCHES.search(patch):
                return True
        return False

    # `images:` overrides act on each image alone, by its name: one whose name matches no image
    # the run rewrites, as it was or as it becomes, leaves those images as its bases build them
    # and every other image as it did before, so the kustomization builds its bases' rewrite.
    # kustomize matches a name as a regular expression (image.IsImageMatched: `^name` then a
    # tag or digest), so a name is compared loosely: `.` as any character, any other pattern
    # character as a match, and with or without `docker.io/` and `library/`.
    def _may_transform_a_rewrite(self, entries: tuple[model.Entry, ...]) -> bool:
        if self._changed is None:
            self._changed = (self._changed_images(),)
        (changed,) = self._changed
        if changed is None:
            return True
        names = [entry.name.value if entry.name else "" for entry in entries]
        return any(_may_match(name, image) for name in names for image in changed)

    def _changed_images(self) -> set[str] | None:
        """Every image the run rewrites, as it was and as it becomes; None when the kustomize
        model does not account for every byte the run changes in some rewritten file (an
        `images[].name` renamed with its base, a field it does not read)."""
        if self._flows is None:
            return None
        before, after = self._flows
        rewritten = self.rewritten()
        changed: set[str] = set()
        edits: dict[str, list[tuple[int, str, str]]] = {rel: [] for rel in rewritten}
        for origin, was in before.value.items():
            now = after.value.get(origin)
            if now is None or origin[0] not in edits:
                continue
            if now != was:
                changed.update((was, now))
                edits[origin[0]].append((before.where.get(origin, -1), was, now))
        for directory, file in self.graph.dirs.items():  # names renamed with their images
            if file in edits:
                for was_entry, now_entry in zip(
                    before.entries(directory), after.entries(directory)
                ):
                    was_name, now_name = was_entry.name, now_entry.name
                    if was_name and now_name and was_name.value != now_name.value:
                        changed.update((was_name.value, now_name.value))
                        edit = (where(was_name)[0], was_name.value, now_name.value)
                        edits[file].append(edit)
        for rel, spliced in edits.items():
            text, new = self.before(rel), self.after(rel)
            if text is None or new is None or _splice(text, spliced) != new:
                return None
        return changed

    def _compare(self, before: list[str], after: list[str] | str) -> str | None:
        if isinstance(after, str):
            return f"fails after the rewrite: {after}"
        if len(after) != len(before):
            return f"builds {len(after)} images instead of {len(before)}"
        for was, now in zip(before, after):
            cached = now == was or is_cache_target(was, now, self.config)
            if not cached and model.split(now)[0] not in self.repaired:
                return f"{was} would build as {now}"
        return None

    def _stage(self, tmp: Path, affected: list[tuple[Node, set[str]]]) -> Path | None:
        """Only what the builds read: each closure's files and what its generators,
        replacements and transformers name (no other file of the tree, ignored or not)."""
        reads = set().union(*(files for _, files in affected))
        for node, _ in affected:
            for directory in self.graph.closure(node.dir):
                reads.update(self._reads(directory))
        if not build.stage(self.repo.root, tmp, reads):
            return None
        for rel in self.rewritten():
            target = tmp / rel
            if rel in reads and target.is_file():  # not staged: the build fails, not verified
                target.unlink()
                _write_private(target, self.changes[rel][1].after)
        return tmp

    def _reads(self, directory: str) -> Iterator[str]:
        kustomization = self.graph.node(directory).kustomization
        for target in kustomization.reads if kustomization else ():
            rel = posixpath.normpath(posixpath.join(directory, target))
            if rel != ".." and not rel.startswith(("../", "/")):
                yield "" if rel == "." else rel

    def _remote(self, directory: str) -> str | None:
        """Why a build reading `directory` is not run: it would fetch, or cannot be read."""
        node = self.graph.node(directory)
        if node.kustomization is None:
            return f"{node.file} cannot be read"
        for url in node.kustomization.urls:
            return f"{node.file} names {url!r}, which kubectl would fetch: not built"
        if node.kustomization.generated:
            return f"{node.file} inflates Helm charts: not built"
        for kind, target in (*node.resources, *node.components, *node.patches):
            if kind == "unknown":
                return f"{node.file} reads {target!r}, outside what is known here: not built"
        return None

    @staticmethod
    def _dir(root: Path, directory: str) -> Path:
        return root / directory if directory else root

    def _objection(self, rel: str, offset: int, message: str) -> Objection:
        path, change = self.changes[rel]
        text = _decode(change.before) or ""
        return Objection(path, text.count("\n", 0, offset) + 1, "PTC010", message, True)

    def _note(self, rel: str, why: str) -> Objection:
        return Objection(self.repo.root / rel, 1, "PTC011", f"{_NOT_VERIFIED}: {why}", False)


@functools.cache
def _sweep() -> None:
    """Once a process: the staging copies a killed run left in the temp directory."""
    staging.sweep(Path(tempfile.gettempdir()), PREFIX)


def _write_private(path: Path, data: bytes) -> None:
    """A new file of ours, mode 0600, in directories of mode 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(data)


def _new_names(flow: Flow, directory: str, index: int) -> list[str]:
    entries = flow.entries(directory)
    return [e.new_name.value for e in entries if e.index == index and e.new_name is not None]


def _name(flow: Flow, directory: str, index: int) -> str:
    for entry in flow.entries(directory):
        if entry.index == index and entry.name is not None:
            return entry.name.value
    return ""


def _at(run: _Run, flow: Flow, origin: Origin) -> str:
    text = run.before(origin[0]) or ""
    return f"{origin[0]}:{text.count(chr(10), 0, flow.where.get(origin, 0)) + 1}"


def _builds(cmd: list[str], directories: list[Path]) -> list[list[str] | str]:
    """`build.images` of each directory, the kubectl processes side by side (each ~0.1 s, most
    of it the process starting)."""
    if len(directories) < 2:
        return [build.images(cmd, d) for d in directories]
    from concurrent.futures import ThreadPoolExecutor

    from migrate.rewrite import pool  # the run's share of the machine: CPUs, or $ECR_PTC_JOBS

    with ThreadPoolExecutor(max_workers=min(len(directories), pool.workers(None))) as threads:
        try:
            return list(threads.map(lambda d: build.images(cmd, d), directories))
        except BaseException:  # SIGTERM, Ctrl-C: kill the builds rather than wait for them
            build.stop()
            raise


def _may_match(name: str, image: str) -> bool:
    """Could kustomize's `images[].name` `name` match `image` (see `_may_transform_a_rewrite`)?"""
    if _PATTERN.search(name):
        return True
    for pattern, subject in ((name, image), (_bare(name), _bare(image))):
        if re.match(re.escape(pattern).replace(r"\.", ".") + r"(?=[:@]|\Z)", subject):
            return True
    return False


_PATTERN = re.compile(r"[\\^$*+?()\[\]{}|]")  # what a regular expression reads, `.` aside


def _bare(name: str) -> str:
    for prefix in ("docker.io/", "index.docker.io/", "library/"):
        name = name.removeprefix(prefix)
    return name


def _splice(text: str, edits: list[tuple[int, str, str]]) -> str | None:
    """`text` with each (offset, old, new) replaced, or None where `old` is not at `offset`."""
    for at, old, new in sorted(edits, reverse=True):
        if at < 0 or text[at : at + len(old)] != old:
            return None
        text = text[:at] + new + text[at + len(old) :]
    return text


def _decode(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
