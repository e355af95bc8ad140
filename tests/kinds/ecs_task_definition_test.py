"""ECS task definitions: recognised by content in both shapes, each container's image found,
escaped image strings reported and never rewritten, and the corpus's task definitions fixed
with only their image strings changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.cli import main
from migrate.kinds import ecs_task_definition as ecs
from migrate.kinds.registry import is_candidate, scanner_for
from migrate.occurrence import ScanError
from tests.kinds import aws_corpus

REGISTER = '{"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx:1.27"}]}'
DESCRIBED = '{"taskDefinition": {"containerDefinitions": [{"image": "redis:7"}, {"name": "x"}]}}'


@pytest.mark.parametrize("text", [REGISTER, DESCRIBED], ids=["register", "describe"])
def test_both_shapes_are_claimed_by_content_and_scanned(text: str) -> None:
    path = Path("deploy/anything.json")
    assert is_candidate(path)
    assert _kind(scanner_for(path, text)) == ecs.NAME
    found = list(ecs.scan(text))
    assert len(found) == 1 and found[0].parts and found[0].unresolved is None
    start, end = found[0].parts[0][1:]
    assert text[start:end] in ("nginx:1.27", "redis:7")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("package.json", '{"name": "x", "image": "nginx:1.27"}'),  # no container definitions
        ("nested.json", '{"spec": {"containerDefinitions": [{"image": "nginx"}]}}'),  # not top
        ("list.json", '[{"containerDefinitions": [{"image": "nginx"}]}]'),
        ("task.yaml", "containerDefinitions:\n  - image: nginx\n"),  # JSON only
        ("task.json", '{"ContainerDefinitions": [{"Image": "nginx"}]}'),  # CloudFormation's case
    ],
)
def test_other_files_are_not_task_definitions(name: str, text: str) -> None:
    assert not ecs.claims(Path(name), text)


def test_claims_is_a_substring_test_before_any_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    from migrate.syntax import jsonc

    def boom(text: str) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(jsonc, "document", boom)
    assert not ecs.claims(Path("tsconfig.json"), '{"compilerOptions": {"strict": true}}')


def test_a_task_definition_that_is_not_json_is_claimed_and_reported() -> None:
    text = '{\n  "containerDefinitions": [{"image": $APP_IMAGE}]\n}\n'  # a shell template
    assert ecs.claims(Path("task.json"), text)
    with pytest.raises(ScanError):
        list(ecs.scan(text))


@pytest.mark.parametrize("image", [r"grafana\/grafana:11", r"prom\u002fprometheus:v2"])
def test_escaped_image_strings_are_reported_never_rewritten(image: str) -> None:
    (found,) = ecs.scan('{"containerDefinitions": [{"image": "' + image + '"}]}')
    assert found.parts == () and found.unresolved
    assert "/" in found.written  # the decoded value is what is reported


def test_only_container_images_are_read() -> None:
    text = json.dumps(
        {
            "containerDefinitions": [
                {"image": "nginx", "environment": [{"name": "IMAGE", "value": "redis:7"}]},
                "not a container",
            ],
            "image": "busybox",
        }
    )
    assert [occ.written for occ in ecs.scan(text)] == ["nginx"]


# The corpus's ECS folder: two shell templates that are not JSON (PTC900), two container
# fragments without `containerDefinitions` (not task definitions), and these images.
EXPECTED = {
    "aws-samples__amazon-cloudwatch-container-insights": 8,
    "aws__aws-for-fluent-bit": 4,
    "signalfx__splunk-otel-collector": 1,
}
NOT_JSON = {
    "aws__aws-app-mesh-examples/examples/apps/colorapp/ecs/colorgateway-base-task-def.json",
    "aws__aws-for-fluent-bit/load_tests/task_definitions/cloudwatch.json",
}


@pytest.mark.corpus
def test_corpus_every_image_found() -> None:
    root = aws_corpus.corpus() / "aws" / "ecs-json"
    counts: dict[str, int] = {}
    errors = set()
    for rel in aws_corpus.files("ecs-json"):
        path = root / rel
        text = path.read_text("utf-8-sig")
        if _kind(scanner_for(path, text)) != ecs.NAME:
            assert '"containerDefinitions"' not in text, rel
            continue
        try:
            found = list(ecs.scan(text))
        except ScanError:
            errors.add(rel)
            continue
        # Every `"image":` key of the file is one occurrence: nothing missed, nothing more.
        assert len(found) == text.count('"image"'), rel
        owner = rel.split("/", 1)[0]
        counts[owner] = counts.get(owner, 0) + len(found)
    assert errors == NOT_JSON
    assert counts == EXPECTED


@pytest.mark.corpus
def test_corpus_fix_changes_only_image_strings(in_tmp: Path) -> None:
    before, after = aws_corpus.fix_twice("ecs-json", in_tmp)
    changed = [rel for rel in before if before[rel] != after[rel]]
    assert len(changed) == 6
    rewritten = 0
    for rel in changed:
        diffs = list(aws_corpus.differences(json.loads(before[rel]), json.loads(after[rel])))
        assert diffs and all(where.endswith(".image") for where, _, _ in diffs), rel
        assert all(aws_corpus.is_rewrite(old, new) for _, old, new in diffs), rel
        rewritten += len(diffs)
    assert rewritten == 7


@pytest.mark.parametrize(
    ("text", "role"),
    [
        (
            '{"executionRoleArn": "arn:aws:iam::1:role/a", "containerDefinitions": []}',
            "arn:aws:iam::1:role/a",
        ),
        (
            '{"taskDefinition": {"executionRoleArn": "arn:aws:iam::1:role/b"}}',
            "arn:aws:iam::1:role/b",
        ),
        ('{"containerDefinitions": []}', None),
        ("[]", None),
    ],
)
def test_execution_role_is_the_role_that_pulls(text: str, role: str | None) -> None:
    assert ecs.execution_role(text) == role


def _kind(found: object) -> str | None:
    """The NAME of what `scanner_for` returned (None: no kind claimed the file)."""
    return getattr(found, "NAME", None)


# --- container definitions a Terraform module reads with file() / templatefile() -------------


def test_placeholders_outside_strings_become_numbers_of_the_same_length() -> None:
    text = '[{"image": "nginx:${tag}", "cpu": ${cpu}, "memory": ${ mem }}]'
    masked = ecs._placeholders_masked(text)
    assert len(masked) == len(text)
    assert masked == '[{"image": "nginx:${tag}", "cpu": 100000, "memory": 10000000}]'
    assert json.loads(masked)[0]["image"] == "nginx:${tag}"


def _module(root: Path, call: str, name: str, text: str) -> Path:
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "main.tf").write_text(
        f'resource "aws_ecs_task_definition" "t" {{\n  container_definitions = {call}\n}}\n'
    )
    target = root / "infra" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


@pytest.mark.parametrize(
    ("call", "name"),
    [
        ('file("${path.module}/containers.json")', "containers.json"),
        ('templatefile("${path.module}/t/containers.json.tftpl", { tag = "1" })',
         "t/containers.json.tftpl"),
        ('file("containers.json")', "containers.json"),
    ],
)  # fmt: skip
def test_a_file_terraform_reads_as_container_definitions_is_scanned(
    call: str, name: str, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _module(in_tmp, call, name, '[{"name": "a", "image": "nginx:1.27", "cpu": ${cpu}}]\n')

    assert main(["lint", "--format", "json", "."]) == 1
    (found,) = json.loads(capsys.readouterr().out)["findings"]
    assert (found["path"], found["file_kind"], found["code"]) == (
        f"infra/{name}",
        ecs.NAME,
        "PTC001",
    )


@pytest.mark.parametrize(
    "call",
    [
        'file("${path.module}/../../outside.json")',  # out of the repository
        'file("${var.dir}/containers.json")',  # a computed path
        'jsonencode([{ name = "a" }])',  # not a file at all
    ],
)
def test_other_files_are_not_read_as_container_definitions(call: str, in_tmp: Path) -> None:
    _module(in_tmp, call, "containers.json", '[{"name": "a", "image": "nginx:1.27"}]\n')
    assert main(["lint", "."]) == 0
