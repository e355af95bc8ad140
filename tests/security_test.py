"""Security: no unsafe YAML, no shell, no network without --aws, nothing read outside the
repository, relative paths in output, credentials never printed."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest

from tests.bad_input_test import ecr_ptc
from tests.e2e_helpers import in_process
from tests.fake_ecr import ACCESS_KEY, SECRET_KEY, FakeEcr, aws_env, rule, serve
from tests.helpers import REGISTRY, ROOT

PACKAGE = ROOT / "migrate"
Done = subprocess.CompletedProcess[str]
SESSION_TOKEN = "FakeSessionTokenThatMustNeverBePrinted/IQoJb3JpZ2luX2VjEOr//////////wEaCXVz"
PWNED = "PWNED"
PYTHON_TAGS = (
    f'!!python/object/apply:os.system ["touch {PWNED}"]',
    f"!!python/object/new:subprocess.Popen [[touch, {PWNED}]]",
    "!!python/name:os.system",
)


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


FORBIDDEN_CALLS = {  # name as called -> why
    "yaml.load": "PyYAML's load constructs arbitrary objects without a SafeLoader",
    "yaml.unsafe_load": "constructs arbitrary Python objects",
    "yaml.full_load": "constructs Python objects",
    "os.system": "runs a shell",
    "os.popen": "runs a shell",
    "subprocess.getoutput": "runs a shell",
    "subprocess.getstatusoutput": "runs a shell",
    "eval": "evaluates text",
    "exec": "executes text",
    "pickle.load": "constructs arbitrary objects",
    "pickle.loads": "constructs arbitrary objects",
    "marshal.loads": "loads code objects",
}
UNSAFE_YAML_TYPES = {"unsafe", "full", "base"}  # ruamel: only 'rt' and 'safe' construct nothing


def test_no_unsafe_yaml_loading_no_shell_no_eval_in_the_package() -> None:
    problems = []
    for path, tree in _modules():
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _dotted(node.func)
            if name in FORBIDDEN_CALLS:
                problems.append(f"{where}:{node.lineno}: {name}: {FORBIDDEN_CALLS[name]}")
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "shell" and not (
                    isinstance(value, ast.Constant) and not value.value
                ):
                    problems.append(f"{where}:{node.lineno}: shell={ast.unparse(value)}")
                if (
                    name.endswith("YAML")
                    and keyword.arg == "typ"
                    and isinstance(value, ast.Constant)
                    and value.value in UNSAFE_YAML_TYPES
                ):
                    problems.append(f"{where}:{node.lineno}: YAML(typ={value.value!r})")
                if keyword.arg == "Loader" and "Safe" not in ast.unparse(value):
                    problems.append(f"{where}:{node.lineno}: Loader={ast.unparse(value)}")
    assert problems == []


def test_subprocesses_are_argument_lists() -> None:
    # A list argv never meets a shell; a string argv would need shell=True to work at all.
    problems = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and _dotted(node.func).startswith("subprocess.")
                and node.args
                and isinstance(node.args[0], (ast.Constant, ast.JoinedStr))
            ):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert problems == []


YAML_WITH_TAGS = [  # (file name, content): every YAML kind, and the config
    pytest.param(
        "compose.yaml", "services:\n  web:\n    image: nginx:1.27\n    x: {tag}\n", id="compose"
    ),
    pytest.param(
        "deploy.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {tag}}}\nspec:\n  containers:\n"
        "  - image: nginx:1.27\n",
        id="kubernetes",
    ),
    pytest.param("values.yaml", "image: nginx:1.27\nextra: {tag}\n", id="helm-values"),
    pytest.param(
        "kustomization.yaml", "images:\n- name: nginx\n  newName: {tag}\n", id="kustomize"
    ),
    pytest.param(".ecr-ptc.yaml", f"registry: {REGISTRY}\nexclude: {{tag}}\n", id="config"),
]


@pytest.mark.parametrize(("name", "content"), YAML_WITH_TAGS)
@pytest.mark.parametrize("tag", PYTHON_TAGS, ids=("apply", "new", "name"))
def test_python_tags_in_yaml_construct_nothing(
    name: str, content: str, tag: str, tmp_path: Path
) -> None:
    (tmp_path / name).write_text(content.format(tag=tag))
    (tmp_path / "Dockerfile").write_text("FROM nginx:1.27\n")

    for args in (("scan",), ("lint",), ("fix", "--registry", REGISTRY)):
        ran = ecr_ptc(*args, cwd=tmp_path)
        assert "Traceback" not in ran.err

    assert not (tmp_path / PWNED).exists()


HOSTILE_NAMES = [
    f"$(touch {PWNED}).Dockerfile",
    f"`touch {PWNED}`.Dockerfile",
    f";touch {PWNED};.Dockerfile",
    f"a|touch {PWNED}.Dockerfile",
    "-rf.Dockerfile",
    "--output=x.Dockerfile",
    "it's.Dockerfile",
    "new\nline.Dockerfile",
]


@pytest.mark.parametrize("git", [False, True], ids=("plain", "git"))
def test_hostile_file_names_are_data(git: bool, tmp_path: Path) -> None:
    if git:
        subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    for name in HOSTILE_NAMES:
        (tmp_path / name).write_text("FROM nginx:1.27\n")

    walked = ecr_ptc("fix", "--registry", REGISTRY, cwd=tmp_path, isolated=True)

    assert not (tmp_path / PWNED).exists()
    assert walked.code == 1, walked.err
    for name in HOSTILE_NAMES:
        assert (tmp_path / name).read_text() == f"FROM {REGISTRY}/docker-hub/library/nginx:1.27\n"


# --- what a run touches: an audit hook in a fresh interpreter --------------------------------

_AUDITED = """
import json, sys
events = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str):
        events.append(["open", args[0]])
    elif event.startswith(("socket.", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                           "os.spawn", "urllib.", "http.client.")):
        events.append([event, [str(a) for a in args[:2]]])
