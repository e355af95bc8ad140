"""Nothing a repository holds can write a line of our output: no line of any format begins with
`::` (a GitHub Actions workflow command) unless it is one of our own annotations, and control
characters never reach a terminal or a CI log raw (hardening, item 2)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import string
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from migrate.cli import main
from tests.helpers import REGISTRY, run_cli

GOOD = b"FROM nginx:1.27\n"
BAD = b"FROM nginx:1.27\n\xff\n"  # not UTF-8: a PTC900 naming the file, on stdout or stderr
RUNS = [
    ["scan", "--format", "text"],  # scan shares lint's formatters
    *(["lint", "--format", f] for f in ("text", "json", "sarif", "github")),
    ["fix", "--diff", "--registry", REGISTRY],
    ["fix", "--check", "--registry", REGISTRY],
    ["rules", "plan", "--registry", REGISTRY],
    ["fix", "--registry", REGISTRY],  # last: it rewrites
]
# Ours: a finding, with every property escaped (no raw `:` or `,` inside a value).
_ANNOTATION = re.compile(
    r"::(?:error|warning|notice) file=[^:,\n]*,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,"
    r"title=PTC\d{3}::[^\n]*"
)
_URI = re.compile(r"[A-Za-z0-9%/._~-]*")
_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def check(args: list[str], out: str, err: str) -> None:
    """The invariants, for one run's stdout and stderr."""
    for stream in (out, err):
        stream.encode("utf-8")  # no lone surrogate leaked from a non-UTF-8 name
        assert _RAW.search(stream) is None or args[:2] == ["fix", "--diff"], (args, stream)
        for line in stream.splitlines():
            if line.startswith("::"):
                assert args[-1] == "github" and stream is out, (args, line)
                assert _ANNOTATION.fullmatch(line), (args, line)
    if args[-1] == "sarif":
        for result in json.loads(out)["runs"][0]["results"]:
            uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            assert _URI.fullmatch(uri), uri


def _run_all(tree: Path, paths: list[str]) -> None:
    here = os.getcwd()
    os.chdir(tree)
    try:
        for args in RUNS:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                # `--`: a generated name may start with `-` (`-/Dockerfile`), which click would
                # otherwise read as an option.
                main([*args, "--", *paths] if paths else args)
            check(args, out.getvalue(), err.getvalue())
    finally:
        os.chdir(here)


ISSUE_NAMES = [
    "x\n::error file=x,line=1::INJECTED",  # a directory holding a Dockerfile
    "::error::no control character at all",  # another one: a path that starts a line
    "Dockerfile.\n::error::INJECTED",  # a Dockerfile.* name
    "Dockerfile.\r::warning::x\x1b[2K\u202e",
]


def test_issue_names_in_every_format_and_command(tmp_path: Path) -> None:
    for directory in ISSUE_NAMES[:2]:
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "Dockerfile").write_bytes(GOOD)
    (tmp_path / ISSUE_NAMES[2]).write_bytes(GOOD)
    (tmp_path / ISSUE_NAMES[3]).write_bytes(BAD)

    # as a real process, whose stdout must encode what it prints
    done = run_cli("lint", cwd=tmp_path)
    check(["lint"], done.stdout, done.stderr)
    assert "x\\n::error file=x,line=1::INJECTED/Dockerfile:1:6: PTC001 " in done.stdout
    assert "./::error::no control character at all/Dockerfile:1:6: PTC001 " in done.stdout
    _run_all(tmp_path, [])


_ANY_CHARACTER = st.characters(
    blacklist_characters="/\0", blacklist_categories=("Cs",), max_codepoint=0x10FFFF
)
_HOSTILE = st.sampled_from(["\n", "\r", "::", ",", "%", ":", "\x1b", "\x85", "\u2028", "\u202e"])
_PIECES = st.lists(st.one_of(_HOSTILE, st.text(_ANY_CHARACTER, max_size=8)), max_size=12)
_BYTES = st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b)
NAMES = st.one_of(_PIECES.map("".join), _BYTES.map(os.fsdecode), st.just("é" * 127))


