"""Tutorial section 6.5: the backup bucket and its access-log bucket.

``student-backup-20250706`` receives the backup function's JSON and CSV files;
``student-backup-logs-20250706`` receives its server access logs. Both are
built from ``SecureBucket`` (private, encrypted, ownership enforced, TLS only).

The tutorial's bucket policy (section 6.5) also allows ``s3:PutObjectAcl``.
With object ownership enforced, ACLs are disabled: S3 rejects any ACL but
bucket-owner-full-control, so that permission would grant nothing and is left
out.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from constructs import Construct

from lambdas.common import names
from modules.lifecycle import expire_noncurrent_versions, expire_objects
from modules.secure_bucket import AccessLogTarget, SecureBucket

#: Key prefix of the backup bucket's access logs inside the log bucket.
ACCESS_LOG_PREFIX = "student-backup/"


class BackupStorage(Construct):
    """Backup bucket writable only by the backup role, logged to its own bucket.

    Attributes: ``bucket`` and ``log_bucket`` (both ``SecureBucket``).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str,
        log_bucket_name: str,
        writer_role: IamRole,
        noncurrent_version_retention_days: int,
        access_log_retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        account = DataAwsCallerIdentity(self, "account")
        partition = DataAwsPartition(self, "partition").partition
        # Bucket ARNs are known before the buckets exist: the log bucket's policy
        # names the backup bucket, which in turn logs to the log bucket.
        bucket_arn = f"arn:{partition}:s3:::{bucket_name}"
        log_bucket_arn = f"arn:{partition}:s3:::{log_bucket_name}"

        # The log bucket itself is not logged: its access logs would be written
        # into itself (or a third bucket), each delivery logging another.
        self.log_bucket = SecureBucket(
            self,
            "logs",
            bucket_name=log_bucket_name,
            versioned=True,
            lifecycle_rules=[expire_objects(access_log_retention_days)],
            policy_statements=[
                DataAwsIamPolicyDocumentStatement(
                    sid="S3ServerAccessLogsPolicy",
                    effect="Allow",
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service", identifiers=["logging.s3.amazonaws.com"]
                        )
                    ],
                    actions=["s3:PutObject"],
                    resources=[f"{log_bucket_arn}/{ACCESS_LOG_PREFIX}*"],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="ArnLike", variable="aws:SourceArn", values=[bucket_arn]
                        ),
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals", variable="aws:SourceAccount", values=[account.account_id]
                        ),
                    ],
                )
            ],
        )

        backup_objects = f"{bucket_arn}/{names.BACKUP_PREFIX}*"
        self.bucket = SecureBucket(
            self,
            "backups",
            bucket_name=bucket_name,
            versioned=True,
            lifecycle_rules=[expire_noncurrent_versions(noncurrent_version_retention_days)],
            access_logs=AccessLogTarget(bucket=self.log_bucket, prefix=ACCESS_LOG_PREFIX),
            policy_statements=[
                DataAwsIamPolicyDocumentStatement(
                    sid="AllowBackupRolePutObject",
                    effect="Allow",
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=[writer_role.arn])],
                    actions=["s3:PutObject"],
                    resources=[backup_objects],
                ),
                # An Allow in a bucket policy does not stop other principals of
                # the account whose own IAM policies allow writing; this does.
                DataAwsIamPolicyDocumentStatement(
                    sid="DenyPutObjectExceptBackupRole",
                    effect="Deny",
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
                    actions=["s3:PutObject"],
                    resources=[f"{bucket_arn}/*"],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="ArnNotEquals", variable="aws:PrincipalArn", values=[writer_role.arn]
                        )
                    ],
                ),
            ],
        )
