"""Optional CloudFront access logs for the site (``site_access_logs``), in a bucket of their own.

CloudFront's legacy standard logs are written with an S3 ACL, so their bucket
must have ACLs enabled; every bucket here has them disabled (``SecureBucket``
enforces object ownership). Standard logging v2 needs no ACL: CloudWatch Logs'
delivery service takes the distribution as a *delivery source* and writes to
an S3 *delivery destination* under ``AWSLogs/<account>/CloudFront/``. Deliveries
for CloudFront exist in us-east-1 only, where the distribution's control plane
is; the configuration refuses the setting elsewhere.

Off by default: the logs cost $0.25 per GB delivered plus S3 storage, and every
API call is already in the API stage's access log. The bucket's objects expire
after ``access_log_retention_days``.
"""

from __future__ import annotations

from typing import Final

from constructs import Construct

from engine.aws.cloudfront_distribution import CloudfrontDistribution
from engine.aws.cloudwatch_log_delivery import CloudwatchLogDelivery
from engine.aws.cloudwatch_log_delivery_destination import (
    CloudwatchLogDeliveryDestination,
    CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration,
)
from engine.aws.cloudwatch_log_delivery_source import CloudwatchLogDeliverySource
from modules.shared import iam
from modules.shared.lifecycle import expire_objects
from modules.shared.naming import qualified
from modules.shared.secure_bucket import SecureBucket

#: The only region CloudFront's log deliveries can be configured in.
DELIVERY_REGION: Final = "us-east-1"


def destination_name(source_name: str) -> str:
    """The delivery destination of a delivery source's logs (the log bucket)."""
    return f"{source_name}-s3"


class SiteAccessLogs(Construct):
    """The distribution's access logs, delivered as JSON lines to ``bucket`` (a ``SecureBucket``)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        distribution: CloudfrontDistribution,
        name: str,
        bucket_name: str,
        retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        identity = iam.StackIdentity.of(self)
        self.bucket = SecureBucket(
            self,
            "bucket",
            bucket_name=bucket_name,
            lifecycle_rules=[expire_objects(retention_days)],
            policy_statements=[
                iam.statement(
                    "AllowLogDeliveryWrite",
                    ["s3:PutObject"],
                    [f"arn:{identity.partition}:s3:::{bucket_name}/AWSLogs/{identity.account_id}/*"],
                    principal=iam.Principal.service("delivery.logs.amazonaws.com"),
                    conditions=[
                        iam.Condition("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),
                        iam.Condition("StringEquals", "aws:SourceAccount", identity.account_id),
                        iam.Condition(
                            "ArnLike",
                            "aws:SourceArn",
                            f"arn:{identity.partition}:logs:{DELIVERY_REGION}:{identity.account_id}:delivery-source:*",
                        ),
                    ],
                )
            ],
        )
        self.source = CloudwatchLogDeliverySource(
            self, "source", name=qualified(self, name), log_type="ACCESS_LOGS", resource_arn=distribution.arn
        )
        self.destination = CloudwatchLogDeliveryDestination(
            self,
            "destination",
            name=qualified(self, destination_name(name)),
            output_format="json",
            delivery_destination_configuration=[
                CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration(
                    destination_resource_arn=self.bucket.bucket.arn
                )
            ],
        )
        self.delivery = CloudwatchLogDelivery(
            self,
            "delivery",
            delivery_source_name=self.source.name,
            delivery_destination_arn=self.destination.arn,
            # The first delivery is refused until the bucket policy admits the service.
            depends_on=[self.bucket.policy],
        )
