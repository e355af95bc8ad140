"""The commands as users drive them: exit codes, output lines, formats, config and env."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from migrate.cli import cli, main
from tests.helpers import REGISTRY, run_cli

TARGET = f"{REGISTRY}/docker-hub/library/alpine:3.20"


def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, list(args), env=env, standalone_mode=False, catch_exceptions=False
    )
    return (
        (result.return_value if isinstance(result.return_value, int) else 0),
        result.stdout,
        result.stderr,
    )


def test_lint_reports_docker_hub_at_line_and_column(in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text("FROM alpine:3.20\n")

    done = run_cli("lint", "Dockerfile", cwd=in_tmp)

    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith("Dockerfile:1:6: PTC001 alpine:3.20 ")


def test_lint_on_the_migrated_file_is_clean(in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text("FROM alpine:3.20\n")
    assert main(["fix", "--registry", REGISTRY]) == 1

    assert (in_tmp / "Dockerfile").read_text() == f"FROM {TARGET}\n"
    assert run_cli("lint", "--registry", REGISTRY, cwd=in_tmp).returncode == 0
    assert run_cli("lint", cwd=in_tmp).returncode == 0


def test_non_utf8_file_is_one_error_and_the_rest_is_processed(in_tmp: Path) -> None:
    (in_tmp / "a").mkdir()
    (in_tmp / "a" / "Dockerfile").write_bytes(b"FROM alpine:3.20\n# caf\xe9\n")
    (in_tmp / "b").mkdir()
    (in_tmp / "b" / "Dockerfile").write_text("FROM nginx:1.27\n")

    lint = run_cli("lint", cwd=in_tmp)
    fix = run_cli("fix", "--registry", REGISTRY, cwd=in_tmp)

    assert lint.returncode == 2
    errors = [line for line in lint.stdout.splitlines() if ": PTC900 " in line]
    assert errors == ["a/Dockerfile:2:1: PTC900 not UTF-8: byte 0xe9 cannot be decoded"]
    assert "b/Dockerfile:1:6: PTC001" in lint.stdout
    assert fix.returncode == 2
    assert (
        in_tmp / "b" / "Dockerfile"
    ).read_text() == f"FROM {REGISTRY}/docker-hub/library/nginx:1.27\n"
    assert (in_tmp / "a" / "Dockerfile").read_bytes() == b"FROM alpine:3.20\n# caf\xe9\n"


@pytest.mark.parametrize("command", ("fix", "pr"))
def test_commands_that_rewrite_need_a_registry(command: str, in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text("FROM alpine:3.20\n")

    done = run_cli(command, cwd=in_tmp)

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--registry" in done.stderr
    assert (in_tmp / "Dockerfile").read_text() == "FROM alpine:3.20\n"


def test_registry_from_environment_and_config(in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text("FROM alpine:3.20\n")
    assert run_cli("fix", "--check", cwd=in_tmp, env={"ECR_PTC_REGISTRY": REGISTRY}).returncode == 1

    (in_tmp / ".ecr-ptc.yaml").write_text(
        f"registry: {REGISTRY}\nrules:\n  hub: registry-1.docker.io\n"
    )
    assert main(["fix"]) == 1
    assert (in_tmp / "Dockerfile").read_text() == f"FROM {REGISTRY}/hub/library/alpine:3.20\n"


def test_config_error_names_file_line_and_reason(in_tmp: Path) -> None:
    (in_tmp / ".ecr-ptc.yaml").write_text(
        f"registry: {REGISTRY}\nrules:\n  docker-hub: registry-1.docker.io\n  Bad!: quay.io\n"
    )
    (in_tmp / "Dockerfile").write_text("FROM alpine:3.20\n")

    done = run_cli("lint", cwd=in_tmp)

    assert done.returncode == 2
    assert done.stderr.startswith("ecr-ptc: config error: ")
    assert ".ecr-ptc.yaml:4: bad prefix 'Bad!'" in done.stderr


def test_lint_fail_on_docker_hub_only(in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text("FROM quay.io/a/b:1\n")
    assert main(["lint"]) == 1
    assert main(["lint", "--fail-on", "docker-hub"]) == 0
    (in_tmp / ".ecr-ptc.yaml").write_text("lint:\n  fail-on: [docker-hub]\n")
    assert main(["lint"]) == 0
    (in_tmp / "Dockerfile").write_text("FROM quay.io/a/b:1\nFROM nginx\n")
    assert main(["lint"]) == 1


def test_unsupported_registry_warns_without_failing(in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text("FROM gcr.io/distroless/static\n")
    code, out, _ = _invoke("lint")
    assert code == 0
    assert "PTC003" in out
    assert main(["lint", "--fail-on", "unsupported"]) == 1


def test_scan_json_lists_every_reference_with_status(in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text(
        f"FROM alpine:3.20 AS a\nFROM {TARGET}\nFROM localhost:5000/x\n# ecr-ptc: ignore\nFROM quay.io/a/b\n"
    )

    code, out, _ = _invoke("scan", "--format", "json", "--registry", REGISTRY)

    body = json.loads(out)
    assert code == 0 and body["errors"] == []
    rows = [
        (f["line"], f["code"], f["status"], f["reference"], f["upstream"], f["target"])
        for f in body["findings"]
    ]
    assert rows == [
        (1, "PTC001", "public", "docker.io/library/alpine:3.20", "registry-1.docker.io", TARGET),
        (2, None, "cached", f"{TARGET}", "registry-1.docker.io", None),
        (3, None, "private", "localhost:5000/x", None, None),
        (5, None, "suppressed", "quay.io/a/b", "quay.io", None),
    ]
    first = body["findings"][0]
    assert (first["column"], first["end_line"], first["end_column"]) == (6, 1, 17)
    assert (first["original"], first["kind"], first["file_kind"], first["severity"]) == (
        "alpine:3.20",
        "from",
        "dockerfile",
        "error",
    )


def test_github_and_sarif_formats(in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text("FROM alpine:3.20\nFROM gcr.io/x/y\n")

    _, github, _ = _invoke("lint", "--format", "github")
    _, sarif_text, _ = _invoke("lint", "--format", "sarif")

    assert github.splitlines()[0].startswith(
        "::error file=Dockerfile,line=1,col=6,endLine=1,endColumn=17,title=PTC001::PTC001 "
    )
    assert github.splitlines()[1].startswith("::warning file=Dockerfile,line=2,col=6,")
    sarif = json.loads(sarif_text)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [
        ("PTC001", "error"),
        ("PTC003", "warning"),
    ]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_paths_are_relative_to_the_working_directory(in_tmp: Path) -> None:
    (in_tmp / "svc" / "api").mkdir(parents=True)
    (in_tmp / "svc" / "api" / "Dockerfile").write_text("FROM alpine:3.20\n")

    done = run_cli("lint", "api", cwd=in_tmp / "svc")

    assert done.stdout.startswith("api/Dockerfile:1:6: PTC001")


def test_gitignored_files_are_skipped_but_explicit_files_are_not(in_tmp: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=in_tmp, check=True)
    (in_tmp / ".gitignore").write_text("build/\n")
    (in_tmp / "build").mkdir()
    (in_tmp / "build" / "Dockerfile").write_text("FROM alpine:3.20\n")
    (in_tmp / "Dockerfile.dev").write_text("FROM node:20\n")

    _, out, _ = _invoke("lint")
    assert "Dockerfile.dev:1:6: PTC001" in out and "build/" not in out
    _, out, _ = _invoke("lint", "build/Dockerfile")
    assert "build/Dockerfile:1:6: PTC001" in out


def test_exclude_globs(in_tmp: Path) -> None:
    (in_tmp / "vendor-charts").mkdir()
    (in_tmp / "vendor-charts" / "Dockerfile").write_text("FROM alpine:3.20\n")
    assert main(["lint", "--exclude", "vendor-charts/*"]) == 0
    assert main(["lint"]) == 1


def test_version_and_help() -> None:
    assert run_cli("--version", cwd=Path.cwd()).stdout.startswith("ecr-ptc, version ")
    assert main(["--help"]) == 0
    assert main(["no-such-command"]) == 2


def test_annotations_agree_with_fail_on(in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text("FROM quay.io/a/b:1\nFROM nginx:1\nFROM gcr.io/x/y\n")

    code, out, _ = _invoke("lint", "--fail-on", "docker-hub", "--format", "github")
    levels = [line.split(" ", 1)[0] for line in out.splitlines()]
    assert (code, levels) == (1, ["::warning", "::error", "::warning"])

    code, out, _ = _invoke("lint", "--fail-on", "unsupported", "--format", "sarif")
    results = json.loads(out)["runs"][0]["results"]
    assert (code, [r["level"] for r in results]) == (1, ["warning", "warning", "error"])


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _commands(cli), ids=" ".join)
def test_every_command_documents_its_exit_codes(command: tuple[str, ...]) -> None:
    shown = CliRunner().invoke(cli, [*command, "--help"])
    assert shown.exit_code == 0
    assert "Exit codes: 0 " in shown.output


def test_top_level_help_names_the_environment_and_the_suppression_syntax() -> None:
    shown = CliRunner().invoke(cli, ["--help"]).output
    assert "ECR_PTC_<OPTION>" in shown and "ECR_PTC_REGISTRY" in shown
    assert "# ecr-ptc: ignore[PTC001" in shown
    assert "sarif" in CliRunner().invoke(cli, ["lint", "--help"]).output.split("--format")[1]


@pytest.mark.parametrize(
    "name",
    ["compose.yaml", "docker-compose.prod.yml", "kustomization.yaml", "chart/values.yaml"],
)
def test_a_file_claimed_by_name_that_does_not_parse_is_reported(
    name: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No `image` word in it, but its name says what it is: a parse error is PTC900, not a
    silent skip (the word pre-filter only skips files no scanner claims by name)."""
    (in_tmp / "chart").mkdir()
    (in_tmp / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    (in_tmp / name).write_text("key: [unclosed\n")
    (in_tmp / "notes.yaml").write_text("key: [unclosed\n")  # no kind claims it: not reported

    assert main(["scan", "--format", "json", "."]) == 2
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert [e["path"] for e in errors] == [name]


def _test_data(root: Path) -> None:
    (root / "Dockerfile").write_text("FROM alpine:3.20\n")
    (root / "tests" / "golden").mkdir(parents=True)
    (root / "tests" / "golden" / "Dockerfile").write_text("FROM nginx:1.27\n")
    (root / "testdata").mkdir()
    (root / "testdata" / "bad.yaml").write_bytes("\ufeffimage: [".encode("utf-16"))


def test_test_data_is_skipped_and_the_summary_says_how_to_read_it(in_tmp: Path) -> None:
    _test_data(in_tmp)
    code, out, _ = _invoke("lint")
    assert code == 1 and "tests/" not in out and "testdata" not in out.splitlines()[0]
    assert out.splitlines()[-1] == (
        "1 file read, 1 image reference: 1 pulls from upstream (1 PTC001); 1 fails lint; "
        "2 files in test directories skipped (--include-tests or `include-tests: true` reads them)"
    )
    code, _, err = _invoke("fix", "--registry", REGISTRY)
    assert code == 1 and "ecr-ptc: 2 files in test directories skipped (--include-tests" in err
    assert (in_tmp / "tests" / "golden" / "Dockerfile").read_text() == "FROM nginx:1.27\n"


@pytest.mark.parametrize(
    ("args", "env", "config"),
    [
        pytest.param(("lint", "--include-tests"), None, "", id="flag"),
        pytest.param(("--include-tests", "lint"), None, "", id="flag-before-command"),
        pytest.param(("lint",), {"ECR_PTC_INCLUDE_TESTS": "1"}, "", id="environment"),
        pytest.param(("lint",), None, "include-tests: true\n", id="config"),
    ],
)
def test_test_data_is_read_when_asked(
    args: tuple[str, ...], env: dict[str, str] | None, config: str, in_tmp: Path
) -> None:
    (in_tmp / "tests").mkdir()
    (in_tmp / "tests" / "Dockerfile").write_text("FROM nginx:1.27\n")
    if config:
        (in_tmp / ".ecr-ptc.yaml").write_text(config)
    code, out, _ = _invoke(*args, env=env)
    assert code == 1 and out.startswith("tests/Dockerfile:1:6: PTC001")
    assert "skipped" not in out


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("-v", "scan"), id="verbose"),
        pytest.param(("--verbose", "--debug", "lint"), id="verbose-debug"),
        pytest.param(("--config", ".ecr-ptc.yaml", "-v", "scan"), id="config"),
        pytest.param(("--registry", REGISTRY, "-v", "fix", "--check"), id="registry"),
        pytest.param(("-v", "rules", "plan", "--registry", REGISTRY), id="nested-group"),
    ],
)
def test_global_options_before_the_command(args: tuple[str, ...], in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text("FROM alpine:3.20\n")
    (in_tmp / ".ecr-ptc.yaml").write_text("lint:\n  fail-on: [docker-hub]\n")
    code, _, err = _invoke(*args)
    assert code in (0, 1)
    assert "ecr-ptc: config .ecr-ptc.yaml" in err


def test_the_command_line_wins_over_the_same_option_before_the_command(in_tmp: Path) -> None:
    (in_tmp / "Dockerfile").write_text("FROM alpine:3.20\n")
    other = REGISTRY.replace("123456789012", "210987654321")
    _, out, _ = _invoke("--registry", other, "scan", "--registry", REGISTRY)
    assert f"use {TARGET}" in out
    _, out, _ = _invoke("--registry", REGISTRY, "scan", env={"ECR_PTC_REGISTRY": other})
    assert f"use {TARGET}" in out


@pytest.mark.parametrize(
    ("files", "summary"),
    [
        pytest.param(
            {"Dockerfile": "FROM alpine:3.20\nFROM gcr.io/distroless/static\nFROM ${BASE}\n"},
            "1 file read, 3 image references: 2 pull from upstream (1 PTC001, 1 PTC003), "
            "1 is unresolved (1 PTC004); no config file",
            id="before",
        ),
        pytest.param(
            {"Dockerfile": f"FROM {TARGET}\nFROM localhost:5000/x\n"},
            "1 file read, 2 image references: 1 uses the cache, 1 is private; no config file",
            id="after",
        ),
        pytest.param(
            {"compose.yaml": "services: [\n"},
            "1 file read, no image references; 1 PTC900 (not read or not rewritten); "
            "no config file",
            id="only-an-error",
        ),
    ],
)
def test_the_summary_counts_what_was_read_what_bypasses_the_cache_and_why(
    files: dict[str, str], summary: str, in_tmp: Path
) -> None:
    for name, text in files.items():
        (in_tmp / name).write_text(text)
    _, out, _ = _invoke("scan")
    assert out.splitlines()[-1] == summary
