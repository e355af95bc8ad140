"""Generated Dockerfiles: `fix` changes exactly the reference spans, and a second `fix` is a no-op."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from tests.properties._docs import REFERENCES, VARIABLE_TAGS, Doc, Slot, fix_and_check, slots

_NAMES = (
    "Dockerfile",
    "Dockerfile.prod",
    "build/app.dockerfile",
    "Containerfile",
    "x.Containerfile",
)
_STAGES = ("build", "deps", "runtime", "stage-1")
_SPACE = st.sampled_from([" ", "  ", "\t", " \t "])
_INDENT = st.sampled_from(["", "", "  ", "\t"])
_TRAILING = st.sampled_from(["", "", " ", "\t"])
# Free text in comments and shell words: non-ASCII (columns count characters, not bytes),
# quotes, `$`, backslashes that are not at a line end, and characters str.splitlines() breaks on
# but Docker does not (\x0b \x0c \x1c \x85 U+2028 U+2029, a lone \r).
_WORDS = st.text(
    st.sampled_from("abcXYZ019 _-./:=\"'$é漢😀\t\x0b\x0c\x1c\x85\u2028\u2029\r"), max_size=12
).map(lambda s: s.rstrip("\\"))
_FROM = st.sampled_from(["FROM", "from", "From"])
_AS = st.sampled_from(["AS", "as", "As"])


@st.composite
def dockerfiles(draw: st.DrawFn) -> Doc:
    newline = draw(st.sampled_from(["\n", "\r\n", "mixed"]))

    def nl() -> str:
        return draw(st.sampled_from(["\n", "\r\n"])) if newline == "mixed" else newline

    doc = Doc(bom=draw(st.booleans()), name=draw(st.sampled_from(_NAMES)))
    escape = "\\"
    # Parser directives: only at the very top; `# escape=` changes the continuation character.
    for directive in draw(st.permutations(["syntax", "escape"]))[: draw(st.integers(0, 2))]:
        lead = draw(st.sampled_from(["#", "# ", "#\t"]))
        equals = draw(st.sampled_from(["=", " = ", "= "]))
        if directive == "syntax":
            doc.add(f"{lead}syntax{equals}", draw(slots()), draw(_TRAILING), nl())
        else:
            escape = draw(st.sampled_from(["\\", "`"]))
            doc.add(f"{lead}escape{equals}{escape}", nl())
    # Global ARGs: their default is a reference only if a FROM uses it, so the slot is decided
    # after the stages are drawn.
    args = [f"BASE{index}" for index in range(draw(st.integers(0, 2)))]
    for name in args:
        quote = draw(st.sampled_from(["", '"', "'"]))
        doc.add(f"ARG {name}={quote}")
        doc.defer(name, draw(slots()))
        doc.add(f"{quote}{draw(_TRAILING)}{nl()}")
    stages: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            doc.add(nl() if draw(st.booleans()) else f"# {draw(_WORDS)}{nl()}")
        doc.add(draw(_INDENT), draw(_FROM), draw(_SPACE))
        if draw(st.booleans()):
            doc.add(f"--platform={draw(st.sampled_from(['linux/amd64', '$BUILDPLATFORM']))}")
            if draw(st.booleans()):  # continuation between the flag and the image
                doc.add(f" {escape}{nl()}{draw(_INDENT)}    ")
            else:
                doc.add(draw(_SPACE))
        source = draw(st.sampled_from(["ref", "ref", "variable-tag", "arg", "scratch", "stage"]))
        if source == "arg" and args:
            name = draw(st.sampled_from(args))
            doc.use(name)
            doc.add(draw(st.sampled_from([f"${name}", f"${{{name}}}"])))
        elif source == "scratch":
            doc.add("scratch")
        elif source == "stage" and stages:
            doc.add(draw(st.sampled_from(stages)))
        elif source == "variable-tag":
            doc.add(draw(slots(VARIABLE_TAGS)))
        else:
            doc.add(draw(slots()))
        free = [s for s in _STAGES if s not in stages]
        named = draw(st.booleans())
        if free and named:
            stage = draw(st.sampled_from(free))
            doc.add(draw(_SPACE), draw(_AS), draw(_SPACE), stage)
            stages.append(stage)
        doc.add(draw(_TRAILING), nl())
        for _ in range(draw(st.integers(0, 4))):
            _instruction(draw, doc, stages, escape, nl)
    return doc.finish(final_newline=draw(st.booleans()))


def _instruction(
    draw: st.DrawFn, doc: Doc, stages: list[str], escape: str, newline: Callable[[], str]
) -> None:
    kind = draw(
        st.sampled_from(
            [
                "run",
                "run-continued",
                "copy-from",
                "copy-stage",
                "mount",
                "heredoc",
                "comment",
                "blank",
                "env",
                "suppressed",
                "windows-path",
            ]
        )
    )
    indent = draw(_INDENT)
    if kind == "run":
        doc.add(f"{indent}RUN echo {draw(_WORDS)}{newline()}")
    elif kind == "run-continued":
        doc.add(f"{indent}RUN apt-get update {escape}{newline()}")
        if draw(st.booleans()):  # comment lines inside a continuation are dropped by the builder
            doc.add(f"# FROM nginx:1.27 {draw(_WORDS)}{newline()}")
        doc.add(f"    && apt-get install -y curl{newline()}")
    elif kind == "copy-from":
        flags = draw(st.sampled_from(["", "--chown=1:1 ", "--link "]))
        doc.add(f"{indent}COPY {flags}--from=", draw(slots()), f" /src /dst{newline()}")
    elif kind == "copy-stage":
        stage = draw(st.sampled_from(stages)) if stages else "0"
        doc.add(f"{indent}COPY --from={stage} /app /app{newline()}")
    elif kind == "mount":
        first = draw(st.booleans())
        doc.add(f"{indent}RUN --mount=", "from=" if first else "type=bind,source=/x,from=")
        doc.add(draw(slots()), f",target=/y{newline()}" if first else f",target=/y make{newline()}")
    elif kind == "heredoc":
        dash = draw(st.booleans())
        doc.add(f"{indent}RUN <<{'-' if dash else ''}EOF{newline()}FROM nginx:1.27{newline()}")
        doc.add(f"COPY --from=alpine x y{newline()}{chr(9) if dash else ''}EOF{newline()}")
    elif kind == "comment":
        doc.add(f"{indent}# FROM nginx:1.27 {draw(_WORDS)}{newline()}")
    elif kind == "blank":
        doc.add(f"{draw(_TRAILING)}{newline()}")
    elif kind == "env":
        doc.add(f"{indent}ENV IMAGE=nginx:1.27 LABEL=quay.io/x/y{newline()}")
    elif kind == "suppressed":
        code = draw(st.sampled_from(["", "[PTC001,PTC002]", "[PTC001, PTC002, PTC006]"]))
        slot = draw(slots())
        doc.add(f"# ecr-ptc: ignore{code}{newline()}{indent}COPY --from=")
        doc.add(Slot(slot.written, None), f" /a /b{newline()}")
    elif kind == "windows-path":
        # With `# escape=\``, a trailing backslash is not a continuation: the next line is a
        # new instruction.
        tail = "\\" if escape == "`" else ""
        doc.add(f"{indent}RUN dir c:{tail}{newline()}{indent}COPY --from=", draw(slots()))
        doc.add(f" a b{newline()}")


@given(dockerfiles())
def test_fix_rewrites_exactly_the_references_once(doc: Doc) -> None:
    fix_and_check(doc)


def test_reference_table_covers_both_outcomes() -> None:
    # The generator is only as strong as its table: it must hold rewrites and non-rewrites.
    assert {t is None for t in REFERENCES.values()} == {True, False}