sys.addaudithook(hook)
from migrate.cli import main
codes = [main(argv) for argv in json.loads(sys.argv[1])]
events.append(["modules", sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "urllib3", "requests", "git"))])
json.dump({"codes": codes, "events": events}, open(sys.argv[2], "w"))
"""


def _audited(
    cwd: Path, *runs: list[str], env: dict[str, str] | None = None
) -> tuple[list[int], list[list[object]]]:
    log = cwd.parent / "audit.json"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ECR_PTC_", "AWS_"))}
    done = subprocess.run(
        [sys.executable, "-c", _AUDITED, json.dumps(runs), str(log)],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(log.read_text())
    return result["codes"], result["events"]


def _python_paths() -> tuple[str, ...]:
    import site
    import sysconfig

    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        str(PACKAGE),
        *site.getsitepackages(),
        *sysconfig.get_paths().values(),
    }
    return tuple(str(Path(p).resolve()) for p in paths if p)


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "app" / "Dockerfile").write_text("FROM nginx:1.27\n")
    (repo / "compose.yaml").write_text("services:\n  web:\n    image: quay.io/x/y:1\n")
    (repo / "values.yaml").write_text("image:\n  repository: bitnami/redis\n  tag: 7\n")
    return repo


OFFLINE_RUNS = [
    ["scan"],
    ["scan", "--format", "json"],
    ["lint"],
    ["lint", "--format", "sarif"],
    ["fix", "--registry", REGISTRY, "--diff"],
    ["fix", "--registry", REGISTRY, "--check"],
    ["rules", "plan", "--registry", REGISTRY, "--emit", "terraform"],
    ["fix", "--registry", REGISTRY],
]


def test_without_aws_no_network_no_shell_and_only_git(tmp_path: Path) -> None:
    repo = _repo(tmp_path)

    codes, events = _audited(repo, *OFFLINE_RUNS)

    assert codes[-1] == 1  # the last run rewrote the files: the runs did real work
    network = [e for e in events if str(e[0]).startswith(("socket.", "urllib.", "http."))]
    assert network == []
    launched = [e for e in events if e[0] != "open" and e[0] != "modules"]
    assert {cast(list[str], e[1])[0] for e in launched} <= {"git"}  # Popen(executable, args)
    assert [e for e in events if e[0] == "modules"] == [["modules", []]]


def test_nothing_outside_the_repository_is_opened(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM nginx:1.27\n")
    os.symlink(outside / "Dockerfile", repo / "escape.Dockerfile")
    os.symlink(outside, repo / "linked")
    (repo / ".ecr-ptc.yaml").write_text(
        f"registry: {REGISTRY}\nexclude: ['/etc/**', '{outside}/**', '**/outside/**']\n"
        f"private: ['{outside}']\n"
    )

    codes, events = _audited(
        repo / "app",
        ["lint", ".."],
        ["fix", ".."],
        ["fix", "../linked/Dockerfile"],
        ["scan", "../escape.Dockerfile"],
    )

    assert codes == [2, 2, 2, 2]  # each run reports the escaping symlinks as PTC900
    allowed = (str(repo.resolve()), *_python_paths())
    opened = {str(e[1]) for e in events if e[0] == "open" and str(e[1]).startswith("/")}
    assert sorted(p for p in opened if not p.startswith(allowed)) == []
    assert (outside / "Dockerfile").read_text() == "FROM nginx:1.27\n"


def test_symlinked_config_cannot_read_outside_the_repository(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    outside = tmp_path / "credentials"  # shaped like ~/.aws/credentials
    outside.write_text("[default]\naws_secret_access_key = hunter2\n")
    os.symlink(outside, repo / ".ecr-ptc.yaml")

    ran = ecr_ptc("lint", cwd=repo, isolated=True)

    assert "hunter2" not in ran.out + ran.err


# --- output paths are relative ---------------------------------------------------------------


def test_config_error_names_the_config_relative_to_the_working_directory(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / ".ecr-ptc.yaml").write_text("unknown: 1\n")

    ran = ecr_ptc("lint", cwd=repo / "app")

    assert ran.code == 2
    assert ran.err.startswith("ecr-ptc: config error: ../.ecr-ptc.yaml:1: ")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("scan",), id="scan-text"),
        pytest.param(("scan", "--format", "json"), id="scan-json"),
        pytest.param(("lint", "--format", "sarif"), id="lint-sarif"),
        pytest.param(("lint", "--format", "github"), id="lint-github"),
        pytest.param(("fix", "--registry", REGISTRY, "--diff"), id="fix-diff"),
        pytest.param(("fix", "--registry", REGISTRY), id="fix"),
    ],
)
def test_paths_in_output_are_relative_to_the_working_directory(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    (repo / "bad.Dockerfile").write_bytes(b"FROM nginx\n\xff\n")
    os.symlink(repo / "missing", repo / "app" / "broken.Dockerfile")

    ran = ecr_ptc(*args, str(repo), str(repo / "app" / "Dockerfile"), cwd=repo / "app")

    assert ran.code == 2
    assert str(tmp_path) not in ran.out + ran.err
    assert str(tmp_path.resolve()) not in ran.out + ran.err
    assert "../bad.Dockerfile" in ran.out + ran.err  # from app/: the parent's file is ../


# --- credentials -----------------------------------------------------------------------------

SECRETS = (SECRET_KEY, SESSION_TOKEN)
LEAKY_ERRORS = [  # AWS (or a proxy in front of it) echoing what it was sent
    pytest.param(
        400,
        "AccessDeniedException",
        f"denied for key {SECRET_KEY} token {SESSION_TOKEN}",
        id="access-denied-echo",
    ),
    pytest.param(400, "UnrecognizedClientException", f"bad token {SESSION_TOKEN}", id="bad-token"),
    pytest.param(500, "ServerException", f"upstream said {SECRET_KEY}", id="server-error"),
    pytest.param(
        400,
        "ValidationException",
        f"Credential={ACCESS_KEY}/20240101/us-east-1/ecr/aws4_request, "
        f"Signature=abc123 secret={SECRET_KEY}",
        id="signature-echo",
    ),
    pytest.param(
        400,
        "AccessDeniedException",
        f"Credential={ACCESS_KEY}/20240101/us-east-1/ecr/aws4_request, Signature=abc123",
        id="signature-only",
    ),
]


@pytest.fixture
def fake() -> Iterator[FakeEcr]:
    with serve(
        FakeEcr(rules=[rule("docker-hub", "registry-1.docker.io", credential=True)])
    ) as running:
        yield running


def test_credentials_in_the_environment_are_never_printed(
    fake: FakeEcr, cli: Callable[..., Done], tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    env = aws_env(fake, AWS_SESSION_TOKEN=SESSION_TOKEN, ECR_PTC_REGISTRY=REGISTRY)
    runs = [
        ["scan", "--format", "json"],
        ["lint", "--format", "sarif"],
        ["fix", "--diff"],
        ["rules", "check", "--aws", "--format", "json"],
        ["rules", "plan", "--aws"],
        ["fix", "--aws", "--check"],
    ]
    for argv in runs:
        done = cli(repo, env, *argv)
        assert not any(s in done.stdout + done.stderr for s in (*SECRETS, ACCESS_KEY)), argv


@pytest.mark.parametrize(("status", "kind", "message"), LEAKY_ERRORS)
@pytest.mark.parametrize(
    "argv", [["rules", "check", "--aws"], ["fix", "--aws"]], ids=("rules", "fix")
)
def test_credentials_in_an_aws_error_are_never_printed(
    status: int,
    kind: str,
    message: str,
    argv: list[str],
    fake: FakeEcr,
    cli: Callable[..., Done],
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    fake.errors["DescribePullThroughCacheRules"] = (status, kind, message)

    done = cli(repo, aws_env(fake, AWS_SESSION_TOKEN=SESSION_TOKEN), *argv, "--registry", REGISTRY)

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1  # one clear line
    for secret in SECRETS:
        assert secret not in done.stdout + done.stderr


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Done]:
    """The CLI in this process with exactly `env` for AWS_* and ECR_PTC_* (boto3 reads the
    environment when each command starts; importing it once keeps these tests fast)."""
    return in_process(monkeypatch, capsys)


# --- config ----------------------------------------------------------------------------------


def test_config_excludes_hold_from_any_subdirectory(tmp_path: Path) -> None:
    # Found at the repository root, the config's globs are relative to it: `fix` started in a
    # subdirectory must not rewrite the files it excludes.
    repo = _repo(tmp_path)
    (repo / "app" / "third_party").mkdir()
    (repo / "app" / "third_party" / "Dockerfile").write_text("FROM nginx:1.27\n")
    (repo / ".ecr-ptc.yaml").write_text(f"registry: {REGISTRY}\nexclude: ['app/third_party/**']\n")

    walked = ecr_ptc("fix", cwd=repo / "app")
    named = ecr_ptc("fix", "third_party/Dockerfile", cwd=repo / "app")

    assert (walked.code, named.code) == (1, 0)
    assert (repo / "app" / "third_party" / "Dockerfile").read_text() == "FROM nginx:1.27\n"
    assert (repo / "app" / "Dockerfile").read_text() != "FROM nginx:1.27\n"
