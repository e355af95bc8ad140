"""One reference string -> Verdict: what it is, which rule serves it, what it becomes."""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable
from dataclasses import dataclass

from migrate import official, reference, registries
from migrate.config import Config, Rule
from migrate.findings import Status

# What a repository or a typo can name but no registry serves: judged only where the plain
# verdict would be a finding (an image in a private registry may be built here too; no news).
_PULLED = (Status.PUBLIC, Status.UNSUPPORTED, Status.INVALID)


@dataclass(frozen=True)
class Verdict:
    status: Status
    code: str | None
    message: str
    ref: reference.ImageRef | None = None
    tail: str = ""  # tag/digest text exactly as written (variables included)
    upstream: str | None = None
    prefix: str | None = None
    repository: str | None = None  # <prefix>/<upstream path>: the ECR repository name
    target_name: str | None = None  # <registry>/<repository>, when a registry is known

    # Cached: a run shares one Verdict per distinct reference among all its findings
    # (rewrite.settings.Settings.verdicts), and with it these strings (bench/dense.py).
    @functools.cached_property
    def normalised(self) -> str | None:
        return f"{self.ref.name}{self.tail}" if self.ref else None

    @functools.cached_property
    def target(self) -> str | None:
        return f"{self.target_name}{self.tail}" if self.target_name else None

    @property
    def digest_only(self) -> bool:
        return bool(self.ref and self.ref.digest and not self.ref.tag)


def classify(
    written: str, config: Config, built_by: Callable[[str], str | None] | None = None
) -> Verdict:
    """`built_by(name)`: where the repository builds that normalised name, if it does
    (`migrate.facts.builds.built_by`, asked only for names that would be pulled)."""
    if written.startswith("ko://"):  # https://ko.build/features/k8s/: ko builds it from Go
        return Verdict(Status.BUILT, "PTC009", f"{written} is built by ko from this Go import path")
    verdict = _classify(written, config)
    if verdict.ref is None or verdict.status not in _PULLED:
        return verdict
    name = verdict.ref.name
    built = built_by(name) if built_by is not None else None
    if built is not None:
        return Verdict(
            Status.BUILT,
            "PTC009",
            f"{written} is built by {built}, not pulled: not rewritten",
            verdict.ref,
            verdict.tail,
        )
    library = official.library_name(name)
    if (
        library is not None
        and verdict.status is Status.PUBLIC  # PTC007 says more about a name ECR cannot hold
        and not official.is_official(library, config.official_images)
    ):
        return Verdict(
            Status.NOT_OFFICIAL,
            "PTC008",
            f"{written}: docker.io/library/{library} is not a Docker Official Image: a local "
            "build, a placeholder or a typo (add it to official-images in .ecr-ptc.yaml if "
            "it exists)",
            verdict.ref,
            verdict.tail,
        )
    return verdict


def _classify(written: str, config: Config) -> Verdict:
    ref, tail = _parse(written)
    if isinstance(ref, str):
        return Verdict(Status.UNRESOLVED, "PTC004", ref)
    host = ref.domain.lower()
    if not host:
        return Verdict(Status.UNRESOLVED, "PTC004", f"{written!r} has no registry host", ref, tail)
    if registries.ecr_host(host):
        return _ecr(written, ref, tail, host, config)
    if registries.is_local(host) or any(fnmatch.fnmatch(host, p) for p in config.private):
        return Verdict(Status.PRIVATE, None, f"{written} is in a private registry", ref, tail)
    upstream = registries.upstream_for_url(host)
    if upstream is None:
        if registries.is_unsupported_public(host):
            return Verdict(
                Status.UNSUPPORTED,
                "PTC003",
                f"{written} comes from {host}, which pull-through cache cannot serve",
                ref,
                tail,
            )
        # Not ours to call private: it may be a public host we do not know. Not a finding.
        unknown = (
            f"{written} comes from {host}, not a registry a pull-through cache serves "
            "(list it under `private:` in .ecr-ptc.yaml if it is yours)"
        )
        return Verdict(Status.PRIVATE, None, unknown, ref, tail)
    return _rewrite(written, ref, tail, upstream, config)


