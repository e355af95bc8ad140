"""The CI corpus ($ECR_PTC_CORPUS/ci): every image Renovate 39's CI managers extract is found, and
`fix` changes only image values.

RENOVATE was built by reading each file with the logic of Renovate's extractors
(lib/modules/manager/{github-actions,gitlabci,circleci,droneci,woodpecker,cloudbuild,
devcontainer}/extract.ts at 39.264.0; its azure-pipelines manager reads only
`resources.containers`, absent here, and its buildkite manager plugin versions only). A string
Renovate reports as it is written must be a finding of that file with the same `original`.
Where Renovate reports a variable, parameter or matrix expression as it is written (and skips
it), ecr-ptc follows it to the values the file gives it: RESOLVED lists them.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from migrate.cli import main
from tests.helpers import CORPUS, REGISTRY

pytestmark = pytest.mark.corpus
CI = CORPUS / "ci" if CORPUS else Path()

RENOVATE: dict[str, tuple[str, ...]] = {
    "GNOME__glib/.gitlab-ci.yml": (
        "${ALPINE_IMAGE}",
        "${COVERITY_IMAGE}",
        "${DEBIAN_I386_IMAGE}",
        "${DEBIAN_IMAGE}",
        "${FEDORA_IMAGE}",
        "${MINGW_IMAGE}",
        "registry.gitlab.com/gitlab-org/distribution/issue-bot:latest",
    ),
    "Kong__kong/.github/workflows/build_and_test.yml": (
        "kong/grpcbin",
        "openzipkin/zipkin:2",
        "postgres:13",
        "redis",
        "redis/redis-stack-server",
    ),
    "Kong__kong/.github/workflows/deck-integration.yml": ("postgres:13",),
    "Kong__kong/.github/workflows/release.yml": ("${{ matrix.image }}",),
    "curl__curl/.github/workflows/linux-old.yml": (
        "debian:stretch-20220622-slim@sha256:c5cd3ffceeb25b683bf5111ea89bf8049a177e00fb237235d48076a19cc80097",
    ),
    "curl__curl/.github/workflows/linux.yml": ("${{ matrix.build.container }}",),
    "drone-plugins__drone-docker/.drone.yml": (
        "golang:1.24.11",
        "plugins/docker:18",
        "plugins/docker@sha256:f0233d950ae87ee6cb5500b2d5497fe02aa338201c0bdce2619f443fd174cfa4",
        "plugins/manifest",
    ),
    "ethereum__solidity/.circleci/config.yml": (
        "<< parameters.image >>",
        "<< pipeline.parameters.emscripten-docker-image >>",
        "<< pipeline.parameters.ubuntu-2004-docker-image >>",
        "<< pipeline.parameters.ubuntu-2404-clang-docker-image >>",
        "<< pipeline.parameters.ubuntu-2404-docker-image >>",
        "<< pipeline.parameters.ubuntu-clang-ossfuzz-docker-image >>",
        "archlinux:base",
        "cimg/base:current",
        "cimg/node:current",
        "cimg/python:3.6",
        "cimg/rust:1.79.0-node",
    ),
    "git__git/.github/workflows/main.yml": (
        "${{ matrix.vector.image }}",
        "ubuntu:rolling",
    ),
    "git__git/.gitlab-ci.yml": (
        "$image",
        "ubuntu:latest",
        "ubuntu:rolling",
    ),
    "gitlabhq__gitlab-runner/.gitlab/ci/_common.gitlab-ci.yml": (
        "$CI_IMAGE",
        "alpine:latest",
        "docker:${DOCKER_VERSION}-dind",
    ),
    "gitlabhq__gitlab-runner/.gitlab/ci/build.gitlab-ci.yml": (
        "${RUNNER_IMAGES_REGISTRY}/ci:${RUNNER_IMAGES_VERSION}-prebuilt-images",
        "${RUNNER_IMAGES_REGISTRY}/ubi-go:${RUNNER_IMAGES_VERSION}",
        "alpine:latest",
        "registry.gitlab.com/gitlab-org/cloud-native/container-dependencies-finder/cdf:main",
    ),
    "gitlabhq__gitlab-runner/.gitlab/ci/docs.gitlab-ci.yml": ("ruby:${RUBY_VERSION}-alpine",),
    "gitlabhq__gitlab-runner/.gitlab/ci/postrelease.gitlab-ci.yml": (
        "alpine:latest",
        "registry.gitlab.com/gitlab-org/release-cli:latest",
    ),
    "gitlabhq__gitlab-runner/.gitlab/ci/qa.gitlab-ci.yml": (
        "$DOCS_HUGO_IMAGE",
        "$DOCS_LINT_IMAGE",
        "$RUNNER_LINTERS_IMAGE",
        "node:alpine",
    ),
    "gitlabhq__gitlab-runner/.gitlab/ci/test.gitlab-ci.yml": (
        "golang:$GO_VERSION",
        "golang:latest",
    ),
    "kubernetes__kube-state-metrics/cloudbuild.yaml": (
        "gcr.io/k8s-staging-test-infra/gcb-docker-gcloud@sha256:ff388e0dc16351e96f8464e2e185b74a7578a5ccb7a112cf3393468e59e6e2d2",
    ),
    "mbroz__cryptsetup/.gitlab/ci/cifuzz.yml": ("ubuntu:noble",),
    "mbroz__cryptsetup/.gitlab/ci/compilation-spellcheck.yml": ("ubuntu:noble",),
    "mbroz__cryptsetup/.gitlab/ci/gitlab-shared-docker.yml": (
        "alpine:latest",
        "ubuntu:noble",
    ),
    "netbox-community__netbox/.github/workflows/ci.yml": (
        "postgres",
        "redis",
    ),
    "netbox-community__netbox/.github/workflows/release.yml": (
        "postgres:17",
        "redis:7",
    ),
    "numpy__numpy/.circleci/config.yml": ("cimg/python:3.12.12",),
    "numpy__numpy/.devcontainer/devcontainer.json": (
        "mcr.microsoft.com/devcontainers/universal:2",
    ),
    "numpy__numpy/.github/workflows/compiler_sanitizers.yml": (
        "ghcr.io/nascheme/cpython-asan:3.14@sha256:b5bfbcdca07e86d22afaf66e3b57959e1c44756452dcabda1efde7711fd0bdde",
        "ghcr.io/nascheme/numpy-tsan:3.14t@sha256:1ec427e2e480cc373d0fecbf21b8ac590fb94119fb81d18489945cd0afd04dd3",
    ),
    "numpy__numpy/.github/workflows/linux.yml": ("quay.io/pypa/manylinux_2_28_i686",),
    "numpy__numpy/.github/workflows/linux_blas.yml": (
        "fedora:39",
        "opensuse/tumbleweed",
    ),
    "woodpecker-ci__woodpecker/.woodpecker/binaries.yaml": (
        "docker.io/golang:1.27",
        "docker.io/node:24-alpine",
        "docker.io/techknowlogick/xgo:go-1.27.x",
        "woodpeckerci/plugin-release:0.3.1",
    ),
    "woodpecker-ci__woodpecker/.woodpecker/docker.yaml": (
        "docker.io/golang:1.27",
        "docker.io/node:24-alpine",
        "docker.io/techknowlogick/xgo:go-1.27.x",
        "docker.io/woodpeckerci/plugin-docker-buildx:6.1.1",
    ),
    "woodpecker-ci__woodpecker/.woodpecker/docs.yaml": (
        "docker.io/alpine:3.24",
        "docker.io/golang:1.27",
        "docker.io/node:24-alpine",
        "docker.io/woodpeckerci/plugin-surge-preview:1.4.2",
    ),
    "woodpecker-ci__woodpecker/.woodpecker/links.yaml": (
        "docker.io/alpine:3.24",
        "docker.io/lycheeverse/lychee:0.24.2",
    ),
    "woodpecker-ci__woodpecker/.woodpecker/release-helper.yaml": (
        "docker.io/woodpeckerci/plugin-ready-release-go:4.1.2",
    ),
    "woodpecker-ci__woodpecker/.woodpecker/securityscan.yaml": (
        "docker.io/woodpeckerci/plugin-trivy:1.6.0",
    ),
    "woodpecker-ci__woodpecker/.woodpecker/social.yaml": (
        "docker.io/woodpeckerci/plugin-bluesky-post",
        "docker.io/woodpeckerci/plugin-mastodon-post",
    ),
    "woodpecker-ci__woodpecker/.woodpecker/static.yaml": (
        "docker.io/alpine:3.24",
        "docker.io/node:24-alpine",
        "docker.io/woodpeckerci/plugin-agentscan:latest",
        "docker.io/woodpeckerci/plugin-editorconfig-checker:0.3.3",
        "docker.io/woodpeckerci/plugin-prettier:next",
    ),
    "woodpecker-ci__woodpecker/.woodpecker/test.yaml": (
        "docker.io/golang:1.27",
        "docker.io/mysql:26.7.0",
        "docker.io/postgres:18",
        "docker.io/woodpeckerci/plugin-codecov:2.3.2",
        "golangci/golangci-lint:v2.12.2",
    ),
    "woodpecker-ci__woodpecker/.woodpecker/web.yaml": ("docker.io/node:24-alpine",),
}
_GIT_MATRIX = (
    "almalinux:8",
    "alpine:latest",
    "debian:11",
    "fedora:latest",
    "i386/ubuntu:20.04",
    "ubuntu:20.04",
    "ubuntu:rolling",
)
_SOLIDITY_DEPS = "solbuildpackpusher/solidity-buildpack-deps@sha256:"
RESOLVED: dict[tuple[str, str], tuple[str, ...]] = {
    ("GNOME__glib/.gitlab-ci.yml", "${ALPINE_IMAGE}"): (
        "registry.gitlab.gnome.org/gnome/glib/alpine:v8",
    ),
    ("GNOME__glib/.gitlab-ci.yml", "${COVERITY_IMAGE}"): (
        "registry.gitlab.gnome.org/gnome/glib/coverity:v7",
    ),
    ("GNOME__glib/.gitlab-ci.yml", "${DEBIAN_I386_IMAGE}"): (
        "registry.gitlab.gnome.org/gnome/glib/debian-stable-i386:v5",
    ),
    ("GNOME__glib/.gitlab-ci.yml", "${DEBIAN_IMAGE}"): (
        "registry.gitlab.gnome.org/gnome/glib/debian-stable:v25",
    ),
    ("GNOME__glib/.gitlab-ci.yml", "${FEDORA_IMAGE}"): (
        "registry.gitlab.gnome.org/gnome/glib/fedora:v41.4",
    ),
    ("GNOME__glib/.gitlab-ci.yml", "${MINGW_IMAGE}"): (
        "registry.gitlab.gnome.org/gnome/glib/mingw:v41.3",
    ),
    ("curl__curl/.github/workflows/linux.yml", "${{ matrix.build.container }}"): (
        "andy5995/slackware-build-essential:15.0@sha256:f4f2242999038a2c2deb4e5727187caaae92502a7daf8353068932621e1ec92f",
        "alpine:3.23@sha256:5b10f432ef3da1b8d4c7eb6c487f2f5a8f096bc91145e68878dd4a5019afde11",
        "alpine:3.20@sha256:d9e853e87e55526f6b2917df91a2115c36dd7c696a35be12163d44e6e2a4b6bc",
    ),
    # the job parameter's default, and the values workflow entries pass for it
    ("ethereum__solidity/.circleci/config.yml", "<< parameters.image >>"): (
        "cimg/node:current",
        "cimg/node:14.20",
        "cimg/node:18.16",
        "cimg/rust:1.74.0-node",
        # not cimg/node:16.20: its anchor (job_native_compile_ext_chainlink) invokes no job
    ),
    (
        "ethereum__solidity/.circleci/config.yml",
        "<< pipeline.parameters.emscripten-docker-image >>",
    ): (_SOLIDITY_DEPS + "c57f2bfb8c15d70fe290629358dd1c73dc126e3760f443b54764797556b887d4",),
    (
        "ethereum__solidity/.circleci/config.yml",
        "<< pipeline.parameters.ubuntu-2004-docker-image >>",
    ): (_SOLIDITY_DEPS + "b3f321fb2d8e7a41ca9328672061c1840e5cd3fb5be503aa158d1c508deacf0a",),
    (
        "ethereum__solidity/.circleci/config.yml",
        "<< pipeline.parameters.ubuntu-2404-clang-docker-image >>",
    ): (_SOLIDITY_DEPS + "bc99a858ba18e088c1cb889ce631e3e707bb3348f0ae452bfe69116dbb931173",),
    (
        "ethereum__solidity/.circleci/config.yml",
        "<< pipeline.parameters.ubuntu-2404-docker-image >>",
    ): (_SOLIDITY_DEPS + "5d6d27551104321a30326d6024bd4e96d9d899a97a78eb9feea364996f1d18b5",),
    (
        "ethereum__solidity/.circleci/config.yml",
        "<< pipeline.parameters.ubuntu-clang-ossfuzz-docker-image >>",
    ): (_SOLIDITY_DEPS + "8883fa2845bbc1e0922af60439313666e4ba325f67a117e17d78cca3ea6589b3",),
    ("git__git/.github/workflows/main.yml", "${{ matrix.vector.image }}"): _GIT_MATRIX,
    # test:linux's matrix; test:osx's `$image` values are macOS VM names, not containers
    ("git__git/.gitlab-ci.yml", "$image"): _GIT_MATRIX,
    # given values in another file of the pipeline (GitLab merges the includes)
    ("gitlabhq__gitlab-runner/.gitlab/ci/_common.gitlab-ci.yml", "$CI_IMAGE"): (
        "${RUNNER_IMAGES_REGISTRY}/ci:${RUNNER_IMAGES_VERSION}",
    ),
    ("gitlabhq__gitlab-runner/.gitlab/ci/qa.gitlab-ci.yml", "$DOCS_HUGO_IMAGE"): (
        "registry.gitlab.com/gitlab-org/technical-writing/docs-gitlab-com/docs-gitlab-com-builder:hugo-0.154.5",
    ),
    ("gitlabhq__gitlab-runner/.gitlab/ci/qa.gitlab-ci.yml", "$DOCS_LINT_IMAGE"): (
        "registry.gitlab.com/gitlab-org/technical-writing/docs-gitlab-com/lint-markdown:alpine-3.23-vale-3.14.1-markdownlint2-0.22.1-lychee-0.24.2",
    ),
    ("gitlabhq__gitlab-runner/.gitlab/ci/qa.gitlab-ci.yml", "$RUNNER_LINTERS_IMAGE"): (
        "registry.gitlab.com/gitlab-org/ci-cd/runner-tools/runner-linters:${GOLANGLINT_VERSION}-go${GO_VERSION}",
    ),
}
# Where a value RESOLVED names is written, when not in the file that uses it.
_DEFINED_IN = {
    "gitlabhq__gitlab-runner/.gitlab/ci/qa.gitlab-ci.yml": (
        "gitlabhq__gitlab-runner/.gitlab/ci/_common.gitlab-ci.yml"
    ),
}
# Not container images, never findings (the list).
_NEVER = ("macos-15-xcode-16", "macos-26-xcode-26", "ubuntu-2204:2025.09.1", "ubuntu-latest")
PROJECTS = sorted(p.name for p in CI.iterdir() if p.is_dir()) if CORPUS else []


@pytest.fixture(scope="module")
def scanned() -> dict[str, set[str]]:
    """Each file's findings' `original`, scanning each project from its own root (as GitLab reads
    a repository's root `.gitlab-ci.yml`)."""
    found: dict[str, set[str]] = {}
    for project in PROJECTS:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(CI)
            buffer = _scan(project)
        for finding in buffer["findings"]:
            if finding["original"] is not None:
                found.setdefault(finding["path"], set()).add(finding["original"])
    return found


def _scan(project: str) -> dict[str, Any]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["scan", "--format", "json", project])
    report: dict[str, Any] = json.loads(out.getvalue())
    assert report["errors"] == [], report["errors"]
    return report


