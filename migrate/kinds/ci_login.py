"""After the rewrite: what each CI system needs to pull job and service images from private ECR.

Most CI systems pull a job's image (and its service images) before any step runs, so a login
step is too late: each needs credentials where it looks for them. Pure string building, one
entry per file kind; every snippet was checked against the documentation its `docs` names
(docs/ci.md repeats the links).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


@dataclass(frozen=True)
class Guidance:
    kind: str  # the file kind (a scanner's NAME)
    system: str  # how people call the CI system
    text: str  # what to set up; `{registry}`, `{account}`, `{region}`, `{outputs}` filled in
    docs: tuple[str, ...]
    hint: str  # PTC013: the place a job declares its credentials


_GUIDANCE = (
    # https://github.com/aws-actions/amazon-ecr-login#run-an-image-as-a-service (README:
    # "Use the action to output your Docker credentials ... run your private image as a service
    # in another job"); `mask-password: 'false'` is what lets another job read them.
    Guidance(
        "github-actions",
        "GitHub Actions",
        """Job containers and service containers are pulled before the first step, so log in in
an earlier job and pass the credentials (mask-password must be 'false' to cross jobs):

  jobs:
    ecr-login:
      runs-on: ubuntu-latest
      permissions: {{id-token: write, contents: read}}
      outputs:
        username: ${{{{ steps.ecr.outputs.docker_username_{outputs} }}}}
        password: ${{{{ steps.ecr.outputs.docker_password_{outputs} }}}}
      steps:
        - uses: aws-actions/configure-aws-credentials@v4
          with:
            role-to-assume: arn:aws:iam::{account}:role/ROLE_THAT_MAY_PULL
            aws-region: {region}
            mask-aws-account-id: 'false'
        - id: ecr
          uses: aws-actions/amazon-ecr-login@v2
          with:
            mask-password: 'false'
    build:
      needs: ecr-login
      container:
        image: {registry}/...
        credentials:
          username: ${{{{ needs.ecr-login.outputs.username }}}}
          password: ${{{{ needs.ecr-login.outputs.password }}}}

