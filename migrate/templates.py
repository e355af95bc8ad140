"""Repository creation templates: what ECR applies to the repositories a pull-through cache
rule creates on first pull, which template covers a prefix, and the one ecr-ptc proposes.

Pure: the account's templates and registry scanning configuration come in as records (aws.py
reads them); the proposal's settings come from the `templates:` section of .ecr-ptc.yaml.
https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from migrate.account import ROOT

PULL_THROUGH_CACHE = "PULL_THROUGH_CACHE"  # appliedFor
ENCRYPTIONS = ("AES256", "KMS", "KMS_DSSE")


@dataclass(frozen=True)
class Defaults:
    """`templates:` in .ecr-ptc.yaml: what `rules plan` proposes for an uncovered prefix."""

    create: bool = True  # false: plans carry no templates
    keep_last: int | None = 50  # images kept per repository, newest first (None: no count rule)
    expire_untagged_days: int | None = 7  # untagged images expire after (None: never)
    encryption: str = "AES256"
    kms_key: str | None = None  # with KMS / KMS_DSSE; None: the AWS managed key
    tags: tuple[tuple[str, str], ...] = ()
    role: str | None = None  # customRoleArn: ECR needs one to tag or KMS-encrypt repositories
    description: str = "Repositories the pull-through cache creates (ecr-ptc)"

    @property
    def needs_role(self) -> bool:
        """Resource tags and KMS keys are applied with a role the template names
        (repository-creation-templates-create-iam.html)."""
        return bool(self.tags) or self.encryption != "AES256"

    def lifecycle_policy(self) -> str | None:
        """ECR lifecycle policy text; the `any` rule must have the highest rulePriority."""
        rules = []
        if self.expire_untagged_days:
            days = self.expire_untagged_days
            rules.append(
                _expire(
                    f"Expire untagged images after {days} days",
                    tagStatus="untagged",
                    countType="sinceImagePushed",
                    countUnit="days",
                    countNumber=days,
                )
            )
        if self.keep_last:
            rules.append(
                _expire(
                    f"Keep the newest {self.keep_last} images",
                    tagStatus="any",
                    countType="imageCountMoreThan",
                    countNumber=self.keep_last,
                )
            )
        numbered = [{"rulePriority": n, **rule} for n, rule in enumerate(rules, start=1)]
        return json.dumps({"rules": numbered}, separators=(",", ":")) if rules else None


def _expire(description: str, **selection: object) -> dict[str, object]:
    return {"description": description, "selection": selection, "action": {"type": "expire"}}


@dataclass(frozen=True)
class Template:
    """A repository creation template as the account holds it."""

    prefix: str  # ROOT: every repository no other template covers
    applied_for: tuple[str, ...] = (PULL_THROUGH_CACHE,)
    lifecycle_policy: str | None = None
    image_tag_mutability: str | None = None  # None: MUTABLE
    encryption_type: str | None = None  # None: AES256
    kms_key: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    repository_policy: bool = False
    custom_role_arn: str | None = None

    def settings(self) -> tuple[str, ...]:
        """What a repository created under this template gets, in words."""
        mutability = self.image_tag_mutability or "MUTABLE"
        said = [
            "lifecycle policy" if self.lifecycle_policy else "no lifecycle policy",
            f"tags {mutability}"
            + ("" if mutability.startswith("MUTABLE") else " (the cache may fail to refresh tags)"),
            f"encryption {self.encryption_type or 'AES256'}",
        ]
        if self.tags:
            said.append(f"{len(self.tags)} resource tag{'s' if len(self.tags) != 1 else ''}")
        if self.repository_policy:
            said.append("repository policy")
        return tuple(said)


@dataclass(frozen=True)
class Scanning:
    """The registry scanning configuration: scanning is set per registry, by repository filter,
    not by template."""

    scan_type: str  # BASIC or ENHANCED
    rules: tuple[tuple[str, tuple[str, ...]], ...]  # (scanFrequency, WILDCARD filters)

    def for_prefix(self, prefix: str) -> str:
        partly = []
        for frequency, filters in self.rules:
            if any(_wildcard(f).fullmatch(f"{prefix}/\0") for f in filters):
                return f"{frequency} ({self.scan_type})"
            if any(f.startswith(f"{prefix}/") for f in filters):
                partly.append(frequency)
        if partly:
            return f"{partly[0]} for some repositories ({self.scan_type})"
        return "no scanning rule matches"


def _wildcard(pattern: str) -> re.Pattern[str]:
    # `\0` in the name stands for whatever follows the prefix: only `*` can match it.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def covering(prefix: str, templates: Iterable[Template]) -> Template | None:
    """The template ECR applies to repositories created under `prefix/` by a pull-through cache
    rule: the longest template prefix the rule's prefix falls under, else ROOT."""
    usable = [t for t in templates if PULL_THROUGH_CACHE in t.applied_for]
    under = [t for t in usable if t.prefix != ROOT and f"{prefix}/".startswith(f"{t.prefix}/")]
    if under:
        return max(under, key=lambda t: len(t.prefix))
    return next((t for t in usable if t.prefix == ROOT), None)


