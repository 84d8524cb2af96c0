"""ARNs of the system's resources, for the delivery roles' policies.

Built from the stack's account and partition (Terraform expressions), the
configured region and the names of ``modules/delivery/names.py``. Where AWS
gives a resource an id of its own (an API, a distribution, a user pool, a
key), the ARN is scoped to the account, region and resource type, the
narrowest an id unknown before the apply allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from modules.delivery.names import SystemNames

#: Where global services (CloudFront, its WAF web ACLs and log deliveries, IAM) are called and authorized.
GLOBAL_REGION: Final = "us-east-1"


@dataclass(frozen=True, kw_only=True)
class Arns:
    """The ARN patterns of one account's system. Attributes: ``partition``, ``region``, ``account``, ``names``."""

    partition: str
    region: str
    account: str
    names: SystemNames

    def regional(self, service: str, resources: Iterable[str], *, region: str | None = None) -> list[str]:
        """``arn:<partition>:<service>:<region>:<account>:<resource>`` for each resource."""
        return [f"arn:{self.partition}:{service}:{region or self.region}:{self.account}:{r}" for r in resources]

    def global_(self, service: str, resources: Iterable[str]) -> list[str]:
        """ARNs without a region (IAM, CloudFront)."""
        return [f"arn:{self.partition}:{service}::{self.account}:{r}" for r in resources]

    def s3(self, resources: Iterable[str]) -> list[str]:
        """S3 ARNs name neither region nor account: a bucket name is global."""
        return [f"arn:{self.partition}:s3:::{r}" for r in resources]

    def apigateway(self, paths: Iterable[str]) -> list[str]:
        """API Gateway's ARNs are its REST paths in the region, without an account."""
        return [f"arn:{self.partition}:apigateway:{self.region}::{path}" for path in paths]
