"""Images the repository builds (`migrate.facts.builds`, PTC009) are never rewritten.

fixtures/builds/<case>/in -> out, byte for byte and idempotent, fixed as a whole tree and one
file at a time in a git work tree (as pre-commit runs the hook: the index still comes from the
repository root). Each source of the index is then checked on its own, table by table."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.context import Repo
from migrate.facts import builds
from migrate.facts.builds import _cache, bake, ci_scripts, scripts, skaffold, tilt
from tests.helpers import FIXTURES, REGISTRY

TREES = FIXTURES / "builds"
CASES = sorted(p.name for p in TREES.iterdir() if p.is_dir())

# What each tree reports besides plain rewrites: (path, line) -> code.
NOT_REWRITTEN = {
    "bake": {
        ("k8s/app.yaml", 10): "PTC009",
        ("k8s/app.yaml", 13): "PTC009",
        ("k8s/app.yaml", 15): "PTC009",
    },
    "ci-script": {
        ("k8s/app.yaml", 8): "PTC009",
        ("k8s/app.yaml", 10): "PTC009",
        ("k8s/app.yaml", 12): "PTC009",
    },
    "compose-build": {("compose.yaml", 6): "PTC009", ("k8s/api.yaml", 8): "PTC009"},
    "dotenv": {
        (".env", 9): "PTC001",
        ("compose.yaml", 11): "PTC001",
        ("compose.yaml", 20): "PTC009",
    },
    "makefile": {
        ("cli/Dockerfile", 1): "PTC009",
        ("compose.yaml", 3): "PTC009",
        ("compose.yaml", 5): "PTC009",
    },
    "shell-defaults": {
        ("deploy/controller.yaml", 10): "PTC009",
        ("deploy/controller.yaml", 13): "PTC009",
    },
    "skaffold": {
        ("k8s/deploy.yaml", 10): "PTC009",
        ("k8s/deploy.yaml", 13): "PTC009",
        ("k8s/deploy.yaml", 17): "PTC008",
        ("k8s/deploy.yaml", 28): "PTC009",
        ("k8s/deploy.yaml", 30): "PTC004",
    },
    "tilt": {("deploy/app.yaml", 8): "PTC009", ("deploy/app.yaml", 10): "PTC009"},
}


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def test_every_case_is_described() -> None:
    assert set(CASES) == set(NOT_REWRITTEN)


@pytest.mark.parametrize("case", CASES)
def test_tree_fix_matches_expected_bytes(case: str, in_tmp: Path) -> None:
    shutil.copytree(TREES / case / "in", in_tmp, dirs_exist_ok=True)
    expected = _files(TREES / case / "out")
    assert set(_files(in_tmp)) == set(expected)

    assert main(["fix", "--registry", REGISTRY, "."]) == 1
    assert _files(in_tmp) == expected
    assert main(["fix", "--registry", REGISTRY, "."]) == 0
    assert _files(in_tmp) == expected


@pytest.mark.parametrize("case", CASES)
def test_tree_fixed_one_file_at_a_time(case: str, in_tmp: Path) -> None:
    shutil.copytree(TREES / case / "in", in_tmp, dirs_exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=in_tmp, check=True)
    for rel in _files(TREES / case / "in"):
        main(["fix", "--registry", REGISTRY, rel])
    assert _files(in_tmp) == _files(TREES / case / "out")


@pytest.mark.parametrize("case", CASES)
def test_what_is_not_rewritten(case: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(TREES / case / "in", in_tmp, dirs_exist_ok=True)
    main(["scan", "--format", "json", "--registry", REGISTRY, "."])
    findings = json.loads(capsys.readouterr().out)["findings"]
    kept = {(f["path"], f["line"]): f["code"] for f in findings if f["code"] and not f["target"]}
    assert kept == NOT_REWRITTEN[case]
    for f in findings:
        if f["code"] == "PTC009":
            assert f["status"] == "built" and " is built by " in f["message"]


def test_built_message_names_the_file_and_line(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(TREES / "skaffold" / "in", in_tmp, dirs_exist_ok=True)
    # The index comes from the repository's root: a git work tree (outside git, a named file's
    # own directory is all ecr-ptc may read).
    subprocess.run(["git", "init", "-q"], cwd=in_tmp, check=True)
    assert main(["lint", "k8s/deploy.yaml"]) == 1  # redis and node-exporter still fail
    out = capsys.readouterr().out
    assert (
        "k8s/deploy.yaml:13:18: PTC009 shop-frontend is built by skaffold.yaml:5 (skaffold)" in out
    )
    assert (
        "k8s/deploy.yaml:28:18: PTC009 docker.io/library/shop-worker:latest is built by skaffold.yaml:13"
        in out
    )


def test_lint_does_not_fail_on_built_images(in_tmp: Path) -> None:
    (in_tmp / "Tiltfile").write_text("docker_build('acme/app', '.')\n")
    (in_tmp / "compose.yaml").write_text("services:\n  app:\n    image: acme/app:dev\n")
    assert main(["lint", "."]) == 0
    assert main(["fix", "--check", "--registry", REGISTRY, "."]) == 0


def test_ko_references_are_built(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
        "    - image: ko://github.com/acme/app/cmd/server\n"
    )
    assert main(["lint", "pod.yaml"]) == 0
    assert "PTC009 ko://github.com/acme/app/cmd/server is built by ko" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n  - image: a\n"
            "profiles:\n- name: p\n  build:\n    artifacts:\n    - image: gcr.io/x/b\n",
            [("a", 5), ("gcr.io/x/b", 10)],
            id="top-and-profile",
        ),
        pytest.param(
            "apiVersion: skaffold/v2\n---\napiVersion: skaffold/v3\nbuild:\n  artifacts: [{image: c}]\n",
            [("c", 5)],
            id="second-document",
        ),
        pytest.param("apiVersion: v1\nbuild:\n  artifacts:\n  - image: a\n", [], id="not-skaffold"),
        pytest.param("artifacts: [\n", [], id="invalid-yaml"),
    ],
)
def test_skaffold(text: str, expected: list[tuple[str, int]], tmp_path: Path) -> None:
    assert list(skaffold.names(tmp_path / "skaffold.yaml", text, Repo(tmp_path))) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("docker_build('a/b', '.')\n", [("a/b", 1)], id="positional"),
        pytest.param(
            '\n\ncustom_build(\n  ref="c",\n  command="x")\n', [("c", 3)], id="ref-keyword"
        ),
        pytest.param("  # docker_build('old', '.')\n", [], id="commented"),
        pytest.param("docker_build(name, '.')\n", [], id="computed"),
        pytest.param("docker_build_with_restart('d', 'e')\n", [("d", 1)], id="extension"),
    ],
)
def test_tilt(text: str, expected: list[tuple[str, int]], tmp_path: Path) -> None:
    assert list(tilt.names(tmp_path / "Tiltfile", text, Repo(tmp_path))) == expected


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        pytest.param(
            "docker-bake.hcl",
            'variable "R" {\n  default = "ghcr.io/a"\n}\ntarget "x" {\n'
            '  tags = ["${R}/x:1", // a comment "not/a-tag"\n  "y"]\n}\n',
            [("ghcr.io/a/x:1", 5), ("y", 5)],
            id="hcl-variables-and-comments",
        ),
        pytest.param(
            "docker-bake.hcl",
            'target "x" {\n  tags = ["${lower(R)}/x"]\n}\n',
            [],
            id="hcl-function",
        ),
        pytest.param(
            "docker-bake.json",
            '{"target": {"x": {"tags": ["a/x:${T}"]}},\n "variable": {"T": {"default": "2"}}}',
            [("a/x:2", 1)],
            id="json",
        ),
        pytest.param("docker-bake.json", "{not json", [], id="json-invalid"),
        pytest.param(
            "docker-bake.hcl",
            'target "app" {\n  contexts = {\n    base = "target:base"\n'
            '    alpine = "docker-image://alpine:3"\n  }\n}\n',
            [("base", 3)],
            id="hcl-named-context",
        ),
        pytest.param(
            "docker-bake.json",
            '{"target": {"app": {"contexts": {"base": "target:base", "src": "./src"}}}}',
            [("base", 1)],
            id="json-named-context",
        ),
    ],
)
def test_bake(name: str, text: str, expected: list[tuple[str, int]], tmp_path: Path) -> None:
    assert list(bake.names(tmp_path / name, text, Repo(tmp_path))) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("build:\n\tdocker build -t app .\n", [("app", 2)], id="short-flag"),
        pytest.param("docker build -tapp:1 .\n", [("app:1", 1)], id="joined-flag"),
        pytest.param(
            "IMG ?= acme/x\nbuild:\n\tdocker buildx build \\\n\t  --tag=$(IMG):dev \\\n\t  .\n",
            [("acme/x:dev", 3)],
            id="make-variable-continuation",
        ),
        pytest.param(
            'N="a/b"\npodman build -t "${N}" . && docker push "$N"\n', [("a/b", 2)], id="shell"
        ),
        pytest.param("buildah bud -t c .; docker run -t d\n", [("c", 1)], id="stops-at-separator"),
        pytest.param("docker image build --tag x -t y .\n", [("x", 1), ("y", 1)], id="two-tags"),
        pytest.param("docker build -t 'broken .\n", [], id="unbalanced-quote"),
        pytest.param("docker run -t app\n", [], id="not-a-build"),
        pytest.param("docker build -t $UNSET/app .\n", [], id="unset-variable"),
        pytest.param(
            'REGISTRY=${REGISTRY:-ingress-controller}\nTAG="${TAG:-dev}"\n'
            'docker build -t "${REGISTRY}/controller:${TAG}" .\n',
            [("ingress-controller/controller:dev", 3)],
            id="defaulted-shell-variables",
        ),
        pytest.param(
            ': "${IMAGE:=acme/app}"\ndocker build -t "$IMAGE:$VERSION" .\n',
            [("acme/app:${VERSION}", 2)],
            id="colon-assign-default-unset-tag",
        ),
        pytest.param(
            'docker build -t "${IMAGE:=acme/inline}" .\n', [("acme/inline", 1)], id="inline-default"
        ),
        pytest.param(
            "export R=acme\nIMG := $(R)/web\nbuild:\n\tdocker build -t $(IMG) .\n",
            [("acme/web", 4)],
            id="export-and-make-simple",
        ),
        pytest.param(
            "T=1\nT=${T}-rc\ndocker build -t acme/t:$T .\n", [("acme/t:1-rc", 3)], id="redefined"
        ),
    ],
)
def test_scripts(text: str, expected: list[tuple[str, int]], tmp_path: Path) -> None:
    assert list(scripts.names(tmp_path / "Makefile", text, Repo(tmp_path))) == expected


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("frontend", "docker.io/library/frontend"),
        ("ghcr.io/a/b:1@sha256:" + "a" * 64, "ghcr.io/a/b"),
        ("acme/web:$(shell git describe)", "docker.io/acme/web"),
        ("acme/web:${TAG}", "docker.io/acme/web"),
        ("${REGISTRY}/web", None),
        ("Not A Reference", None),
    ],
)
def test_normalise(written: str, name: str | None) -> None:
    assert builds.normalise(written) == name


def test_index_reads_only_build_files_inside_the_repository(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Tiltfile").write_text("docker_build('secret/app', '.')\n")
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / "sub" / "Tiltfile").write_text("\ndocker_build('acme/app', '.')\n")
    (repo / "Tiltfile").symlink_to(outside / "Tiltfile")
    (repo / "notes.md").write_text("docker build -t acme/docs .\n")

    index = builds.of(Repo(repo))

    assert list(index) == ["docker.io/acme/app"]
    assert index["docker.io/acme/app"].where == "sub/Tiltfile:2"


def test_index_is_kept_between_runs_until_a_build_file_changes(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "Tiltfile").write_text("docker_build('acme/a', '.')\n")
    assert list(builds.of(Repo(tmp_path))) == ["docker.io/acme/a"]
    cache = tmp_path / ".git" / "ecr-ptc-builds.json"
    cache.write_text(cache.read_text().replace("acme/a", "acme/from-cache"))

    assert list(builds.of(Repo(tmp_path))) == ["docker.io/acme/from-cache"]  # read, not rebuilt

    (tmp_path / "Tiltfile").write_text("docker_build('acme/bb', '.')\n")
    assert list(builds.of(Repo(tmp_path))) == ["docker.io/acme/bb"]
    cache.write_text("{broken")
    assert list(builds.of(Repo(tmp_path))) == ["docker.io/acme/bb"]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        pytest.param(
            ".github/workflows/ci.yml",
            "env:\n  IMAGE: acme/api\njobs:\n  b:\n    steps:\n"
            '      - run: docker build -t "${{ env.IMAGE }}:${{ github.sha }}" .\n',
            [("acme/api:${GITHUB_EXPRESSION}", 6)],
            id="github-env-expression",
        ),
        pytest.param(
            ".github/workflows/ci.yml",
            "jobs:\n  b:\n    env: {R: acme}\n    steps:\n      - env: {N: x}\n"
            "        run: |\n          docker buildx build --tag $R/$N .\n",
            [("acme/x", 6)],
            id="github-job-and-step-env",
        ),
        pytest.param(
            ".gitlab-ci.yml",
            "variables:\n  IMG: {value: acme/w, description: image}\n"
            "b:\n  script:\n    - docker build -t $IMG:$CI_COMMIT_SHA .\n",
            [("acme/w:${CI_COMMIT_SHA}", 5)],
            id="gitlab-expanded-variable",
        ),
        pytest.param(
            ".circleci/config.yml",
            "jobs:\n  b:\n    environment:\n      IMG: acme/c\n    steps:\n"
            "      - run:\n          command: docker build -t $IMG .\n",
            [("acme/c", 7)],
            id="circleci-run-command",
        ),
        pytest.param(
            ".drone.yml",
            "steps:\n- name: b\n  environment: [IMG=acme/d]\n  commands: [docker build -t $IMG .]\n",
            [("acme/d", 4)],
            id="drone-list-environment",
        ),
        pytest.param(
            ".github/workflows/ci.yml",
            "jobs:\n  b:\n    steps:\n      - run: docker build -t $UNSET .\n",
            [],
            id="unset-name",
        ),
        pytest.param(".gitlab-ci.yml", "b: [docker build -t x\n", [], id="broken-yaml"),
    ],
)
def test_ci_scripts(name: str, text: str, expected: list[tuple[str, int]], tmp_path: Path) -> None:
    assert list(ci_scripts.names(tmp_path / name, text, Repo(tmp_path))) == expected


def _indexed(root: Path) -> Path:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "Tiltfile").write_text("docker_build('acme/a', '.')\n")
    assert list(builds.of(Repo(root))) == ["docker.io/acme/a"]
    return root / ".git" / "ecr-ptc-builds.json"


def _index_in_a_child(root: Path) -> subprocess.CompletedProcess[str]:
    """builds.of in a process bounded in time and memory: a bad index once hung or ate it all."""
    code = (
        "import resource, sys; from pathlib import Path\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from migrate.context import Repo; from migrate.facts import builds\n"
        "print(list(builds.of(Repo(Path(sys.argv[1])))))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )


@pytest.mark.parametrize("kind", ("dev-zero", "fifo"))
def test_an_index_that_is_not_a_regular_file_is_rebuilt(kind: str, tmp_path: Path) -> None:
    cache = _indexed(tmp_path)
    cache.unlink()
    if kind == "fifo":
        os.mkfifo(cache)
    else:
        cache.symlink_to("/dev/zero")

    done = _index_in_a_child(tmp_path)

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "['docker.io/acme/a']"
    assert cache.is_file() and not cache.is_symlink()  # replaced by a good one


@pytest.mark.parametrize(
    "text",
    (
        pytest.param("[" * 200_000, id="deep-list"),
        pytest.param('{"key": ' + "[" * 100_000 + "]" * 100_000 + "}", id="deep-valid"),
        pytest.param('{"key": 1, "builds": 5}', id="wrong-shape"),
        pytest.param("\xff\xfe", id="not-utf8"),
    ),
)
def test_a_bad_index_is_rebuilt_never_fatal(text: str, tmp_path: Path) -> None:
    cache = _indexed(tmp_path)
    cache.write_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff\xfe" else b"\xff")

    assert list(builds.of(Repo(tmp_path))) == ["docker.io/acme/a"]
    assert main(["scan", "--registry", REGISTRY, str(tmp_path / "Tiltfile")]) == 0


def test_an_index_over_the_size_cap_is_not_read(tmp_path: Path) -> None:
    cache = _indexed(tmp_path)
    text = cache.read_text().replace("acme/a", "acme/from-cache")
    cache.write_text(text + " " * (_cache.MAX_BYTES + 1))

    assert list(builds.of(Repo(tmp_path))) == ["docker.io/acme/a"]


def test_an_mtime_preserving_copy_does_not_keep_a_stale_index(tmp_path: Path) -> None:
    cache = _indexed(tmp_path)
    tiltfile = tmp_path / "Tiltfile"
    before = tiltfile.stat()
    replacement = tmp_path / "replacement"
    replacement.write_text("docker_build('acme/b', '.')\n")  # the same size
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    shutil.copy2(replacement, tiltfile)  # `cp -p`: same size, same mtime
    assert (tiltfile.stat().st_size, tiltfile.stat().st_mtime_ns) == (
        before.st_size,
        before.st_mtime_ns,
    )

    assert cache.is_file()
    assert list(builds.of(Repo(tmp_path))) == ["docker.io/acme/b"]