@pytest.mark.parametrize("path", sorted(RENOVATE))
def test_every_image_renovate_extracts_is_found(path: str, scanned: dict[str, set[str]]) -> None:
    for image in RENOVATE[path]:
        if (path, image) in RESOLVED:
            where = _DEFINED_IN.get(path, path)
            missing = set(RESOLVED[path, image]) - scanned.get(where, set())
            assert not missing, f"{image} resolves to {missing}, not found in {where}"
        else:
            assert image in scanned.get(path, set()), f"{path}: {image}"


def test_vm_images_and_templated_originals_are_not_findings(scanned: dict[str, set[str]]) -> None:
    every = set().union(*scanned.values())
    assert not every.intersection(_NEVER)
    # Resolved expressions are reported where their values are, not where they are used.
    used = {image for (_, image) in RESOLVED if image != "$CI_IMAGE"}
    assert not every.intersection(used)


def _copy(dest: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(CI.rglob("*")):
        if path.is_file():
            rel = path.relative_to(CI).as_posix()
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
            files[rel] = path.read_bytes()
    return files


def _tree(node: Any) -> object:
    if node.id == "scalar":
        return node.value
    if node.id == "sequence":
        return [_tree(item) for item in node.value]
    return [(_tree(key), _tree(value)) for key, value in node.value]


def _data(rel: str, raw: bytes) -> object:
    """The data, read by a parser that is not ours: ruamel's composer for YAML (nothing
    constructed, so `!reference` tags are fine), comments stripped and `json` for JSONC."""
    text = raw.decode("utf-8-sig")
    if rel.endswith(".json"):
        text = re.sub(
            r'("(?:[^"\\]|\\.)*")|//[^\n]*|/\*.*?\*/', lambda m: m[1] or "", text, flags=re.DOTALL
        )
        return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # solidity's reused anchor names: legal YAML
        return [_tree(doc) for doc in YAML(typ="safe", pure=True).compose_all(text)]


def _differences(old: object, new: object) -> Iterator[tuple[object, object]]:
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        assert len(old) == len(new)
        for a, b in zip(old, new):
            yield from _differences(a, b)
    elif isinstance(old, dict) and isinstance(new, dict):
        assert list(old) == list(new)
        for key in old:
            yield from _differences(old[key], new[key])
    elif old != new:
        yield old, new


def test_fix_changes_only_image_values(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _copy(in_tmp)
    for project in PROJECTS:
        assert main(["fix", "--registry", REGISTRY, project]) in (0, 1)
    out, err = capsys.readouterr()
    assert "PTC900" not in err
    changed = [rel for rel in before if (in_tmp / rel).read_bytes() != before[rel]]
    assert len(changed) == out.count("rewrote ") > 20
    values = 0
    for rel in changed:
        diffs = list(_differences(_data(rel, before[rel]), _data(rel, (in_tmp / rel).read_bytes())))
        assert diffs, rel
        for old, new in diffs:
            assert isinstance(new, str) and new.startswith(REGISTRY + "/"), (rel, old, new)
            assert isinstance(old, str) and new.endswith(old.rsplit("/", 1)[-1]), (rel, old, new)
        values += len(diffs)
    # each CI system the migration touched is told once what it needs to pull
    for system in ("GitHub Actions", "GitLab CI", "CircleCI", "Drone", "Woodpecker", "Buildkite"):
        assert err.count(f"ecr-ptc: {system} must log in") >= 1, system
    with capsys.disabled():
        print(
            f"\nCI corpus: {len(before)} files, {len(changed)} rewritten, {values} values changed"
        )
    for project in PROJECTS:
        assert main(["fix", "--registry", REGISTRY, project]) == 0
    assert "rewrote" not in capsys.readouterr().out
