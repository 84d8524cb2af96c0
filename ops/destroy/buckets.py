"""The buckets as S3 has them: counted over every version, emptied, deleted.

Step 5 of ``make destroy`` (the package's docstring): Terraform deletes a
versioned bucket only once it is empty, and the backup bucket's log bucket can
fill again while it is emptied, so emptying lists afresh until nothing is
left, and a deletion stopped by ``BucketNotEmpty`` empties once more,
``DESTROY_PASSES`` times at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from lambdas.common import names
from ops.destroy.console import Say
from ops.destroy.errors import TeardownError, error_code

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

#: Destroy passes at most: the log bucket can fill again while the first runs.
DESTROY_PASSES: Final = 3
#: S3's DeleteObjects limit.
DELETE_BATCH: Final = 1000


@dataclass(frozen=True)
class BucketContents:
    name: str
    #: Objects whose latest version is not a delete marker.
    current: int
    #: Every version and delete marker: what emptying deletes.
    versions: int
    #: Current objects under the backup prefix.
    backups: int


def bucket_contents(s3: S3Client, bucket: str) -> BucketContents | None:
    """What the bucket holds, counted over every version; None when there is no such bucket."""
    current = versions = backups = 0
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for version in page.get("Versions", []):
                versions += 1
                if version.get("IsLatest"):
                    current += 1
                    backups += version["Key"].startswith(names.BACKUP_PREFIX)
            versions += len(page.get("DeleteMarkers", []))
    except ClientError as error:
        if error_code(error) == "NoSuchBucket":
            return None
        raise
    return BucketContents(bucket, current, versions, backups)


def empty_bucket(s3: S3Client, bucket: str, progress: Say) -> int:
    """Deletes every version and delete marker; returns how many. Lists again until nothing is left.

    Listing afresh after each batch, rather than paging through one listing,
    also catches what arrives meanwhile (access logs being delivered).
    """
    deleted = 0
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=DELETE_BATCH)
        batch: list[ObjectIdentifierTypeDef] = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if not batch:
            return deleted
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        errors = answer.get("Errors", [])
        if errors:
            first = errors[0]
            raise TeardownError(
                f"could not delete {len(errors)} object version(s) from bucket {bucket} "
                f"(first: {first.get('Key')}: {first.get('Code')} {first.get('Message')})"
            )
        deleted += len(batch)
        progress(f"    {bucket}: {deleted} object version(s) deleted")


def delete_bucket(s3: S3Client, bucket: str, progress: Say) -> None:
    """Empties and deletes a bucket Terraform no longer holds, emptying again if access logs arrived meanwhile."""
    for _ in range(DESTROY_PASSES):
        empty_bucket(s3, bucket, progress)
        try:
            s3.delete_bucket(Bucket=bucket)
        except ClientError as error:
            if error_code(error) != "BucketNotEmpty":
                raise
            continue
        return
    raise TeardownError(f"bucket {bucket} filled again {DESTROY_PASSES} times while it was deleted; rerun")
