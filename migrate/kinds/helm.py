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
from operator import attrgetter
from pathlib import Path

from migrate.context import STANDALONE, FileContext, Repo
from migrate.facts.charts import Chart
from migrate.facts.charts import guard as _guard
from migrate.facts.charts import of as charts_of
from migrate.facts.charts.evidence import Evidence
from migrate.facts.directories import holds
from migrate.kinds import helm_images as _helm_images
from migrate.kinds.helm_images import Head
from migrate.kinds.paths import YAML_SUFFIXES, in_helm_templates
from migrate.occurrence import Occurrence, Part, ScanError, set_beside
from migrate.syntax import yaml as _yaml
from migrate.syntax.yaml import Mapping, Node, Scalar, Sequence, fields

NAME = "helm"
# Values files by name anywhere, and any YAML beside a Chart.yaml (`is_values`).
FILES = r"\.ya?ml$"

# values.yaml, values-prod.yaml, prod.values.yaml, and the close cousins values.prod.yaml,
# prod-values.yaml, values_prod.yaml that charts and CI setups use just as often.
_VALUES = re.compile(r"^(?:.*[._-])?values(?:[._-].*)?\.ya?ml$")
_CHART_FILES = frozenset({"chart.yaml", "chart.lock", "requirements.yaml", "requirements.lock"})
_WORDS = re.compile("image|repository|registry|hub", re.IGNORECASE)
_AT = attrgetter("at")
_TEMPLATE = "a Go template, not YAML: its images are known once it is rendered"
_SHARED = "YAML anchor shared with a value that is not this image: rewrite it by hand"


def is_values(path: Path) -> bool:
    name = path.name.lower()
    if not name.endswith(YAML_SUFFIXES) or name in _CHART_FILES:
        return False
    return bool(_VALUES.match(name)) or holds(str(path.parent), "Chart.yaml")


def by_name(path: Path) -> bool:
    return is_values(path) and not in_helm_templates(path)


def claims(path: Path, text: str) -> bool:
    return by_name(path)


def included(path: Path, repo: Repo) -> bool:
    """A values file a helmfile release, an Argo CD Application or a Flux HelmRelease installs
    a chart with, whatever its name (`values/redis.yaml`)."""
    return path.name.lower().endswith(YAML_SUFFIXES) and path.resolve() in _guard.of(repo)


def scan(text: str, context: FileContext = STANDALONE) -> Iterator[Occurrence]:
    if not _yaml.mentions(text, _WORDS, context):
        return
    chart = _chart(context)
    evidence = chart.evidence if chart else None
    defaults = _defaults(chart, context)
    try:
        docs = _composed_defaults(chart, text, context) or _yaml.documents(text, context.parsing)
    except ScanError as exc:
        if "{{" not in text:
            raise
        # A values file that is a Go template itself (rendered by CI or helmfile first).
        yield Occurrence("template", "{{ }}", (), exc.offset, exc.offset, _TEMPLATE)
        return
    aliases = "*" in text  # else no node is the value of two keys
    for doc in docs:
        found = _document(doc, defaults, evidence, aliases)
        if len(docs) == 1 and any(occ.parts for occ in found):
            found = _guarded(found, doc, text, chart, context)
        yield from sorted(found, key=_AT)  # walk order is not text order


# Bitnami-style charts' guard against relocated images (`migrate.facts.charts.guard`).
_SET = (
    f"sets {_guard.SETTING}: true beside the rewrite: the chart's {_guard.CALL} refuses "
    "relocated images otherwise"
)
_UNKNOWN = (
    "a Bitnami-style image whose chart is not known here (no Chart.yaml, helmfile, Argo CD "
    f"Application or Flux HelmRelease names it): a Bitnami chart's {_guard.CALL} refuses the "
    f"relocated image unless {_guard.SETTING}: true, which is not set here"
)
_BY_HAND = (
    f"the chart's {_guard.CALL} refuses the relocated image unless {_guard.SETTING}: true, "
    "which is not set here ({}): set it by hand"
)


def _guarded(
    found: list[Occurrence], doc: Node | None, text: str, chart: Chart | None, ctx: FileContext
) -> list[Occurrence]:
    """The rewritable references of a values file of a chart that carries the guard, each
    with the part that sets the guard's setting (one edit, however many carry it); where the
    chart is not known and the images look Bitnami's, each says so instead."""
    carried = _carries(chart, ctx)
    if carried is None and not any(_bitnami_image(occ.written) for occ in found if occ.parts):
        return found
    allowance = _allowance(doc, text) if carried is not False else None
    if carried is False or isinstance(allowance, tuple) and not allowance:
        return found  # not guarded, or already allowed
    if carried is None or isinstance(allowance, str):
        why = _UNKNOWN if carried is None else _BY_HAND.format(allowance)
        beside = ("PTC017", why)
        return [_beside(o, o.parts, beside) if o.parts else o for o in found]
    assert isinstance(allowance, tuple)
    return [_beside(o, (*o.parts, *allowance), ("PTC016", _SET)) if o.parts else o for o in found]


