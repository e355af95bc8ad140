"""AWS CDK: the string literal passed to `ContainerImage.fromRegistry(...)` (Python
`from_registry`, C# `FromRegistry`) and `DockerImage.fromRegistry(...)`, in TypeScript,
JavaScript, Python, Java and C#.

Sources are tokenized, not searched: a call in a comment or inside another string is not one,
and a template literal is told from a string. A template literal that interpolates only the tag
(`` `nginx:${tag}` ``) keeps its name rewritable; any other interpolation, or an argument that is
not a literal, is PTC004. Only files that mention `fromRegistry`/`from_registry` are tokenized.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.occurrence import Occurrence, Part

NAME = "cdk"
FILES = r"(?<!\.d)\.(?:ts|js|mjs|cjs|py|java|cs)$"
_CALL = r"(?:ContainerImage|DockerImage)\s*\.\s*(?:from_registry|[fF]romRegistry)\s*\("
_WORDS = ("fromRegistry", "from_registry", "FromRegistry")


def by_name(path: Path) -> bool:
    return False  # a source file is CDK only by its content


# Generated or vendored sources: type declarations, minified bundles, a synthesized cloud assembly.
_NOT_SOURCES = frozenset({"node_modules", "cdk.out", "bower_components"})


def claims(path: Path, text: str) -> bool:
    name = path.name
    if name.endswith((".d.ts", ".min.js")) or not re.search(FILES, name):
        return False
    if _NOT_SOURCES.intersection(path.parts):
        return False
    return any(word in text for word in _WORDS)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not any(word in text for word in _WORDS):
        return
    python = context.path is not None and context.path.suffix == ".py"
    if context.path is None:
        python = "from_registry" in text and "fromRegistry" not in text
    seen: set[tuple[int, int]] = set()
    for found in _calls(text, python):
        if (found.at, found.end) not in seen:  # two calls of one constant: one reference
            seen.add((found.at, found.end))
            yield found


def _calls(text: str, python: bool) -> Iterator[Occurrence]:
    tokens = _python_tokens(text) if python else list(_c_tokens(text))
    for i, (kind, start, end) in enumerate(tokens):
        if kind != "code":
            continue
        for call in re.finditer(_CALL, text[start:end]):
            at = start + call.end()
            rest = text[at:end]
            argument = _next(text, tokens, i)
            if rest.strip() or argument is None:
                yield _named(text, at, rest, tokens)
            else:
                following = _next(text, tokens, tokens.index(argument))
                yield _literal(text, argument, following)


def _next(text: str, tokens: list[tuple[str, int, int]], i: int) -> tuple[str, int, int] | None:
    """The token after `tokens[i]`, past code that is only blanks (where a comment was)."""
    for token in tokens[i + 1 :]:
        if token[0] != "code" or text[token[1] : token[2]].strip():
            return token
    return None


def _named(text: str, at: int, rest: str, tokens: list[tuple[str, int, int]]) -> Occurrence:
    """The argument is not a literal: a constant of this file assigned one literal is followed
    to it (`const NGINX = 'nginx:1'`), anything else is PTC004."""
    match = re.match(r"\s*([A-Za-z_$][\w$]*)\s*[,)]", rest)
    if match is not None:
        assigned = rf"(?:^|[^\w$.])({match[1]})\s*(?::\s*[\w.]+\s*)?=\s*$"
        found = [
            tokens[j + 1]
            for j, (kind, start, end) in enumerate(tokens[:-1])
            if kind == "code"
            and tokens[j + 1][0] == "string"
            and re.search(assigned, text[start:end])
        ]
        if len(found) == 1:
            j = tokens.index(found[0])
            following = tokens[j + 1] if j + 1 < len(tokens) else None
            found_literal = _literal(text, found[0], following, constant=True)
            return replace(found_literal, note=f"from {match[1]}")
    end = text.find(")", at)
    end = len(text) if end < 0 else end
    written = " ".join(text[at:end].split())
    return Occurrence("cdk", written, (), at, end, "the image is an expression, not a literal")


def _literal(
    text: str,
    token: tuple[str, int, int],
    following: tuple[str, int, int] | None,
    constant: bool = False,
) -> Occurrence:
    """The argument that starts with `token`; `following` tells whether the literal is all of it."""
    kind, start, _ = token
    after = ""
    if following is not None and following[0] == "code":
        after = text[following[1] : following[2]].lstrip()
    literal = kind in ("string", "template")
    if literal and after.startswith((")", ",")):
        return _value(text, token)
    line = "" if following is None else text[following[1] : following[2]].lstrip(" \t")
    if literal and constant and (following is None or line.startswith(("\n", "\r", ";"))):
        return _value(text, token)
    if literal and after.startswith("+"):
        # `'nginx:' + tag`: the literal is the name, the tag is computed
        found = _value(text, token)
        if found.parts and found.written.endswith(":") and len(found.written) > 1:
            name = Part("name", found.at, found.end - 1)
            return Occurrence("cdk", found.written, (name,), found.at, found.end)
    close = text.find(")", start)
    close = len(text) if close < 0 else close
    written = " ".join(text[start:close].split())
    return Occurrence("cdk", written, (), start, close, "the image is an expression, not a literal")


def _value(text: str, token: tuple[str, int, int]) -> Occurrence:
    kind, start, end = token
    if kind == "string":
        quote = 3 if text[start : start + 3] in ('"""', "'''") else 1
        prefix = re.match(r"[A-Za-z]*", text[start:end])
        head = len(prefix[0]) if prefix else 0
        inner_start, inner_end = start + head + quote, end - quote
        raw = text[inner_start:inner_end]
        if head and "f" in text[start : start + head].lower():
            return _template(raw, inner_start, "{")
        if "\\" in raw or head:
            return Occurrence("cdk", raw, (), inner_start, inner_end, "escapes or a string prefix")
        if not raw.strip():
            return Occurrence("cdk", raw, (), inner_start, inner_end, "empty reference")
        return Occurrence(
            "cdk", raw, (Part("ref", inner_start, inner_end),), inner_start, inner_end
        )
    if kind == "template":
        return _template(text[start + 1 : end - 1], start + 1, "${")
    return Occurrence("cdk", text[start:end].strip(), (), start, end, "not a string literal")


