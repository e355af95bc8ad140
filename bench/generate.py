"""A deterministic, realistic repository tree of a given size, for `bench/run.py`.

    python bench/generate.py 25            # 25 MB into bench/out/tree-25mb (a git work tree)
    python bench/generate.py 5 --out /tmp/t --seed 7

The mix follows what makes monorepos slow to scan (bitnami/charts: 3,400 candidate files,
37 MB, 23 MB of it YAML outside chart templates; argo-cd: 17 MB of YAML):
  - big CRD-like manifests (~30% of bytes, 0.1-1 MB each) whose OpenAPI schemas name `image`
    as a property and mention images in descriptions, so a word filter alone cannot skip them;
    a third end with an example resource holding a real image (a bundle);
  - Bitnami-like charts (~30%): commented values.yaml with registry/repository/tag maps,
    Chart.yaml, README.md, and Go-template files under templates/ (not YAML, never parsed);
  - multi-document Kubernetes manifests of every workload kind (Argo Workflows too), some with
    big ConfigMaps, and kustomizations beside every fourth (~30%);
  - compose files with anchors and `${VAR:-default}` (~4%), multi-stage Dockerfiles (~2%);
  - Markdown pages no scanner wants (~4%).
Every byte depends on the seed and the size only.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

MB = 1_000_000

IMAGES = (
    "nginx:1.27",
    "nginx:1.27-alpine",
    "redis:7.4",
    "postgres:16.4",
    "busybox:1.36",
    "alpine:3.20",
    "python:3.12-slim",
    "node:20-bookworm",
    "golang:1.23",
    "docker.io/bitnami/redis:7.4.1-debian-12-r0",
    "bitnami/kubectl:1.31.1",
    "quay.io/prometheus/node-exporter:v1.8.2",
    "quay.io/prometheus/prometheus:v2.54.1",
    "quay.io/jetstack/cert-manager-controller:v1.15.3",
    "quay.io/argoproj/argocd:v2.12.4",
    "registry.k8s.io/pause:3.10",
    "registry.k8s.io/ingress-nginx/controller:v1.11.2",
    "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0",
    "ghcr.io/dexidp/dex:v2.41.1",
    "ghcr.io/fluxcd/source-controller:v1.4.1",
    "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
    "public.ecr.aws/karpenter/controller:1.0.6",
    "gcr.io/distroless/static:nonroot",
    "mcr.microsoft.com/dotnet/aspnet:8.0",
    "registry.gitlab.com/gitlab-org/gitlab-runner:v17.4.0",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2.3",
    "grafana/grafana:11.2.0",
    "otel/opentelemetry-collector-contrib:0.110.0",
)
DIGEST = "sha256:" + "4e5b" * 16
BITNAMI = (
    "redis",
    "postgresql",
    "mysql",
    "mongodb",
    "kafka",
    "rabbitmq",
    "elasticsearch",
    "etcd",
    "keycloak",
    "wordpress",
    "nginx",
    "memcached",
    "zookeeper",
    "minio",
    "cassandra",
    "grafana",
)
_SENTENCE = (
    "the container image used by this component and pulled by the kubelet when the pod starts "
    "defines behaviour of the controller replicas resources limits requests scheduling affinity "
    "tolerations volumes secrets configuration endpoint service account annotations labels more "
    "info see the documentation for details about each field value must be a valid name"
)
WORDS = _SENTENCE.split()


class _Tree:
    def __init__(self, root: Path, budget: int, seed: int) -> None:
        self.root, self.budget, self.written = root, budget, 0
        self.rng = random.Random(seed)

    def write(self, relpath: str, text: str) -> None:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        self.written += len(data)

    def image(self, digest_share: float = 0.05) -> str:
        ref = self.rng.choice(IMAGES)
        return f"{ref}@{DIGEST}" if self.rng.random() < digest_share else ref

    def sentence(self, low: int = 6, high: int = 24) -> str:
        words = self.rng.choices(WORDS, k=self.rng.randint(low, high))
        return " ".join(words).capitalize() + "."


# --- big CRD-like manifests -------------------------------------------------------------------
def _schema(
    t: _Tree, lines: list[str], indent: int, depth: int, budget: int, used: set[str] | None = None
) -> None:
    pad = " " * indent
    used = set() if used is None else used  # duplicate keys are PTC900, not a realistic CRD
    while budget > 0:
        name = t.rng.choice(
            (
                "image",
                "imagePullPolicy",
                "replicas",
                "resources",
                "args",
                "containers",
                "env",
                "tolerations",
                "baseImage",
                "selector",
                "command",
                "volumeMounts",
                "securityContext",
                "version",
            )
        )
        name = f"{name}{len(used)}" if name in used or name != "image" else name
        used.add(name)
        lines.append(f"{pad}{name}:")
        # Long descriptions as CRDs carry them (plain multi-line, mentioning images).
        description = t.sentence(12, 60)
        if t.rng.random() < 0.5:
            lines.append(f"{pad}  description: {description}")
        else:
            lines.append(f"{pad}  description: |-")
            lines.extend(f"{pad}    {t.sentence()}" for _ in range(t.rng.randint(1, 4)))
        if depth < 6 and t.rng.random() < 0.35:
            lines.append(f"{pad}  type: object")
            lines.append(f"{pad}  properties:")
            child = t.rng.randint(2, 8)
            _schema(t, lines, indent + 4, depth + 1, child)
            lines.append(f"{pad}  x-kubernetes-preserve-unknown-fields: true")
        elif t.rng.random() < 0.2:
            lines.append(f"{pad}  type: array")
            lines.append(f"{pad}  items:")
            lines.append(f"{pad}    type: string")
        else:
            lines.append(f"{pad}  type: {t.rng.choice(('string', 'integer', 'boolean'))}")
            if t.rng.random() < 0.2:
                lines.append(f"{pad}  enum: [Always, IfNotPresent, Never]")
        budget -= 1


def crd(t: _Tree, index: int) -> None:
    group = t.rng.choice(("monitoring.example.io", "argoproj.io", "tekton.dev", "acme.cert"))
    kind = f"Thing{index}"
    size = t.rng.randint(100_000, 1_000_000)
    lines = [
        "---",
        "# Source: generated CRD for the benchmark",
        "apiVersion: apiextensions.k8s.io/v1",
        "kind: CustomResourceDefinition",
        "metadata:",
        "  annotations:",
        "    controller-gen.kubebuilder.io/version: v0.16.3",
        f"  name: things{index}.{group}",
        "spec:",
        f"  group: {group}",
        "  names:",
        f"    kind: {kind}",
        f"    plural: things{index}",
        "  scope: Namespaced",
        "  versions:",
    ]
    for version in ("v1alpha1", "v1beta1", "v1"):
        lines += [
            f"  - name: {version}",
            "    served: true",
            f"    storage: {'true' if version == 'v1' else 'false'}",
            "    schema:",
            "      openAPIV3Schema:",
            f"        description: {t.sentence()}",
            "        type: object",
            "        properties:",
        ]
        share, used = size // 3, set[str]()
        while share > 0:
            start = len(lines)
            _schema(t, lines, 10, 0, 4, used)
            share -= sum(len(line) + 1 for line in lines[start:])
    # Some real CRD bundles ship an example CR with a real image after the definition.
    if t.rng.random() < 0.3:
        lines += [
            "---",
            f"apiVersion: {group}/v1",
            f"kind: {kind}",
            "metadata:",
            f"  name: example-{index}",
            "spec:",
            f"  image: {t.image()}",
        ]
    t.write(f"crds/{group}/things{index}.yaml", "\n".join(lines) + "\n")


# --- Bitnami-like charts ----------------------------------------------------------------------
def _image_map(t: _Tree, pad: str, name: str, key: str = "image") -> list[str]:
    return [
        f"{pad}## {name} image",
        f"{pad}## ref: https://hub.docker.com/r/bitnami/{name}/tags/",
        f"{pad}## @param {key}.registry [default: REGISTRY_NAME] {name} image registry",
        f"{pad}## @param {key}.repository [default: REPOSITORY_NAME/{name}] {name} image repository",
        f"{pad}## @skip {key}.tag {name} image tag (immutable tags are recommended)",
        (
            f"{pad}## @param {key}.digest {name} image digest in the way sha256:aa.... Please note "
            "this parameter, if set, will override the tag"
        ),
        f"{pad}##",
        f"{pad}{key}:",
        f"{pad}  registry: docker.io",
        f"{pad}  repository: bitnami/{name}",
        (
            f"{pad}  tag: {t.rng.randint(1, 17)}.{t.rng.randint(0, 9)}.{t.rng.randint(0, 30)}"
            f"-debian-12-r{t.rng.randint(0, 40)}"
        ),
        f'{pad}  digest: ""',
        f"{pad}  ## Specify a imagePullPolicy",
        f"{pad}  ## ref: https://kubernetes.io/docs/concepts/containers/images/#pre-pulled-images",
        f"{pad}  ##",
        f"{pad}  pullPolicy: IfNotPresent",
        f"{pad}  pullSecrets: []",
        f"{pad}  debug: false",
    ]


def _component(t: _Tree, name: str, pad: str) -> list[str]:
    out = [f"{pad}## @section {name} parameters", f"{pad}##"]
    for n in range(t.rng.randint(20, 60)):
        key = t.rng.choice(
            (
                "replicaCount",
                "podLabels",
                "hostAliases",
                "schedulerName",
                "terminationGracePeriodSeconds",
                "priorityClassName",
                "extraEnvVars",
                "automountServiceAccountToken",
                "updateStrategy",
                "lifecycleHooks",
            )
        )
        out.append(f"{pad}## @param {name}.{key} {t.sentence(4, 14)}")
        if t.rng.random() < 0.3:
            out += [
                f"{pad}{key}{n}:",
                f"{pad}  enabled: true",
                f"{pad}  initialDelaySeconds: {t.rng.randint(1, 60)}",
                f"{pad}  periodSeconds: 10",
                f"{pad}  annotations: {{}}",
            ]
        else:
            value = t.rng.choice(("1", "[]", "{}", '""', "true", "RollingUpdate"))
            out.append(f"{pad}{key}{n}: {value}")
    return out


def chart(t: _Tree, index: int) -> None:
    name = t.rng.choice(BITNAMI)
    base = f"charts/{name}-{index}"
    t.write(
        f"{base}/Chart.yaml",
        (
            "annotations:\n  category: Database\n  images: |\n"
            f"    - name: {name}\n      image: docker.io/bitnami/{name}:7.4.1-debian-12-r0\n"
            f"apiVersion: v2\nappVersion: 7.4.1\nname: {name}\nversion: 20.{index % 10}.0\n"
            "dependencies:\n- name: common\n  repository: oci://registry-1.docker.io/bitnamicharts\n"
            "  version: 2.x.x\n"
        ),
    )
    lines = [
        "# Copyright Broadcom, Inc. All Rights Reserved.",
        "# SPDX-License-Identifier: APACHE-2.0",
        "",
        "## @section Global parameters",
        "## @param global.imageRegistry Global Docker image registry",
        "##",
        "global:",
        '  imageRegistry: ""',
        "  imagePullSecrets: []",
        '  defaultStorageClass: ""',
        "",
    ]
    lines += _image_map(t, "", name)
    for component in (
        "master",
        "replica",
        "sentinel",
        "metrics",
        "volumePermissions",
        "sysctl",
        "kubectl",
    )[: t.rng.randint(3, 7)]:
        lines += ["", f"{component}:"]
        lines += _image_map(t, "  ", f"{name}-{component}")
        lines += _component(t, component, "  ")
        if t.rng.random() < 0.3:
            lines += ["  sidecars:", "    - name: helper", f"      image: {t.image()}"]
    t.write(f"{base}/values.yaml", "\n".join(lines) + "\n")
    if t.rng.random() < 0.4:
        t.write(
            f"{base}/values-production.yaml",
            "\n".join(_image_map(t, "", name) + _component(t, "prod", "")) + "\n",
        )
    # Go templates: in the tree (and in grep's way), never parsed.
    for template in ("deployment", "service", "configmap", "statefulset", "_helpers"):
        body = [
            f"{{{{- if .Values.{template}.enabled }}}}",
            "apiVersion: apps/v1",
            f"kind: {template.title()}",
            "metadata:",
            '  name: {{ include "common.names.fullname" . }}',
            "spec:",
            "  template:",
            "    spec:",
            "      containers:",
            f"        - name: {name}",
            (
                '          image: {{ include "common.images.image" (dict "imageRoot" '
                '.Values.image "global" .Values.global) }}'
            ),
        ]
        body += [f"          # {t.sentence()}" for _ in range(t.rng.randint(10, 60))]
        t.write(f"{base}/templates/{template}.yaml", "\n".join(body + ["{{- end }}"]) + "\n")
    t.write(
        f"{base}/README.md",
        "\n".join(f'| `image.{k}` | {t.sentence()} | `""` |' for k in range(t.rng.randint(50, 200)))
        + "\n",
    )


# --- Kubernetes manifests -------------------------------------------------------------------
def _container(t: _Tree, pad: str, index: int) -> list[str]:
    quote = t.rng.choice(("", "", "", '"', "'"))
    out = [
        f"{pad}- name: c{index}",
        f"{pad}  image: {quote}{t.image()}{quote}",
        f"{pad}  imagePullPolicy: IfNotPresent",
        f'{pad}  args: ["--port=80{index}", "--verbose"]',
        f"{pad}  env:",
    ]
    for n in range(t.rng.randint(2, 15)):
        out += [f"{pad}    - name: VAR_{n}", f'{pad}      value: "{t.sentence(1, 4)}"']
    out += [
        f"{pad}  resources:",
        f"{pad}    limits: {{cpu: 500m, memory: 256Mi}}",
        f"{pad}    requests:",
        f"{pad}      cpu: 100m",
        f"{pad}      memory: 64Mi",
    ]
    return out


def _workload(t: _Tree, index: int) -> list[str]:
    kind = t.rng.choice(
        ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Workflow", "Pod")
    )
    api = {
        "Job": "batch/v1",
        "CronJob": "batch/v1",
        "Workflow": "argoproj.io/v1alpha1",
        "Pod": "v1",
    }.get(kind, "apps/v1")
    out = [
        "---",
        f"apiVersion: {api}",
        f"kind: {kind}",
        "metadata:",
        f"  name: app-{index}",
        "  labels:",
        f"    app.kubernetes.io/name: app-{index}",
        "spec:",
    ]
    if kind == "Workflow":
        out += ["  entrypoint: main", "  templates:"]
        for step in range(t.rng.randint(2, 8)):
            out += [
                f"  - name: step{step}",
                "    container:",
                f"      image: {t.image()}",
                "      command: [sh, -c]",
                f'      args: ["echo {step}"]',
            ]
        return out
    pad = "  "
    if kind == "CronJob":
        out += ['  schedule: "*/5 * * * *"', "  jobTemplate:", "    spec:"]
        pad = "      "
    if kind == "Pod":
        out += ["  containers:"] + _container(t, "  ", 0)
        return out
    out += [f"{pad}template:", f"{pad}  spec:", f"{pad}    initContainers:"]
    out += _container(t, pad + "    ", 0)
    out += [f"{pad}    containers:"]
    for c in range(1, t.rng.randint(2, 4)):
        out += _container(t, pad + "    ", c)
    return out


def manifests(t: _Tree, index: int) -> None:
    docs: list[str] = []
    for d in range(t.rng.randint(1, 6)):
        docs += _workload(t, index * 100 + d)
        if t.rng.random() < 0.3:  # big ConfigMaps: text, not images
            docs += [
                "---",
                "apiVersion: v1",
                "kind: ConfigMap",
                "metadata:",
                f"  name: conf-{index}-{d}",
                "data:",
                "  app.properties: |",
            ]
            docs += [f"    key{n} = {t.sentence()}" for n in range(t.rng.randint(20, 200))]
        docs += [
            "---",
            "apiVersion: v1",
            "kind: Service",
            "metadata:",
            f"  name: svc-{d}",
            "spec:",
            "  ports:",
            "  - port: 80",
            "    targetPort: http",
        ]
    team = t.rng.choice(("payments", "search", "platform", "data", "web"))
    t.write(f"deploy/{team}/app-{index}/app.yaml", "\n".join(docs) + "\n")
    if index % 4 == 0:
        t.write(
            f"deploy/{team}/app-{index}/kustomization.yaml",
            (
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
                "- app.yaml\nimages:\n- name: nginx\n  newTag: 1.27.2\n"
                "- name: redis\n  newName: quay.io/opstree/redis\n  newTag: v7.0.15\n"
            ),
        )


# --- compose, Dockerfiles, others ------------------------------------------------------------
def compose(t: _Tree, index: int) -> None:
    lines = [
        "x-common: &common",
        "  restart: unless-stopped",
        "  logging:",
        "    driver: json-file",
        "",
        "services:",
    ]
    for s in range(t.rng.randint(2, 12)):
        lines += [f"  svc{s}:", "    <<: *common"]
        if t.rng.random() < 0.2:
            lines += ["    build: ./app", f"    image: app-{s}:dev"]
        elif t.rng.random() < 0.3:
            lines.append(f"    image: ${{SVC{s}_IMAGE:-{t.image(0)}}}")
        else:
            lines.append(f"    image: {t.image()}")
        lines += ["    environment:"] + [
            f"      - KEY_{n}=value{n}" for n in range(t.rng.randint(1, 8))
        ]
        lines += ["    ports:", f'      - "80{s:02d}:80"']
    t.write(f"services/stack-{index}/docker-compose.yml", "\n".join(lines) + "\n")


def dockerfile(t: _Tree, index: int) -> None:
    lines = [
        "# syntax=docker/dockerfile:1.7",
        "ARG BASE=python:3.12-slim",
        f"FROM --platform=$BUILDPLATFORM {t.image(0)} AS build",
        "WORKDIR /src",
        "COPY . .",
        "RUN --mount=type=cache,target=/root/.cache \\",
        "    make build",
    ]
    lines += [f"RUN echo step {n} && true" for n in range(t.rng.randint(3, 30))]
    lines += [
        "FROM ${BASE}",
        "COPY --from=build /src/out /app",
        "COPY --from=busybox:1.36 /bin/busybox /bin/busybox",
        'CMD ["/app/run"]',
    ]
    t.write(f"services/stack-{index}/Dockerfile", "\n".join(lines) + "\n")


def other(t: _Tree, index: int) -> None:
    t.write(f"docs/page-{index}.md", "\n".join(t.sentence() for _ in range(200)) + "\n")


# Share of the bytes each kind aims at, and the writer that adds one more file of that kind.
MIX: tuple[tuple[float, Callable[[_Tree, int], None]], ...] = (
    (0.30, crd),
    (0.30, chart),
    (0.30, manifests),
    (0.04, compose),
    (0.02, dockerfile),
    (0.04, other),
)


def generate(root: Path, size_mb: float, seed: int = 0) -> int:
    """Write the tree (a fresh `git init`ed work tree) and return the bytes written."""
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} exists and is not empty")
    root.mkdir(parents=True, exist_ok=True)
    t = _Tree(root, int(size_mb * MB), seed)
    spent = [0] * len(MIX)
    counts = [0] * len(MIX)
    while t.written < t.budget:
        # The kind furthest below its share goes next: the mix holds at every size.
        kind = min(range(len(MIX)), key=lambda k: spent[k] / MIX[k][0])
        before = t.written
        MIX[kind][1](t, counts[kind])
        counts[kind] += 1
        spent[kind] += t.written - before
    # A work tree of its own: the walk uses `git ls-files`, as in a real repository, and the
    # tree is not hidden by the enclosing repository's ignore of bench/out/.
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return t.written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size_mb", type=float, help="approximate tree size in MB (10^6 bytes)")
    parser.add_argument("--out", type=Path, help="default: bench/out/tree-<size>mb")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = args.out or Path(__file__).parent / "out" / f"tree-{args.size_mb:g}mb"
    written = generate(out, args.size_mb, args.seed)
    print(f"{out}: {written / MB:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
