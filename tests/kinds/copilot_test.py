"""AWS Copilot manifests: `image.location`, sidecars (string or `location`) and `logging.image`,
also in environment overrides; never `image.build`; the corpus's manifests fixed with only image
strings changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from migrate.kinds import copilot
from migrate.kinds.registry import is_candidate, scanner_for
from tests.kinds import aws_corpus

MANIFEST = """\
name: api
type: Load Balanced Web Service
image:
  location: ghcr.io/acme/api:2
sidecars:
  nginx:
    image: nginx:1.27
  xray:
    image:
      location: public.ecr.aws/xray/aws-xray-daemon
  built:
    image:
      build: sidecar/Dockerfile
logging:
  image: public.ecr.aws/aws-observability/aws-for-fluent-bit:stable
environments:
  test:
    image:
      location: ghcr.io/acme/api:test
    sidecars:
      debug:
        image: busybox
"""


def test_every_image_of_a_manifest() -> None:
    found = list(copilot.scan(MANIFEST))
    assert [(occ.kind, occ.written) for occ in found] == [
        ("image", "ghcr.io/acme/api:2"),
        ("sidecar", "nginx:1.27"),
        ("sidecar", "public.ecr.aws/xray/aws-xray-daemon"),
        ("logging", "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"),
        ("image", "ghcr.io/acme/api:test"),
        ("sidecar", "busybox"),
    ]
    assert all(occ.parts for occ in found)


def test_build_is_never_read() -> None:
    text = "name: w\ntype: Worker Service\nimage:\n  build:\n    args: {BASE: python:3.12}\n"
    assert list(copilot.scan(text)) == []


@pytest.mark.parametrize(
    ("path", "claimed"),
    [
        ("copilot/api/manifest.yml", True),
        ("services/copilot/api/manifest.yaml", True),
        ("copilot/environments/test/manifest.yml", False),  # environments hold no image
        ("copilot/.workspace", False),
        ("api/manifest.yml", False),
    ],
)
def test_claimed_by_name(path: str, claimed: bool) -> None:
    assert (_kind(scanner_for(Path(path), MANIFEST)) == copilot.NAME) is claimed
    assert is_candidate(Path(path)) or not claimed


EXPECTED = {  # manifests of the corpus with an image, and their references
    "communitiesuk__funding-service-design-post-award-data-store/copilot/download-report/manifest.yml": 1,
    "communitiesuk__funding-service-design-post-award-data-store/copilot/post-award/manifest.yml": 2,
    "communitiesuk__funding-service-pre-award/copilot/fsd-pre-award/manifest.yml": 3,
    "aws-samples__aws-copilot-cli-streamlit/copilot/text-sum-api/manifest.yml": 1,
}


@pytest.mark.corpus
def test_corpus_every_image_found() -> None:
    root = aws_corpus.corpus() / "aws" / "copilot"
    found = {}
    for rel in aws_corpus.files("copilot"):
        path = root / rel
        text = path.read_text("utf-8-sig")
        if "/environments/" in rel:
            assert _kind(scanner_for(path, text)) != copilot.NAME
            continue
        assert _kind(scanner_for(path, text)) == copilot.NAME, rel
        count = len(list(copilot.scan(text)))
        assert count == text.count("location:"), rel  # every `location:`, nothing else
        if count:
            found[rel] = count
    assert found == EXPECTED


def _data(raw: bytes) -> object:
    return YAML(typ="safe", pure=True).load(raw.decode("utf-8-sig"))


@pytest.mark.corpus
def test_corpus_fix_changes_only_image_strings(in_tmp: Path) -> None:
    before, after = aws_corpus.fix_twice("copilot", in_tmp)
    changed = [rel for rel in before if before[rel] != after[rel]]
    rewritten = 0
    for rel in changed:
        diffs = list(aws_corpus.differences(_data(before[rel]), _data(after[rel])))
        assert diffs and all(where.endswith(".location") for where, _, _ in diffs), rel
        assert all(aws_corpus.is_rewrite(old, new) for _, old, new in diffs), rel
        rewritten += len(diffs)
    assert len(changed) == 3 and rewritten == 6  # `text-summarizer` is no official image


def _kind(found: object) -> str | None:
    """The NAME of what `scanner_for` returned (None: no kind claimed the file)."""
    return getattr(found, "NAME", None)
