"""Repository creation templates: what ECR applies to the repositories a pull-through cache
rule creates on first pull, which template covers a prefix, and the one ecr-ptc proposes.

Pure: the account's templates and registry scanning configuration come in as records (aws.py
reads them); the proposal's settings come from the `templates:` section of .ecr-ptc.yaml.
https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates.html
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from migrate.aws.account import ROOT

PULL_THROUGH_CACHE = "PULL_THROUGH_CACHE"  # appliedFor


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