def _fits(name: str) -> str:
    """Cut to 255 bytes (NAME_MAX) at a character boundary; never empty, '.' or '..'."""
    while len(os.fsencode(name)) > 255:
        name = name[:-1]
    return name if name.strip(".") else name + "x"


@settings(max_examples=40)  # ~9 runs each, a write among them: ~5 s
@given(directory=NAMES, suffix=NAMES, explicit=st.booleans())
@example(directory="-", suffix="x", explicit=True)  # once read as an option: `-/Dockerfile`
def test_no_file_name_writes_a_line_of_output(directory: str, suffix: str, explicit: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        where = tree / _fits(directory or "d")
        where.mkdir()
        (where / "Dockerfile").write_bytes(GOOD)
        bad = _fits("Dockerfile." + suffix)
        (tree / bad).write_bytes(BAD)
        names = [f"{where.name}/Dockerfile", bad] if explicit else []
        _run_all(tree, names)


def test_escaping_is_visible_and_unambiguous() -> None:
    from migrate.output.printable import printable

    assert printable("charts/values.yaml") == "charts/values.yaml"
    assert printable("a\\b") == "a\\b"  # nothing to escape: kept as written
    assert printable("a\nb\\n") == "a\\nb\\\\n"
    assert printable(os.fsdecode(b"caf\xe9\x1b[2K")) == "caf\\xe9\\x1b[2K"
    assert printable("\u202eabc\u2028") == "\\u202eabc\\u2028"
    assert all(printable(c) == c for c in string.printable if c not in "\n\r\t\x0b\x0c")


def test_rule_fields_from_the_account_cannot_write_a_line() -> None:
    # A prefix, upstream or message comes from AWS (`describe_pull_through_cache_rules`,
    # `--validate` failures): printed in every rules check format.
    from migrate.aws.assess import Assessment
    from migrate.aws.rules import Check, RuleStatus
    from migrate.findings import Status, file_error
    from migrate.output import rules as rules_report

    hostile = "x\n::error::INJECTED\r\x1b[31m\u202e"
    result = Check(
        rules=(RuleStatus(hostile, hostile, "invalid", hostile),),
        findings=(),
        notes=(hostile,),
    )
    found = Assessment(hostile, (), (), notes=(hostile,), check=result)
    error = file_error(f"::{hostile}/Dockerfile", 1, 1, hostile)
    assert error.status is Status.ERROR
    for output in ("text", "json", "sarif", "github"):
        rendered = rules_report.render(found, [error], 1, output)
        assert _RAW.search(rendered) is None, (output, rendered)
        for line in rendered.splitlines():
            assert not line.startswith("::") or output == "github", (output, line)
            if output == "github" and line.startswith("::"):
                # one command; its properties escaped (no raw `:`), whatever the message holds
                rule = re.fullmatch(r"::(?:error|warning) title=[^:\n]*::[^\n]*", line)
                assert rule or _ANNOTATION.fullmatch(line), line


def test_pr_description_cannot_write_a_line() -> None:
    from migrate.findings import Finding, Status
    from migrate.pr import body as pr_body

    path = "::error::INJECTED\nx/Dockerfile"
    rewrite = Finding(path, 1, 6, 1, 11, "PTC001", Status.PUBLIC, "m", original="nginx\n::x",
                      target=f"{REGISTRY}/docker-hub/library/nginx", upstream="registry-1.docker.io",
                      prefix="docker-hub")  # fmt: skip
    skipped = Finding(path, 2, 1, 2, 1, "PTC900", Status.ERROR, "bad\n::error::y")
    summary = pr_body.Summary(REGISTRY, (rewrite,), (skipped,), (path,))
    text = pr_body.body(summary, (), plan="", renovate="", check=None, limit=None)
    assert _RAW.search(text) is None
    assert not [line for line in text.splitlines() if line.startswith("::")]