The same `credentials:` go under each `services.<id>`. `uses: docker://` steps have no
credentials field: on self-hosted runners install docker-credential-ecr-login and set
{{"credHelpers": {{"{registry}": "ecr-login"}}}} in the runner's ~/.docker/config.json.""",
        (
            "https://github.com/aws-actions/amazon-ecr-login#run-an-image-as-a-service",
            "https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idcontainercredentials",
        ),
        "add `credentials:` fed by an earlier job's aws-actions/amazon-ecr-login outputs",
    ),
    # https://docs.gitlab.com/ci/docker/using_docker_images/#use-a-credential-helper
    Guidance(
        "gitlab-ci",
        "GitLab CI",
        """The runner pulls job and service images before the script runs. On runners you manage,
install docker-credential-ecr-login where the runner runs (it uses the runner's AWS
credentials, e.g. an instance role), and set this as the DOCKER_AUTH_CONFIG CI/CD variable
(or in the runner's `environment`):

  {{"credHelpers": {{"{registry}": "ecr-login"}}}}

GitLab-hosted runners cannot run a credential helper: use your own runners for jobs whose
images moved to ECR.""",
        ("https://docs.gitlab.com/ci/docker/using_docker_images/#use-a-credential-helper",),
        "set DOCKER_AUTH_CONFIG with an ecr-login credential helper on the runner",
    ),
    # https://support.atlassian.com/bitbucket-cloud/docs/use-aws-ecr-images-in-pipelines-with-openid-connect/
    Guidance(
        "bitbucket-pipelines",
        "Bitbucket Pipelines",
        """Give each image its AWS role (OpenID Connect, no stored keys) and enable OIDC on the
steps that use it:

  image:
    name: {registry}/...
    aws:
      oidc-role: arn:aws:iam::{account}:role/ROLE_THAT_MAY_PULL
  pipelines:
    default:
      - step:
          oidc: true
          script: [...]

Service images under `definitions.services` take the same `aws:` block (or `access-key` and
`secret-key` instead of `oidc-role`).""",
        (
            "https://support.atlassian.com/bitbucket-cloud/docs/use-aws-ecr-images-in-pipelines-with-openid-connect/",
            "https://support.atlassian.com/bitbucket-cloud/docs/use-docker-images-as-build-environments/",
        ),
        "add `aws: {oidc-role: ...}` (or `access-key`/`secret-key`) to the image",
    ),
    # https://circleci.com/docs/pull-an-image-from-aws-ecr-with-oidc/
    Guidance(
        "circleci",
        "CircleCI",
        """Each `docker:` image pulled from ECR needs `aws_auth` (OpenID Connect, no stored keys):

  docker:
    - image: {registry}/...
      aws_auth:
        oidc_role_arn: arn:aws:iam::{account}:role/ROLE_THAT_MAY_PULL

(`aws_access_key_id` and `aws_secret_access_key` from a context work too.)""",
        (
            "https://circleci.com/docs/pull-an-image-from-aws-ecr-with-oidc/",
            "https://circleci.com/docs/private-images/",
        ),
        "add `aws_auth: {oidc_role_arn: ...}` to the docker image",
    ),
    # https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/resources-containers-container
    Guidance(
        "azure-pipelines",
        "Azure Pipelines",
        """The agent pulls a container job's image with the service connection named by
`endpoint:` before the first step:

  resources:
    containers:
      - container: build
        image: {registry}/...
        endpoint: SERVICE_CONNECTION_FOR_ECR

An ECR password lasts 12 hours, so a Docker Registry service connection holding one goes
stale; on self-hosted agents, install docker-credential-ecr-login for the agent's user with
{{"credHelpers": {{"{registry}": "ecr-login"}}}} in its ~/.docker/config.json.""",
        (
            "https://learn.microsoft.com/azure/devops/pipelines/yaml-schema/resources-containers-container",
            "https://learn.microsoft.com/azure/devops/pipelines/process/container-phases",
        ),
        "add `endpoint:` naming a service connection to the registry",
    ),
    # https://docs.drone.io/pipeline/docker/syntax/images/#pulling-private-images
    Guidance(
        "drone",
        "Drone",
        """Drone pulls step and service images with the Docker config in the pipeline's
`image_pull_secrets` (a secret holding a ~/.docker/config.json):

  kind: pipeline
  type: docker
  image_pull_secrets:
    - dockerconfig

An ECR password lasts 12 hours: refresh that secret on a schedule, or install
docker-credential-ecr-login on the runner hosts with
{{"credHelpers": {{"{registry}": "ecr-login"}}}} as the secret's content.""",
        ("https://docs.drone.io/pipeline/docker/syntax/images/#pulling-private-images",),
        "add `image_pull_secrets:` to the pipeline",
    ),
    # https://woodpecker-ci.org/docs/administration/configuration/backends/docker#private-registries
    Guidance(
        "woodpecker",
        "Woodpecker",
        """Woodpecker's agent pulls step images; registry credentials are not in the file. Install
docker-credential-ecr-login where the agent runs and point WOODPECKER_DOCKER_CONFIG at a
Docker config with

  {{"credHelpers": {{"{registry}": "ecr-login"}}}}

(repository registries in the UI hold a password, which for ECR lasts only 12 hours).""",
        (
            "https://woodpecker-ci.org/docs/administration/configuration/backends/docker#private-registries",
            "https://woodpecker-ci.org/docs/usage/registries",
        ),
        "configure the agent's WOODPECKER_DOCKER_CONFIG",
    ),
    # https://cloud.google.com/build/docs/interacting-with-dockerhub-images
    Guidance(
        "cloudbuild",
        "Google Cloud Build",
        """Cloud Build pulls each step's `name:` image with Google credentials before the step
runs. For a registry outside Google Cloud it documents a login step with credentials from
Secret Manager, then `docker run` of the private image in a docker builder step:

  steps:
    - name: gcr.io/cloud-builders/docker
      entrypoint: bash
      args: [-c, 'docker login --username AWS --password-stdin {registry} <<< "$$ECR_PASSWORD"']
      secretEnv: [ECR_PASSWORD]
    - name: gcr.io/cloud-builders/docker
      args: [run, --rm, -v, /workspace:/workspace, {registry}/..., ...]

An ECR password lasts 12 hours, so the secret needs refreshing. Plan that change (or keep
these steps off the cache with `exclude:`) before merging.""",
        ("https://cloud.google.com/build/docs/interacting-with-dockerhub-images",),
        "log in with a step before the image is used",
    ),
    # https://github.com/buildkite-plugins/ecr-buildkite-plugin
    Guidance(
        "buildkite",
        "Buildkite",
        """Put the ECR plugin before the Docker plugin in each step, so the agent logs in before it
pulls (the agent's AWS credentials, e.g. its instance role, are used):

  plugins:
    - ecr#v2.7.0:
        login: true
        account-ids: "{account}"
        region: {region}
    - docker#v5.8.0:
        image: {registry}/...""",
        ("https://github.com/buildkite-plugins/ecr-buildkite-plugin",),
        "add the ecr plugin with `login: true` before the docker plugin",
    ),
    # https://github.com/awslabs/amazon-ecr-credential-helper#configuration
    Guidance(
        "devcontainer",
        "Dev containers",
        """The dev container's image is pulled by the developer's Docker. Install
docker-credential-ecr-login and add to ~/.docker/config.json:

  {{"credHelpers": {{"{registry}": "ecr-login"}}}}

(GitHub Codespaces pulls with the *_CONTAINER_REGISTRY_* secrets, a password that for ECR
lasts 12 hours.)""",
        ("https://github.com/awslabs/amazon-ecr-credential-helper#configuration",),
        "configure the ecr-login credential helper",
    ),
)
GUIDANCE = {g.kind: g for g in _GUIDANCE}


