"""Cognito's part of the deployment: the user pools an authorizer names, and their app clients."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import ClientError

from local.edge.deployment.errors import NotDeployed, error_code

#: ``arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>``
_USER_POOL_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:cognito-idp:(?P<region>[a-z0-9-]+):[0-9]{12}:userpool/(?P<pool>[\w-]+_[0-9A-Za-z]+)$"
)


@dataclass(frozen=True)
class UserPoolRef:
    """A user pool an authorizer names: where its tokens come from."""

    id: str
    region: str

    @classmethod
    def of(cls, arn: str) -> UserPoolRef | None:
        """The pool of a provider ARN; None for an ARN that names no user pool."""
        found = _USER_POOL_ARN.match(arn)
        return cls(id=found.group("pool"), region=found.group("region")) if found else None

    @property
    def issuer(self) -> str:
        """The ``iss`` claim of every token the pool issues."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.id}"


@dataclass(frozen=True)
class UserPool:
    """A user pool as its tokens are checked: its app clients (a token's ``aud`` or ``client_id``)."""

    id: str
    client_ids: frozenset[str]


def read_user_pool(client: Any, pool_id: str) -> UserPool:
    """The pool's app clients, every page of them (``NotDeployed`` when there is no such pool)."""
    client_ids: set[str] = set()
    arguments: dict[str, Any] = {"UserPoolId": pool_id, "MaxResults": 60}
    try:
        while True:
            page = client.list_user_pool_clients(**arguments)
            client_ids.update(item["ClientId"] for item in page.get("UserPoolClients", []))
            if not page.get("NextToken"):
                break
            arguments["NextToken"] = page["NextToken"]
    except ClientError as error:
        raise NotDeployed(f"user pool {pool_id}: {error_code(error)}") from None
    return UserPool(id=pool_id, client_ids=frozenset(client_ids))
