"""`templates:` in .ecr-ptc.yaml: what `rules plan` proposes; errors carry file, line, reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.config import ConfigError, Defaults
from tests.config_test import _load

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::123456789012:role/ecr-templates"


def test_full_section(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        f"""\
templates:
  lifecycle:
    keep-last: 20
    expire-untagged-days: 0    # no such rule
  encryption: KMS
  kms-key: {KEY}
  tags:
    team: platform
    cost-center: "42"
  role: {ROLE}
  description: Mirrors of public images
""",
    )
    assert loaded.templates == Defaults(
        keep_last=20,
        expire_untagged_days=None,
        encryption="KMS",
        kms_key=KEY,
        tags=(("team", "platform"), ("cost-center", "42")),
        role=ROLE,
        description="Mirrors of public images",
    )
    assert loaded.templates.needs_role


def test_absent_and_off(tmp_path: Path) -> None:
    assert (
        _load(tmp_path, "registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com\n").templates
        is None
    )
    assert _load(tmp_path, "templates: false\n").templates == Defaults(create=False)
    assert _load(tmp_path, "templates:\n  create: false\n").templates == Defaults(create=False)
    assert not Defaults().needs_role  # AES256 without tags: ECR's service-linked role will do


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    (
        ("templates:\n  colour: red\n", 2, "unknown key 'templates.colour'"),
        ("templates:\n  lifecycle:\n    keep: 3\n", 3, "templates.lifecycle.keep: unknown key"),
        (
            "templates:\n  lifecycle:\n    keep-last: -1\n",
            3,
            "templates.lifecycle.keep-last: a whole number of at least 0 (0 or null: no such rule)",
        ),
        (
            "templates:\n  encryption: DES\n",
            2,
            "templates.encryption: one of AES256, KMS, KMS_DSSE",
        ),
        (
            f"templates:\n  kms-key: {KEY}\n",
            2,
            "templates.kms-key: needs `encryption: KMS` (or KMS_DSSE)",
        ),
        ("templates:\n  tags: [a]\n", 2, "templates.tags must be a mapping"),
        ("templates:\n  role: admin\n", 2, "templates.role: an IAM role ARN"),
        ("templates: [1]\n", 1, "templates must be a mapping"),
    ),
)
def test_errors(tmp_path: Path, text: str, line: int, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert caught.value.line == line
    assert caught.value.reason.startswith(reason)
