"""aws.py against botocore's Stubber: requests and responses are checked against the real ECR
and STS service models, no network."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]

from migrate.aws import account
from migrate.aws import client as aws
from migrate.aws.errors import AwsDenied
from migrate.aws.templates import Scanning, Template
from migrate.config import Config, Rule
from tests.helpers import REGISTRY

ACCOUNT = "123456789012"
HUB = "registry-1.docker.io"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-AbCdEf"


SESSION_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN0123456789"


class _Session:
    """What read_account needs of a boto3 Session, handing out clients stubbed in advance."""

    def __init__(self, region: str | None, **clients: Any) -> None:
        self.region_name = region
        self.clients = clients

    def client(self, name: str, **_: Any) -> Any:
        return self.clients[name]

    def get_credentials(self) -> Any:
        from botocore.credentials import Credentials  # type: ignore[import-untyped]

        return Credentials("AKIAFAKE", SESSION_SECRET, SESSION_TOKEN)


def _client(service: str, region: str = "us-east-1") -> Any:
    import boto3  # type: ignore[import-untyped]

    session = boto3.session.Session(
        aws_access_key_id="AKIAFAKE", aws_secret_access_key="fake", region_name=region
    )
    return session.client(service)


@pytest.fixture
def ecr() -> Iterator[tuple[Any, Stubber]]:
    client = _client("ecr")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _page(*rules: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"pullThroughCacheRules": list(rules)}
    if token:
        page["nextToken"] = token
    return page


def test_list_rules_reads_every_page(ecr: tuple[Any, Stubber]) -> None:
    client, stubber = ecr
    stubber.add_response(
        "describe_pull_through_cache_rules",
        _page(
            {
                "ecrRepositoryPrefix": "docker-hub",
                "upstreamRegistryUrl": HUB,
                "credentialArn": SECRET,
            },
            token="t1",
        ),
        {"registryId": ACCOUNT},
    )
    stubber.add_response(
        "describe_pull_through_cache_rules",
        _page(
            {
                "ecrRepositoryPrefix": "quay/",
                "upstreamRegistryUrl": "quay.io",
                "upstreamRepositoryPrefix": "ROOT",
                "upstreamRegistry": "quay",
            },
            token="t2",
        ),
        {"registryId": ACCOUNT, "nextToken": "t1"},
    )
    stubber.add_response(
        "describe_pull_through_cache_rules",
        _page(
            {
                "ecrRepositoryPrefix": "ecr",
                "upstreamRegistryUrl": "210987654321.dkr.ecr.eu-west-1.amazonaws.com",
                "upstreamRepositoryPrefix": "team",
                "customRoleArn": f"arn:aws:iam::{ACCOUNT}:role/pull",
                "upstreamRegistry": "ecr",
            },
            {
                "ecrRepositoryPrefix": "ROOT",
                "upstreamRegistryUrl": "https://index.docker.io/",
                "upstreamRepositoryPrefix": "library",
            },
        ),
        {"registryId": ACCOUNT, "nextToken": "t2"},
    )

    found = aws.list_rules(client, ACCOUNT)

    assert found == (
        aws.AccountRule("docker-hub", HUB, None, SECRET),
        aws.AccountRule("quay", "quay.io", None, None, upstream_registry="quay"),
        aws.AccountRule(
            "ecr",
            "210987654321.dkr.ecr.eu-west-1.amazonaws.com",
            "team",
            None,
            f"arn:aws:iam::{ACCOUNT}:role/pull",
            "ecr",
        ),
        aws.AccountRule("ROOT", HUB, "library"),
    )


def test_read_account_with_a_registry_needs_no_sts(ecr: tuple[Any, Stubber]) -> None:
    client, stubber = ecr
    stubber.add_response("describe_pull_through_cache_rules", _page(), {"registryId": ACCOUNT})

    account = aws.read_account(REGISTRY.upper(), session=_Session(None, ecr=client))

    assert (account.registry, account.account_id, account.region, account.rules) == (
        REGISTRY,
        ACCOUNT,
        "us-east-1",
        (),
    )


@pytest.mark.parametrize(
    ("region", "host"),
    (
        pytest.param("eu-central-1", f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com", id="aws"),
        pytest.param("cn-north-1", f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn", id="china"),
        pytest.param(
            "us-gov-west-1", f"{ACCOUNT}.dkr.ecr.us-gov-west-1.amazonaws.com", id="govcloud"
        ),
    ),
)
def test_read_account_from_sts_and_the_session_region(region: str, host: str) -> None:
    sts, ecr = _client("sts", region), _client("ecr", region)
    with Stubber(sts) as sts_stub, Stubber(ecr) as ecr_stub:
        sts_stub.add_response(
            "get_caller_identity",
            {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "UserId": "AIDAEXAMPLE"},
            {},
        )
        ecr_stub.add_response("describe_pull_through_cache_rules", _page(), {"registryId": ACCOUNT})

        account = aws.read_account(None, session=_Session(region, sts=sts, ecr=ecr))

    assert (account.registry, account.region) == (host, region)


def test_no_region_is_one_line() -> None:
    with pytest.raises(aws.AwsError, match="^no AWS region: set AWS_REGION"):
        aws.read_account(None, session=_Session(None))


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    (
        pytest.param(
            "AccessDeniedException",
            400,
            "access denied (AccessDeniedException) while listing the pull-through cache rules of "
            f"{ACCOUNT} in us-east-1: User: arn:aws:iam::{ACCOUNT}:user/ci is not authorized",
            id="access-denied",
        ),
        pytest.param(
            "ExpiredTokenException",
            400,
            "the AWS credentials have expired (ExpiredTokenException)",
            id="expired",
        ),
        pytest.param(
            "UnrecognizedClientException", 400, "AWS did not accept the credentials", id="bad-key"
        ),
        pytest.param(
            "ThrottlingException",
            400,
            "AWS throttled the requests (ThrottlingException)",
            id="throttled",
        ),
        pytest.param(
            "ServerException", 500, "AWS refused (ServerException) while listing", id="other"
        ),
    ),
)
def test_client_errors_are_one_line(
    ecr: tuple[Any, Stubber], code: str, status: int, expected: str
) -> None:
    client, stubber = ecr
    stubber.add_client_error(
        "describe_pull_through_cache_rules",
        code,
        f"User: arn:aws:iam::{ACCOUNT}:user/ci is not authorized to perform: ecr:DescribePullThroughCacheRules",
        status,
        expected_params={"registryId": ACCOUNT},
    )

    with pytest.raises(aws.AwsError) as caught:
        aws.read_account(REGISTRY, session=_Session(None, ecr=client))

    message = str(caught.value)
    assert message.startswith(expected) and "\n" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_credentials_in_an_error_message_are_redacted(ecr: tuple[Any, Stubber]) -> None:
    client, stubber = ecr
    stubber.add_client_error(
        "describe_pull_through_cache_rules",
        "AccessDeniedException",
        "key AKIAABCDEFGHIJKLMNOP with Signature=abc123 Credential=AKIA/x denied",
    )
    with pytest.raises(aws.AwsError) as caught:
        aws.read_account(REGISTRY, session=_Session(None, ecr=client))
    assert "AKIAABCDEFGHIJKLMNOP" not in str(caught.value) and "abc123" not in str(caught.value)
    assert str(caught.value).endswith("key <redacted> with <redacted> <redacted> denied")


def test_resolved_secrets_echoed_by_aws_are_redacted(
    ecr: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = ecr
    monkeypatch.setenv("AWS_SESSION_TOKEN", "EnvironmentTokenValue42")
    stubber.add_client_error(
        "describe_pull_through_cache_rules",
        "ServerException",
        f"echo {SESSION_SECRET} / {SESSION_SECRET.replace('/', '%2F').replace('+', '%2B')} / "
        f"{SESSION_TOKEN} / EnvironmentTokenValue42",
        500,
    )
    with pytest.raises(aws.AwsError) as caught:
        aws.read_account(REGISTRY, session=_Session(None, ecr=client))
    assert str(caught.value).endswith("echo <redacted> / <redacted> / <redacted> / <redacted>")


@pytest.mark.parametrize(
    ("error", "expected"),
    (
        pytest.param("NoCredentialsError", "no AWS credentials found", id="no-credentials"),
        pytest.param(
            "TokenRetrievalError", "the AWS SSO session is missing or has expired", id="sso"
        ),
        pytest.param("EndpointConnectionError", "cannot reach AWS while listing", id="unreachable"),
        pytest.param("ProfileNotFound", "AWS error while listing", id="profile"),
    ),
)
def test_botocore_errors_are_one_line(error: str, expected: str) -> None:
    from botocore import exceptions  # type: ignore[import-untyped]

    kwargs = {
        "EndpointConnectionError": {"endpoint_url": "http://127.0.0.1:9/"},
        "TokenRetrievalError": {"provider": "sso", "error_msg": "expired"},
        "ProfileNotFound": {"profile": "nope"},
    }.get(error, {})

    class Broken:
        def get_paginator(self, name: str) -> Any:
            raise getattr(exceptions, error)(**kwargs)

    with pytest.raises(aws.AwsError, match=f"^{expected}"):
        aws.read_account(REGISTRY, session=_Session(None, ecr=Broken()))


def test_validate(ecr: tuple[Any, Stubber]) -> None:
    client, stubber = ecr
    stubber.add_response(
        "validate_pull_through_cache_rule",
        {
            "ecrRepositoryPrefix": "docker-hub",
            "registryId": ACCOUNT,
            "upstreamRegistryUrl": HUB,
            "credentialArn": SECRET,
            "isValid": False,
            "failure": "Unable to authenticate\nwith the upstream registry",
        },
        {"ecrRepositoryPrefix": "docker-hub", "registryId": ACCOUNT},
    )
    stubber.add_response(
        "validate_pull_through_cache_rule",
        {
            "ecrRepositoryPrefix": "quay",
            "registryId": ACCOUNT,
            "upstreamRegistryUrl": "quay.io",
            "isValid": True,
        },
        {"ecrRepositoryPrefix": "quay", "registryId": ACCOUNT},
    )
    stubber.add_client_error(
        "validate_pull_through_cache_rule",
        "PullThroughCacheRuleNotFoundException",
        "gone",
        expected_params={"ecrRepositoryPrefix": "gone", "registryId": ACCOUNT},
    )
    account = aws.Account(REGISTRY, ACCOUNT, "us-east-1", (), client)

    assert aws.validate(account, ["docker-hub", "quay", "gone"]) == {
        "docker-hub": "Unable to authenticate with the upstream registry",
        "quay": None,
        "gone": "the rule no longer exists",
    }


def test_validate_access_denied_is_an_aws_error(ecr: tuple[Any, Stubber]) -> None:
    client, stubber = ecr
    stubber.add_client_error("validate_pull_through_cache_rule", "AccessDeniedException", "no")
    account = aws.Account(REGISTRY, ACCOUNT, "us-east-1", (), client)
    with pytest.raises(
        aws.AwsError, match=r"^access denied \(AccessDeniedException\) while validating"
    ):
        aws.validate(account, ["docker-hub"])


def test_with_account_makes_the_account_the_truth() -> None:
    account = aws.Account(
        REGISTRY,
        ACCOUNT,
        "us-east-1",
        (
            aws.AccountRule("zz-hub", HUB, credential_arn=SECRET),
            aws.AccountRule("docker-hub", HUB),  # lacks the credentials Docker Hub needs
            aws.AccountRule("team-hub", HUB, credential_arn=SECRET),
            aws.AccountRule("ROOT", "quay.io", "library"),
            aws.AccountRule("quay", "quay.io"),
        ),
    )
    config = aws.with_account(Config(rules=(Rule("hub", HUB),)), account)
    assert config.registry == REGISTRY
    # classify takes the first rule for an upstream: the working one with the console's name
    # would win; here none has that name, so the working ones come first, by name.
    assert [r.prefix for r in config.rules] == ["quay", "team-hub", "zz-hub", "docker-hub"]


def test_dns_suffix_and_partition() -> None:
    regions = ("us-east-1", "cn-northwest-1", "us-iso-east-1", "us-isob-east-1", "us-gov-west-1")
    assert [account.dns_suffix(r) for r in regions] == [
        "amazonaws.com",
        "amazonaws.com.cn",
        "c2s.ic.gov",
        "sc2s.sgov.gov",
        "amazonaws.com",
    ]
    assert [account.partition(r) for r in regions] == [
        "aws",
        "aws-cn",
        "aws-iso",
        "aws-iso-b",
        "aws-us-gov",
    ]
    assert account.repository_arn("cn-north-1", ACCOUNT, "quay") == (
        f"arn:aws-cn:ecr:cn-north-1:{ACCOUNT}:repository/quay/*"
    )


def test_templates_every_page(ecr: tuple[Any, Stubber]) -> None:
    client, stubber = ecr
    stubber.add_response(
        "describe_repository_creation_templates",
        {
            "registryId": ACCOUNT,
            "repositoryCreationTemplates": [
                {
                    "prefix": "ROOT",
                    "appliedFor": ["PULL_THROUGH_CACHE", "REPLICATION"],
                    "lifecyclePolicy": '{"rules":[]}',
                    "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "arn:k"},
                    "resourceTags": [{"Key": "team", "Value": "x"}],
                    "customRoleArn": f"arn:aws:iam::{ACCOUNT}:role/t",
                }
            ],
            "nextToken": "t1",
        },
        {},
    )
    stubber.add_response(
        "describe_repository_creation_templates",
        {"repositoryCreationTemplates": [{"prefix": "quay/", "appliedFor": ["REPLICATION"]}]},
        {"nextToken": "t1"},
    )
    found = aws.list_templates(aws.Account(REGISTRY, ACCOUNT, "us-east-1", (), client))
    assert found == (
        Template(
            "ROOT",
            ("PULL_THROUGH_CACHE", "REPLICATION"),
            '{"rules":[]}',
            None,
            "KMS",
            "arn:k",
            (("team", "x"),),
            False,
            f"arn:aws:iam::{ACCOUNT}:role/t",
        ),
        Template("quay", ("REPLICATION",)),
    )


def test_templates_access_denied_is_aws_denied(ecr: tuple[Any, Stubber]) -> None:
    client, stubber = ecr
    stubber.add_client_error("describe_repository_creation_templates", "AccessDeniedException")
    with pytest.raises(AwsDenied, match="^access denied .* while listing the repository creation"):
        aws.list_templates(aws.Account(REGISTRY, ACCOUNT, "us-east-1", (), client))


def test_scanning(ecr: tuple[Any, Stubber]) -> None:
    client, stubber = ecr
    stubber.add_response(
        "get_registry_scanning_configuration",
        {
            "registryId": ACCOUNT,
            "scanningConfiguration": {
                "scanType": "ENHANCED",
                "rules": [
                    {
                        "scanFrequency": "CONTINUOUS_SCAN",
                        "repositoryFilters": [{"filter": "docker-hub*", "filterType": "WILDCARD"}],
                    }
                ],
            },
        },
        {},
    )
    scanning = aws.read_scanning(aws.Account(REGISTRY, ACCOUNT, "us-east-1", (), client))
    assert scanning == Scanning("ENHANCED", (("CONTINUOUS_SCAN", ("docker-hub*",)),))
    assert scanning.for_prefix("docker-hub") == "CONTINUOUS_SCAN (ENHANCED)"
    assert scanning.for_prefix("quay") == "no scanning rule matches"


def test_simulate_reads_resource_specific_decisions() -> None:
    iam = _client("iam")
    role = f"arn:aws:iam::{ACCOUNT}:role/node"
    repos = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/quay/*"
    with Stubber(iam) as stubber:
        stubber.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [
                    {
                        "EvalActionName": "ecr:BatchGetImage",
                        "EvalDecision": "allowed",
                        "ResourceSpecificResults": [
                            {"EvalResourceName": repos, "EvalResourceDecision": "explicitDeny"}
                        ],
                    },
                    {"EvalActionName": "ecr:CreateRepository", "EvalDecision": "implicitDeny"},
                ],
                "IsTruncated": False,
            },
            {
                "PolicySourceArn": role,
                "ActionNames": ["ecr:BatchGetImage", "ecr:CreateRepository"],
                "ResourceArns": [repos],
            },
        )
        account = aws.Account(
            REGISTRY, ACCOUNT, "us-east-1", (), None, (), _Session("us-east-1", iam=iam)
        )
        decisions = aws.simulate(
            account, role, [(repos, ("ecr:BatchGetImage", "ecr:CreateRepository"))]
        )
    assert decisions == {
        (repos, "ecr:BatchGetImage"): "explicitDeny",
        (repos, "ecr:CreateRepository"): "implicitDeny",
    }


def test_image_cached(ecr: tuple[Any, Stubber]) -> None:
    client, stubber = ecr
    asked = {"registryId": ACCOUNT, "repositoryName": "quay/a/b", "imageIds": [{"imageTag": "1"}]}
    stubber.add_response("describe_images", {"imageDetails": [{"imageTags": ["1"]}]}, asked)
    stubber.add_client_error("describe_images", "ImageNotFoundException", expected_params=asked)
    stubber.add_client_error(
        "describe_images", "RepositoryNotFoundException", expected_params=asked
    )
    stubber.add_client_error("describe_images", "AccessDeniedException", expected_params=asked)
    account = aws.Account(REGISTRY, ACCOUNT, "us-east-1", (), client)
    assert [aws.image_cached(account, "quay/a/b", "1") for _ in range(3)] == [True, False, False]
    with pytest.raises(AwsDenied):
        aws.image_cached(account, "quay/a/b", "1")


def test_authorization_decodes_the_token(ecr: tuple[Any, Stubber]) -> None:
    client, stubber = ecr
    token = base64.b64encode(b"AWS:s3cret:with:colons").decode()
    stubber.add_response(
        "get_authorization_token", {"authorizationData": [{"authorizationToken": token}]}, {}
    )
    stubber.add_response("get_authorization_token", {"authorizationData": []}, {})
    account = aws.Account(REGISTRY, ACCOUNT, "us-east-1", (), client)
    assert aws.authorization(account) == ("AWS", "s3cret:with:colons")
    with pytest.raises(aws.AwsError, match="without a usable token"):
        aws.authorization(account)
