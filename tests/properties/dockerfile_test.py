"""Generated Dockerfiles: `fix` changes exactly the reference spans, and a second `fix` is a no-op."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.properties._docs import (
    REFERENCES, VARIABLE_TAGS, Doc, Slot, checked_out, errors, fix, rewritten_sites, slots,
)

_NAMES = ("Dockerfile", "Dockerfile.prod", "build/app.dockerfile", "Containerfile", "x.Containerfile")
_STAGES = ("build", "deps", "runtime", "stage-1")
_SPACE = st.sampled_from([" ", "  ", "\t", " \t "])
_INDENT = st.sampled_from(["", "", "  ", "\t"])
_TRAILING = st.sampled_from(["", "", " ", "\t"])
# Free text in comments and shell words: non-ASCII (columns count characters, not bytes),
# quotes, `$`, backslashes that are not at a line end. Unicode line separators (U+2028, \x0c,
# \x85, a lone \r) are left out here: the scanner splits lines on them where Docker does not;
# see dockerfile_line_separators_test in tests/bad_input_test.py.
_WORDS = st.text(
    st.sampled_from("abcXYZ019 _-./:=\"'$é漢😀\t"), min_size=0, max_size=12
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
    args: dict[str, tuple[int, Slot]] = {}
    for index in range(draw(st.integers(0, 2))):
        name, slot = f"BASE{index}", draw(slots())
        quote = draw(st.sampled_from(["", '"', "'"]))
        doc.add(f"ARG {name}={quote}")
        args[name] = (len(doc.pieces), slot)
        doc.add(slot, f"{quote}{draw(_TRAILING)}{nl()}")
    used: set[str] = set()
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
            name = draw(st.sampled_from(sorted(args)))
            used.add(name)
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
        if free and draw(st.booleans()):
            stage = draw(st.sampled_from(free))
            doc.add(draw(_SPACE), draw(_AS), draw(_SPACE), stage)
            stages.append(stage)
        doc.add(draw(_TRAILING), nl())
        for _ in range(draw(st.integers(0, 4))):
            _instruction(draw, doc, stages, escape, nl)
    if not draw(st.booleans()):  # missing final newline
        last = doc.pieces[-1]
        if isinstance(last, str) and last.endswith("\n"):
            doc.pieces[-1] = last[: -2 if last.endswith("\r\n") else -1]
    for name, (index, slot) in args.items():
        doc.pieces[index] = slot if name in used else Slot(slot.written, None)
    return doc


def _instruction(draw: st.DrawFn, doc: Doc, stages: list[str], escape: str, nl: object) -> None:
    newline = nl  # type: ignore[assignment]
    kind = draw(st.sampled_from([
        "run", "run-continued", "copy-from", "copy-stage", "mount", "heredoc", "comment",
        "blank", "env", "suppressed", "windows-path",
    ]))
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
def test_fix_changes_exactly_the_reference_spans(doc: Doc) -> None:
    with checked_out(doc) as root:
        results = fix(root, doc.name)

        assert errors(results) == []
        assert (root / doc.name).read_bytes() == doc.data(fixed=True)
        assert rewritten_sites(results) == doc.sites()


@given(dockerfiles())
def test_second_fix_is_a_no_op(doc: Doc) -> None:
    with checked_out(doc) as root:
        fix(root, doc.name)
        once = (root / doc.name).read_bytes()
        again = fix(root, doc.name)

        assert errors(again) == []
        assert not any(r.changed or r.written for r in again)
        assert (root / doc.name).read_bytes() == once


def test_reference_table_covers_both_outcomes() -> None:
    # The generator is only as strong as its table: it must hold rewrites and non-rewrites.
    assert {t is None for t in REFERENCES.values()} == {True, False}
