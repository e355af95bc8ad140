"""What a chart's templates say about its values, read as text (templates are Go, not YAML):
which values paths feed a container's `image:`, which are used elsewhere only, and whether a
chart-wide registry wins over a component's own.

Evidence is three-valued: True (a container image line, or a helper it includes, uses the path
or a part of it), False (the templates use the path, never for a container image), None (no
word either way: not used, used through `with`/`range`/`toYaml`, or no chart in view)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

_VALUES = re.compile(r"\$?\.Values((?:\.[A-Za-z_][\w-]*)+)")
_DEFINE = re.compile(r"\{\{-?\s*define\s+\"([^\"]+)\"")
_INCLUDE = re.compile(r"(?:include|template)\s+\"([^\"]+)\"")
_IMAGE_LINE = re.compile(r"^(?P<indent>\s*)(?P<item>-\s+)?image:(?P<value>.*)$")
_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<item>-\s+)?[\w.\"'-]+:")
_INDIRECT = re.compile(r"\b(?:with|range|toYaml|tpl)\b")
_MENTIONS = re.compile("image", re.IGNORECASE)
_NAMES = re.compile(r"\$?\.Values(?:\.[\w-]+)+|\"[^\"]*\"\s*\.|(?:include|template)\s+\"[^\"]+\"")


def _may_matter(line: str) -> bool:
    """Can the line be an image line, or say `with`/`range`/`toYaml`/`tpl` or `image`? Every
    pattern below needs one of these words: most template lines have none and skip the
    regexes (a chart repository's templates: ~170k lines, ~700k searches before)."""
    # "mage": `image` in any case (re's IGNORECASE also takes U+0130 for the `i`).
    return (
        "mage" in line.lower() or "with" in line or "range" in line or "toYaml" in line
        or "tpl" in line
    )  # fmt: skip


def _bare(line: str) -> str:
    """The line without values paths and helper names, which say `image` of themselves."""
    return _NAMES.sub(" ", line)


@dataclass
class Evidence:
    used: set[str] = field(default_factory=set)  # every `.Values.x.y` the templates name
    images: set[str] = field(default_factory=set)  # those on container image lines
    indirect: set[str] = field(default_factory=set)  # `with`/`range`/`toYaml` subjects
    tails: set[str] = field(default_factory=set)  # put after another value and a '/'
    heads: set[str] = field(default_factory=set)  # put before a '/' and another value
    texts: str = ""  # every template, joined: for the precedence patterns

    def of(self, path: str) -> bool | None:
        if _related(path, self.images):
            return True
        if _related(path, self.indirect) or not _related(path, self.used):
            return None
        return False

    def global_wins(self, key: str) -> bool | None:
        """Does the chart-wide `key` (e.g. 'global.imageRegistry') win over a component's own
        value? From `coalesce`/`default`/`or` in the templates; None when they do not say."""
        g = rf"\$?\.Values\.{re.escape(key)}\b"
        if re.search(rf"(?:coalesce|or)\s+{g}|default\s+\S+\s+{g}|{g}\s*\|\s*default", self.texts):
            return True
        if re.search(rf"coalesce\s+\S+\s+{g}|default\s+{g}|\|\s*default\s+{g}", self.texts):
            return False
        return None


def _related(path: str, paths: set[str]) -> bool:
    """`path` is one of `paths`, inside one of them, or holds one of them."""
    if path in paths:
        return True
    parts = path.split(".")
    for i in range(1, len(parts)):
        if ".".join(parts[:i]) in paths:
            return True
    prefix = path + "."
    return any(p.startswith(prefix) for p in paths)


def read(templates: Iterable[tuple[str, str]]) -> Evidence:
    """Evidence from (name, text) of every file under a chart's templates/."""
    found = Evidence()
    helpers: dict[str, str] = {}
    image_lines: list[str] = []
    texts = []
    for name, text in templates:
        texts.append(text)
        for match in _VALUES.finditer(text):
            found.used.add(match[1][1:])
        _defines(text, helpers)
        lines = text.split("\n")
        for number, line in enumerate(lines):
            if not _may_matter(line):
                continue
            image = _IMAGE_LINE.match(line)
            if image and "{{" in image["value"] and in_container(lines, number, image):
                image_lines.append(line)
            elif image is None and (_INDIRECT.search(line) or _MENTIONS.search(_bare(line))):
                # `toYaml .Values.sidecars`, `--executor-image={{ ... }}`: may be an image
                found.indirect.update(m[1][1:] for m in _VALUES.finditer(line))
    found.texts = "\n".join(texts)
    pending = [line for line in image_lines]
    seen: set[str] = set()
    while pending:
        text = pending.pop()
        found.images.update(m[1][1:] for m in _VALUES.finditer(text))
        found.tails.update(_tails(text))
        found.heads.update(_heads(text))
        for helper in _INCLUDE.findall(text):
            if helper not in seen and helper in helpers:
                seen.add(helper)
                pending.append(helpers[helper])
    return found


_AFTER_SLASH = re.compile(
    r"(?:\{\{-?\s*\$?\.Values((?:\.[\w-]+)+)\s*-?)?"  # the value before the '/', if one
    r"\}\}/\{\{-?\s*(?:default\s+\S+\s+)?\$?\.Values((?:\.[\w-]+)+)"
)
_PRINTF = re.compile(r"printf\s+\"([^\"]*)\"((?:\s+(?:\([^()]*\)|[^\s()}]+))+)")
_BLOCK = re.compile(r"\{\{-?\s*(if|with|range|define|block|else|end)\b([^}]*)")
# What a chart puts before a name that the values scanner knows as a registry: the map's own
# `registry`/`hub` (a sibling of the name) or a chart-wide one.
_PREFIX_KEYS = ("registry", "hub")
_CHART_WIDE = ("global.imageRegistry", "global.image.registry", "global.registry", "global.hub")


def _tails(text: str) -> Iterator[str]:
    """Values a template writes right after a '/': `{{ a }}/{{ .Values.b }}`,
    `printf "%s/%s" a .Values.b`. Such a value is the end of a name, never a whole one; unless
    the '/' and the registry before it are printed only `if` that registry is set: over an
    empty registry the value is printed alone."""
    for match in _AFTER_SLASH.finditer(text):
        prefixes = [match[1][1:]] if match[1] else []
        if not _guarded(text, match.start(), match[2][1:], prefixes):
            yield match[2][1:]
    for match in _PRINTF.finditer(text):
        before = re.split(r"%[sv]", match[1])  # before[i]: the format's text before argument i
        arguments = re.findall(r"\([^()]*\)|[^\s()]+", match[2])
        for index, argument in enumerate(arguments[: len(before) - 1]):
            value = _VALUES.fullmatch(argument)
            if value and before[index].endswith("/"):
                prior = [_VALUES.fullmatch(a) for a in arguments[:index]]
                prefixes = [m[1][1:] for m in prior if m]
                if not _guarded(text, match.start(), value[1][1:], prefixes):
                    yield value[1][1:]


def _heads(text: str) -> Iterator[str]:
    """Values a template writes right before a '/' and another value: a registry or a
    namespace, never a whole image."""
    for match in _AFTER_SLASH.finditer(text):
        if match[1]:
            yield match[1][1:]
    for match in _PRINTF.finditer(text):
        between = re.split(r"%[sv]", match[1])[1:]  # between[i]: the text after argument i
        arguments = re.findall(r"\([^()]*\)|[^\s()]+", match[2])
        for argument, after in zip(arguments, between):
            value = _VALUES.fullmatch(argument)
            if value and after.startswith("/"):
                yield value[1][1:]


def _guarded(text: str, at: int, tail: str, prefixes: list[str]) -> bool:
    """Every value printed before `tail` is a registry the values scanner knows, and `at` lies
    in the first branch of an `if`/`with` on one of them, so the prefix is there only when set."""
    parent = tail.rpartition(".")[0]
    known = {f"{parent}.{k}" if parent else k for k in _PREFIX_KEYS} | set(_CHART_WIDE)
    if not prefixes or not set(prefixes) <= known:
        return False
    return any(p in prefixes for p in _open_conditions(text[:at]))


def _open_conditions(text: str) -> Iterator[str]:
    """The values paths tested by the `if`/`with` blocks open at the end of `text`, in their
    first branch (not after an `else`)."""
    stack: list[list[str]] = []
    for match in _BLOCK.finditer(text):
        word = match[1]
        if word == "end":
            if stack:
                stack.pop()
        elif word == "else":
            if stack:
                stack[-1] = []  # the other branch: the registry is not known to be set
        elif word in ("if", "with"):
            stack.append([m[1][1:] for m in _VALUES.finditer(match[2])])
        else:
            stack.append([])
    for paths in stack:
        yield from paths


def _defines(text: str, helpers: dict[str, str]) -> None:
    """Each `define` block's text, up to the next one (ends nest, defines do not)."""
    starts = list(_DEFINE.finditer(text))
    for this, after in zip(starts, [*starts[1:], None]):
        helpers[this[1]] = text[this.end() : after.start() if after else len(text)]


def in_container(lines: list[str], number: int, image: re.Match[str]) -> bool:
    """A container's `image:` is a key of a list item (`- name: x` / `image:`, or `- image:`);
    a machine template's or a volume's `image:` is a key of a plain mapping."""
    if image["item"]:
        return True
    indent = len(image["indent"])
    for line in reversed(lines[max(0, number - 200) : number]):
        key = _KEY_LINE.match(line)
        if key is None:
            continue
        own = len(key["indent"]) + (len(key["item"]) if key["item"] else 0)
        if key["item"] and own == indent:
            return True  # the item this key belongs to
        if len(key["indent"]) < indent:
            return False  # the mapping holding it is not a list item
    return True  # nothing above it in view: do not guess against it
