"""`.ecr-ptc.yaml` -> Config. Errors name the file, the line and the reason."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

from migrate import registries

CONFIG_NAME = ".ecr-ptc.yaml"
MAX_FILE_SIZE = 10 * 1024 * 1024
# Files are read whole, twice over when rewritten: past this, a config means a mistake.
MAX_MAX_FILE_SIZE = 1024 * 1024 * 1024
_TOP_KEYS = {
    "registry", "rules", "lint", "exclude", "private", "max-file-size", "official-images",
    "templates", "ci", "include-tests", "crossplane-registry", "prove",
}  # fmt: skip
_CI_KEYS = {"github-runners-have-ecr-credential-helper"}
# `prove:` / --prove: auto proves where the renderer is installed, off writes on the static rules
# alone, require refuses (exit 2) a rewrite that cannot be proven.
PROVE_MODES = ("auto", "off", "require")
_LINT_KEYS = {"fail-on", "require-ci-credentials"}
_RULE_KEYS = {"upstream", "upstream-prefix"}
_HOST = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?"
)
# A Docker Hub path component: what `library/<name>` can hold (distribution/reference).
_OFFICIAL_NAME = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


class ConfigError(Exception):
    def __init__(self, path: Path | None, line: int, reason: str) -> None:
        super().__init__(reason)
        self.path, self.line, self.reason = path, line, reason

    def __str__(self) -> str:
        if self.path is None:
            return self.reason
        return f"{os.path.relpath(self.path)}:{self.line}: {self.reason}"  # relative, as all output


@dataclass(frozen=True)
class Rule:
    prefix: str  # ecrRepositoryPrefix
    upstream: str  # upstreamRegistryUrl
    upstream_prefix: str | None = None  # upstreamRepositoryPrefix (None: ROOT)
    credential_arn: str | None = None  # known only from the account


def default_rules() -> tuple[Rule, ...]:
    return tuple(Rule(u.default_prefix, u.url) for u in registries.UPSTREAMS if u.default_prefix)


@dataclass(frozen=True)
class Config:
    registry: str | None = None
    rules: tuple[Rule, ...] = field(default_factory=default_rules)
    fail_on: tuple[str, ...] = ("supported",)
    exclude: tuple[str, ...] = ()
    private: tuple[str, ...] = ()
    max_file_size: int = MAX_FILE_SIZE
    official_images: tuple[str, ...] = ()  # names added to the Docker Official Images list
    path: Path | None = None
    # lint: a CI job pulling from the cache must declare registry credentials (PTC013)
    require_ci_credentials: bool = False
    templates: Defaults | None = None  # `templates:`; None: Defaults()
    # `ci.github-runners-have-ecr-credential-helper`: the runners' Docker pulls from ECR on its
    # own, so a GitHub `docker://` step (pulled before any step can log in) may be rewritten
    runners_log_in: bool = False
    # read test directories (`tests/`, `testdata/`, `__fixtures__/`, ...) of a walked directory
    include_tests: bool = False
    # Crossplane's `--registry`, which a package named without one is pulled from; None: its
    # default (migrate.kinds.containers.CROSSPLANE_REGISTRY)
    crossplane_registry: str | None = None
    prove: str = "auto"  # one of PROVE_MODES

    def with_registry(self, registry: str | None) -> Config:
        return replace(self, registry=registry) if registry else self

    def excluded(self, relpath: str) -> bool:
        return any(fnmatch.fnmatch(relpath, pattern) for pattern in self.exclude)


def find(start: Path) -> Path | None:
    """Nearest `.ecr-ptc.yaml` from `start` up to the git root (never above it). Outside git the
    search stops at the home directory or where the file system changes, and never reads a
    shared temp directory: a stray config in /tmp must not decide what a run sees."""
    here = start.resolve()
    in_git = any(os.path.lexists(d / ".git") for d in (here, *here.parents))
    home = None if in_git else _home()
    device = None if in_git else _device(here)
    for directory in (here, *here.parents):
        if not in_git and _device(directory) != device:  # a mount point: stay on one file system
            return None
        candidate = directory / CONFIG_NAME
        if not _shared(directory) and _is_file(candidate):
            # A committed symlink must not make us read (and quote in an error) a file outside
            # the repository, such as ~/.aws/credentials.
            if candidate.is_symlink() and not candidate.resolve().is_relative_to(_top(directory)):
                raise ConfigError(candidate, 1, "config is a symlink to outside the repository")
            return candidate
        if os.path.lexists(directory / ".git") or directory == home:
            return None
    return None


def _home() -> Path | None:
    try:
        return Path.home().resolve()
    except (RuntimeError, OSError, KeyError):  # no HOME and no passwd entry
        return None


def _device(directory: Path) -> int | None:
    try:
        return os.stat(directory).st_dev
    except OSError:
        return None


def _shared(directory: Path) -> bool:
    """World-writable and sticky, as /tmp, /var/tmp, /dev/shm: anyone may have put a file there."""
    try:
        mode = os.stat(directory).st_mode
    except OSError:
        return True
    return bool(mode & stat.S_IWOTH and mode & stat.S_ISVTX)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # EACCES on the directory: nothing we could read there
        return False


def _top(directory: Path) -> Path:
    """The git work tree holding `directory`, else `directory` itself."""
    for parent in (directory, *directory.parents):
        if (parent / ".git").exists():
            return parent
    return directory


def load(path: Path) -> Config:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, 1, f"cannot read: {exc}") from None
    try:
        data = YAML(typ="rt", pure=True).load(text)  # round-trip loader: safe, and keeps lines
    except RecursionError:  # the composer recurses per level: ~400 levels exhaust the stack
        raise ConfigError(path, 1, "nested too deeply") from None
    except YAMLError as exc:
        # Only the parser's reason: str(exc) quotes the offending line, which may be a secret.
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or "not parseable"
        raise ConfigError(path, mark.line + 1 if mark else 1, f"invalid YAML: {reason}") from None
    if data is None:
        return Config(path=path)
    try:
        return _build(path, data)
    except RecursionError:  # a value nested hundreds of levels deep, compared or hashed
        raise ConfigError(path, 1, "nested too deeply") from None


def _line(node: Any, key: Any = None) -> int:
    try:
        return int(node.lc.key(key)[0] + 1 if key is not None else node.lc.line + 1)
    except (AttributeError, KeyError, TypeError):
        return 1


def _mapping(path: Path, node: Any, where: str, line: int) -> dict[Any, Any]:
    if not isinstance(node, dict):
        raise ConfigError(path, line, f"{where} must be a mapping")
    return node


def _strings(path: Path, node: Any, where: str, line: int) -> tuple[str, ...]:
    if isinstance(node, str):
        node = [node]
    if not isinstance(node, list) or not all(isinstance(s, str) for s in node):
        raise ConfigError(path, line, f"{where} must be a list of strings")
    return tuple(node)


def _build(path: Path, data: Any) -> Config:
    top = _mapping(path, data, "the config", 1)
    for key in top:
        if key not in _TOP_KEYS:
            raise ConfigError(path, _line(top, key), f"unknown key {key!r}")
    config = Config(path=path)
    if "registry" in top:
        registry = top["registry"]
        if not isinstance(registry, str) or not registries.ecr_host(registry):
            raise ConfigError(
                path,
                _line(top, "registry"),
                f"registry {registry!r} is not a private ECR host "
                "(<account>.dkr.ecr.<region>.amazonaws.com)",
            )
        config = replace(config, registry=registry.lower())
    if "rules" in top:
        config = replace(config, rules=_rules(path, top["rules"], _line(top, "rules")))
    if "lint" in top:
        lint = _mapping(path, top["lint"], "lint", _line(top, "lint"))
        for key in lint:
            if key not in _LINT_KEYS:
                raise ConfigError(path, _line(lint, key), f"unknown key 'lint.{key}'")
        if "fail-on" in lint:
            fail_on = _strings(path, lint["fail-on"], "lint.fail-on", _line(lint, "fail-on"))
            check_fail_on(fail_on, config.rules, path, _line(lint, "fail-on"))
            config = replace(config, fail_on=fail_on)
        if "require-ci-credentials" in lint:
            required = lint["require-ci-credentials"]
            if not isinstance(required, bool):
                line = _line(lint, "require-ci-credentials")
                raise ConfigError(path, line, "lint.require-ci-credentials must be true or false")
            config = replace(config, require_ci_credentials=required)
    if "ci" in top:
        config = _ci(path, top["ci"], _line(top, "ci"), config)
    if "crossplane-registry" in top:
        host = top["crossplane-registry"]
        if not isinstance(host, str) or not _HOST.fullmatch(host):
            line = _line(top, "crossplane-registry")
            raise ConfigError(path, line, f"crossplane-registry {host!r} is not a registry host")
        config = replace(config, crossplane_registry=host.lower())
    if "include-tests" in top:
        if not isinstance(top["include-tests"], bool):
            line = _line(top, "include-tests")
            raise ConfigError(path, line, "include-tests must be true or false")
        config = replace(config, include_tests=top["include-tests"])
    if "exclude" in top:
        config = replace(
            config, exclude=_strings(path, top["exclude"], "exclude", _line(top, "exclude"))
        )
    if "private" in top:
        config = replace(
            config, private=_strings(path, top["private"], "private", _line(top, "private"))
        )
    if "max-file-size" in top:
        size = top["max-file-size"]
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_MAX_FILE_SIZE:
            raise ConfigError(
                path,
                _line(top, "max-file-size"),
                f"max-file-size must be bytes from 1 to {MAX_MAX_FILE_SIZE} (1 GiB)",
            )
        config = replace(config, max_file_size=size)
    if "official-images" in top:
        config = replace(
            config, official_images=_official(path, top, _line(top, "official-images"))
        )
    if "templates" in top:
        config = replace(
            config, templates=_templates(path, top["templates"], _line(top, "templates"))
        )
    if "prove" in top:
        if not isinstance(top["prove"], str) or top["prove"] not in PROVE_MODES:
            modes = ", ".join(PROVE_MODES)
            raise ConfigError(path, _line(top, "prove"), f"prove: one of {modes}")
        config = replace(config, prove=top["prove"])
    return config


def _ci(path: Path, node: Any, line: int, config: Config) -> Config:
    ci = _mapping(path, node, "ci", line)
    for key in ci:
        if key not in _CI_KEYS:
            raise ConfigError(path, _line(ci, key), f"unknown key 'ci.{key}'")
    helper = "github-runners-have-ecr-credential-helper"
    if helper in ci:
        if not isinstance(ci[helper], bool):
            raise ConfigError(path, _line(ci, helper), f"ci.{helper} must be true or false")
        config = replace(config, runners_log_in=ci[helper])
    return config


def _official(path: Path, top: dict[Any, Any], line: int) -> tuple[str, ...]:
    names = _strings(path, top["official-images"], "official-images", line)
    for name in names:
        if not _OFFICIAL_NAME.fullmatch(name):
            raise ConfigError(
                path,
                line,
                f"official-images: {name!r} is not a Docker Hub name (as in library/NAME)",
            )
    return names


def _rules(path: Path, node: Any, line: int) -> tuple[Rule, ...]:
    rules = []
    for prefix, value in _mapping(path, node, "rules", line).items():
        at = _line(node, prefix)
        if not isinstance(prefix, str) or not registries.is_valid_prefix(prefix):
            raise ConfigError(
                path, at, f"bad prefix {prefix!r}: 2-30 characters of a-z 0-9 . _ - /"
            )
        upstream_prefix = None
        if isinstance(value, dict):
            for key in value:
                if key not in _RULE_KEYS:
                    raise ConfigError(
                        path, _line(value, key), f"unknown key 'rules.{prefix}.{key}'"
                    )
            upstream_prefix = value.get("upstream-prefix")
            if upstream_prefix is not None and not isinstance(upstream_prefix, str):
                raise ConfigError(
                    path,
                    _line(value, "upstream-prefix"),
                    f"rules.{prefix}.upstream-prefix must be a string",
                )
            value = value.get("upstream")
        if not isinstance(value, str) or registries.upstream_for_url(value) is None:
            raise ConfigError(
                path,
                at,
                f"rule {prefix!r}: {value!r} is not an upstream pull-through cache supports",
            )
        rules.append(Rule(prefix, registries.host_of(value), upstream_prefix or None))
    return tuple(rules)


def check_fail_on(
    fail_on: tuple[str, ...], rules: tuple[Rule, ...], path: Path | None = None, line: int = 1
) -> None:
    from migrate.findings import CODES

    known = {"supported", "unsupported", *CODES} | {u.key for u in registries.UPSTREAMS}
    known |= {rule.prefix for rule in rules}
    for item in fail_on:
        if item not in known:
            raise ConfigError(
                path, line, f"lint.fail-on: unknown {item!r} (one of {sorted(known)})"
            )


# `templates:`: what `rules plan` proposes for the repositories a rule creates
# (migrate.aws.templates: coverage and the proposal itself).
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


_KEYS = {"create", "lifecycle", "encryption", "kms-key", "tags", "role", "description"}
_LIFECYCLE_KEYS = {"keep-last", "expire-untagged-days"}
_ROLE = re.compile(r"^arn:aws[a-z0-9-]*:iam::[0-9]{12}:role/\S+$")
_KMS_KEY = re.compile(r"^arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-z0-9-]+$")


def _templates(path: Path, node: Any, line: int) -> Defaults:
    """The `templates:` section (`templates: false` turns proposals off)."""
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
