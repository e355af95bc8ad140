"""A Helm chart's templates: Go templates, not YAML, so read line by line. A literal container
image (`image: busybox:1.36`, no `{{` in the value: a test hook, an init container) is found
and rewritten like any other; templated ones are the values files' business. Go-templated YAML
elsewhere in a chart (`files/*.yaml`, rendered through `tpl`) is read the same way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.facts.charts import chart_root
from migrate.facts.charts.evidence import in_container
from migrate.kinds.paths import YAML_SUFFIXES, in_helm_templates
from migrate.occurrence import Occurrence, Part

NAME = "helm-template"
FILES = r"\.ya?ml$"  # under a chart's templates/ (`by_name`), which the union already holds

_IMAGE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<item>-[ \t]+)?image:[ \t]*(?P<q>[\"']?)(?P<value>[^\s\"'#{}]+)(?P=q)"
    r"[ \t]*(?:#.*)?\r?$",
    re.MULTILINE,
)


def by_name(path: Path) -> bool:
    return in_helm_templates(path)


def claims(path: Path, text: str) -> bool:
    """Under templates/, or Go-templated YAML elsewhere in a chart (`files/job.yaml`, which a
    template reads with `.Files.Get` and `tpl`): Go, not YAML, either way."""
    if by_name(path):
        return True
    return (
        "{{" in text
        and path.name.lower().endswith(YAML_SUFFIXES)
        and chart_root(path.parent) is not None
    )


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if "image" not in text:
        return
    lines: list[str] | None = None
    for match in _image_lines(text):
        if lines is None:
            lines = text.split("\n")
        number = text.count("\n", 0, match.start())
        if not in_container(lines, number, match):
            continue  # a machine template's or a volume's `image:`
        start, end = match.span("value")
        yield Occurrence("image", match["value"], (Part("ref", start, end),), start, end)


def _image_lines(text: str) -> Iterator[re.Match[str]]:
    """`_IMAGE.finditer(text)`, tried only on lines that say `image:`: the pattern starts at a
    line start, so finditer would try it at every line of every template."""
    at = text.find("image:")
    while at >= 0:
        match = _IMAGE.match(text, text.rfind("\n", 0, at) + 1)
        if match is not None:
            yield match
        line_end = text.find("\n", at)
        if line_end < 0:
            return
        at = text.find("image:", line_end)
