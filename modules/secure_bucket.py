"""A private, encrypted, versioned S3 bucket: the secure defaults in one place.

Every bucket of the system (Terraform state, backups, access logs) is built
from this construct, the way AWS Solutions Constructs keep their defaults in
``core/lib/s3-bucket-defaults.ts``: all four Block Public Access flags, object
ownership enforced (ACLs disabled), SSE-S3 default encryption, and a bucket
policy that denies every request made without TLS. Callers add statements to
the policy through ``policy_statements`` and choose versioning, lifecycle and
logging explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class AccessLogTarget:
    """Where a bucket's server access logs go."""

    bucket: SecureBucket
    prefix: str


def deny_insecure_transport(bucket: S3Bucket) -> DataAwsIamPolicyDocumentStatement:
    """The statement that refuses any request to the bucket made over plain HTTP."""
    return DataAwsIamPolicyDocumentStatement(
        sid="DenyInsecureTransport",
        effect="Deny",
        principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
        actions=["s3:*"],
        resources=[bucket.arn, f"{bucket.arn}/*"],
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(test="Bool", variable="aws:SecureTransport", values=["false"])
        ],
    )


class SecureBucket(Construct):
    """A bucket with Block Public Access, enforced ownership, SSE and a TLS-only policy.

    Attributes: ``bucket`` (the ``aws_s3_bucket``), ``policy_document`` and
    ``policy`` (the bucket policy), ``versioning`` (``None`` when disabled).
    """

    policy: S3BucketPolicy

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str,
        versioned: bool,
        policy_statements: Sequence[DataAwsIamPolicyDocumentStatement] = (),
        lifecycle_rules: Sequence[S3BucketLifecycleConfigurationRule] = (),
        access_logs: AccessLogTarget | None = None,
        prevent_destroy: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=bucket_name,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if prevent_destroy else None,
        )
        self.public_access_block = S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        self.ownership = S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        # SSE-S3 rather than a customer-managed KMS key: a CMK costs $1/month
        # per key plus per-request fees and buys nothing here that SSE-S3 does not
        # (no cross-account readers). See security/checkov-skips.toml, CKV_AWS_145.
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="AES256"
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        self.versioning = (
            S3BucketVersioningA(
                self,
                "versioning",
                bucket=self.bucket.id,
                versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
            )
            if versioned
            else None
        )
        if lifecycle_rules:
            S3BucketLifecycleConfiguration(
                self,
                "lifecycle",
                bucket=self.bucket.id,
                rule=list(lifecycle_rules),
                # Lifecycle rules on a versioned bucket must follow versioning.
                depends_on=[self.versioning] if self.versioning else None,
            )
        if access_logs is not None:
            S3BucketLoggingA(
                self,
                "logging",
                bucket=self.bucket.id,
                target_bucket=access_logs.bucket.bucket.id,
                target_prefix=access_logs.prefix,
                # S3 refuses a logging target whose policy does not yet admit
                # logging.s3.amazonaws.com (InvalidTargetBucketForLogging).
                depends_on=[access_logs.bucket.policy],
            )
        self.policy_document = DataAwsIamPolicyDocument(
            self,
            "policy-document",
            statement=[*policy_statements, deny_insecure_transport(self.bucket)],
        )
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket.id,
            policy=self.policy_document.json,
            # A policy written while Block Public Access is still being applied
            # can be judged public and refused; wait for the block first.
            depends_on=[self.public_access_block],
        )
