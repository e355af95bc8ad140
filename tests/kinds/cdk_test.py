from __future__ import annotations

from pathlib import Path

import pytest

from migrate.context import FileContext
from migrate.kinds import cdk
from tests.helpers import CORPUS


def _found(text: str, name: str = "stack.ts") -> list[tuple[str, str | None, list[str]]]:
    context = FileContext(path=Path(name))
    return [
        (o.written, o.unresolved, [f"{p.role}:{text[p.start : p.end]}" for p in o.parts])
        for o in cdk.scan(text, context)
    ]


def test_claims_only_sources_that_mention_the_call() -> None:
    assert cdk.claims(Path("lib/stack.ts"), "ContainerImage.fromRegistry('a')")
    assert not cdk.claims(Path("lib/stack.ts"), "const x = 1")
    assert not cdk.claims(Path("lib/stack.d.ts"), "ContainerImage.fromRegistry('a')")
    assert not cdk.claims(Path("README.md"), "ContainerImage.fromRegistry('a')")
    assert not cdk.claims(Path("cdk.out/asset.1/index.js"), "ContainerImage.fromRegistry('a')")
    assert not cdk.claims(Path("web/node_modules/x/i.js"), "ContainerImage.fromRegistry('a')")
    assert cdk.claims(Path("app/stack.py"), "ContainerImage.from_registry('a')")
    assert cdk.claims(Path("Stack.cs"), 'ContainerImage.FromRegistry("a")')


def test_typescript_strings_comments_regex_and_templates_are_told_apart() -> None:
    text = (
        "// ContainerImage.fromRegistry('in/a-comment:1')\n"
        "/* ContainerImage.fromRegistry('in/a-block:1') */\n"
        "const re = /ContainerImage.fromRegistry\\('in\\/a-regex'\\)/;\n"
        "const s = \"ContainerImage.fromRegistry('in/a-string:1')\";\n"
        "const t = `ContainerImage.fromRegistry('in/a-template:${x}')`;\n"
        "const ratio = a / b; const c = d / e;\n"
        "ecs.ContainerImage.fromRegistry('nginx:1.27');\n"
        'ecs.ContainerImage.fromRegistry( /* why */ "redis:7" );\n'
        "ContainerImage.fromRegistry(`node:${tag}`);\n"
        "ContainerImage.fromRegistry(`${registry}/app:1`);\n"
        "DockerImage.fromRegistry(`nested:${`x${y}`}`);\n"
    )
    assert _found(text) == [
        ("nginx:1.27", None, ["ref:nginx:1.27"]),
        ("redis:7", None, ["ref:redis:7"]),
        ("node:${tag}", None, ["name:node"]),
        ("${registry}/app:1", "an interpolation in the image name", []),
        ("nested:${`x${y}`}", None, ["name:nested"]),
    ]


def test_concatenation_constants_and_expressions() -> None:
    text = (
        "const IMAGE = 'amazon/cloudwatch-agent:latest';\n"
        "ContainerImage.fromRegistry(IMAGE);\n"
        "ContainerImage.fromRegistry(IMAGE);\n"
        "ContainerImage.fromRegistry('busybox:' + tag);\n"
        "ContainerImage.fromRegistry('a' + b + ':1');\n"
        "ContainerImage.fromRegistry(props.image);\n"
    )
    found = _found(text)
    assert found[0] == (
        "amazon/cloudwatch-agent:latest",
        None,
        ["ref:amazon/cloudwatch-agent:latest"],
    )
    assert found[1] == ("busybox:", None, ["name:busybox"])
    assert [reason is not None and parts == [] for _, reason, parts in found[2:]] == [True, True]
    assert len(found) == 4


def test_python_tokens() -> None:
    text = (
        "# ecs.ContainerImage.from_registry('commented:1')\n"
        'doc = """ecs.ContainerImage.from_registry("in/doc:1")"""\n'
        "a = ecs.ContainerImage.from_registry(\n    'amazon/amazon-ecs-sample',  # note\n)\n"
        'b = ecs.ContainerImage.from_registry(f"grafana/grafana:{version}")\n'
        'c = ecs.ContainerImage.from_registry(f"{registry}/x:1")\n'
        'd = ecs.ContainerImage.from_registry(r"raw/prefix:1")\n'
    )
    found = _found(text, "stack.py")
    assert found[0] == ("amazon/amazon-ecs-sample", None, ["ref:amazon/amazon-ecs-sample"])
    assert found[1] == ("grafana/grafana:${version}", None, ["name:grafana/grafana"])
    assert found[2][1] is not None and found[3][1] is not None
    assert len(found) == 4


def test_java_and_csharp() -> None:
    java = 'ContainerImage.fromRegistry("amazon/amazon-ecs-sample") // ContainerImage.fromRegistry("x")'
    csharp = 'ContainerImage.FromRegistry("nginx:1.27");'
    assert _found(java, "Stack.java") == [
        ("amazon/amazon-ecs-sample", None, ["ref:amazon/amazon-ecs-sample"])
    ]
    assert _found(csharp, "Stack.cs") == [("nginx:1.27", None, ["ref:nginx:1.27"])]


@pytest.mark.corpus
def test_corpus() -> None:
    assert CORPUS is not None
    root = CORPUS / "aws" / "cdk"
    files = [p for p in sorted(root.rglob("*")) if p.suffix in (".ts", ".py")]
    claimed = [p for p in files if cdk.claims(p, p.read_text())]
    found = [o for p in claimed for o in cdk.scan(p.read_text(), FileContext(path=p))]
    assert (len(files), len(claimed)) == (15, 10)
    assert len([o for o in found if o.parts]) == 14
    assert len([o for o in found if o.unresolved]) == 3  # `${props.registry}:${...}` templates
