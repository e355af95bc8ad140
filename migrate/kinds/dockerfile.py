"""Dockerfiles: FROM, COPY --from, RUN --mount=from=, `# syntax=`, and ARG defaults feeding FROM
(whole, or as a chain: `FROM ${REG}/base:${VER}`, read by `_arg_chains.py`).

A small tokenizer of our own rather than dockerfile-parse: that library reports neither columns
nor heredocs (it reads a `FROM` inside a heredoc body as an instruction), and both matter here.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from migrate import reference
from migrate.context import STANDALONE, FileContext
from migrate.kinds import dockerfile_args as chains
from migrate.occurrence import Occurrence, Part

NAME = "dockerfile"
# Dockerfile, Dockerfile.prod, app.Dockerfile, Containerfile; not the documents beside them
# (Dockerfile.md) nor other files that merely start with the word.
FILES = (
    r"(?i:(?:^|/)(?:(?:docker|container)file(?:\.(?!(?:md|markdown|rst|txt|adoc|html|json|ya?ml"
    r"|sh|py|go|j2|jinja2?|tpl|tmpl|template|erb|orig|bak|swp|lock|ignore)$)[^/]*)?"
    r"|[^/]+\.(?:docker|container)file))$"
)
_FILES = re.compile(FILES)

_DIRECTIVE = re.compile(r"#[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*(\S*)[ \t]*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
# Words are split on ASCII whitespace only, as BuildKit does (`[\t\v\f\r ]`): a no-break
# space or an em space is part of the word (`nginx\u00a0:1.27` is one argument, not an image).
_TOKEN = re.compile(r"[^ \t\n\v\f\r]+")
_VARIABLE_ONLY = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))$"
)
_ARG = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:=(\"[^\"]*\"|'[^']*'|[^ \t\n\v\f\r]*))?")
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})


def by_name(path: Path) -> bool:
    return _FILES.search(path.name) is not None


def claims(path: Path, text: str) -> bool:
    return by_name(path)


@dataclass
class _Logical:
    """An instruction joined across continuation lines, with a map back to original offsets."""

    text: str
    starts: list[int]  # logical offset where each physical segment begins
    origins: list[int]  # original offset of that segment's first character

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        """Original span of logical [start, end), or None when it crosses a continuation."""
        index = bisect.bisect_right(self.starts, start) - 1
        if index + 1 < len(self.starts) and end > self.starts[index + 1]:
            return None
        origin = self.origins[index] + start - self.starts[index]
        return origin, origin + end - start


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    # Only "\n" ends a line for the builder (bufio.ScanLines); str.splitlines would also break
    # on \x0b, \x1c, U+2028 and a lone "\r" and read what follows them as an instruction.
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    escape, first, directives = _directives(lines)
    yield from directives
    global_args: dict[str, tuple[str, int, int]] = {}
    sites = list(_sites(lines, first, escape, global_args))
    # An ARG rewritten for an image must hold nothing else: every use of it is in an image.
    in_images = Counter(name for site in sites for name in chains.uses(site.value))
    args = chains.Args(global_args, in_images, Counter(chains.uses(text)))
    reported: set[int] = set()
    for site in sites:
        yield from _reference(site, args, reported)


@dataclass(frozen=True)
class _Site:
    """Where an instruction names an image: FROM, COPY --from, RUN --mount=from."""

    logical: _Logical
    start: int
    end: int
    kind: str
    stages: frozenset[str]  # stage names declared before it
    builtin_stage: bool  # a number names a stage too (COPY --from=0)

    @property
    def value(self) -> str:
        return self.logical.text[self.start : self.end]


def _sites(
    lines: list[str], first: int, escape: str, global_args: dict[str, tuple[str, int, int]]
) -> Iterator[_Site]:
    stages: set[str] = set()
    seen_from = False
    for logical in _instructions(lines, first, escape):
        words = list(_TOKEN.finditer(logical.text))
        if not words:
            continue
        keyword = words[0].group().upper()
        if keyword == "ARG" and not seen_from:
            global_args.update(_args(logical))
        elif keyword == "FROM":
            seen_from = True
            args = [w for w in words[1:] if not w.group().startswith("--")]
            if args:
                image = args[0]
                yield _Site(logical, image.start(), image.end(), "from", frozenset(stages), False)
                if len(args) >= 3 and args[1].group().lower() == "as":
                    stages.add(args[2].group().lower())
        elif keyword in ("COPY", "RUN"):
            for flag in words[1:]:
                value = flag.group()
                if not value.startswith("--"):
                    break
                if keyword == "COPY" and value.lower().startswith("--from="):
                    start = flag.start() + len("--from=")
                    yield _Site(logical, start, flag.end(), "copy-from", frozenset(stages), True)
                elif keyword == "RUN" and value.lower().startswith("--mount="):
                    yield from _mount(logical, flag.start() + len("--mount="), flag.end(), stages)


def _directives(lines: list[str]) -> tuple[str, int, list[Occurrence]]:
    """Parser directives: only at the very top, before any comment, blank line or instruction."""
    escape, offset = "\\", 0
    found: list[Occurrence] = []
    for number, line in enumerate(lines):
        match = _DIRECTIVE.match(line.rstrip("\r\n"))
        if not match:
            return escape, number, found
        key, value = match[1].lower(), match[2]
        if key == "escape" and value in ("\\", "`"):
            escape = value
        elif key == "syntax" and value:
            start = offset + match.start(2)
            found.append(
                Occurrence(
                    "syntax",
                    value,
                    (Part("ref", start, start + len(value)),),
                    start,
                    start + len(value),
                )
            )
        offset += len(line)
    return escape, len(lines), found


def _instructions(lines: list[str], first: int, escape: str) -> Iterator[_Logical]:
    offset = sum(len(line) for line in lines[:first])
    index = first
    while index < len(lines):
        line = lines[index]
        body = line.rstrip("\r\n")
        stripped = body.strip()
        if not stripped or stripped.startswith("#"):
            offset += len(line)
            index += 1
            continue
        parts, starts, origins, length = [], [], [], 0
        while True:
            content = body.rstrip(" \t")
            continued = content.endswith(escape)
            piece = content[:-1] if continued else body
            starts.append(length)
            origins.append(offset)
            parts.append(piece)
            length += len(piece)
            offset += len(line)
            index += 1
            if not continued:
                break
            # Comment and empty lines inside a continuation are dropped by the builder.
            while index < len(lines):
                following = lines[index].rstrip("\r\n").strip()
                if following and not following.startswith("#"):
                    break
                offset += len(lines[index])
                index += 1
            if index >= len(lines):
                break
            line = lines[index]
            body = line.rstrip("\r\n")
        logical = _Logical("".join(parts), starts, origins)
        yield logical
        head = _TOKEN.search(logical.text)
        keyword = head.group().upper() if head else ""
        if keyword in _HEREDOC_INSTRUCTIONS:
            for match in _HEREDOC.finditer(logical.text):
                strip_tabs, word = match[1] == "-", match[3]
                while index < len(lines):
                    body = lines[index].rstrip("\r\n")
                    offset += len(lines[index])
                    index += 1
                    if (body.lstrip("\t") if strip_tabs else body) == word:
                        break


def _args(logical: _Logical) -> Iterator[tuple[str, tuple[str, int, int]]]:
    head = _TOKEN.search(logical.text)
    body = _TOKEN.search(logical.text, head.end()) if head else None
    if head is None or body is None:
        return
    base = body.start()
    for match in _ARG.finditer(logical.text[base:]):
        if match[2] is None:
            continue
        value, start = match[2], base + match.start(2)
        if value[:1] in ("'", '"'):
            value, start = value[1:-1], start + 1
        span = logical.span(start, start + len(value))
        if span:
            yield match[1], (value, *span)


def _reference(site: _Site, args: chains.Args, reported: set[int]) -> Iterator[Occurrence]:
    logical, start, end, kind = site.logical, site.start, site.end, site.kind
    value = site.value
    lowered = value.lower()
    if lowered == "scratch" or lowered in site.stages or (site.builtin_stage and value.isdigit()):
        return
    span = logical.span(start, end)
    if span is None:
        yield Occurrence(kind, value, (), *_first(logical, start, end), "split across lines")
        return
    variable = _VARIABLE_ONLY.match(value)
    if variable:
        name = variable["braced"] or variable["bare"]
        if name not in args.defaults or not args.defaults[name][0]:
            yield Occurrence(kind, value, (), *span, f"ARG {name} has no default")
            return
        default, arg_start, arg_end = args.defaults[name]
        if default.lower() in site.stages or default.lower() == "scratch" or arg_start in reported:
            return
        reported.add(arg_start)
        if chains.USE.search(default) and reference.split_variable_tag(default) is None:
            yield chains.resolved(
                "arg", default, args, (arg_start, arg_end), f"ARG {name}={default}"
            )
            return
        yield Occurrence("arg", default, (Part("ref", arg_start, arg_end),), arg_start, arg_end)
        return
    if "$" in value and reference.split_variable_tag(value) is None and chains.USE.search(value):
        yield chains.chain(kind, value, span, args)
        return
    yield Occurrence(kind, value, (Part("ref", *span),), *span)


def _first(logical: _Logical, start: int, end: int) -> tuple[int, int]:
    head = logical.span(start, start + 1) or (logical.origins[0], logical.origins[0])
    return head[0], head[0] + 1


def _mount(logical: _Logical, start: int, end: int, stages: set[str]) -> Iterator[_Site]:
    at = start
    for option in logical.text[start:end].split(","):
        if option.lower().startswith("from="):
            yield _Site(logical, at + 5, at + len(option), "mount-from", frozenset(stages), True)
        at += len(option) + 1