def _template(raw: str, start: int, opener: str) -> Occurrence:
    end = start + len(raw)
    if "\\" in raw or (opener == "{" and ("{{" in raw or "}}" in raw)):
        return Occurrence("cdk", raw, (), start, end, "escapes in the image")
    interpolation = raw.find(opener)
    if interpolation < 0:
        return Occurrence("cdk", raw, (Part("ref", start, end),), start, end)
    head = raw[:interpolation]
    colon = head.rfind(":")
    if colon > 0 and "/" not in head[colon:]:
        # an f-string's `{version}` reads as `${version}`, the form a tag variable has elsewhere
        written = raw if opener == "${" else head + raw[interpolation:].replace("{", "${")
        return Occurrence("cdk", written, (Part("name", start, start + colon),), start, end)
    return Occurrence("cdk", raw, (), start, end, "an interpolation in the image name")


def _python_tokens(text: str) -> list[tuple[str, int, int]]:
    """Python's own tokenizer: (code | string, start, end), comments dropped. An f-string is one
    string token on every Python (3.12 splits it into parts)."""
    import io
    import tokenize

    lines = [0]
    for line in text.split("\n"):
        lines.append(lines[-1] + len(line) + 1)
    fstring_start = getattr(tokenize, "FSTRING_START", None)
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    out: list[tuple[str, int, int]] = []
    depth, opened = 0, 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.ENDMARKER:
                break
            start = lines[token.start[0] - 1] + token.start[1]
            end = lines[token.end[0] - 1] + token.end[1]
            if token.type == fstring_start:
                depth, opened = depth + 1, start if depth == 0 else opened
                continue
            if depth:
                if token.type == fstring_end:
                    depth -= 1
                    if depth == 0:
                        out.append(("string", opened, end))
                continue
            if token.type in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                continue
            if token.type == tokenize.COMMENT:
                out.append(("comment", start, end))
                continue
            _append(out, "string" if token.type == tokenize.STRING else "code", start, end)
    except (tokenize.TokenError, SyntaxError):
        pass  # an unfinished file: what was read so far
    return [t for t in out if t[0] != "comment"]


def _append(out: list[tuple[str, int, int]], kind: str, start: int, end: int) -> None:
    if kind == "code" and out and out[-1][0] == "code":
        out[-1] = ("code", out[-1][1], end)
    else:
        out.append((kind, start, end))


def _c_tokens(text: str) -> Iterator[tuple[str, int, int]]:
    """Strings, template literals, comments and regex literals of the C family (TypeScript,
    JavaScript, Java, C#); everything else is code. Comments are dropped. Template literals
    nest: `${...}` holds code, which may hold templates again."""
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    code = 0
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            _flush(out, code, i)
            i = text.find("\n", i)
            i = n if i < 0 else i
            code = i
        elif c == "/" and text.startswith("/*", i):
            _flush(out, code, i)
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            code = i
        elif c in "\"'":
            _flush(out, code, i)
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            start, i = i, min(j + 1, n)
            out.append(("string", start, i))
            code = i
        elif c == "`":
            _flush(out, code, i)
            start, i = i, _template_end(text, i)
            out.append(("template", start, i))
            code = i
        elif c == "/" and _regex_may_start(text, i):
            _flush(out, code, i)
            j = i + 1
            klass = False
            while j < n and text[j] != "\n":
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j] == "[":
                    klass = True
                elif text[j] == "]":
                    klass = False
                elif text[j] == "/" and not klass:
                    break
                j += 1
            i = j + 1
            code = i
        else:
            i += 1
    _flush(out, code, n)
    yield from out


def _flush(out: list[tuple[str, int, int]], start: int, end: int) -> None:
    if end > start:
        out.append(("code", start, end))


def _template_end(text: str, start: int) -> int:
    """The end of the template literal opening at `start` (past its closing backtick)."""
    i, n, depth = start + 1, len(text), 0
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "`" and depth == 0:
            return i + 1
        if text.startswith("${", i) and depth >= 0:
            depth += 1
            i += 2
            continue
        if c == "}" and depth > 0:
            depth -= 1
        elif c == "`" and depth > 0:
            i = _template_end(text, i)
            continue
        elif c in "\"'" and depth > 0:
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        i += 1
    return n


def _regex_may_start(text: str, i: int) -> bool:
    """A `/` starts a regex literal after an operator or keyword, not after a value."""
    j = i - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    if j < 0:
        return True
    before = text[j]
    if before in "(,=:[!&|?{};+-*%<>~^":
        return True
    word = re.search(r"[A-Za-z_$]+$", text[max(0, j - 10) : j + 1])
    return word is not None and word[0] in ("return", "typeof", "case", "do", "else", "in", "of")
