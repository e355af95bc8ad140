"""Prove only what can change: the kustomize prover builds the smallest kustomization holding a
rewrite and those that transform images, not every one that includes it, and refuses exactly
what building them all refused (`_Run.minimal`; the reasoning is in `_Run._selected`)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from migrate.config import Config
from migrate.provers import kustomize
from migrate.provers import kustomize_build as build
from migrate.provers import kustomize_cache as kept
from migrate.rewrite import engine
from tests.helpers import CORPUS, FIXTURES, REGISTRY

needs_kubectl = pytest.mark.skipif(build.command() is None, reason="kubectl is not on PATH")
_KUSTOMIZE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _corpus_trees() -> list[Path]:
    if CORPUS is None:
        return []
    return sorted(
        tree
        for tree in CORPUS.iterdir()
        if tree.is_dir() and any(next(tree.rglob(name), None) for name in _KUSTOMIZE_NAMES)
    )


def _run(
    root: Path, minimal: bool, monkeypatch: pytest.MonkeyPatch, wrong: Callable[[str], bool]
) -> tuple[set[tuple[str, str]], list[Path]]:
    """The (file, code) refusals and notes of a `fix --check`, and the directories built; an
    image `wrong` picks builds as busybox after the rewrite (a rewrite gone wrong): in the
    staged copy or a probe of the rewritten files, not in the repository or a probe of its
    files as they are."""
    real, built = build.images, []

    def images(cmd: list[str], directory: Path) -> list[str] | str:
        built.append(directory)
        found = real(cmd, directory)
        if isinstance(found, str) or directory.is_relative_to(root) or _as_is(directory):
            return found
        return ["busybox:1" if wrong(image) else image for image in found]

    monkeypatch.setattr(kustomize._Run, "minimal", minimal)
    monkeypatch.setattr(build, "images", images)
    monkeypatch.setattr(kept, "load", lambda root, digest: None)  # every build counted
    results = engine.run(["."], Config(registry=REGISTRY), root, fix=True, write=False, jobs=1)
    said = {(r.path, f.code) for r in results for f in r.findings if f.code in ("PTC010", "PTC011")}
    monkeypatch.undo()
    return said, built


def _as_is(directory: Path) -> bool:
    """Is `directory` a probe of files as they are (`kustomize._Run._probe_files`)?"""
    return any(p.name == kustomize.AS_IS and p.parent.name.startswith(kustomize.PREFIX)
               for p in directory.parents)  # fmt: skip


def _probed(built: list[Path]) -> set[str]:
    """The components of these builds' probes, as they are (before) or rewritten (after)."""
    out = set()
    for directory in built:
        for tree in directory.parents:
            if tree.name in (kustomize.AS_IS, kustomize.REWRITTEN):
                out.add(f"{tree.name}:{directory.relative_to(tree).as_posix()}")
                break
    return out


def _git(root: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)


