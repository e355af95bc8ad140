"""Terraform (`*.tf`): the image fields of the resources that pull one, read from the HCL tree
(`migrate.syntax.hcl`, the `terraform` extra).

- `aws_ecs_task_definition.container_definitions` and `aws_batch_job_definition
  .container_properties`: the `image` keys of `jsonencode(...)` or of a heredoc of JSON;
- `kubernetes_*` (and `_v1`) `container`/`init_container` blocks' `image`, at any depth;
- `helm_release`: `set { name = "....image" / "....image.repository" }` and inline `values`
  (`yamlencode({...})` or a heredoc of YAML);
- `docker_image.name`, `docker_registry_image.name`, `docker_container.image`,
  `aws_lambda_function.image_uri`, `aws_apprunner_service` `image_identifier`;
- arguments named like images (`image`, `container_image`, `*_image`) of a local module that
  the module uses as images.

A value taken from a `var.` default or a `local` of the same file is followed to where it is
written and rewritten there. An interpolation only in the tag (`"nginx:${var.tag}"`) keeps the
name rewritable; anywhere else it is PTC004, as are values computed by other expressions.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from migrate.context import STANDALONE, FileContext, Repo
from migrate.occurrence import Occurrence, Part, ScanError

NAME = "terraform"
FILES = r"\.tf$"
# Every field read holds one of these words: a file without them is never parsed.
_WORDS = r"image|container_definitions|container_properties"
_JSON_IMAGE = r'"image"\s*:\s*"((?:[^"\\\n]|\\.)*)"'
_YAML_IMAGE = r'(?m)^[ \t]*(image|repository):[ \t]*(["\']?)([^"\'\s#{}\[\]]+)\2[ \t]*(?:#.*)?$'
_MODULE_ARGUMENT = r"^(?:image|container_image|[a-z0-9_]+_image)$"


def by_name(path: Path) -> bool:
    return path.name.endswith(".tf")


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    defines = re.search(r"(?m)^\s*(?:variable|locals)\b", text) is not None
    if re.search(_WORDS, text) is None and not (defines and context.repo and context.path):
        return
    from migrate.syntax import hcl  # only for a file that mentions a field read here

    uses: dict[str, tuple[str, str]] = {}
    defined: set[str] = set()
    if context.repo is not None and context.path is not None:
        words = re.search(_WORDS, text) is not None
        # A file with no field word matters only for the names others use: their files are
        # parsed first, and this one only if they use any.
        uses = _of_module(context.repo, context.path, "uses")
        if not (uses or words):
            return
        defined = _of_module(context.repo, context.path, "defined") if words else set()
    try:
        tree = hcl.parse(text)
    except hcl.Unavailable as e:
        raise ScanError(0, str(e)) from None
    error = hcl.first_error(tree.root)
    if error is not None:
        raise ScanError(tree.at(error.start_byte), "not valid HCL")
    module_uses = None
    if context.repo is not None and context.path is not None:
        module_uses = functools.partial(_module_uses, context.repo, context.path)
    module = _Module(tree, defined, module_uses)
    seen: set[tuple[int, int]] = set()
    for found in module.occurrences(uses):
        if (found.at, found.end) not in seen:
            seen.add((found.at, found.end))
            yield found


def _of_module(repo: Repo, path: Path, what: str) -> Any:
    """What the files of a module (its directory) say. `uses`: the `var.`/`local.` names they
    use as images without defining them (name -> (role, file)); `defined`: the names they
    define."""
    try:
        folder = path.resolve().parent.relative_to(repo.root.resolve()).as_posix()
    except ValueError:
        return {} if what == "uses" else set()
    return repo.memo(("terraform-module", what, folder), lambda: _read_module(repo, folder, what))


def _module_uses(repo: Repo, path: Path, source: str) -> set[str]:
    """The variables the local module at `source` (relative to `path`'s directory) uses as
    images; none when it is not in the repository."""
    try:
        here = path.resolve().parent.relative_to(repo.root.resolve()).as_posix()
    except ValueError:
        return set()
    folder = posixpath.normpath(posixpath.join(here, source))
    if folder == ".." or folder.startswith("../"):
        return set()
    uses = repo.memo(
        ("terraform-module", "uses", folder), lambda: _read_module(repo, folder, "uses")
    )
    return {name.removeprefix("var.") for name in uses if name.startswith("var.")}


def _read_module(repo: Repo, folder: str, what: str) -> Any:
    from migrate.syntax import hcl

    prefix = "" if folder == "." else folder + "/"
    uses: dict[str, tuple[str, str]] = {}
    defined: set[str] = set()
    for name in repo.files:
        if not name.startswith(prefix) or "/" in name[len(prefix) :] or not name.endswith(".tf"):
            continue
        try:
            text = (repo.root / name).read_text(encoding="utf-8")
            if what == "uses" and re.search(_WORDS, text) is None:
                continue
            tree = hcl.parse(text)
        except (OSError, UnicodeDecodeError, hcl.Unavailable):
            continue
        if hcl.first_error(tree.root) is not None:
            continue
        module = _Module(tree, set())
        if what == "defined":
            defined.update(f"var.{n}" for n in module.variables)
            defined.update(f"local.{n}" for n in module.locals)
            continue
        for _ in module.occurrences({}):
            pass
        for reference, role in module.uses.items():
            uses.setdefault(reference, (role, name))
    return uses if what == "uses" else defined


class _Module:
    def __init__(
        self,
        tree: Any,
        elsewhere: set[str],
        module_uses: Callable[[str], set[str] | None] | None = None,
    ) -> None:
        from migrate.syntax import hcl

        # A local module's source -> the variables it uses as images (None: it cannot be read)
        self.module_uses = module_uses
        # `var.`/`local.` names other files of the module define: reported where written
        self.elsewhere = elsewhere
        self.uses: dict[str, str] = {}  # names used as images but not defined here -> role
        self.tree = tree
        self.hcl = hcl
        body = hcl.child(tree.root, "body")
        self.blocks = [] if body is None else hcl.named(body, "block")
        self.variables: dict[str, Any] = {}
        self.locals: dict[str, Any] = {}
        for block in self.blocks:
            kind, labels, inner = self.block(block)
            if kind == "variable" and labels and inner is not None:
                default = self.attributes(inner).get("default")
                if default is not None:
                    self.variables[labels[0]] = default
            elif kind == "locals" and inner is not None:
                self.locals.update(self.attributes(inner))

    # -- the tree

    def block(self, node: Any) -> tuple[str, list[str], Any | None]:
        kind = self.tree.text(node.children[0])
        labels = [self.label(c) for c in node.children if c.type in ("string_lit", "identifier")]
        return kind, labels[1:], self.hcl.child(node, "body")

    def label(self, node: Any) -> str:
        if node.type == "identifier":
            return str(self.tree.text(node))
        return str(self.tree.text(node))[1:-1]

    def attributes(self, body: Any) -> dict[str, Any]:
        found = {}
        for attribute in self.hcl.named(body, "attribute"):
            found[self.tree.text(attribute.children[0])] = self.hcl.child(attribute, "expression")
        return found

    def nested(self, body: Any, names: tuple[str, ...]) -> Iterator[Any]:
        """The bodies of blocks named one of `names`, at any depth."""
        for block in self.hcl.named(body, "block"):
            kind, _, inner = self.block(block)
            if inner is None:
                continue
            if kind in names:
                yield inner
            yield from self.nested(inner, names)

    def nested_attributes(self, body: Any, names: tuple[str, ...]) -> Iterator[Any]:
        """The values of attributes named one of `names` in `body` or its blocks, at any depth."""
        for name, expression in self.attributes(body).items():
            if name in names:
                yield expression
        for block in self.hcl.named(body, "block"):
            inner = self.hcl.child(block, "body")
            if inner is not None:
                yield from self.nested_attributes(inner, names)

    # -- what is read

    def occurrences(self, uses: dict[str, tuple[str, str]]) -> Iterator[Occurrence]:
        for reference, (role, user) in uses.items():
            root, _, name = reference.partition(".")
            table = self.variables if root == "var" else self.locals
            if name in table:
                yield from self.value(table[name], "terraform-" + root, role, f"used by {user}")
        for block in self.blocks:
            kind, labels, body = self.block(block)
            if body is None or not labels:
                continue
            if kind == "resource":
                yield from self.resource(labels[0], body)
            elif kind == "module":
                yield from self.module(body)

    def resource(self, kind: str, body: Any) -> Iterator[Occurrence]:
        attributes = self.attributes(body)
        if kind in ("aws_ecs_task_definition", "aws_batch_job_definition"):
            field = (
                "container_definitions"
                if kind == "aws_ecs_task_definition"
                else "container_properties"
            )
            if field in attributes:
                yield from self.keys(attributes[field], kind, set())
        elif kind.startswith("kubernetes_"):
            for inner in self.nested(body, ("container", "init_container")):
                image = self.attributes(inner).get("image")
                if image is not None:
                    yield from self.value(image, kind)
            # `container = [{ image = "..." }]`: the attribute syntax of the same blocks
            for container in self.nested_attributes(body, ("container", "init_container")):
                yield from self.keys(container, kind, set())
        elif kind == "helm_release":
            yield from self.helm(body, attributes)
        elif kind in ("docker_image", "docker_registry_image") and "name" in attributes:
            yield from self.value(attributes["name"], kind)
        elif kind == "docker_container" and "image" in attributes:
            yield from self.value(attributes["image"], kind)
        elif kind == "aws_lambda_function" and "image_uri" in attributes:
            yield from self.value(attributes["image_uri"], kind)
        elif kind == "aws_apprunner_service":
            for inner in self.nested(body, ("image_repository",)):
                identifier = self.attributes(inner).get("image_identifier")
                if identifier is not None:
                    yield from self.value(identifier, kind)

    def helm(self, body: Any, attributes: dict[str, Any]) -> Iterator[Occurrence]:
        for block in self.hcl.named(body, "block"):
            kind, _, inner = self.block(block)
            if kind != "set" or inner is None:
                continue
            fields = self.attributes(inner)
            name, value = fields.get("name"), fields.get("value")
            key = self.literal(name) if name is not None else None
            if key is None or value is None:
                continue
            if key == "image" or key.endswith(".image"):
                yield from self.value(value, "helm_release")
            elif key.endswith("image.repository"):
                yield from self.value(value, "helm_release", role="name")
        if "values" in attributes:
            yield from self.keys(attributes["values"], "helm_release", set(), yaml=True)

    def module(self, body: Any) -> Iterator[Occurrence]:
        attributes = self.attributes(body)
        source = attributes.get("source")
        where = self.literal(source) if source is not None else None
        if where is None or not where.startswith(("./", "../")):
            return
        # An argument named like an image counts where the module uses it as one: `os_image`
        # may name a machine image, and `ubuntu` is a Docker Official Image too.
        used = self.module_uses(where) if self.module_uses is not None else None
        for name, expression in attributes.items():
            if re.match(_MODULE_ARGUMENT, name) and (used is None or name in used):
                yield from self.value(expression, "module")

    def keys(
        self, expression: Any, kind: str, visited: set[str], yaml: bool = False, image: bool = False
    ) -> Iterator[Occurrence]:
        """The image values anywhere in an expression that builds JSON or YAML: `image` keys of
        objects (and `repository` under an `image` object, in Helm values), of heredocs, and of
        the locals and variables it names."""
        for node in expression.children:
            if node.type == "variable_expr":
                target = self.reference(expression)
                if target is not None and target[0] not in visited:
                    yield from self.keys(target[1], kind, visited | {target[0]}, yaml, image)
                return
            if node.type == "template_expr":
                heredoc = self.hcl.child(node, "heredoc_template")
                if heredoc is not None:
                    yield from self.heredoc(heredoc, kind, yaml)
                return
            yield from self.walk(node, kind, visited, yaml, image)

    def walk(
        self, node: Any, kind: str, visited: set[str], yaml: bool, image: bool
    ) -> Iterator[Occurrence]:
        if node.type == "expression":
            yield from self.keys(node, kind, visited, yaml, image)
            return
        if node.type == "object_elem":
            key = self.key(node.children[0])
            value = node.children[-1]
            if key == "image":
                if self.is_object(value):
                    yield from self.keys(value, kind, visited, yaml, image=True)
                else:
                    yield from self.value(value, kind)
                return
            if yaml and image and key == "repository":
                yield from self.value(value, kind, role="name")
                return
            yield from self.keys(value, kind, visited, yaml)
            return
        for child in node.children:
            yield from self.walk(child, kind, visited, yaml, image)

    def is_object(self, expression: Any) -> bool:
        first = expression.children[0] if expression.children else None
        return (
            first is not None
            and first.type == "collection_value"
            and first.children[0].type == "object"
        )

    def key(self, expression: Any) -> str | None:
        text = str(self.tree.text(expression)).strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            return text[1:-1]
        return text

    def heredoc(self, node: Any, kind: str, yaml: bool) -> Iterator[Occurrence]:
        identifiers = self.hcl.named(node, "heredoc_identifier")
        if len(identifiers) < 2:
            return
        _, end = self.tree.span(identifiers[0])
        close, _ = self.tree.span(identifiers[-1])
        body = self.tree.source[end:close]
        if yaml:
            for match in re.finditer(_YAML_IMAGE, body):
                role = "ref" if match[1] == "image" else "name"
                yield _string(match[3], end + match.start(3), kind, role, None)
        else:
            for match in re.finditer(_JSON_IMAGE, body):
                named = re.fullmatch(r"\$\{\s*(var|local)\.(\w+)\s*\}", match[1])
                table = self.variables if named and named[1] == "var" else self.locals
                reference = f"{named[1]}.{named[2]}" if named else ""
                if named and named[2] in table:
                    yield from self.value(table[named[2]], kind, "ref", f"from {reference}")
                    continue
                if named:
                    self.uses.setdefault(reference, "ref")
                if reference not in self.elsewhere:  # else reported in the file that writes it
                    yield _string(match[1], end + match.start(1), kind, "ref", None)

    def reference(self, expression: Any) -> tuple[str, Any] | None:
        """What `var.NAME` or `local.NAME` stands for in this file, as (`var.NAME`, expression)."""
        children = expression.children
        if len(children) != 2 or children[1].type != "get_attr":
            return None
        root, name = self.tree.text(children[0]), str(self.tree.text(children[1]))[1:].strip()
        table = self.variables if root == "var" else self.locals if root == "local" else None
        if table is None or name not in table:
            return None
        return f"{root}.{name}", table[name]

    def named(self, expression: Any) -> str | None:
        """`var.NAME` or `local.NAME` when that is the whole expression."""
        children = expression.children
        if len(children) != 2 or children[1].type != "get_attr":
            return None
        root, name = self.tree.text(children[0]), str(self.tree.text(children[1]))[1:].strip()
        return f"{root}.{name}" if root in ("var", "local") else None

    def literal(self, expression: Any) -> str | None:
        first = expression.children[0] if expression.children else None
        if first is None or first.type != "literal_value":
            return None
        string = self.hcl.child(first, "string_lit")
        return None if string is None else str(self.tree.text(string))[1:-1]

    def value(
        self, expression: Any, kind: str, role: str = "ref", note: str | None = None, depth: int = 0
    ) -> Iterator[Occurrence]:
        """The occurrence of one image value: a string, or a variable or local followed to one."""
        children = expression.children
        first = children[0] if children else None
        at, end = self.tree.span(expression)
        if first is not None and first.type == "literal_value":
            string = self.hcl.child(first, "string_lit")
            if string is not None:
                yield self.quoted(string, kind, role, note)
            return
        if first is not None and first.type == "template_expr":
            quoted = self.hcl.child(first, "quoted_template")
            inner = [c for c in quoted.children if c.type.startswith("template_")] if quoted else []
            if len(inner) == 1 and inner[0].type == "template_interpolation" and depth < 8:
                # "${local.image}" is the local itself
                wrapped = self.hcl.child(inner[0], "expression")
                if wrapped is not None and self.named(wrapped) is not None:
                    yield from self.value(wrapped, kind, role, note, depth + 1)
                    return
            if len(inner) >= 2 and inner[0].type == "template_interpolation" and role == "ref":
                # "${var.registry}:${var.tag}": the variable is the name, the rest its tag
                wrapped = self.hcl.child(inner[0], "expression")
                rest = str(self.tree.text(inner[1]))
                if wrapped is not None and rest.startswith(":") and self.named(wrapped):
                    yield from self.value(wrapped, kind, "name", note, depth + 1)
                    return
            if quoted is not None:
                yield self.quoted(quoted, kind, role, note)
                return
        if first is not None and first.type == "variable_expr" and depth < 8:
            target = self.reference(expression)
            if target is not None:
                yield from self.value(target[1], kind, role, note or f"from {target[0]}", depth + 1)
                return
            named = self.named(expression)
            if named is not None:
                self.uses.setdefault(named, role)
                if named in self.elsewhere:
                    return  # reported, and rewritten, in the file that writes it
        text = " ".join(str(self.tree.text(expression)).split())
        reason = f"a Terraform expression ({text[:60]}) set outside this file or computed at apply"
        yield Occurrence(kind, text, (), at, end, reason, note=note)

    def quoted(self, node: Any, kind: str, role: str, note: str | None) -> Occurrence:
        start, _ = self.tree.span(node)
        source = self.tree.data[node.start_byte + 1 : node.end_byte - 1].decode("utf-8", "replace")
        return _string(source, start + 1, kind, role, note)


def _string(raw: str, start: int, kind: str, role: str, note: str | None) -> Occurrence:
    """An image string as written (between its quotes) at `start`."""
    end = start + len(raw)
    if not raw.strip():
        return Occurrence(kind, raw, (), start, end, "empty reference", note=note)
    if "\\" in raw or "%{" in raw or "$${" in raw:
        return Occurrence(kind, raw, (), start, end, "escapes or template directives", note=note)
    interpolation = raw.find("${")
    if interpolation < 0:
        return Occurrence(kind, raw, (Part(role, start, end),), start, end, note=note)
    head = raw[:interpolation]
    colon = head.rfind(":")
    if role == "ref" and colon > 0 and "/" not in head[colon:]:
        # Only the tag is interpolated: the name before it is rewritten, the tag stays.
        return Occurrence(kind, raw, (Part("name", start, start + colon),), start, end, note=note)
    reason = "a Terraform interpolation in the image name"
    return Occurrence(kind, raw, (), start, end, reason, note=note)