def for_kinds(kinds: Iterable[str | None]) -> list[Guidance]:
    """The guidance of each CI kind among `kinds`, once each, in a fixed order."""
    wanted = set(kinds)
    return [g for g in _GUIDANCE if g.kind in wanted]


def render(guidance: Guidance, registry: str) -> str:
    match = _ECR_HOST.match(registry)
    account, region = (match[1], match[2]) if match else ("ACCOUNT", "REGION")
    outputs = re.sub(r"[.-]", "_", registry)
    return guidance.text.format(registry=registry, account=account, region=region, outputs=outputs)


def text(kinds: Iterable[str | None], registry: str) -> str:
    """What `fix` prints on stderr: one block per CI kind it rewrote, with its documentation."""
    blocks = []
    for g in for_kinds(kinds):
        docs = "\n".join(f"  {url}" for url in g.docs)
        blocks.append(
            f"ecr-ptc: {g.system} must log in to {registry} to pull these images.\n"
            f"{render(g, registry)}\nSee:\n{docs}\n"
        )
    return "\n".join(blocks)


def markdown(kinds: Iterable[str | None], registry: str) -> list[str]:
    """The pull request's section, as lines; empty when no CI file changed."""
    found = for_kinds(kinds)
    if not found:
        return []
    lines = [
        "### CI registry credentials",
        "",
        (
            "These CI systems pull job images before any step runs: they need credentials for "
            f"`{registry}` before this merges."
        ),
    ]
    for g in found:
        links = ", ".join(f"<{url}>" for url in g.docs)
        lines += ["", f"**{g.system}** ({links})", "", "```text", render(g, registry), "```"]
    return lines


def missing_credentials(kind: str | None, written: str) -> str:
    """PTC013's message: the job pulls from the cache without declaring credentials."""
    hint = GUIDANCE[kind].hint if kind in GUIDANCE else "declare registry credentials"
    return f"{written} is pulled from the cache, but the job declares no credentials: {hint}"