@needs_kubectl
@pytest.mark.corpus
# Without the corpus, one placeholder: the corpus mark skips it with the suite's one reason.
@pytest.mark.parametrize("tree", [t.name for t in _corpus_trees()] or ["no-corpus"])
@pytest.mark.parametrize("wrong", ["none", "redis", "every"])
def test_corpus_trees_refuse_the_same_with_fewer_builds(
    tree: str, wrong: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CORPUS is not None
    shutil.copytree(CORPUS / tree, tmp_path, dirs_exist_ok=True, symlinks=True)
    _git(tmp_path)
    picks = {"none": lambda i: False, "redis": lambda i: "redis" in i, "every": lambda i: True}

    every, all_built = _run(tmp_path, False, monkeypatch, picks[wrong])
    fewest, some_built = _run(tmp_path, True, monkeypatch, picks[wrong])

    assert fewest == every
    assert len(some_built) <= len(all_built)
    if wrong != "none":
        assert any(code == "PTC010" for _, code in every) or not all_built


def _shared_base(root: Path, overlays: int) -> None:
    """One base deployment, read by `overlays` overlays that only set a namespace, and one that
    overrides an image."""
    shutil.copytree(FIXTURES / "kustomize" / "overlay" / "in", root, dirs_exist_ok=True)
    for n in range(overlays):
        (root / f"env{n}").mkdir()
        (root / f"env{n}" / "kustomization.yaml").write_text(
            f"resources:\n  - ../base\nnamespace: env{n}\ncommonLabels:\n  env: env{n}\n"
        )


@needs_kubectl
@pytest.mark.parametrize("wrong", [False, True])
def test_a_base_used_by_many_is_built_alone(
    wrong: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shared_base(tmp_path, 6)
    _git(tmp_path)

    every, all_built = _run(tmp_path, False, monkeypatch, lambda i: wrong and "redis" in i)
    fewest, some_built = _run(tmp_path, True, monkeypatch, lambda i: wrong and "redis" in i)

    assert fewest == every
    assert ({p for p, c in every if c == "PTC010"} != set()) is wrong
    built = {p.relative_to(tmp_path).as_posix() for p in some_built if p.is_relative_to(tmp_path)}
    assert built == {"base", "overlay"}  # the base itself and the overlay with `images:`
    assert len(all_built) == 2 * 8 and len(some_built) == 2 * 2


@needs_kubectl
@pytest.mark.parametrize("wrong", [False, True])
def test_overrides_that_match_no_rewritten_image_are_not_built(
    wrong: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`images:` entries for other images leave the rewritten ones as the base builds them:
    such an overlay is not built, and refuses what building it would have. A name kustomize
    would match as a pattern (`.` is any character) is built."""
    _shared_base(tmp_path, 0)
    for name, image in (
        ("other", "ghcr.io/acme/app"),
        ("dotted", "quay.io/prometheus/node.exporter"),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "kustomization.yaml").write_text(
            f"resources:\n  - ../base\nimages:\n  - name: {image}\n    newTag: '2'\n"
        )
    _git(tmp_path)

    every, _ = _run(tmp_path, False, monkeypatch, lambda i: wrong and "redis" in i)
    fewest, some_built = _run(tmp_path, True, monkeypatch, lambda i: wrong and "redis" in i)

    assert fewest == every
    # kustomize matches the dotted name to node-exporter, which the rewrite then moves out of
    # its reach: only the dotted overlay's build shows it (the static rule compares names).
    assert ("base/deployment.yaml", "PTC010") in every
    built = {p.relative_to(tmp_path).as_posix() for p in some_built if p.is_relative_to(tmp_path)}
    assert built == {"base", "overlay", "dotted"}


@pytest.mark.parametrize(
    ("name", "image", "matches"),
    [
        ("nginx", "nginx", True),
        ("nginx", "nginx:1.27", True),
        ("nginx", "nginx@sha256:" + "a" * 64, True),
        ("nginx", "nginx-exporter:1", False),
        ("nginx", "docker.io/library/nginx:1.27", True),  # with or without docker.io/library
        ("docker.io/nginx", "nginx:1.27", True),
        ("quay.io/app", "quayxio/app:1", True),  # `.` is any character to kustomize
        ("quay.io/app", "quay.io/app2:1", False),
        ("ghcr.io/acme/app", "redis:7.2", False),
        ("ghcr.io/acme/app", "123456789012.dkr.ecr.us-east-1.amazonaws.com/x/redis:7.2", False),
        ("app|redis", "redis:7.2", True),  # any other pattern character: assumed to match
        ("[a-z]+", "redis:7.2", True),
    ],
)
def test_which_overrides_may_match_an_image(name: str, image: str, matches: bool) -> None:
    assert kustomize._may_match(name, image) is matches


_PATCH = (
    "resources:\n- ../base\npatches:\n- patch: |\n    - op: replace\n      path: {path}\n"
    "      value: 2\n  target: {{kind: Deployment}}\n"
)


# A strategic merge patch of the base's containers: it names an image field or it does not.
_MERGE = (
    "resources:\n- ../base\npatches:\n- patch: |\n    kind: Deployment\n    metadata: {{name: web}}\n"
    "    spec:\n      template:\n        spec:\n          containers:\n              {container}\n"
)


@pytest.mark.parametrize(
    ("kustomization", "transforms"),
    [
        ("resources: [../base]\nnamespace: x\n", False),
        ("resources:\n  - ../base\nimages:\n  - name: redis\n    newTag: '8'\n", True),
        ("resources:\n  - ../base\nimages:\n  - name: nginx\n    newTag: '2'\n", False),
        ("resources: [../base]\nimages: {name: nginx, newTag: '2'}\n", True),
        ("resources: [../base]\nimages: [nginx]\n", True),
        ("resources: [../base]\nimages: [{newTag: '2'}]\n", True),
        ("resources: [../base]\nimages: [redis, {name: nginx, newTag: '2'}]\n", True),
        ("resources:\n  - ../base\nreplacements:\n  - path: r.yaml\n", True),
        ("resources:\n  - ../base\ntransformers:\n  - t.yaml\n", True),
        (_PATCH.format(path="/spec/replicas"), False),
        (_PATCH.format(path="/spec/template/spec/containers/0/image"), True),
        (_MERGE.format(container="- name: web\n                env: [{name: A, value: b}]"), False),
        (_MERGE.format(container="- name: web\n                image: nginx:2"), True),
        (_MERGE.format(container="- name: cache\n                $patch: delete"), False),
        ("resources:\n- ../base\npatches:\n- path: missing.yaml\n", True),
        ("<<: *x\nresources: [../base]\n", True),
        ("{resources: [../base]}\n", True),
    ],
)
def test_what_transforms_images(kustomization: str, transforms: bool, tmp_path: Path) -> None:
    """With the base's redis rewritten: what can make `o`'s build differ from its base's."""
    from migrate.context import Repo
    from migrate.provers.protocol import Change

    shutil.copytree(FIXTURES / "kustomize" / "overlay" / "in" / "base", tmp_path / "base")
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "kustomization.yaml").write_text(kustomization)
    _git(tmp_path)
    deployment = tmp_path / "base" / "deployment.yaml"
    before = deployment.read_bytes()
    after = before.replace(b"redis:7.2", f"{REGISTRY}/docker-hub/library/redis:7.2".encode())
    run = kustomize._Run(
        Repo(tmp_path), {deployment: Change(before, after)}, Config(registry=REGISTRY)
    )
    list(run.static())  # the images the run changes are the static check's

    assert run._transforms("o") is transforms
    assert run._transforms("base") is False


def _counted_builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The directories kubectl builds from now on, in order (the builds still run)."""
    real, built = build.images, []

    def images(cmd: list[str], directory: Path) -> list[str] | str:
        built.append(directory)
        return real(cmd, directory)

    monkeypatch.setattr(build, "images", images)
    return built


@needs_kubectl
def test_before_builds_are_kept_between_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second run on the same files builds nothing before the rewrite; a changed file under a
    kustomization it reads builds it again; a broken entry is built again."""
    _shared_base(tmp_path, 2)
    _git(tmp_path)
    built = _counted_builds(monkeypatch)

    def before_builds() -> set[str]:
        built.clear()
        list(engine.run(["."], Config(registry=REGISTRY), tmp_path, fix=True, jobs=1))
        return {p.relative_to(tmp_path).as_posix() for p in built if p.is_relative_to(tmp_path)}

    assert before_builds() == {"base", "overlay"}
    assert before_builds() == set()
    (tmp_path / "base" / "notes.txt").write_text("any file under a kustomization is an input\n")
    assert before_builds() == {"base", "overlay"}  # the overlay reads the base
    for entry in (tmp_path / ".git" / kept.DIRECTORY).iterdir():
        entry.write_text('{"format": 1, "images": [1]}')
    assert before_builds() == {"base", "overlay"}
    assert before_builds() == set()


@needs_kubectl
def test_after_builds_are_kept_for_the_same_rewrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fix --check` twice (or `fix --diff`, then `fix`): the second run plans the same
    rewrites and builds nothing, before or after them; other rewrites (another registry) are
    built after them again."""
    _shared_base(tmp_path, 2)
    _git(tmp_path)
    built = _counted_builds(monkeypatch)

    def builds(registry: str = REGISTRY) -> tuple[int, int]:
        """(before, after) builds of a `fix --check`, and that it refuses nothing."""
        built.clear()
        results = engine.run(["."], Config(registry=registry), tmp_path, fix=True, jobs=1)
        assert not [f for r in results for f in r.findings if f.code in ("PTC010", "PTC011")]
        before = sum(1 for p in built if p.is_relative_to(tmp_path))
        return before, len(built) - before

    assert builds() == (2, 2)
    assert builds() == (0, 0)
    assert builds(REGISTRY.replace("123456789012", "210987654321")) == (0, 2)
    assert builds() == (0, 0)


_SIDECAR = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: statsd
spec:
  template:
    spec:
      containers:
        - name: exporter
          image: prom/statsd-exporter:v0.27.1
"""
# A component adding a deployment of its own and merging an environment variable into the
# base's: its patch names no image field, so it transforms none.
_COMPONENT = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
  - statsd.yaml
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        template:
          spec:
            containers:
              - name: web
                env: [{name: STATSD, value: statsd:9125}]
"""


def _component_tree(root: Path, overlays: int) -> None:
    """The shared base, a component with its own image, and overlays applying it (one also
    deleting the base's deployment: the component's image is then all it builds)."""
    _shared_base(root, 0)
    shutil.rmtree(root / "overlay")  # its `images:` transform the base's: built anyway
    (root / "sidecar").mkdir()
    (root / "sidecar" / "statsd.yaml").write_text(_SIDECAR)
    (root / "sidecar" / "kustomization.yaml").write_text(_COMPONENT)
    for n in range(overlays):
        (root / f"env{n}").mkdir()
        (root / f"env{n}" / "kustomization.yaml").write_text(
            f"resources: [../base]\ncomponents: [../sidecar]\nnamespace: env{n}\n"
        )
    (root / "alone").mkdir()
    (root / "alone" / "kustomization.yaml").write_text(
        "resources: [../base]\ncomponents: [../sidecar]\npatches:\n- patch: |\n"
        "    {apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, $patch: delete}\n"
    )


@needs_kubectl
@pytest.mark.parametrize("wrong", ["none", "statsd", "redis"])
def test_a_component_s_own_images_are_proven_by_a_probe(
    wrong: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overlays that transform no image and apply a component whose resource file is rewritten
    are not built: a probe of that file alone is, before and after the rewrite, and they
    refuse what building them would have: a wrong image, the component's or the base's, refuses
    every rewritten file they read."""
    _component_tree(tmp_path, 3)
    _git(tmp_path)
    picks = {"none": lambda i: False, "statsd": lambda i: "statsd" in i, "redis": lambda i: "redis" in i}  # fmt: skip

    every, all_built = _run(tmp_path, False, monkeypatch, picks[wrong])
    fewest, some_built = _run(tmp_path, True, monkeypatch, picks[wrong])

    assert fewest == every
    refused = {p for p, c in every if c == "PTC010"}
    assert refused == (
        set() if wrong == "none" else {"sidecar/statsd.yaml", "base/deployment.yaml"}
    )
    built = {p.relative_to(tmp_path).as_posix() for p in some_built if p.is_relative_to(tmp_path)}
    assert built == {"base"}
    assert _probed(some_built) == {"as-is:sidecar", "rewritten:sidecar"}
    assert len(all_built) == 2 * 5 and len(some_built) == 2 * 2


@needs_kubectl
def test_a_probe_that_fails_builds_the_kustomizations_applying_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A component whose files kubectl cannot build alone is proven as before: by building
    every kustomization applying it."""
    _component_tree(tmp_path, 2)
    _git(tmp_path)
    real = build.images

    def images(cmd: list[str], directory: Path) -> list[str] | str:
        return "cannot build alone" if _as_is(directory) else real(cmd, directory)

    monkeypatch.setattr(build, "images", images)
    with monkeypatch.context() as inner:
        every, _ = _run(tmp_path, False, inner, lambda i: "statsd" in i)
        fewest, some_built = _run(tmp_path, True, inner, lambda i: "statsd" in i)

    assert fewest == every and ("sidecar/statsd.yaml", "PTC010") in every
    built = {p.relative_to(tmp_path).as_posix() for p in some_built if p.is_relative_to(tmp_path)}
    assert built == {"base", "env0", "env1", "alone"}
    assert _probed(some_built) == {"as-is:sidecar"}


def test_which_component_files_a_probe_holds(tmp_path: Path) -> None:
    """Resource files under the component's directory; not its kustomization nor a patch file
    (its users' builds prove those)."""
    from migrate.context import Repo

    _component_tree(tmp_path, 1)
    (tmp_path / "sidecar" / "more").mkdir()
    (tmp_path / "sidecar" / "more" / "cron.yaml").write_text(_SIDECAR.replace("statsd", "cron"))
    (tmp_path / "sidecar" / "patch.yaml").write_text(_SIDECAR.replace("statsd", "web"))
    component = (tmp_path / "sidecar" / "kustomization.yaml").read_text()
    (tmp_path / "sidecar" / "kustomization.yaml").write_text(
        component.replace("  - statsd.yaml\n", "  - statsd.yaml\n  - more/cron.yaml\n")
        + "  - path: patch.yaml\n"
    )
    _git(tmp_path)
    run = kustomize._Run(Repo(tmp_path), {}, Config(registry=REGISTRY))

    def held(*rewritten: str) -> tuple[str, ...] | None:
        return run._probe_files("sidecar", set(rewritten))

    assert held() == held("base/deployment.yaml") == ()
    assert held("sidecar/more/cron.yaml", "sidecar/statsd.yaml") == (
        "sidecar/more/cron.yaml",
        "sidecar/statsd.yaml",
    )
    assert held("sidecar/statsd.yaml", "sidecar/patch.yaml") is None
    assert held("sidecar/kustomization.yaml") is None


@needs_kubectl
def test_a_probe_builds_the_files_as_they_are_then_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _component_tree(tmp_path, 1)
    _git(tmp_path)
    real, found = build.images, {}

    def images(cmd: list[str], directory: Path) -> list[str] | str:
        found[directory] = real(cmd, directory)
        return found[directory]

    monkeypatch.setattr(build, "images", images)
    results = engine.run(["."], Config(registry=REGISTRY), tmp_path, fix=True, jobs=1)
    assert not [f for r in results for f in r.findings if f.code in ("PTC010", "PTC011")]

    probes = {next(iter(_probed([d]))): i for d, i in found.items() if _probed([d])}
    assert probes == {
        "as-is:sidecar": ["prom/statsd-exporter:v0.27.1"],
        "rewritten:sidecar": [f"{REGISTRY}/docker-hub/prom/statsd-exporter:v0.27.1"],
    }
