"""Who is asking: the access key of a request's signature, the role session it belongs to, and the caller
with the request context IAM evaluates its policies in; or the ``Refusal`` of credentials that are no one's
(a wrong or expired session token), the first refusal a request can meet.
"""

from __future__ import annotations

import datetime
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sts.models import sts_backends

from local.edge.policies import Caller, Policy
from local.emulator.iam.stored_policies import identity_policies

#: The administrator: every caller that is not a role session (``GetCallerIdentity`` answers it so).
ADMINISTRATOR: Final = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/moto"
_SCOPE: Final = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Session:
    """A role session the emulator's STS handed out."""

    role_arn: str
    session_arn: str
    user_id: str
    identity: tuple[Policy, ...]


@dataclass(frozen=True)
class Refusal:
    """A request refused: the answer's error code and AWS's message."""

    code: str
    message: str


def credential(environ: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """The request's access key id, region and signing service, from its signature (header or presigned URL)."""
    match = _SCOPE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    if match:
        return match.group(1), match.group(2), match.group(3)
    query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
    scope = query.get("X-Amz-Credential", [""])[0].split("/")
    return (scope[0], scope[2], scope[3]) if len(scope) == 5 else None


def role_session(access_key_id: str, token: str) -> Session | Refusal | None:
    """The role session of an access key (a Refusal when its token is wrong or expired), None for any other key."""
    for assumed in sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assumed_roles:
        if assumed.access_key_id != access_key_id:
            continue
        if token != assumed.session_token:
            return Refusal("InvalidClientTokenId", "The security token included in the request is invalid.")
        if assumed.expiration <= datetime.datetime.now(datetime.UTC).replace(tzinfo=None):
            return Refusal("ExpiredToken", "The security token included in the request is expired")
        return Session(
            role_arn=assumed.role_arn,
            session_arn=assumed.arn,
            user_id=assumed.user_id,
            identity=identity_policies(assumed.role_arn),
        )
    if access_key_id.startswith("ASIA"):  # temporary credentials this STS never issued (or forgot: a restart)
        return Refusal("InvalidClientTokenId", "The security token included in the request is invalid.")
    return None


def caller_of(session: Session | None, environ: Mapping[str, Any]) -> tuple[Caller, dict[str, str]]:
    """The caller (the administrator when there is no session) and the context keys IAM evaluates with."""
    secure = "true" if environ.get("wsgi.url_scheme") == "https" else "false"
    context = {"aws:SecureTransport": secure, "aws:PrincipalAccount": DEFAULT_ACCOUNT_ID}
    if session is None:
        context |= {"aws:PrincipalArn": ADMINISTRATOR, "aws:PrincipalType": "User"}
        return Caller(account=DEFAULT_ACCOUNT_ID, arns=(ADMINISTRATOR,)), context
    context |= {"aws:PrincipalArn": session.role_arn, "aws:PrincipalType": "AssumedRole", "aws:userid": session.user_id}
    return Caller(account=DEFAULT_ACCOUNT_ID, arns=(session.role_arn, session.session_arn)), context
