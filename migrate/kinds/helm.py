"""Helm values files: the images a chart composes from its values (`_helm_images`), with the
chart's templates as evidence of which values are images at all (`migrate.facts.charts.evidence`).

Values are data, not templates, but the chart's templates decide how a map becomes a reference;
the common shapes are `{{ registry }}/{{ repository }}:{{ tag }}` (Bitnami, with
`global.imageRegistry` overriding every registry) and `{{ repository }}:{{ tag }}`.
https://github.com/bitnami/charts/blob/main/bitnami/common/templates/_images.tpl
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migrate.context import STANDALONE, FileContext
from migrate.facts.charts import Chart
from migrate.facts.charts import of as charts_of
from migrate.facts.charts.evidence import Evidence
from migrate.kinds import helm_images as _helm_images
from migrate.kinds.helm_images import Head
from migrate.kinds.paths import YAML_SUFFIXES, in_helm_templates
from migrate.occurrence import Occurrence, ScanError
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence

NAME = "helm"
# Values files by name anywhere, and any YAML beside a Chart.yaml (`is_values`).
FILES = r"\.ya?ml$"

# values.yaml, values-prod.yaml, prod.values.yaml, and the close cousins values.prod.yaml,
# prod-values.yaml, values_prod.yaml that charts and CI setups use just as often.
_VALUES = re.compile(r"^(?:.*[._-])?values(?:[._-].*)?\.ya?ml$")
_CHART_FILES = frozenset({"chart.yaml", "chart.lock", "requirements.yaml", "requirements.lock"})
_WORDS = re.compile("image|repository|registry|hub", re.IGNORECASE)
_TEMPLATE = "a Go template, not YAML: its images are known once it is rendered"
_SHARED = "YAML anchor shared with a value that is not this image: rewrite it by hand"


def is_values(path: Path) -> bool:
    name = path.name.lower()
    if not name.endswith(YAML_SUFFIXES) or name in _CHART_FILES:
        return False
    return bool(_VALUES.match(name)) or (path.parent / "Chart.yaml").is_file()


def by_name(path: Path) -> bool:
    return is_values(path) and not in_helm_templates(path)


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, _WORDS, context):
        return
    chart = _chart(context)
    evidence = chart.evidence if chart else None
    defaults = _defaults(chart, context)
    try:
        docs = _yaml.documents(text, context.parsing)
    except ScanError as exc:
        if "{{" not in text:
            raise
        # A values file that is a Go template itself (rendered by CI or helmfile first).
        yield Occurrence("template", "{{ }}", (), exc.offset, exc.offset, _TEMPLATE)
        return
    for doc in docs:
        found = _document(doc, defaults, evidence)
        yield from sorted(found, key=lambda occ: occ.at)  # walk order is not text order


def _chart(context: FileContext) -> Chart | None:
    if context.path is None:
        return None
    charts = charts_of(context.repo)
    return charts.of(context.path, context.repo.root if context.repo else None)


def _defaults(chart: Chart | None, context: FileContext) -> Node | None:
    """The chart's values.yaml, which an override file is merged with (none for itself),
    composed once per chart."""
    if chart is None or context.path is None or context.path == chart.root / "values.yaml":
        return None
    if not chart.defaults_read:
        try:
            docs = _yaml.documents(chart.values, context.parsing) if chart.values else []
        except ScanError:
            docs = []
        chart.defaults, chart.defaults_read = (docs[0] if docs else None), True
    return chart.defaults  # type: ignore[return-value]


def _document(
    doc: Node | None, defaults: Node | None, evidence: Evidence | None
) -> list[Occurrence]:
    heads = _helm_images.chart_heads(doc, defaults)
    ns = _helm_images.namespace(doc, defaults)
    out = []
    for head in heads:
        if head.key == _helm_images.BITNAMI and head.node is not None:
            out.append(
                _yaml.unresolved("image-registry", head.value, head.node, _helm_images.GLOBAL)
            )
            break
    shared = _shared(doc)
    for site in _helm_images.sites(doc, evidence):
        occ = _helm_images.occurrence(site, heads, ns, evidence)
        if occ is None:
            continue
        if occ.parts and _is_shared(shared, site):
            occ = Occurrence(occ.kind, occ.written, (), occ.at, occ.end, _SHARED, code="PTC012")
        out.append(occ)
    if any(o.kind == "image-registry" for o in out) and any(_uses_head(o, heads) for o in out):
        out = [o for o in out if o.kind != "image-registry"]  # the global itself is reported
    return out


def _uses_head(occ: Occurrence, heads: list[Head]) -> bool:
    return any(
        h.node is not None and h.node.span is not None and (p.start, p.end) == h.node.span
        for p in occ.parts
        for h in heads
    )


def _shared(doc: Node | None) -> dict[int, list[str]]:
    """Node id -> the keys it is the value of, aliases included (a node twice: anchored)."""
    uses: dict[int, list[str]] = {}
    seen: set[int] = set()
    stack: list[Node] = [doc] if doc is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Sequence):
            for item in node.items:
                uses.setdefault(id(item), []).append("[]")
                stack.append(item)
        elif isinstance(node, Mapping):
            for key, value in node.pairs:
                uses.setdefault(id(value), []).append(key.value if isinstance(key, Scalar) else "?")
                stack.append(value)
    return uses


def _is_shared(uses: dict[int, list[str]], site: _helm_images.Site) -> bool:
    """An edited scalar (or the map holding it) is also the value of a key that is not an
    image: rewriting it at its anchor would change that value as well."""
    for node in (site.name, site.own, site.holder):
        keys = uses.get(id(node), []) if node is not None else []
        if len(keys) > 1 and not all(_image_key(k) for k in keys):
            return True
    return False


def _image_key(key: str) -> bool:
    return _helm_images.image_like(key) or key in ("<<", "[]", "repository", "registry", "hub")
