"""The execution role's temporary credentials, as Lambda obtains them for a function (and EventBridge Scheduler
for a schedule): ``AssumeRole`` from the emulator's STS, for a role whose trust policy lets the service assume it.

A worker acts with them, and is replaced before they expire (``functions.py``);
what Lambda sends on the function's behalf (a dead letter, its log, its trace)
is signed with them too (``role_client``).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import AppConfig
from local.deploy import emulator_client
from local.edge.awslambda.code import CodeError
from local.edge.deployment.awslambda import Function
from local.edge.policies import service_may_assume

#: How long a worker's role credentials are asked for (AssumeRole's default), and how long before
#: they expire the worker is replaced by one with fresh ones.
CREDENTIALS_SECONDS: Final = 3600
RENEW_BEFORE_SECONDS: Final = 300
#: The service principal that must be trusted by a function's execution role.
LAMBDA_PRINCIPAL: Final = "lambda.amazonaws.com"
#: The service principal that must be trusted by a schedule's role.
SCHEDULER_PRINCIPAL: Final = "scheduler.amazonaws.com"
#: How AWS's messages name the services that assume roles here.
SERVICE_NAMES: Final = {LAMBDA_PRINCIPAL: "Lambda", SCHEDULER_PRINCIPAL: "EventBridge Scheduler"}


@dataclass(frozen=True)
class RoleCredentials:
    """A function's temporary credentials: its execution role's, until ``expires_at`` (``time.monotonic()``)."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float

    def environment(self) -> dict[str, str]:
        """As Lambda's runtime sets them (``AWS_ACCESS_KEY`` is the older name it also sets)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_ACCESS_KEY": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    def fresh(self) -> bool:
        return self.expires_at - time.monotonic() > RENEW_BEFORE_SECONDS


class RoleSessions:
    """Temporary credentials of a role, as an AWS service obtains them: ``AssumeRole``, from STS.

    The role must exist and its trust policy must let the service assume it
    (``policies.service_may_assume``), or the service cannot act as it, as in
    AWS. Lambda names the session after the function, so a function's calls are
    made as ``arn:aws:sts::<account>:assumed-role/<role>/<function>``.
    """

    def __init__(self, sts: Any, iam: Any) -> None:
        self._sts = sts
        self._iam = iam

    @classmethod
    def of(cls, config: AppConfig) -> RoleSessions:
        return cls(emulator_client("sts", config), emulator_client("iam", config))

    def assume(self, function: Function) -> RoleCredentials:
        """The function's execution role, as Lambda assumes it."""
        if not function.role:
            raise CodeError(f"{function.name} has no execution role")
        return self.assume_role(function.role, service=LAMBDA_PRINCIPAL, session=function.name, user=function.name)

    def assume_role(self, role_arn: str, *, service: str, session: str, user: str) -> RoleCredentials:
        """``role_arn``'s credentials for ``service`` (``user``: who is refused, in the error)."""
        account = role_arn.split(":")[4]
        try:
            role = self._iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
            trust = _document(role["AssumeRolePolicyDocument"])
            if not service_may_assume(trust, service=service, account=account):
                named = SERVICE_NAMES.get(service, service)
                raise CodeError(f"The role defined for {user} cannot be assumed by {named}: {role_arn}")
            answer = self._sts.assume_role(
                RoleArn=role_arn, RoleSessionName=session, DurationSeconds=CREDENTIALS_SECONDS
            )["Credentials"]
        except (ClientError, BotoCoreError) as error:
            raise CodeError(f"cannot assume the role of {user} ({role_arn}): {error}") from None
        return RoleCredentials(
            access_key_id=answer["AccessKeyId"],
            secret_access_key=answer["SecretAccessKey"],
            session_token=answer["SessionToken"],
            expires_at=time.monotonic() + CREDENTIALS_SECONDS,
        )


def role_client(service: str, config: AppConfig, credentials: RoleCredentials) -> Any:
    """A boto3 client of the emulator that signs with a role's temporary credentials, as the service would."""
    keys = (credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
    return emulator_client(service, config, credentials=keys)


def _document(value: Any) -> Mapping[str, Any]:
    """A policy document as IAM returns it: already parsed by boto3, or URL-encoded JSON."""
    if isinstance(value, Mapping):
        return value
    return cast(Mapping[str, Any], json.loads(urllib.parse.unquote(str(value))))
