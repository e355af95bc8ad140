"""Where a Kubernetes object holds container images: decided by the keys that lead to a value
(its trail), never by the word `image` alone.

Core (every kind, at any depth, so Pods, workloads, CronJob's jobTemplate, `List` items and CRDs
that embed pod templates — Argo Rollouts, Knative Serving, KEDA ScaledJob — are covered):
`containers[]`, `initContainers[]`, `ephemeralContainers[]` `.image`
(https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#containers) and
image volumes' `volumes[].image.reference`
(https://kubernetes.io/docs/concepts/storage/volumes/#image). Volume plugins' `image` keys
(`volumes[].rbd.image`: a Ceph image name) are at no such trail.

Per API group, the documented container-shaped fields of common CRDs (`_GROUPS`). Looked up and
left out: cert-manager's CRDs hold no image (the ACME solver's `podTemplate.spec` has no
containers: https://cert-manager.io/docs/reference/api-docs/#acme.cert-manager.io/v1.ACMEChallengeSolverHTTP01IngressPodSpec);
Flux's `ImageRepository.spec.image` names a repository whose tags Flux lists, not a pull
(https://fluxcd.io/flux/components/image/imagerepositories/), and `OCIRepository.spec.url` is
an `oci://` artifact source; KEDA's ScaledJob is a pod template (core).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import NamedTuple

from migrate.occurrence import Occurrence
from migrate.syntax.yaml import MERGE, Mapping, Node, Scalar, Sequence, fields, reference, string

ITEM = 0  # a sequence position in a trail (JSON pointer indexes and `-` included)
Trail = tuple["str | int", ...]
CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})
KEYS = frozenset({"image", "reference", "package"})  # the last key of every image trail


class Rules(NamedTuple):
    lists: frozenset[str]  # keys whose sequence items are containers
    singles: frozenset[str]  # keys whose mapping value is one container
    fields: frozenset[Trail]  # trails from the object's root to an image string


CORE = Rules(CONTAINER_LISTS, frozenset(), frozenset())


def _rules(lists: tuple[str, ...] = (), singles: tuple[str, ...] = (), *trails: Trail) -> Rules:
    return Rules(CONTAINER_LISTS | set(lists), frozenset(singles), frozenset(trails))


_ARGO_WORKFLOWS = _rules(("sidecars",), ("container", "script"))
_TEKTON = _rules(("steps", "sidecars"), ("stepTemplate",))
_PROMETHEUS = _rules((), (), ("spec", "image"))
_CROSSPLANE = _rules((), (), ("spec", "package"))
# (group, kind) -> rules; kind None: every kind of the group.
_GROUPS: dict[tuple[str, str | None], Rules] = {
    # Argo Workflows templates: `container`, `script`, `initContainers[]`, `sidecars[]`,
    # `containerSet.containers[]` (https://argo-workflows.readthedocs.io/en/latest/fields/#template);
    # Argo Events' Sensor/EventSource `spec.template.container` is the same shape
    # (https://argoproj.github.io/argo-events/APIs/#argoproj.io/v1alpha1.Template).
    ("argoproj.io", None): _ARGO_WORKFLOWS,
    # Tekton: `steps[]`, `sidecars[]`, `stepTemplate` of a Task spec, inline in Pipelines and
    # runs as `taskSpec` (https://tekton.dev/docs/pipelines/tasks/#configuring-a-task);
    # a StepAction's `spec.image` (https://tekton.dev/docs/pipelines/stepactions/).
    ("tekton.dev", None): _TEKTON,
    ("tekton.dev", "StepAction"): _rules(("steps", "sidecars"), ("stepTemplate",), ("spec", "image")),
    # Prometheus Operator: `spec.image` overrides the operator's default, `containers[]` and
    # `initContainers[]` are merged into the pod; Prometheus' Thanos sidecar `spec.thanos.image`
    # (https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.PrometheusSpec).
    ("monitoring.coreos.com", "Prometheus"): _rules((), (), ("spec", "image"), ("spec", "thanos", "image")),
    ("monitoring.coreos.com", "PrometheusAgent"): _PROMETHEUS,
    ("monitoring.coreos.com", "Alertmanager"): _PROMETHEUS,
    ("monitoring.coreos.com", "ThanosRuler"): _PROMETHEUS,
    # Crossplane packages are OCI images: a Function's runs as a Deployment
    # (https://docs.crossplane.io/latest/packages/functions/, /providers/, /configurations/).
    ("pkg.crossplane.io", "Function"): _CROSSPLANE,
    ("pkg.crossplane.io", "Provider"): _CROSSPLANE,
    ("pkg.crossplane.io", "Configuration"): _CROSSPLANE,
    # A ControllerConfig's `spec.image` replaces the provider's controller image (a container
    # image, Docker's defaults); a DeploymentRuntimeConfig's is a pod template (core)
    # (https://docs.crossplane.io/latest/packages/providers/#controller-configuration).
    ("pkg.crossplane.io", "ControllerConfig"): _rules((), (), ("spec", "image")),
}  # fmt: skip


# Crossplane resolves a package name without a registry against its own `--registry`, never
# Docker Hub: xpkg.upbound.io until v1.20, xpkg.crossplane.io since
# (https://docs.crossplane.io/latest/packages/providers/#install-a-provider).
CROSSPLANE_REGISTRY = "xpkg.crossplane.io"
CROSSPLANE_NOTE = (
    "Crossplane resolves a package without a registry against its --registry: "
    f"{CROSSPLANE_REGISTRY}, or xpkg.upbound.io before v1.20; never Docker Hub"
)


def crossplane_package(written: str) -> str | None:
    """The name Crossplane pulls for a `spec.package` without a registry, else None."""
    first, slash, _ = written.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return None  # a registry named explicitly: an ordinary image reference
    return f"{CROSSPLANE_REGISTRY}/{written}"


def occurrence(key: str, node: Scalar) -> Occurrence:
    """The occurrence of an image string found under `key`: a Crossplane package without a
    registry is read as Crossplane reads it (its default registry is no cache upstream)."""
    if key != "package":
        return reference("image", node)
    found = reference("package", node)
    resolved = crossplane_package(node.value)
    if found.unresolved or resolved is None:
        return found
    return replace(found, written=resolved, note=CROSSPLANE_NOTE, package=node.value)


def rules_for(api_version: str, kind: str) -> Rules:
    group = api_version.rpartition("/")[0]
    return _GROUPS.get((group, kind)) or _GROUPS.get((group, None)) or CORE


def is_image(trail: Trail, rules: Rules) -> bool:
    """Does the string at `trail` (keys from the object's root) name a container image?"""
    last = trail[-1] if trail else None
    if last == "image":
        if len(trail) >= 3 and trail[-2] == ITEM and trail[-3] in rules.lists:
            return True
        if len(trail) >= 2 and trail[-2] in rules.singles:
            return True
    elif last == "reference" and trail[-4:] == ("volumes", ITEM, "image", "reference"):
        return True
    return trail in rules.fields


def object_rules(keys: dict[str, Node]) -> Rules | None:
    """The rules of a Kubernetes object (a mapping with string `apiVersion` and `kind`)."""
    api, kind = string(keys.get("apiVersion")), string(keys.get("kind"))
    return rules_for(api.value, kind.value) if api and kind else None


def images(root: Node | None, trail: Trail = (), rules: Rules = CORE) -> Iterator[Scalar]:
    """Every image string under `root`, which sits at `trail`. A mapping with `apiVersion` and
    `kind` starts a new object (a `List` item, an embedded manifest) with its own rules. Each
    node is visited once, so an alias bomb stays linear; each scalar is yielded once."""
    return (node for _, node in keyed_images(root, trail, rules))


def keyed_images(
    root: Node | None, trail: Trail = (), rules: Rules = CORE
) -> Iterator[tuple[str, Scalar]]:
    """`images`, each with the key it sits under (`package`: a Crossplane package)."""
    if isinstance(root, Scalar):  # a JSON patch's value
        last = trail[-1] if trail else None
        if isinstance(last, str) and last in KEYS and is_image(trail, rules) and string(root):
            yield last, root
        return
    seen: set[int] = set()
    yielded: set[int] = set()  # a scalar aliased under two image keys is one reference
    stack: list[tuple[Node, Trail, Rules]] = [] if root is None else [(root, trail, rules)]
    while stack:
        node, at, current = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Sequence):
            item_at = (*at, ITEM)
            stack.extend(
                (i, item_at, current) for i in reversed(node.items) if type(i) is not Scalar
            )
            continue
        assert isinstance(node, Mapping)
        keys = _keys(node)
        if "kind" in keys:
            own = object_rules(keys)
            if own is not None:
                at, current = (), own
        for key, value in reversed(keys.items()):
            if type(value) is Scalar:
                if key in KEYS and id(value) not in yielded and is_image((*at, key), current):
                    found = string(value)
                    if found is not None:
                        yielded.add(id(value))
                        yield key, found
            else:
                stack.append((value, (*at, key), current))


def _keys(node: Mapping) -> dict[str, Node]:
    if any(isinstance(k, Scalar) and k.tag == MERGE for k, _ in node.pairs):
        return fields(node)
    return {k.value: v for k, v in node.pairs if isinstance(k, Scalar)}
