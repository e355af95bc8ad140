"""The fuzz targets (fuzz/targets.py) run briefly in every test run, driven by hypothesis; the
coverage-guided runs are `python fuzz/fuzz.py <target>` (fuzz/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz import targets
from migrate.classify import classify
from migrate.rewrite import one_file
from migrate.rewrite.walk import Candidate
from tests.helpers import FIXTURES, VECTORS

_VECTORS = [
    line.split("\t", 1)[0]
    for line in VECTORS.read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]
_DOCKERFILES = [p.read_bytes() for p in sorted((FIXTURES / "dockerfile").glob("*.in.*"))]
# The characters references are made of, and the ones that break them.
_REFERENCE_ALPHABET = "abcz0189._-/:@ABCZ$%{}[] \t\nsha256:" + "é"


def _mutated(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda seed, cut, junk, drop: seed[:cut] + junk + seed[cut + drop :],
        st.sampled_from(seeds),
        st.integers(0, 2000),
        st.binary(max_size=12),
        st.integers(0, 8),
    )


_REFERENCES = st.one_of(
    st.text(st.sampled_from(_REFERENCE_ALPHABET), max_size=90).map(str.encode),
    _mutated([v.encode() for v in _VECTORS]),
    st.binary(max_size=64),
)
_DOCKERFILE_TOKENS = st.sampled_from(
    [
        "FROM ",
        "from ",
        "AS ",
        "ARG ",
        "COPY --from=",
        "RUN --mount=from=",
        "<<EOF",
        "EOF",
        "\\",
        "`",
        "\n",
        "\r\n",
        "# syntax=",
        "# escape=`",
        "${A}",
        "$A",
        "A=nginx",
        "nginx:1.27",
        "scratch",
        " ",
        "\t",
        "quay.io/x/y@sha256:" + "a" * 64,
        "# ecr-ptc: ignore",
        "\x0c",
        "\u2028",
    ]
)
_DOCKERFILE_INPUTS = st.one_of(
    st.lists(_DOCKERFILE_TOKENS, max_size=40).map(lambda parts: "".join(parts).encode()),
    _mutated(_DOCKERFILES),
    st.binary(max_size=256),
)


_INDEX = targets.index_seed()
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)
_INDEXES = st.one_of(
    _mutated([_INDEX]),
    st.binary(max_size=256),
    _JSON.map(lambda value: json.dumps(value).encode()),
    # the shape of an index, its values drawn at random
    st.builds(
        lambda key, rows: json.dumps({"key": key, "builds": rows}).encode(),
        _JSON,
        st.lists(st.lists(_JSON, max_size=5), max_size=3),
    ),
    st.builds(
        lambda depth, pair: (pair[0] * depth + pair[1] * depth).encode(),
        st.integers(0, 300_000),
        st.sampled_from([("[", "]"), ('{"a":', "}"), ('{"key":[', "]}")]),
    ),
)


@given(_REFERENCES)
def test_reference_parser_and_classify(data: bytes) -> None:
    targets.reference_target(data)


@given(_DOCKERFILE_INPUTS)
def test_dockerfile_scanner_and_pipeline(data: bytes) -> None:
    targets.dockerfile_target(data)


@settings(max_examples=100)  # each example is a run over a small repository: ~5 ms
@given(_INDEXES)
def test_the_build_index_is_read_or_rebuilt(data: bytes) -> None:
    targets.builds_target(data)


# --- found by the fuzzer ---------------------------------------------------------------------

_LONG = "a" * 237  # docker-hub/library/ + 237 = 256: ECR's limit, one past Docker's 255


def test_a_rewrite_docker_would_reject_is_ptc007_and_the_rest_is_fixed(tmp_path: Path) -> None:
    # atheris, reference target: the rewrite of a 237-character Docker Hub name would not parse.
    # classify now refuses it (PTC007); the engine's verify step stays as the safety net.
    (tmp_path / "Dockerfile").write_text(f"FROM {_LONG}:1\nFROM nginx:1.27\n")

    result = one_file.process(
        Candidate("Dockerfile", tmp_path / "Dockerfile"), targets.CONFIG, fix=True, write=True
    )

    assert result is not None
    assert [f.code for f in result.findings] == ["PTC007", "PTC001"]
    assert (tmp_path / "Dockerfile").read_text() == (
        f"FROM {_LONG}:1\nFROM {targets.CONFIG.registry}/docker-hub/library/nginx:1.27\n"
    )


def test_a_name_that_cannot_be_rewritten_validly_is_ptc007() -> None:
    verdict = classify(_LONG, targets.CONFIG)

    assert verdict.code == "PTC007"
