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

from constructs import Construct

from engine.aws.iam_role import IamRole
from lambdas.common import names
from modules.shared import iam
from modules.shared.lifecycle import expire_noncurrent_versions, expire_objects
from modules.shared.secure_bucket import AccessLogTarget, SecureBucket

#: Key prefix of the backup bucket's access logs inside the log bucket.
ACCESS_LOG_PREFIX = "student-backup/"
#: The lifecycle rule that expires backups under ``backups/`` (``backup_retention_days``).
EXPIRE_BACKUPS_RULE = "expire-current-backups"


class BackupStorage(Construct):
    """Backup bucket writable only by the backup role, logged to its own bucket.

    Backups expire ``backup_retention_days`` after they were written; every
    superseded or expired version is kept ``noncurrent_version_retention_days``
    more before S3 deletes it.

    ``grant_write`` gives a function the right to write backups; only the
    writer role named here can use it, because the bucket policy denies every
    other principal. Attributes: ``bucket`` and ``log_bucket`` (both
    ``SecureBucket``).
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
        backup_retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        self._writer_role = writer_role
        partition = iam.StackIdentity.of(self).partition
        # Bucket ARNs are known before the buckets exist: the log bucket's policy
        # names the backup bucket, which in turn logs to the log bucket.
        bucket_arn = f"arn:{partition}:s3:::{bucket_name}"
        self.log_bucket = self._log_bucket(
            log_bucket_name,
            logged_bucket_arn=bucket_arn,
            log_bucket_arn=f"arn:{partition}:s3:::{log_bucket_name}",
            retention_days=access_log_retention_days,
        )
        self.bucket = SecureBucket(
            self,
            "backups",
            bucket_name=bucket_name,
            lifecycle_rules=[
                expire_noncurrent_versions(noncurrent_version_retention_days),
                # Backups are kept for backup_retention_days; an expired one stays
                # restorable as a noncurrent version for noncurrent_version_retention_days more.
                expire_objects(backup_retention_days, prefix=names.BACKUP_PREFIX, rule_id=EXPIRE_BACKUPS_RULE),
            ],
            access_logs=AccessLogTarget(bucket=self.log_bucket, prefix=ACCESS_LOG_PREFIX),
            policy_statements=[
                iam.statement(
                    "AllowBackupRolePutObject",
                    ["s3:PutObject"],
                    [f"{bucket_arn}/{names.BACKUP_PREFIX}*"],
                    principal=iam.Principal("AWS", writer_role.arn),
                ),
                # An Allow in a bucket policy does not stop other principals of
                # the account whose own IAM policies allow writing; this does.
                iam.statement(
                    "DenyPutObjectExceptBackupRole",
                    ["s3:PutObject"],
                    [f"{bucket_arn}/*"],
                    effect="Deny",
                    principal=iam.Principal.anyone(),
                    conditions=[iam.Condition("ArnNotEquals", "aws:PrincipalArn", writer_role.arn)],
                ),
            ],
        )

    def _log_bucket(
        self, name: str, *, logged_bucket_arn: str, log_bucket_arn: str, retention_days: int
    ) -> SecureBucket:
        """The access-log bucket, written only by S3's log delivery for the backup bucket.

        The log bucket itself is not logged: its access logs would be written
        into itself (or a third bucket), each delivery logging another.
        """
        return SecureBucket(
            self,
            "logs",
            bucket_name=name,
            lifecycle_rules=[expire_objects(retention_days)],
            policy_statements=[
                iam.statement(
                    "S3ServerAccessLogsPolicy",
                    ["s3:PutObject"],
                    [f"{log_bucket_arn}/{ACCESS_LOG_PREFIX}*"],
                    principal=iam.Principal.service("logging.s3.amazonaws.com"),
                    conditions=[
                        iam.Condition("ArnLike", "aws:SourceArn", logged_bucket_arn),
                        iam.Condition("StringEquals", "aws:SourceAccount", iam.StackIdentity.of(self).account_id),
                    ],
                )
            ],
        )

    def grant_write(self, grantee: iam.Grantee) -> None:
        """Write backups under ``backups/`` (and abort or delete a failed one's objects)."""
        if grantee.role is not self._writer_role:
            raise ValueError("only the backup bucket's writer role may write backups: its policy denies any other")
        objects = f"{self.bucket.bucket.arn}/{names.BACKUP_PREFIX}*"
        actions = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"]
        grantee.add_to_policy(iam.statement("WriteBackups", actions, [objects]))
        grantee.add_environment(names.ENV_BACKUP_BUCKET, self.bucket.bucket.bucket)
