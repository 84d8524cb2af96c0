"""Lifecycle rules shared by the buckets of the system."""

from __future__ import annotations

from engine.aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)

#: Days after which S3 removes the parts of an upload that never completed.
ABORT_INCOMPLETE_UPLOAD_DAYS = 7


def expire_noncurrent_versions(days: int) -> S3BucketLifecycleConfigurationRule:
    """Keep superseded object versions for ``days``, and clean up failed uploads."""
    return S3BucketLifecycleConfigurationRule(
        id="expire-noncurrent-versions",
        status="Enabled",
        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
        noncurrent_version_expiration=[
            S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=days)
        ],
        abort_incomplete_multipart_upload=[
            S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                days_after_initiation=ABORT_INCOMPLETE_UPLOAD_DAYS
            )
        ],
    )


def expire_objects(
    days: int, *, prefix: str = "", rule_id: str = "expire-objects"
) -> S3BucketLifecycleConfigurationRule:
    """Expire every object under ``prefix`` ``days`` after it was written (log or backup retention).

    In a versioned bucket the expired object becomes a noncurrent version (S3
    adds a delete marker over it), which the bucket's noncurrent-version rule
    then removes in its own time; unversioned, it is deleted at once.
    """
    return S3BucketLifecycleConfigurationRule(
        id=rule_id,
        status="Enabled",
        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=prefix)],
        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=days)],
        abort_incomplete_multipart_upload=[
            S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                days_after_initiation=ABORT_INCOMPLETE_UPLOAD_DAYS
            )
        ],
    )
