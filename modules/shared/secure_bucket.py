"""A private, encrypted, versioned S3 bucket: the secure defaults in one place.

Every bucket of the system (Terraform state, backups, access logs, website) is built
from this construct, the way AWS Solutions Constructs keep their defaults in
``core/lib/s3-bucket-defaults.ts``: all four Block Public Access flags, object
ownership enforced (ACLs disabled), SSE-S3 default encryption, and a bucket
policy that denies every request made without TLS, and versioning, always on.
Callers add statements to the policy through ``policy_statements`` (or later,
``add_to_resource_policy``) and choose lifecycle and logging explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs import Construct

from engine.aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from engine.aws.s3_bucket import S3Bucket
from engine.aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
)
from engine.aws.s3_bucket_logging import S3BucketLoggingA
from engine.aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from engine.aws.s3_bucket_policy import S3BucketPolicy
from engine.aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from engine.aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from engine.aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from engine.cdk import TerraformResourceLifecycle
from modules.shared import iam


@dataclass(frozen=True, kw_only=True)
class AccessLogTarget:
    """Where a bucket's server access logs go."""

    bucket: SecureBucket
    prefix: str


def deny_insecure_transport(bucket: S3Bucket) -> DataAwsIamPolicyDocumentStatement:
    """The statement that refuses any request to the bucket made over plain HTTP."""
    return iam.statement(
        "DenyInsecureTransport",
        ["s3:*"],
        [bucket.arn, f"{bucket.arn}/*"],
        effect="Deny",
        principal=iam.Principal.anyone(),
        conditions=[iam.Condition("Bool", "aws:SecureTransport", "false")],
    )


class SecureBucket(Construct):
    """A versioned bucket with Block Public Access, enforced ownership, SSE and a TLS-only policy.

    Attributes: ``bucket`` (the ``aws_s3_bucket``), ``public_access_block``,
    ``ownership``, ``versioning``, ``policy_document`` and ``policy`` (the
    bucket policy). The construct IDs below are Terraform addresses: renaming
    one replaces the deployed resource (for ``bucket``, with its data).
    """

    policy: S3BucketPolicy

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str,
        policy_statements: Sequence[DataAwsIamPolicyDocumentStatement] = (),
        lifecycle_rules: Sequence[S3BucketLifecycleConfigurationRule] = (),
        access_logs: AccessLogTarget | None = None,
        prevent_destroy: bool = False,
        force_destroy: bool = False,
    ) -> None:
        """``force_destroy`` lets Terraform delete the bucket with every object version in it: only
        for a bucket whose every object Terraform itself uploads from the repository."""
        super().__init__(scope, id_)
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=bucket_name,
            force_destroy=True if force_destroy else None,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if prevent_destroy else None,
        )
        self.public_access_block = self._block_public_access()
        self.ownership = self._enforce_bucket_owner()
        self._encrypt()
        self.versioning = self._enable_versioning()
        if lifecycle_rules:
            self._apply_lifecycle(lifecycle_rules)
        if access_logs is not None:
            self._log_access(access_logs)
        self._statements = list(policy_statements)
        self.policy_document, self.policy = self._attach_policy()

    def _block_public_access(self) -> S3BucketPublicAccessBlock:
        return S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )

    def _enforce_bucket_owner(self) -> S3BucketOwnershipControls:
        """ACLs disabled: only the bucket policy and IAM decide access."""
        return S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )

    def _encrypt(self) -> None:
        """SSE-S3 rather than a customer-managed KMS key.

        A CMK costs $1/month per key plus per-request fees and buys nothing here
        that SSE-S3 does not (no cross-account readers). See
        security/checkov-skips.toml, CKV_AWS_145.
        """
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

    def _enable_versioning(self) -> S3BucketVersioningA:
        """Always on: an overwritten or deleted object stays recoverable.

        Old state versions are how a bad apply is rolled back, and an
        overwritten backup can be restored; the callers' lifecycle rules bound
        how long superseded versions are kept.
        """
        return S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )

    def _apply_lifecycle(self, rules: Sequence[S3BucketLifecycleConfigurationRule]) -> None:
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=list(rules),
            # Lifecycle rules on a versioned bucket must follow versioning.
            depends_on=[self.versioning],
        )

    def _log_access(self, target: AccessLogTarget) -> None:
        S3BucketLoggingA(
            self,
            "logging",
            bucket=self.bucket.id,
            target_bucket=target.bucket.bucket.id,
            target_prefix=target.prefix,
            # S3 refuses a logging target whose policy does not yet admit
            # logging.s3.amazonaws.com (InvalidTargetBucketForLogging).
            depends_on=[target.bucket.policy],
        )

    def _attach_policy(self) -> tuple[DataAwsIamPolicyDocument, S3BucketPolicy]:
        """The callers' statements, then the TLS-only one, as the bucket policy."""
        document = DataAwsIamPolicyDocument(self, "policy-document", statement=self._policy_statements())
        policy = S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket.id,
            policy=document.json,
            # A policy written while Block Public Access is still being applied
            # can be judged public and refused; wait for the block first.
            depends_on=[self.public_access_block],
        )
        return document, policy

    def _policy_statements(self) -> list[DataAwsIamPolicyDocumentStatement]:
        return [*self._statements, deny_insecure_transport(self.bucket)]

    def add_to_resource_policy(self, statement: DataAwsIamPolicyDocumentStatement) -> None:
        """Adds ``statement`` to the bucket policy, for a principal that exists only after the bucket.

        (CloudFront's distribution names the bucket as its origin, and the
        policy names the distribution.)
        """
        self._statements.append(statement)
        self.policy_document.put_statement(self._policy_statements())