def _parse(written: str) -> tuple[reference.ImageRef | str, str]:
    text, tail_variable = written, ""
    if "$" in written:
        split = reference.split_variable_tag(written)
        if split is None:
            return f"{written!r} is templated: the image depends on a variable", ""
        text, tail_variable = split
    try:
        ref = reference.parse(text)
    except reference.ReferenceError as exc:
        return f"{written!r} is not a valid image reference: {exc}", ""
    return ref, (tail_variable or ref.tail)


def _ecr(written: str, ref: reference.ImageRef, tail: str, host: str, config: Config) -> Verdict:
    cross_account = [r for r in config.rules if r.upstream == host]
    if cross_account and host != config.registry:
        return _rewrite(written, ref, tail, registries.upstream_for_url(host), config)
    if config.registry in (None, host):
        for rule in config.rules:
            if ref.path.startswith(rule.prefix + "/"):
                return Verdict(
                    Status.CACHED,
                    None,
                    f"{written} already uses the pull-through cache",
                    ref,
                    tail,
                    rule.upstream,
                    rule.prefix,
                    ref.path,
                )
    return Verdict(Status.PRIVATE, None, f"{written} is in a private ECR registry", ref, tail)


def _rule_for(upstream: str, path: str, rules: tuple[Rule, ...]) -> Rule | None:
    best: Rule | None = None
    for rule in rules:
        if rule.upstream != upstream:
            continue
        if rule.upstream_prefix:
            if not path.startswith(rule.upstream_prefix + "/"):
                continue
            if best is None or len(rule.upstream_prefix) > len(best.upstream_prefix or ""):
                best = rule
        elif best is None:
            best = rule
    return best


def _rewrite(
    written: str,
    ref: reference.ImageRef,
    tail: str,
    upstream: registries.Upstream | None,
    config: Config,
) -> Verdict:
    assert upstream is not None
    code = "PTC001" if upstream is registries.DOCKER_HUB else "PTC002"
    where = f"{written} is pulled straight from {upstream.title}"
    path = registries.upstream_path(ref.domain, ref.path)
    rule = _rule_for(upstream.url, path, config.rules)
    if rule is None:
        if upstream.default_prefix is None:  # the user's own ACR / ECR, with no rule for it
            return Verdict(Status.PRIVATE, None, f"{written} is in a private registry", ref, tail)
        return Verdict(
            Status.PUBLIC,
            code,
            f"{where}; no rule in the config maps {upstream.url}",
            ref,
            tail,
            upstream.url,
        )
    if rule.upstream_prefix:
        path = path[len(rule.upstream_prefix) + 1 :]
    repository = f"{rule.prefix}/{path}"
    if not registries.is_valid_repository(repository):
        return Verdict(
            Status.INVALID,
            "PTC007",
            f"{written}: {repository!r} cannot be an ECR repository name "
            f"(lowercase components joined by single '.', '_' or '-', at most "
            f"{registries.ECR_REPOSITORY_MAX} characters)",
            ref,
            tail,
            upstream.url,
            rule.prefix,
            repository,
        )
    target_name = f"{config.registry}/{repository}" if config.registry else None
    message = (
        f"{where}; use {target_name}{tail}"
        if target_name
        else f"{where}; cache it under {rule.prefix}/"
    )
    return Verdict(
        Status.PUBLIC, code, message, ref, tail, upstream.url, rule.prefix, repository, target_name
    )


def fails_lint(
    finding_code: str | None, upstream: str | None, prefix: str | None, fail_on: tuple[str, ...]
) -> bool:
    """`lint.fail-on`: 'supported' (PTC001/PTC002), 'unsupported' (PTC003), an upstream key such
    as 'docker-hub', a rule prefix, or a code such as 'PTC006'."""
    if finding_code is None or finding_code == "PTC900":
        return False
    rewritable = finding_code in ("PTC001", "PTC002")
    known = registries.upstream_for_url(upstream) if upstream else None
    for item in fail_on:
        if item == finding_code:
            return True
        if item == "supported" and rewritable:
            return True
        if item == "unsupported" and finding_code == "PTC003":
            return True
        if rewritable and item in ((known.key if known else None), prefix):
            return True
    return False
