"""CI step scripts: `docker build -t` / `docker buildx build --tag` in GitHub Actions `run:`,
GitLab `script:` (`before_script:` too), Drone and Woodpecker `commands:`, CircleCI `run:` /
`command:`, Bitbucket `script:`, Buildkite `command(s):`, Azure Pipelines `script:` / `bash:`,
read as `scripts` reads a shell script, with the variables set around the step: every
enclosing mapping's `env:`, `variables:` or `environment:` (a pipeline's, then a job's, then a
step's: the nearest wins).

The tree is read by key, not per CI system: a build command in any of these keys names an image
the pipeline builds, whichever system runs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import Repo
from migrate.facts.builds import scripts
from migrate.occurrence import ScanError
from migrate.syntax.nodes import Mapping, Node, Scalar, Sequence

TOOL = "CI script"
# GitLab runs `before_script` and `script` in one shell: an export reaches the build.
_SCRIPTS = (
    ("before_script", "script"),
    *((key,) for key in ("run", "commands", "command", "cmd", "bash", "pwsh", "inlineScript")),
)
_VARIABLES = frozenset({"env", "variables", "environment"})
# GitHub's expression for a variable: `${{ env.IMAGE }}` is the shell's `${IMAGE}` here.
_GITHUB_ENV = re.compile(r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Any other expression (`${{ github.sha }}`) is a value known only to the run: one unset word.
_GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def names(path: Path, text: str, repo: Repo) -> Iterator[tuple[str, int]]:
    if not scripts.mentions_build(text):
        return
    from migrate.syntax import yaml as _yaml  # only for a CI file that runs `docker build`

    try:
        documents = _yaml.documents(text)
    except ScanError:  # facts, not findings: the file's own scanner reports a broken file
        return
    for document in documents:
        for name, offset in _walk(document, {}):
            yield name, text.count("\n", 0, offset) + 1


def _walk(root: Node, outer: dict[str, str]) -> Iterator[tuple[str, int]]:
    stack: list[tuple[Node, dict[str, str]]] = [(root, outer)]
    seen: set[int] = set()
    while stack:
        node, variables = stack.pop()
        if id(node) in seen:  # an alias visited once: linear on an alias bomb
            continue
        seen.add(id(node))
        if isinstance(node, Sequence):
            stack.extend((item, variables) for item in reversed(node.items))
            continue
        if not isinstance(node, Mapping):
            continue
        keys = {k.value: v for k, v in node.pairs if isinstance(k, Scalar)}
        own = variables
        for key in sorted(_VARIABLES & keys.keys()):
            own = {**own, **_variables(keys[key])}
        for group in _SCRIPTS:
            found = [keys[key] for key in group if key in keys]
            if found:
                yield from _script(found, own)
        children = [value for value in keys.values() if not isinstance(value, Scalar)]
        stack.extend((value, own) for value in reversed(children))  # text order


def _variables(node: Node) -> dict[str, str]:
    """`NAME: value` and GitLab's `NAME: {value: ...}`; a list of `NAME=value` (Drone, Woodpecker
    and Compose-style environments)."""
    from migrate.syntax import yaml as _yaml  # loaded already: the file was composed

    out: dict[str, str] = {}
    if isinstance(node, Mapping):
        for key, value in node.pairs:
            held = _yaml.fields(value).get("value") if isinstance(value, Mapping) else value
            if isinstance(key, Scalar) and isinstance(held, Scalar):
                out[key.value] = held.value
    elif isinstance(node, Sequence):
        for item in node.items:
            if isinstance(item, Scalar) and "=" in item.value:
                name, _, text = item.value.partition("=")
                out[name.strip()] = text
    return out


def _script(nodes: list[Node], variables: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Scripts, or lists of lines, run in one shell (`export IMAGE=x` then `docker build`)."""
    lines: list[Scalar] = []
    for node in nodes:
        if isinstance(node, Scalar):
            lines.append(node)
        elif isinstance(node, Sequence):
            lines.extend(item for item in node.items if isinstance(item, Scalar))
    texts = [
        _GITHUB_EXPRESSION.sub("${GITHUB_EXPRESSION}", _GITHUB_ENV.sub(r"${\1}", line.value))
        for line in lines
    ]
    starts, at = [], 0
    for text in texts:
        starts.append(at)
        at += len(text) + 1
    for name, offset in scripts.builds_in("\n".join(texts), variables):
        index = max(i for i, start in enumerate(starts) if start <= offset)
        yield name, lines[index].start
