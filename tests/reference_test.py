"""migrate.reference against Docker's own parser (the shared vector table) and hand tables."""

from __future__ import annotations

import dataclasses
import pickle
from typing import NamedTuple

import pytest

from migrate.reference import ImageRef, ReferenceError, parse, split_variable_tag
from tests.helpers import VECTORS

EXPECTED_ROWS = 885
HEX64 = "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
SHA = f"sha256:{HEX64}"


class Row(NamedTuple):
    line: int
    input: str
    ok: str
    domain: str
    path: str
    tag: str
    digest: str
    familiar: str
    error: str


def _load_rows() -> list[Row]:
    # Split on "\n" and "\t" only, never strip: some inputs are whitespace, one is "".
    # A missing file yields [] so the count test fails loudly instead of collection erroring.
    if not VECTORS.is_file():
        return []
    lines = VECTORS.read_text(encoding="utf-8").split("\n")
    assert lines[0].split("\t")[:2] == ["input", "ok"], lines[0]
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if line == "" and number == len(lines):
            continue  # the newline ending the file
        fields = line.split("\t")
        assert len(fields) == 8, (number, line)
        rows.append(Row(number, *fields))
    return rows


ROWS = _load_rows()
YES = [pytest.param(row, id=f"L{row.line}") for row in ROWS if row.ok == "yes"]
NO = [pytest.param(row, id=f"L{row.line}") for row in ROWS if row.ok == "no"]


def _kind_for(row: Row) -> str:
    """Our kind for Go's error text."""
    error = row.error
    if "cannot specify 64-byte hexadecimal" in error:
        return "identifier"
    if error.endswith("must be lowercase"):
        return "uppercase"
    if "must not be more than" in error:
        return "too-long"
    if "digest" in error:
        return "digest"
    if error == "invalid reference format":
        return "empty" if row.input == "" else "format"
    raise AssertionError(f"unmapped Go error {error!r}")


def test_vector_table_is_complete() -> None:
    assert len(ROWS) == EXPECTED_ROWS, VECTORS
    assert {row.ok for row in ROWS} == {"yes", "no"}
    assert len(YES) == 558
    assert len(NO) == 327


@pytest.mark.parametrize("row", YES)
def test_vector_accepted(row: Row) -> None:
    ref = parse(row.input)
    got = (ref.domain, ref.path, ref.tag or "", ref.digest or "", ref.familiar)
    assert got == (row.domain, row.path, row.tag, row.digest, row.familiar), repr(row.input)
    # '' in the table means "not tagged"/"not digested": never an empty string.
    assert ref.tag != ""
    assert ref.digest != ""
    name = f"{row.domain}/{row.path}" if row.domain else row.path
    assert ref.name == name
    tag = f":{row.tag}" if row.tag else ""
    assert str(ref) == name + tag + (f"@{row.digest}" if row.digest else "")
    assert ref.written_name + ref.tail == row.input


@pytest.mark.parametrize("row", NO)
def test_vector_rejected(row: Row) -> None:
    with pytest.raises(ReferenceError) as caught:
        parse(row.input)
    assert str(caught.value) == row.error, repr(row.input)
    assert caught.value.kind == _kind_for(row), repr(row.input)


@pytest.mark.parametrize(
    ("text", "written_name", "tail"),
    [
        pytest.param("nginx", "nginx", "", id="bare"),
        pytest.param("nginx:1.27", "nginx", ":1.27", id="tag"),
        pytest.param(f"nginx:1.27@{SHA}", "nginx", f":1.27@{SHA}", id="tag-digest"),
        pytest.param(f"nginx@{SHA}", "nginx", f"@{SHA}", id="digest"),
        pytest.param("docker.io/nginx", "docker.io/nginx", "", id="hub-explicit"),
        pytest.param("index.docker.io/nginx:1", "index.docker.io/nginx", ":1", id="legacy-hub"),
        pytest.param("localhost:5000/x:1", "localhost:5000/x", ":1", id="port-and-tag"),
        pytest.param("localhost:5000", "localhost", ":5000", id="port-is-a-tag"),
        pytest.param("[::1]:5000/x:y", "[::1]:5000/x", ":y", id="ipv6"),
        pytest.param("a_b.com/x:1", "a_b.com/x", ":1", id="empty-domain"),
        pytest.param("MyUser/app", "MyUser/app", "", id="uppercase-domain"),
    ],
)
def test_written_name_and_tail(text: str, written_name: str, tail: str) -> None:
    ref = parse(text)
    assert (ref.written_name, ref.tail) == (written_name, tail)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("nginx\n", id="trailing-newline"),
        pytest.param("nginx:1.27\n", id="tag-trailing-newline"),
        pytest.param(" nginx", id="leading-space"),
        pytest.param("nginx:é", id="non-ascii-tag"),
        pytest.param("ngïnx", id="non-ascii-name"),
        pytest.param("nginx:" + "a" * 129, id="tag-too-long"),
    ],
)
def test_python_regex_pitfalls_rejected(text: str) -> None:
    with pytest.raises(ReferenceError):
        parse(text)


