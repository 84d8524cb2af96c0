"""Lifecycle rules shared by the buckets of the system."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
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


def expire_objects(days: int) -> S3BucketLifecycleConfigurationRule:
    """Delete every object ``days`` after it was written (log retention)."""
    return S3BucketLifecycleConfigurationRule(
        id="expire-objects",
        status="Enabled",
        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=days)],
        abort_incomplete_multipart_upload=[
            S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                days_after_initiation=ABORT_INCOMPLETE_UPLOAD_DAYS
            )
        ],
    )
