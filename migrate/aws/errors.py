"""AWS failures as one printable line: what was being done, what to do; never a credential.

botocore is imported inside: `lint` and `scan` never load it.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any


class AwsError(Exception):
    """One printable line: what failed and what to do about it."""


class AwsDenied(AwsError):
    """Access denied: a caller may carry on without what it could not read, and say so."""


_EXPIRED = {"ExpiredTokenException", "ExpiredToken", "RequestExpired", "TokenRefreshRequired"}
_REJECTED = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "IncompleteSignature",
    "AuthFailure",
}
_DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"}
_THROTTLED = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
}
_SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
# Anything that could identify or prove a credential, should AWS ever echo one back.
_SECRETS = re.compile(
    r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b|(?:Credential|Signature|X-Amz-Security-Token)=\S+"
)


@contextmanager
def translated(action: str, secrets: tuple[str, ...] = ()) -> Iterator[None]:
    from botocore import exceptions as bx  # type: ignore[import-untyped]

    try:
        yield
    except bx.ClientError as exc:
        kind = AwsDenied if error_code(exc) in _DENIED else AwsError
        raise kind(_client_error(exc, action, secrets)) from None
    except bx.NoCredentialsError:
        raise AwsError(
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run `aws sso login`"
        ) from None
    except (bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError, bx.TokenRetrievalError):
        raise AwsError(
            "the AWS SSO session is missing or has expired: run `aws sso login`"
        ) from None
    except bx.NoRegionError:
        raise AwsError(
            "no AWS region: set AWS_REGION (or the profile's region), or pass --registry"
        ) from None
    except (
        bx.EndpointConnectionError,
        bx.ConnectTimeoutError,
        bx.ReadTimeoutError,
        bx.ConnectionClosedError,
    ) as exc:
        raise AwsError(f"cannot reach AWS while {action}: {one_line(str(exc), secrets)}") from None
    except bx.BotoCoreError as exc:  # profile not found, partial credentials, pagination loops...
        raise AwsError(f"AWS error while {action}: {one_line(str(exc), secrets)}") from None
    except ValueError as exc:  # botocore's word for a malformed AWS_ENDPOINT_URL_* and the like
        raise AwsError(
            f"AWS configuration error while {action}: {one_line(str(exc), secrets)}"
        ) from None


def error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def _client_error(exc: Any, action: str, secrets: tuple[str, ...]) -> str:
    code = error_code(exc)
    message = one_line(str(exc.response.get("Error", {}).get("Message", "")), secrets)
    detail = f": {message}" if message else ""
    if code in _EXPIRED:
        return (
            f"the AWS credentials have expired ({code}) while {action}: refresh them "
            "(`aws sso login`, or new session credentials)"
        )
    if code in _REJECTED:
        return (
            f"AWS did not accept the credentials ({code}) while {action}: check AWS_PROFILE "
            "or the access key"
        )
    if code in _DENIED:
        return f"access denied ({code}) while {action}{detail}"
    if code in _THROTTLED:
        return (
            f"AWS throttled the requests ({code}) while {action}, after retrying: try again "
            "later or raise AWS_MAX_ATTEMPTS"
        )
    return f"AWS refused ({code}) while {action}{detail}"


def session_secrets(session: Any) -> tuple[str, ...]:
    """The secret key and session token the chain resolved (profile, SSO, role...): an AWS error
    or a proxy in front of it may echo them, and CI logs are not the place for them."""
    credentials = session.get_credentials()
    if credentials is None:
        return ()
    frozen = credentials.get_frozen_credentials()
    return tuple(s for s in (frozen.secret_key, frozen.token) if s)


def one_line(text: str, secrets: Iterable[str] = (), limit: int = 300) -> str:
    text = " ".join(text.split())
    known = {*secrets, *(os.environ.get(name, "") for name in _SECRET_VARIABLES)}
    for secret in sorted((s for s in known if len(s) >= 8), key=len, reverse=True):
        for form in _forms(secret):
            text = text.replace(form, "<redacted>")
    text = _SECRETS.sub("<redacted>", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _forms(secret: str) -> set[str]:
    """The ways a secret is written when echoed: as sent, percent-encoded (as a path or a
    query would carry it), and with `/` escaped (as some JSON encoders write it)."""
    quoted = {urllib.parse.quote(secret, safe=s) for s in ("", "/")}
    return {secret, *quoted, urllib.parse.quote_plus(secret), secret.replace("/", "\\/")}
