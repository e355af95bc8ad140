"""The CI scanners' readings that fixture pairs do not show: what is not an image, what is
unresolved and why, where credentials are declared, which scanner claims which file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.context import FileContext
from migrate.kinds.registry import scanner_for
from migrate.occurrence import ScanError
from migrate.syntax import jsonc as _jsonc
from tests.helpers import FIXTURES, REGISTRY

Found = tuple[str, str, "str | None", "bool | None"]


def _found(path: str, text: str) -> list[Found]:
    scanner = scanner_for(Path(path), text)
    assert scanner is not None, path
    out = []
    for occ in scanner.scan(text, FileContext(named=True)):
        assert (occ.parts == ()) == (occ.unresolved is not None)
        for _, start, end in occ.parts:
            assert text[start:end] == occ.written  # the exact span of the reference
        out.append((occ.kind, occ.written, occ.unresolved, occ.credentials))
    return out


GH = ".github/workflows/ci.yml"
CASES = [
    pytest.param(
        GH,
        "jobs:\n  a:\n    container: node:20\n"
        "  b:\n    container:\n      image: node:20\n      credentials: {username: u, password: p}\n",
        [("container", "node:20", None, False), ("container", "node:20", None, True)],
        id="github-credentials",
    ),
    pytest.param(
        GH,
        "jobs:\n  a:\n    strategy:\n      matrix: ${{ fromJSON(needs.x.outputs.m) }}\n"
        "    container: ${{ matrix.image }}\n",
        [("container", "${{ matrix.image }}", "matrix value not written in this file", False)],
        id="github-matrix-from-json",
    ),
    pytest.param(
        GH,
        "jobs:\n  a:\n    steps:\n      - uses: docker://alpine:3.20\n      - uses: actions/checkout@v4\n",
        [("docker-step", "alpine:3.20", None, None)],
        id="github-docker-step",
    ),
    pytest.param(
        ".gitlab-ci.yml",
        "mac:\n  image: macos-15-xcode-16\n  tags: [saas-macos-medium-m1]\n"
        "ref:\n  image: !reference [.base, image]\n"
        "ci:\n  image: $CI_IMAGE\n",
        [("image", "$CI_IMAGE", "GitLab predefined variable: set when the job runs", None)],
        id="gitlab-vm-reference-predefined",
    ),
    pytest.param(
        ".gitlab-ci.yml",
        "variables:\n  IMG: {value: 'alpine:3.20', description: base}\njob:\n  image: ${IMG}\n",
        [("variable", "alpine:3.20", None, None)],
        id="gitlab-variable-mapping-value",
    ),
    pytest.param(
        ".circleci/config.yml",
        "jobs:\n  a:\n    machine:\n      image: ubuntu-2204:2024.05.1\n"
        "  b:\n    docker:\n      - image: cimg/base:current\n        aws_auth: {oidc_role_arn: r}\n",
        [("image", "cimg/base:current", None, True)],
        id="circleci-machine-aws-auth",
    ),
    pytest.param(
        "azure-pipelines.yml",
        "pool:\n  vmImage: ubuntu-latest\nresources:\n  containers:\n"
        "    - container: c\n      image: node:20\n      endpoint: ecr\n"
        "jobs:\n  - job: a\n    container: c\n  - job: b\n    container: python:3.12\n",
        [("resource", "node:20", None, True), ("container", "python:3.12", None, False)],
        id="azure-alias-once-vmimage-never",
    ),
    pytest.param(
        "bitbucket-pipelines.yml",
        "image: node:20\npipelines:\n  default:\n    - step:\n        image:\n"
        "          name: python:3.12\n          aws: {oidc-role: r}\n        script: [x]\n",
        [("image", "node:20", None, False), ("image", "python:3.12", None, True)],
        id="bitbucket-aws",
    ),
    pytest.param(
        ".drone.yml",
        "kind: pipeline\nimage_pull_secrets: [dockerconfig]\nsteps:\n  - name: a\n    image: node:20\n",
        [("step", "node:20", None, True)],
        id="drone-pull-secrets",
    ),
    pytest.param(
        "cloudbuild.yaml",
        "steps:\n  - name: gcr.io/$PROJECT_ID/app\n  - name: us-docker.pkg.dev/p/r/app:1\n"
        "images: [us-docker.pkg.dev/p/r/app:1]\n",
        [("step", "gcr.io/$PROJECT_ID/app", "variable in image name", None)],
        id="cloudbuild-pushed-never",
    ),
    pytest.param(
        ".buildkite/pipeline.yml",
        "steps:\n  - command: make\n    plugins:\n      - ecr#v2.7.0: {login: true}\n"
        "      - docker#v5.8.0: {image: 'golang:1.23', command: [go, test]}\n",
        [("docker-plugin", "golang:1.23", None, True)],
        id="buildkite-ecr-login",
    ),
    pytest.param(
        ".devcontainer/devcontainer.json",
        '{"image": "node:\\u0032\\u0030", "features": {"ghcr.io/devcontainers/features/node:1": {}}}',
        [("image", "node:20", "quoted scalar with escapes", None)],
        id="devcontainer-escaped-never-rewritten",
    ),
]


@pytest.mark.parametrize(("path", "text", "expected"), CASES)
def test_occurrences(path: str, text: str, expected: list[Found]) -> None:
    assert _found(path, text) == expected


@pytest.mark.parametrize(
    ("path", "text", "kind"),
    [
        # CI files are not taken by the generic kinds' content sniffing ...
        (".github/workflows/ci.yml", "services:\n  db:\n    image: postgres\n", "github-actions"),
        (".circleci/config.yml", "version: 2.1\njobs: {}\n", "circleci"),
        (".woodpecker.yml", "services:\n  db:\n    image: postgres\n", "woodpecker"),
        # ... and the generic kinds' files are not taken by the CI kinds' directories.
        (".circleci/docker-compose.yml", "services:\n  a:\n    image: x\n", "compose"),
        (".buildkite/k8s/pod.yaml", "apiVersion: v1\nkind: Pod\n", "kubernetes"),
        ("deploy/azure-pipelines-agent/values.yaml", "image: {repository: x}\n", "helm"),
        ("azure-pipelines-docs/notes.yml", "title: not a pipeline\n", None),
        (".azure-pipelines/templates/test.yml", "parameters: []\njobs: []\n", "azure-pipelines"),
    ],
)
def test_claims(path: str, text: str, kind: str | None) -> None:
    scanner = scanner_for(Path(path), text)
    assert (scanner.NAME if scanner else None) == kind


def test_a_charts_go_templates_are_never_ci_files(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    for name in ("action.yaml", "cloudbuild.yaml"):
        scanner = scanner_for(tmp_path / "templates" / name, "{{ .Values.x }}")
        assert scanner is not None and scanner.NAME == "helm-template"  # read for literals only


def test_a_ci_file_beside_a_chart_stays_a_ci_file(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    for name, kind in (("cloudbuild.yaml", "cloudbuild"), ("values.yaml", "helm")):
        scanner = scanner_for(tmp_path / name, "steps: []\n")
        assert scanner is not None and scanner.NAME == kind


@pytest.mark.parametrize(
    ("text", "offset", "reason"),
    [
        ('{"a": 1,,}', 8, "expected a quoted key or '}'"),
        ('{"a": 1 "b": 2}', 8, "expected ',' or '}'"),
        ('{"a": 1, "a": 2}', 9, "duplicate key 'a'"),
        ('{"a": /* open', 6, "unterminated comment"),
        ('{"a": [1, 2}', 11, "expected ',' or ']'"),
        ('{"a": "x"} extra', 11, "unexpected text after the JSON value"),
        ("[" * 300, 201, "nesting too deep"),
    ],
)
def test_jsonc_errors_name_the_offset(text: str, offset: int, reason: str) -> None:
    with pytest.raises(ScanError) as caught:
        _jsonc.document(text)
    assert (caught.value.offset, caught.value.reason) == (offset, reason)


def test_fix_says_once_per_ci_system_what_it_needs(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind in ("github-actions", "circleci"):
        shutil.copytree(FIXTURES / kind / "pipeline" / "in", in_tmp, dirs_exist_ok=True)
    (in_tmp / "Dockerfile").write_text("FROM alpine:3.20\n")

    assert main(["fix", "--diff", "--registry", REGISTRY, "."]) == 1
    err = capsys.readouterr().err
    assert err.count("ecr-ptc: GitHub Actions must log in to") == 1
    assert err.count("ecr-ptc: CircleCI must log in to") == 1
    assert "aws-actions/amazon-ecr-login@v2" in err and "oidc_role_arn" in err
    assert "GitLab" not in err  # no GitLab file changed

    assert main(["fix", "--registry", REGISTRY, "Dockerfile"]) == 1
    assert "must log in" not in capsys.readouterr().err  # a Dockerfile is not a CI job


# --- GitLab wildcard includes (issue 21) -------------------------------------------------------


def _gitlab_tree(root: Path, include: str) -> None:
    (root / "configs" / "sub").mkdir(parents=True)
    (root / ".gitlab-ci.yml").write_text(f"include: {include!r}\n")
    for rel in ("a.yml", "configs/b.yml", "configs/sub/c.yml", "configs/d.yaml"):
        (root / rel).write_text("variables: {X: nginx:1.27}\n")


@pytest.mark.parametrize(
    ("include", "expected"),
    (
        ("configs/**.yml", {"configs/b.yml", "configs/sub/c.yml"}),
        ("configs/*.yml", {"configs/b.yml"}),
        ("configs/**/*.yml", {"configs/sub/c.yml"}),
        ("*.yml", {"a.yml"}),
        ("/configs/**", {"configs/b.yml", "configs/sub/c.yml", "configs/d.yaml"}),
        ("../../../../**/*.yml", set()),
        ("/proc/**", set()),
        ("**/../../**", set()),
    ),
)
def test_gitlab_wildcard_includes_match_the_repository_s_files_only(
    include: str, expected: set[str], tmp_path: Path
) -> None:
    from migrate.facts import gitlab

    _gitlab_tree(tmp_path, include)

    found = gitlab.pipeline(tmp_path).files

    assert found == {".gitlab-ci.yml", *expected}


def test_a_wildcard_include_never_follows_a_link_out(tmp_path: Path) -> None:
    from migrate.facts import gitlab

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yml").write_text("variables: {X: nginx:1.27}\n")
    repo = tmp_path / "repo"
    _gitlab_tree(repo, "**.yml")
    (repo / "configs" / "out").symlink_to(outside)
    (repo / "link.yml").symlink_to(outside / "secret.yml")

    found = gitlab.pipeline(repo).files

    assert found == {".gitlab-ci.yml", "a.yml", "configs/b.yml", "configs/sub/c.yml"}


@pytest.mark.parametrize("include", ("configs/**.yml", "../../../../**/*.yml"))
def test_a_hostile_include_is_no_internal_error(
    include: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _gitlab_tree(in_tmp, include)
    (in_tmp / ".gitlab-ci.yml").write_text(f"include: {include!r}\nbuild:\n  image: $X\n")

    code = main(["scan", "--registry", REGISTRY, "."])

    assert "internal error" not in capsys.readouterr().err
    assert code == 0