def narrower(prefix: str, templates: Iterable[Template]) -> tuple[str, ...]:
    """Templates for some repositories under `prefix/` only (they win over the covering one)."""
    return tuple(
        t.prefix
        for t in templates
        if PULL_THROUGH_CACHE in t.applied_for and t.prefix.startswith(f"{prefix}/")
    )


@dataclass(frozen=True)
class Coverage:
    """One needed prefix: the template covering it (None: ECR's defaults), and scanning."""

    prefix: str
    template: Template | None
    narrower: tuple[str, ...] = ()
    scanning: str | None = None  # None: the scanning configuration was not read

    @property
    def covered(self) -> bool:
        return self.template is not None

    def message(self) -> str:
        if self.template is None:
            said = (
                "no repository creation template: repositories the cache creates get ECR's "
                "defaults (no lifecycle policy, MUTABLE tags, AES256)"
            )
        else:
            name = "ROOT" if self.template.prefix == ROOT else f"{self.template.prefix}/"
            said = f"template {name}: " + ", ".join(self.template.settings())
        if self.narrower:
            said += "; narrower templates: " + ", ".join(f"{p}/" for p in self.narrower)
        if self.scanning is not None:
            said += f"; scanning: {self.scanning}"
        return said


def coverage(
    prefixes: Sequence[str], templates: Sequence[Template], scanning: Scanning | None
) -> tuple[Coverage, ...]:
    return tuple(
        Coverage(
            p,
            covering(p, templates),
            narrower(p, templates),
            scanning.for_prefix(p) if scanning else None,
        )
        for p in prefixes
    )


# --- `templates:` in .ecr-ptc.yaml -------------------------------------------------------------
_KEYS = {"create", "lifecycle", "encryption", "kms-key", "tags", "role", "description"}
_LIFECYCLE_KEYS = {"keep-last", "expire-untagged-days"}
_ROLE = re.compile(r"^arn:aws[a-z0-9-]*:iam::[0-9]{12}:role/\S+$")
_KMS_KEY = re.compile(r"^arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-z0-9-]+$")


def parse(path: Path, node: Any, line: int) -> Defaults:
    """The `templates:` section (`templates: false` turns proposals off)."""
    from migrate.config import ConfigError, _line, _mapping

    if node is False:
        return Defaults(create=False)
    top = _mapping(path, node, "templates", line)
    for key in top:
        if key not in _KEYS:
            raise ConfigError(path, _line(top, key), f"unknown key 'templates.{key}'")
    found: dict[str, Any] = {}

    def fail(key: str, reason: str, within: Any = top, section: str = "templates") -> NoReturn:
        raise ConfigError(path, _line(within, key), f"{section}.{key}: {reason}")

    if "create" in top:
        if not isinstance(top["create"], bool):
            fail("create", "must be true or false")
        found["create"] = top["create"]
    if "lifecycle" in top:
        lifecycle = _mapping(path, top["lifecycle"], "templates.lifecycle", _line(top, "lifecycle"))
        for key, value in lifecycle.items():
            where = (lifecycle, "templates.lifecycle")
            if key not in _LIFECYCLE_KEYS:
                fail(key, "unknown key", *where)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                fail(key, "a whole number of at least 0 (0 or null: no such rule)", *where)
            if value is not None and value < 0:
                fail(key, "a whole number of at least 0 (0 or null: no such rule)", *where)
            found[key.replace("-", "_")] = value or None
    if "encryption" in top:
        if top["encryption"] not in ENCRYPTIONS:
            fail("encryption", f"one of {', '.join(ENCRYPTIONS)}")
        found["encryption"] = top["encryption"]
    if "kms-key" in top:
        if not isinstance(top["kms-key"], str) or not _KMS_KEY.match(top["kms-key"]):
            fail("kms-key", "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
        if found.get("encryption", "AES256") == "AES256":
            fail("kms-key", "needs `encryption: KMS` (or KMS_DSSE)")
        found["kms_key"] = top["kms-key"]
    if "tags" in top:
        tags = _mapping(path, top["tags"], "templates.tags", _line(top, "tags"))
        for key, value in tags.items():
            if not (isinstance(key, str) and isinstance(value, str)):
                fail("tags", "keys and values must be strings")
            if not 1 <= len(key) <= 128 or len(value) > 256:
                fail("tags", f"{key!r}: keys up to 128 characters, values up to 256")
        found["tags"] = tuple((str(k), str(v)) for k, v in tags.items())
    if "role" in top:
        if not isinstance(top["role"], str) or not _ROLE.match(top["role"]):
            fail("role", "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
        found["role"] = top["role"]
    if "description" in top:
        if not isinstance(top["description"], str) or len(top["description"]) > 256:
            fail("description", "a string of at most 256 characters")
        found["description"] = top["description"]
    return Defaults(**found)
