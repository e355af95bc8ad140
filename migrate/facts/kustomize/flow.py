"""Which images each `images[].name` matches, for one state of the repository's files.

kustomize builds a kustomization from its resources (files, and the output of the
kustomizations they name), applies its components to them in order (each adds its resources and
patches, then its own `images:`), adds its own patches, then applies its `images:` entries one
after another; an entry matches an image whose name is exactly its `name`
(https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/images/). This follows
every image to where its name is written: a manifest or patch (`(file, 'image', n)`: the n-th
image of the file) or an entry's `newName` (`(file, 'newName', index)`). Images in patches are
added beside the ones they replace: the model may over-match, never under-match.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from migrate.context import STANDALONE, Parsing
from migrate.facts.kustomize import model, patches
from migrate.facts.kustomize.graph import REPOSITORY_WIDE, Graph, Node
from migrate.occurrence import ScanError
from migrate.syntax.yaml import where

Origin = tuple[str, str, int]


class Image(NamedTuple):
    value: str
    origin: Origin


class Flow:
    def __init__(
        self,
        graph: Graph,
        text: Callable[[str], str | None],
        parsing: Parsing = STANDALONE.parsing,
    ) -> None:
        self.graph = graph
        self._text = text
        self._parsing = parsing
        self._images: dict[str, list[Image] | None] = {}
        self._parsed: dict[str, tuple[tuple[model.Entry, ...], list[Image]] | None] = {}
        self._outputs: dict[str, list[Image]] = {}
        self._active: set[str] = set()
        self.value: dict[Origin, str] = {}  # where a name is written -> the name read there
        self.where: dict[Origin, int] = {}  # -> its offset in the file (entries' names too)
        self.seen: dict[str, list[Image]] = {}  # directory -> the images its `images:` met
        self.complete: dict[str, bool] = {}  # False: some input is remote or unreadable
        self.matched: dict[tuple[str, int], set[Origin]] = {}  # (directory, entry) -> origins
        self._everything = False

    def everything(self) -> Flow:
        """Every kustomization's `seen` and `matched`, components in each of their contexts."""
        if not self._everything:
            self._everything = True
            for node in self.graph.nodes():
                if not node.component:
                    self.output(node.dir)
            for node in self.graph.nodes():
                if node.component and node.dir not in self.seen:
                    self._apply(node, [], node.dir)  # included by no kustomization here
        return self

    def entries(self, directory: str) -> tuple[model.Entry, ...]:
        parsed = self._kustomization(directory)
        return parsed[0] if parsed else ()

    def output(self, directory: str) -> list[Image]:
        if directory in self._outputs:
            return self._outputs[directory]
        if directory in self._active:  # a cycle: kustomize refuses it
            self.complete[directory] = False
            return []
        self._active.add(directory)
        out = self._apply(self.graph.node(directory), [], directory)
        self._active.discard(directory)
        self._outputs[directory] = out
        return out

    def _apply(self, node: Node, images: list[Image], context: str) -> list[Image]:
        """A kustomization (or a component, onto the images of its includer) applied."""
        ok = node.kustomization is not None and not node.kustomization.generated
        images = list(images)
        for kind, rel in node.resources:
            ok &= self._add(kind, rel, images)
        for kind, rel in node.components:
            if kind == "dir" and rel not in self._active:
                self._active.add(rel)
                images = self._apply(self.graph.node(rel), images, context)
                self._active.discard(rel)
                ok &= self.complete.get(rel, True)
            else:
                ok = False
        for kind, rel in node.patches:
            ok &= self._add(kind, rel, images)
        parsed = self._kustomization(node.dir)
        if parsed is None:
            ok = False
        entries, inline = parsed or ((), [])
        images += inline
        self.complete[node.dir] = self.complete.get(node.dir, True) and ok
        self.seen.setdefault(node.dir, []).extend(images)
        file = node.file
        for entry in entries:
            if entry.name is None:
                continue
            name = entry.name.value
            hits = self.matched.setdefault((node.dir, entry.index), set())
            for i, image in enumerate(images):
                if model.matches(image.value, name):
                    hits.add(image.origin)
                    origin = (file, "newName", entry.index) if entry.new_name else image.origin
                    images[i] = Image(entry.apply(image.value), origin)
        return images

    def _add(self, kind: str, rel: str, images: list[Image]) -> bool:
        if kind == "dir":
            images += self.output(rel)
            return self.complete.get(rel, True)
        found = self.file_images(rel) if kind == "file" else None
        images += found or []
        return found is not None

    def file_images(self, rel: str) -> list[Image] | None:
        """The images of a manifest or patch file; None if it cannot be read."""
        if rel not in self._images:
            text = self._text(rel)
            try:
                found = self.graph.patch_images(text, self._parsing) if text is not None else None
            except ScanError:
                found = None
            self._images[rel] = (
                None
                if found is None
                else [self._image(o.written, (rel, "image", n), o.at) for n, o in enumerate(found)]
            )
        return self._images[rel]

    def _kustomization(self, directory: str) -> tuple[tuple[model.Entry, ...], list[Image]] | None:
        if directory not in self._parsed:
            file = self.graph.dirs[directory]
            text = self._text(file)
            try:
                parsed = self.graph.kustomization(text, self._parsing) if text is not None else None
                if parsed is None:
                    self._parsed[directory] = None
                else:
                    inline = [
                        o
                        for node in parsed.inline_patches
                        for o in patches.inline(text or "", node, self._parsing)
                    ]
                    for entry in parsed.entries:
                        if entry.name is not None:
                            self.where[(file, "name", entry.index)] = where(entry.name)[0]
                        if entry.new_name is not None:
                            origin = (file, "newName", entry.index)
                            self._image(entry.new_name.value, origin, where(entry.new_name)[0])
                    self._parsed[directory] = (
                        parsed.entries,
                        [
                            self._image(o.written, (file, "inline", n), o.at)
                            for n, o in enumerate(inline)
                        ],
                    )
            except ScanError:
                self._parsed[directory] = None
        return self._parsed[directory]

    def _image(self, value: str, origin: Origin, offset: int) -> Image:
        self.value[origin] = value
        self.where[origin] = offset
        return Image(value, origin)


def on_disk(graph: Graph) -> Flow:
    """The images as the files on disk have them: what a scan sees (one per graph, per run)."""
    return graph.repo.memo(on_disk, lambda: Flow(graph, graph.read, REPOSITORY_WIDE))