def test_sha384_and_sha512_accepted() -> None:
    assert parse(f"nginx@sha384:{'a' * 96}").digest == f"sha384:{'a' * 96}"
    assert parse(f"nginx@sha512:{'b' * 128}").digest == f"sha512:{'b' * 128}"


def test_empty_input_kind() -> None:
    with pytest.raises(ReferenceError) as caught:
        parse("")
    assert caught.value.kind == "empty"


def test_error_is_value_error_and_pickles() -> None:
    with pytest.raises(ValueError, match="must be lowercase") as caught:
        parse("NGINX")
    error = caught.value
    assert isinstance(error, ReferenceError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.kind, str(copy)) == (error.kind, str(error)) == ("uppercase", str(error))


def test_image_ref_is_frozen() -> None:
    ref = parse("nginx")
    assert isinstance(ref, ImageRef)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.tag = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("node:${NODE_VERSION}", ("node", ":${NODE_VERSION}"), id="braced"),
        pytest.param("nginx:$TAG", ("nginx", ":$TAG"), id="bare-var"),
        pytest.param(
            "ghcr.io/a/b:1.${MINOR}-alpine", ("ghcr.io/a/b", ":1.${MINOR}-alpine"), id="mixed"
        ),
        pytest.param(f"x:${{V}}@{SHA}", ("x", f":${{V}}@{SHA}"), id="with-digest"),
        pytest.param("localhost:5000/x:${V}", ("localhost:5000/x", ":${V}"), id="port"),
        pytest.param("nginx:${TAG:-1.27}", ("nginx", ":${TAG:-1.27}"), id="compose-default"),
        pytest.param("nginx:${TAG:-${D}}", ("nginx", ":${TAG:-${D}}"), id="nested-default"),
        pytest.param("nginx:${A}-${B}", ("nginx", ":${A}-${B}"), id="two-vars"),
        pytest.param("nginx:$V_suffix", ("nginx", ":$V_suffix"), id="var-name-greedy"),
    ],
)
def test_split_variable_tag(text: str, expected: tuple[str, str]) -> None:
    assert split_variable_tag(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("nginx:1.27", id="no-dollar"),
        pytest.param("nginx", id="no-dollar-no-tag"),
        pytest.param("${REG}/nginx:1", id="var-in-domain"),
        pytest.param("$BASE", id="whole-var"),
        pytest.param("${BASE}:1", id="var-name-with-tag"),
        pytest.param("localhost:${PORT}/x:1", id="var-in-port"),
        pytest.param("ghcr.io/${ORG}/app:${V}", id="var-in-path"),
        pytest.param("nginx:1@${DIGEST}", id="var-in-digest"),
        pytest.param(f"x@{SHA}:${{V}}", id="var-after-digest"),
        pytest.param("Nginx:${V}", id="invalid-name"),
        pytest.param("localhost:5000:${V}", id="name-already-tagged"),
        pytest.param("nginx:$TAG extra", id="whitespace"),
        pytest.param("nginx:$$TAG", id="escaped-dollar"),
        pytest.param("nginx:${}", id="empty-braces"),
        pytest.param("nginx:${V", id="unclosed"),
        pytest.param("nginx:$", id="lone-dollar"),
        pytest.param("nginx:${V}@md5:" + "a" * 32, id="bad-digest"),
    ],
)
def test_split_variable_tag_noop(text: str) -> None:
    assert split_variable_tag(text) is None
