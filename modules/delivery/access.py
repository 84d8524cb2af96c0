"""What Terraform does to each kind of the system's resources, and on which ARNs: the delivery roles' policies.

``RESOURCE_TYPES`` maps every Terraform resource type the application stack
synthesizes (with every optional feature on) to the ``ServiceAccess`` rows
Terraform needs for it: ``read`` to refresh it (the planning role, and the
apply role, which refreshes before it changes anything), ``write`` to create
and update it, ``delete`` to destroy it. Rows that ``keeps_data`` (a table, a
bucket, a secret, an API key, a log group, the staff pool) grant no delete to
the apply role: losing data takes a person's credentials and ``make
destroy``, never a merged pull request (the plan guard refuses such a plan
too). A new resource type without a row fails the synth of the delivery
identity (``modules/stacks/delivery_identity.py``) and its test.

Actions IAM authorizes on ``"*"`` only (``UNSCOPED``: no resource type in
IAM's service authorization reference) are kept apart, granted on ``"*"``
with the region they may be called in as a condition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from modules.delivery.arns import GLOBAL_REGION, Arns


@dataclass(frozen=True, kw_only=True)
class ServiceAccess:
    """One kind of resource: its actions by purpose and the ARNs they apply to."""

    sid: str  #: names its statements (``<sid>Read``, ``<sid>Write``, ...)
    resources: Callable[[Arns], list[str]]
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    #: Refresh actions IAM authorizes on "*" only.
    unscoped_read: tuple[str, ...] = ()
    #: Create, update or delete actions IAM authorizes on "*" only.
    unscoped_write: tuple[str, ...] = ()
    keeps_data: bool = False
    #: Where its API is called: the configured region, or us-east-1 for a global service.
    global_service: bool = False

    def region(self, arns: Arns) -> str:
        return GLOBAL_REGION if self.global_service else arns.region


def _logs(arns: Arns) -> list[str]:
    groups = arns.regional("logs", (f"log-group:{name}" for name in arns.names.log_groups))
    return [*groups, *(f"{group}:*" for group in groups)]


TABLES = ServiceAccess(
    sid="Tables",
    resources=lambda a: a.regional("dynamodb", (f"table/{n}" for n in a.names.tables)),
    read=(
        "dynamodb:DescribeTable",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:ListTagsOfResource",
    ),
    write=(
        "dynamodb:CreateTable",
        "dynamodb:UpdateTable",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:UpdateTimeToLive",
        "dynamodb:TagResource",
        "dynamodb:UntagResource",
    ),
    delete=("dynamodb:DeleteTable",),
    keeps_data=True,
)
BUCKETS = ServiceAccess(
    sid="Buckets",
    resources=lambda a: a.s3(a.names.buckets),
    read=(
        "s3:ListBucket",
        "s3:GetBucket*",
        "s3:GetAccelerateConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:GetReplicationConfiguration",
    ),
    write=(
        "s3:CreateBucket",
        "s3:PutBucketVersioning",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketOwnershipControls",
        "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketLogging",
        "s3:PutBucketTagging",
    ),
    delete=("s3:DeleteBucket",),
    keeps_data=True,
)
SITE_OBJECTS = ServiceAccess(
    sid="SiteObjects",
    resources=lambda a: a.s3(f"{bucket}/*" for bucket in a.names.site_buckets),
    read=("s3:GetObject", "s3:GetObjectTagging"),
    write=("s3:PutObject", "s3:PutObjectTagging"),
    delete=("s3:DeleteObject",),
)
FUNCTIONS = ServiceAccess(
    sid="Functions",
    resources=lambda a: a.regional("lambda", (f"function:{n}" for n in a.names.functions)),
    read=(
        "lambda:GetFunction*",
        "lambda:GetPolicy",
        "lambda:GetRuntimeManagementConfig",
        "lambda:ListVersionsByFunction",
        "lambda:ListTags",
    ),
    write=(
        "lambda:CreateFunction",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
        "lambda:PublishVersion",
        "lambda:AddPermission",
        "lambda:RemovePermission",
        "lambda:TagResource",
        "lambda:UntagResource",
    ),
    delete=("lambda:DeleteFunction",),
)
ROLES = ServiceAccess(
    sid="Roles",
    resources=lambda a: a.global_("iam", (f"role/{n}" for n in a.names.roles)),
    read=(
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
    ),
    write=(
        "iam:CreateRole",
        "iam:UpdateRole",
        "iam:UpdateRoleDescription",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:TagRole",
        "iam:UntagRole",
    ),
    delete=("iam:DeleteRole",),
    global_service=True,
)
LOG_GROUPS = ServiceAccess(
    sid="LogGroups",
    resources=_logs,
    read=("logs:ListTagsForResource", "logs:ListTagsLogGroup"),
    write=(
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:TagResource",
        "logs:UntagResource",
        "logs:TagLogGroup",
        "logs:UntagLogGroup",
    ),
    delete=("logs:DeleteLogGroup",),
    unscoped_read=("logs:DescribeLogGroups",),
    keeps_data=True,
)
QUERY_DEFINITIONS = ServiceAccess(
    sid="QueryDefinitions",
    resources=lambda a: [],
    unscoped_read=("logs:DescribeQueryDefinitions",),
    unscoped_write=("logs:PutQueryDefinition", "logs:DeleteQueryDefinition"),
)
LOG_DELIVERY = ServiceAccess(
    sid="LogDelivery",
    resources=lambda a: [
        *a.regional("logs", (f"delivery-source:{n}" for n in a.names.delivery_sources), region=GLOBAL_REGION),
        *a.regional("logs", (f"delivery-destination:{n}" for n in a.names.delivery_destinations), region=GLOBAL_REGION),
        # A delivery's id is AWS's, known only once it exists.
        *a.regional("logs", ["delivery:*"], region=GLOBAL_REGION),
        # CloudFront must allow the delivery of its distribution's logs; the distribution's id is AWS's too.
        *a.global_("cloudfront", ["distribution/*"]),
    ],
    read=("logs:GetDeliverySource", "logs:GetDeliveryDestination", "logs:GetDelivery", "logs:ListTagsForResource"),
    write=(
        "logs:PutDeliverySource",
        "logs:PutDeliveryDestination",
        "logs:CreateDelivery",
        "logs:UpdateDeliveryConfiguration",
        "logs:TagResource",
        "logs:UntagResource",
        "cloudfront:AllowVendedLogDeliveryForResource",
    ),
    delete=("logs:DeleteDeliverySource", "logs:DeleteDeliveryDestination", "logs:DeleteDelivery"),
    global_service=True,
)
ALARMS = ServiceAccess(
    sid="Alarms",
    resources=lambda a: a.regional("cloudwatch", (f"alarm:{prefix}*" for prefix in a.names.alarm_prefixes)),
    read=("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
    write=("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"),
    delete=("cloudwatch:DeleteAlarms",),
)
QUEUES = ServiceAccess(
    sid="Queues",
    resources=lambda a: a.regional("sqs", a.names.queues),
    read=("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"),
    write=("sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"),
    delete=("sqs:DeleteQueue",),
)
TOPICS = ServiceAccess(
    sid="Topics",
    resources=lambda a: a.regional("sns", a.names.topics),
    read=("sns:GetTopicAttributes", "sns:ListTagsForResource"),
    write=("sns:CreateTopic", "sns:SetTopicAttributes", "sns:Subscribe", "sns:TagResource", "sns:UntagResource"),
    delete=("sns:DeleteTopic",),
    # A subscription is known by an ARN of AWS's making, and IAM authorizes these on "*" only.
    unscoped_read=("sns:GetSubscriptionAttributes",),
    unscoped_write=("sns:SetSubscriptionAttributes", "sns:Unsubscribe"),
)
KEYS = ServiceAccess(
    sid="Keys",
    # A key's id is AWS's; its alias is the system's.
    resources=lambda a: [*a.regional("kms", ["key/*"]), *a.regional("kms", a.names.key_aliases)],
    read=("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
    write=(
        "kms:PutKeyPolicy",
        "kms:EnableKeyRotation",
        "kms:DisableKeyRotation",
        "kms:UpdateKeyDescription",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:CreateAlias",
        "kms:UpdateAlias",
    ),
    delete=("kms:ScheduleKeyDeletion", "kms:DeleteAlias"),
    unscoped_read=("kms:ListAliases",),
    unscoped_write=("kms:CreateKey",),
)
SECRETS = ServiceAccess(
    sid="Secrets",
    # Secrets Manager appends six random characters to a secret's name in its ARN.
    resources=lambda a: a.regional("secretsmanager", (f"secret:{n}-??????" for n in a.names.secrets)),
    # GetSecretValue: Terraform refreshes the secret's version by reading it.
    read=(
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:GetSecretValue",
        "secretsmanager:ListSecretVersionIds",
    ),
    write=(
        "secretsmanager:CreateSecret",
        "secretsmanager:UpdateSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:TagResource",
        "secretsmanager:UntagResource",
    ),
    delete=("secretsmanager:DeleteSecret",),
    keeps_data=True,
)
SCHEDULES = ServiceAccess(
    sid="Schedules",
    resources=lambda a: a.regional("scheduler", (f"schedule/default/{n}" for n in a.names.schedules)),
    read=("scheduler:GetSchedule",),
    write=("scheduler:CreateSchedule", "scheduler:UpdateSchedule"),
    delete=("scheduler:DeleteSchedule",),
)
EMAIL_IDENTITIES = ServiceAccess(
    sid="EmailIdentities",
    resources=lambda a: [],
    unscoped_read=("ses:GetIdentityVerificationAttributes",),
    unscoped_write=("ses:VerifyEmailIdentity", "ses:DeleteIdentity"),
)
API = ServiceAccess(
    sid="Api",
    resources=lambda a: a.apigateway(
        ["/restapis", "/restapis/*", "/usageplans", "/usageplans/*", "/account", "/tags/*"]
    ),
    read=("apigateway:GET",),
    write=("apigateway:POST", "apigateway:PUT", "apigateway:PATCH"),
    delete=("apigateway:DELETE",),
)
API_KEYS = ServiceAccess(
    sid="ApiKeys",
    resources=lambda a: a.apigateway(["/apikeys", "/apikeys/*"]),
    read=("apigateway:GET",),
    write=("apigateway:POST", "apigateway:PATCH"),
    delete=("apigateway:DELETE",),
    keeps_data=True,
)
USER_POOLS = ServiceAccess(
    sid="UserPools",
    # A pool's id is AWS's.
    resources=lambda a: a.regional("cognito-idp", ["userpool/*"]),
    read=(
        "cognito-idp:DescribeUserPool",
        "cognito-idp:GetUserPoolMfaConfig",
        "cognito-idp:DescribeUserPoolClient",
        "cognito-idp:GetGroup",
        "cognito-idp:ListTagsForResource",
    ),
    write=(
        "cognito-idp:UpdateUserPool",
        "cognito-idp:SetUserPoolMfaConfig",
        "cognito-idp:CreateUserPoolClient",
        "cognito-idp:UpdateUserPoolClient",
        "cognito-idp:DeleteUserPoolClient",
        "cognito-idp:CreateGroup",
        "cognito-idp:UpdateGroup",
        "cognito-idp:TagResource",
        "cognito-idp:UntagResource",
    ),
    # A group holds who is an administrator: it goes with the pool, by hand.
    delete=("cognito-idp:DeleteUserPool", "cognito-idp:DeleteGroup"),
    unscoped_write=("cognito-idp:CreateUserPool",),
    keeps_data=True,
)
DISTRIBUTIONS = ServiceAccess(
    sid="Distributions",
    # Distributions, origin access controls and response headers policies get ids of AWS's.
    resources=lambda a: a.global_(
        "cloudfront", ["distribution/*", "origin-access-control/*", "response-headers-policy/*"]
    ),
    read=(
        "cloudfront:GetDistribution",
        "cloudfront:GetDistributionConfig",
        "cloudfront:ListTagsForResource",
        "cloudfront:GetOriginAccessControl",
        "cloudfront:GetResponseHeadersPolicy",
    ),
    write=(
        "cloudfront:CreateDistribution",
        "cloudfront:UpdateDistribution",
        "cloudfront:TagResource",
        "cloudfront:UntagResource",
        "cloudfront:UpdateOriginAccessControl",
        "cloudfront:CreateResponseHeadersPolicy",
        "cloudfront:UpdateResponseHeadersPolicy",
    ),
    delete=(
        "cloudfront:DeleteDistribution",
        "cloudfront:DeleteOriginAccessControl",
        "cloudfront:DeleteResponseHeadersPolicy",
    ),
    unscoped_write=("cloudfront:CreateOriginAccessControl",),
    global_service=True,
)
FIREWALLS = ServiceAccess(
    sid="Firewalls",
    resources=lambda a: a.regional("wafv2", (f"global/webacl/{n}/*" for n in a.names.web_acls), region=GLOBAL_REGION),
    read=("wafv2:GetWebACL", "wafv2:ListTagsForResource"),
    write=("wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:TagResource", "wafv2:UntagResource"),
    delete=("wafv2:DeleteWebACL",),
    global_service=True,
)

_API_TYPES: Final = (
    "account",
    "authorizer",
    "deployment",
    "gateway_response",
    "integration",
    "integration_response",
    "method",
    "method_response",
    "method_settings",
    "model",
    "request_validator",
    "resource",
    "rest_api",
    "stage",
    "usage_plan",
    "usage_plan_key",
)
_BUCKET_TYPES: Final = (
    "lifecycle_configuration",
    "logging",
    "ownership_controls",
    "policy",
    "public_access_block",
    "server_side_encryption_configuration",
    "versioning",
)

#: Every resource type of the application stack and what Terraform needs for it.
RESOURCE_TYPES: Final[Mapping[str, tuple[ServiceAccess, ...]]] = {
    **{f"aws_api_gateway_{kind}": (API,) for kind in _API_TYPES},
    "aws_api_gateway_api_key": (API_KEYS,),
    "aws_cloudfront_distribution": (DISTRIBUTIONS,),
    "aws_cloudfront_origin_access_control": (DISTRIBUTIONS,),
    "aws_cloudfront_response_headers_policy": (DISTRIBUTIONS,),
    "aws_cloudwatch_log_delivery": (LOG_DELIVERY,),
    "aws_cloudwatch_log_delivery_destination": (LOG_DELIVERY,),
    "aws_cloudwatch_log_delivery_source": (LOG_DELIVERY,),
    "aws_cloudwatch_log_group": (LOG_GROUPS,),
    "aws_cloudwatch_metric_alarm": (ALARMS,),
    "aws_cloudwatch_query_definition": (QUERY_DEFINITIONS,),
    "aws_cognito_user_group": (USER_POOLS,),
    "aws_cognito_user_pool": (USER_POOLS,),
    "aws_cognito_user_pool_client": (USER_POOLS,),
    "aws_dynamodb_table": (TABLES,),
    "aws_iam_role": (ROLES,),
    "aws_iam_role_policy": (ROLES,),
    "aws_kms_alias": (KEYS,),
    "aws_kms_key": (KEYS,),
    "aws_lambda_function": (FUNCTIONS,),
    "aws_lambda_permission": (FUNCTIONS,),
    "aws_s3_bucket": (BUCKETS,),
    **{f"aws_s3_bucket_{kind}": (BUCKETS,) for kind in _BUCKET_TYPES},
    "aws_s3_object": (SITE_OBJECTS,),
    "aws_scheduler_schedule": (SCHEDULES,),
    "aws_secretsmanager_secret": (SECRETS,),
    "aws_secretsmanager_secret_version": (SECRETS,),
    "aws_ses_email_identity": (EMAIL_IDENTITIES,),
    "aws_sns_topic": (TOPICS,),
    "aws_sns_topic_policy": (TOPICS,),
    "aws_sns_topic_subscription": (TOPICS,),
    "aws_sqs_queue": (QUEUES,),
    "aws_wafv2_web_acl": (FIREWALLS,),
}


def accesses() -> list[ServiceAccess]:
    """Each row once, in the order the table first names it: one policy section per row."""
    seen: dict[str, ServiceAccess] = {}
    for rows in RESOURCE_TYPES.values():
        for row in rows:
            seen.setdefault(row.sid, row)
    return list(seen.values())