def _beside(occ: Occurrence, parts: tuple[Part, ...], beside: tuple[str, str]) -> Occurrence:
    set_beside(occ, parts, beside)  # made by this scan: nothing else holds it yet
    return occ


def _carries(chart: Chart | None, ctx: FileContext) -> bool | None:
    """Does the file's chart carry the guard? None: the chart is not known."""
    if ctx.path is None:
        return None
    repo = ctx.repo
    if chart is not None:
        root = repo.root if repo else None
        if repo is None:
            return _guard.carries(chart.root, root)
        return repo.memo(("guard", chart.root), lambda: _guard.carries(chart.root, root))
    if repo is None:
        return None
    source = _guard.of(repo).get(ctx.path.resolve())
    return None if source is None else _guard.bitnami(source)


def _bitnami_image(written: str) -> bool:
    return "/bitnami/" in f"/{written}" or written.startswith("bitnami/")


def _allowance(doc: Node | None, text: str) -> tuple[Part, ...] | str:
    """The part that makes `global.security.allowInsecureImages` true, () when it is, or why
    it cannot be set by a minimal edit."""
    if not isinstance(doc, Mapping) or text[doc.start : doc.start + 1] in ("{", "["):
        return "the values are not a block mapping"
    path: list[str] = []
    node: Node = doc
    for key in ("global", "security", "allowInsecureImages"):
        value = fields(node).get(key) if isinstance(node, Mapping) else None
        if value is None:
            if path and not _indented(node, text):
                return f"{'.'.join(path)} is not a block mapping of its own lines"
            if not path:
                if not _only_comments(text[doc.end :]):
                    return "the values file goes on after its mapping"
                return (Part("allow-global", len(text), len(text)),)
            start = _line_start(text, node.start)
            role = "allow-security" if key == "security" else "allow-key"
            return (Part(role, start, start),)
        path.append(key)
        node = value
    if isinstance(node, Scalar) and node.tag == _BOOL and node.value == "true":
        return ()
    if isinstance(node, Scalar) and node.tag == _BOOL and node.value == "false" and node.span:
        return (Part("allow", *node.span),)
    return f"{_guard.SETTING} is set to something else than false"


_BOOL = "tag:yaml.org,2002:bool"


def _indented(node: Node, text: str) -> bool:
    """A block mapping whose first key starts its own line, after nothing but spaces."""
    if not isinstance(node, Mapping) or not node.flat:
        return False
    start = _line_start(text, node.start)
    return text[node.start : node.start + 1] not in ("{", "") and not text[
        start : node.start
    ].strip(" ")


def _line_start(text: str, at: int) -> int:
    return text.rfind("\n", 0, at) + 1


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.split("\n"))


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
        else:
            if chart.values:
                fast = context.parsing.use_fast(len(chart.values))
                chart.composed = (chart.values, fast, docs)
        chart.defaults, chart.defaults_read = (docs[0] if docs else None), True
    return chart.defaults  # type: ignore[return-value]


def _composed_defaults(chart: Chart | None, text: str, context: FileContext) -> list[Node]:
    """The documents `_defaults` composed for an override file when `text` is the very same
    values.yaml, composed the same way: the chart's values.yaml is then composed once, not
    twice (override files under ci/ come before it in walk order). Nothing edits a tree."""
    if chart is None or chart.composed is None:
        return []
    values, fast, docs = chart.composed
    if text != values or fast != context.parsing.use_fast(len(text)):
        return []
    return docs


def _document(
    doc: Node | None, defaults: Node | None, evidence: Evidence | None, aliases: bool = True
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
    shared = _shared(doc) if aliases else None  # a walk of every node: only when it can tell
    # A map's reference is composed (`repository` + `:` + `tag`): a dense values file composes
    # the same few a hundred thousand times, each a new string held until the file is done.
    written: dict[str, str] = {}
    for site in _helm_images.sites(doc, evidence, aliases):
        occ = _helm_images.occurrence(site, heads, ns, evidence)
        if occ is None:
            continue
        same = written.get(occ.written)
        if same is None:
            if len(written) < _WRITTEN:
                written[occ.written] = occ.written
        elif same is not occ.written:
            object.__setattr__(occ, "written", same)  # made just now: nothing else holds it
        if occ.parts and shared is not None and _is_shared(shared, site):
            occ = Occurrence(occ.kind, occ.written, (), occ.at, occ.end, _SHARED, code="PTC012")
        out.append(occ)
    if any(o.kind == "image-registry" for o in out) and any(_uses_head(o, heads) for o in out):
        out = [o for o in out if o.kind != "image-registry"]  # the global itself is reported
    return out


_WRITTEN = 4096  # distinct references shared per document: past this, each keeps its own


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
