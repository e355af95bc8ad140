"""The upstream registry table: which hosts pull-through cache can serve, under which rule.

Rule and prefix vocabulary follows the ECR API: a rule maps an `ecrRepositoryPrefix` to an
`upstreamRegistryUrl`, optionally with an `upstreamRepositoryPrefix`.
https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Upstream:
    key: str  # stable name used in config `lint.fail-on` and reports
    url: str  # the upstreamRegistryUrl a rule must carry
    default_prefix: str | None  # what the AWS console proposes; None where the host is the user's
    needs_credentials: bool  # rule needs a Secrets Manager credentialArn
    title: str


DOCKER_HUB = Upstream("docker-hub", "registry-1.docker.io", "docker-hub", True, "Docker Hub")
UPSTREAMS: tuple[Upstream, ...] = (
    DOCKER_HUB,
    Upstream("ecr-public", "public.ecr.aws", "ecr-public", False, "Amazon ECR Public"),
    Upstream("kubernetes", "registry.k8s.io", "kubernetes", False, "Kubernetes registry"),
    Upstream("quay", "quay.io", "quay", False, "Quay"),
    Upstream("github", "ghcr.io", "github", True, "GitHub Container Registry"),
    Upstream("gitlab", "registry.gitlab.com", "gitlab", True, "GitLab Container Registry"),
    Upstream("chainguard", "cgr.dev", "chainguard", True, "Chainguard"),
)
_BY_URL = {u.url: u for u in UPSTREAMS}
DOCKER_HUB_HOSTS = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)

# Public registries that pull-through cache does not support as upstreams (PTC003).
UNSUPPORTED_HOSTS = frozenset(
    {
        "gcr.io",
        "k8s.gcr.io",
        "us.gcr.io",
        "eu.gcr.io",
        "asia.gcr.io",
        "marketplace.gcr.io",
        "mcr.microsoft.com",
        "docker.elastic.co",
        "nvcr.io",
        "registry.access.redhat.com",
        "registry.redhat.io",
        "container-registry.oracle.com",
        "docker.pkg.github.com",
        "registry.opensource.zalan.do",
        "docker.io.mirror",
        # Crossplane's package registries (OCI, but no pull-through cache upstream)
        "xpkg.upbound.io",
        "xpkg.crossplane.io",
    }
)
_UNSUPPORTED_SUFFIXES = ("-docker.pkg.dev", ".gcr.io")

# Private ECR in every partition, FIPS and dual-stack endpoints included.
_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr[.-]ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\."
    r"(?:amazonaws\.com(?:\.cn)?|on\.aws|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk"
    r"|csp\.hci\.ic\.gov)$"
)
_ACR_HOST = re.compile(r"^[a-z0-9]{5,50}\.azurecr\.io$")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")

# https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
_ECR_REPOSITORY = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
# ECR allows 256 characters, but Docker's reference grammar stops at 255 (NameTotalLengthMax):
# a longer name could be created, never pulled.
ECR_REPOSITORY_MAX = 255
_PREFIX = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
# Rule creation is not offered in these partitions' regions.
RULELESS_REGION_PREFIXES = ("cn-", "us-gov-", "us-iso", "eu-isoe-")


@dataclass(frozen=True)
class EcrHost:
    account: str
    region: str


def ecr_host(host: str) -> EcrHost | None:
    match = _ECR_HOST.match(host.lower())
    return EcrHost(match["account"], match["region"]) if match else None


def host_of(domain: str) -> str:
    """The host as a rule's upstream URL names it (Docker Hub aliases fold to one)."""
    host = domain.lower()
    return DOCKER_HUB.url if host in DOCKER_HUB_HOSTS else host


def upstream_for_url(url: str) -> Upstream | None:
    """Known upstream for a rule URL; ACR and cross-account ECR get an ad-hoc entry."""
    url = host_of(url)
    if url in _BY_URL:
        return _BY_URL[url]
    if _ACR_HOST.match(url):
        return Upstream("azure", url, None, True, "Azure Container Registry")
    if ecr_host(url):
        return Upstream("ecr", url, None, False, "Amazon ECR (cross-account)")
    return None


def is_unsupported_public(host: str) -> bool:
    host = host.lower()
    return host in UNSUPPORTED_HOSTS or host.endswith(_UNSUPPORTED_SUFFIXES)


def is_local(host: str) -> bool:
    return host.lower().split(":")[0] in _LOCAL_HOSTS or host.startswith("[::1]")


def is_valid_prefix(prefix: str) -> bool:
    return 2 <= len(prefix) <= 30 and bool(_PREFIX.match(prefix))


def is_valid_repository(name: str) -> bool:
    return 2 <= len(name) <= ECR_REPOSITORY_MAX and bool(_ECR_REPOSITORY.match(name))


def upstream_path(domain: str, path: str) -> str:
    """Docker Hub serves official images under `library/`; the reference parser adds it only for
    `docker.io`, so aliases such as `registry-1.docker.io/nginx` need it here."""
    if host_of(domain) == DOCKER_HUB.url and "/" not in path:
        return f"library/{path}"
    return path
