"""Writing a run's backup to S3: its three objects, all of them or none (``backup_table``).

The table is streamed, never held: Scan pages (1 MB each at most) are turned
into text (``writers``) and written to S3 multipart uploads, one part
(``PART_SIZE``) buffered per object. Memory stays flat whatever the table's
size, and nothing touches /tmp. A run's objects, named by its run id (UTC start
time and random hex, ``runs.new_run_id``):

- ``backups/backup-<run id>.dynamodb.json``: every item as a DynamoDB JSON line
  (``{"Item": {...}}``), the format of DynamoDB's own export: numbers with all
  their digits, binary, sets, maps, lists, null and booleans exactly as stored,
  so ``make restore`` puts back the very items;
- ``backups/backup-<run id>.csv``: the student fields only, for people: one row
  per item, UTF-8 with a byte-order mark so spreadsheet programs read
  Vietnamese names correctly; RFC 4180 quoting, set members joined with ';',
  and a quote before anything a spreadsheet could run as a formula;
- ``backups/backup-<run id>.manifest.json``, written last: the run, the item
  count and each object's size, item count and SHA-256. A backup is complete
  when its manifest exists; ``make restore`` checks the counts and checksums
  before it writes anything.

All or nothing: if anything fails, the multipart uploads are aborted (no
partial object ever becomes visible) and objects already completed are deleted
again. The run id keeps every run's keys its own, so that deletion can never
hide another run's backup.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.backup import runs, scan, writers
from lambdas.common import encoding, names
from lambdas.common.log import get_logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

#: S3's minimum size of every part but the last. At 10,000 parts (S3's limit)
#: this allows objects of 48 GiB, far beyond what one Lambda run can scan.
PART_SIZE: Final = 5 * 1024 * 1024

#: Scan segments read in parallel. One: ``bench/backup.py`` measured the backup
#: at 1.24, 1.17 and 1.00 times a raw paginated scan of the same table with one
#: segment (10k, 100k, 300k students), within the 1.5 goal, at a peak of 94 MiB;
#: two or four segments were no faster against the emulator and peaked at 112
#: and 125 MiB (a malloc arena per thread), too near the function's 128 MB. At
#: 128 MB the function has 7 % of a vCPU, so its own work, not DynamoDB, sets the
#: pace there too (docs/BENCHMARKS.md).
SCAN_SEGMENTS: Final = 1

ITEMS_SUFFIX: Final = ".dynamodb.json"
CSV_SUFFIX: Final = ".csv"
MANIFEST_SUFFIX: Final = ".manifest.json"
#: What the manifest says the items object holds, as DynamoDB's export manifest does.
MANIFEST_FORMAT: Final = "DYNAMODB_JSON"
MANIFEST_VERSION: Final = 1

logger = get_logger(__name__)


@dataclass(frozen=True)
class BackupObject:
    key: str
    bytes: int
    sha256: str = ""
    items: int | None = None


@dataclass(frozen=True)
class BackupResult:
    table: str
    bucket: str
    items: int
    started: datetime
    objects: tuple[BackupObject, ...]
    run_id: str = ""

    def uri(self, obj: BackupObject) -> str:
        return f"s3://{self.bucket}/{obj.key}"


class MultipartUpload:
    """One S3 object written in parts, holding at most one part (plus one item) in memory.

    Nothing is visible in the bucket until ``complete``; ``abort`` discards the
    parts. Parts carry CRC32 checksums that S3 verifies on upload and combines
    into the object's checksum on completion; the SHA-256 of the whole object,
    for the manifest, is computed as it is written.
    """

    def __init__(self, client: S3Client, *, bucket: str, key: str, content_type: str, part_size: int) -> None:
        self._client = client
        self.bucket = bucket
        self.key = key
        self._content_type = content_type
        self._part_size = part_size
        self._buffer = io.BytesIO()
        self._parts: list[CompletedPartTypeDef] = []
        self._upload_id: str | None = None
        self._digest = hashlib.sha256()
        self.size = 0
        self.completed = False

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def start(self) -> None:
        response = self._client.create_multipart_upload(
            Bucket=self.bucket, Key=self.key, ContentType=self._content_type, ChecksumAlgorithm="CRC32"
        )
        self._upload_id = response["UploadId"]

    def write(self, data: bytes) -> None:
        self._buffer.write(data)
        self._digest.update(data)
        self.size += len(data)
        if self._buffer.tell() >= self._part_size:
            self._upload_part()

    def complete(self) -> None:
        # The last part may be smaller than the minimum; an upload needs at least one part.
        if self._buffer.tell() or not self._parts:
            self._upload_part()
        self._client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self._require_upload_id(), MultipartUpload={"Parts": self._parts}
        )
        self.completed = True

    def abort(self) -> None:
        """Discard the uploaded parts (nothing to do if the upload never started)."""
        if self._upload_id is not None and not self.completed:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            self._upload_id = None

    def _upload_part(self) -> None:
        number = len(self._parts) + 1
        self._buffer.seek(0)
        response = self._client.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._require_upload_id(),
            PartNumber=number,
            Body=self._buffer,
            ChecksumAlgorithm="CRC32",
        )
        part: CompletedPartTypeDef = {"PartNumber": number, "ETag": response["ETag"]}
        if "ChecksumCRC32" in response:
            part["ChecksumCRC32"] = response["ChecksumCRC32"]
        self._parts.append(part)
        # A fresh buffer rather than truncate(): the old one is released as a whole.
        self._buffer = io.BytesIO()

    def _require_upload_id(self) -> str:
        if self._upload_id is None:
            raise RuntimeError(f"multipart upload of {self.key} was not started")
        return self._upload_id


def backup_table(
    *,
    dynamodb: DynamoDBClient,
    s3: S3Client,
    table_name: str,
    bucket: str,
    started: datetime,
    run_id: str | None = None,
    part_size: int = PART_SIZE,
    segments: int = SCAN_SEGMENTS,
) -> BackupResult:
    """Write the whole table to ``bucket``: items, CSV, then the manifest; all of them or, on any error, none.

    The objects are named by ``backup_stem``; ``run_id`` defaults to a fresh one.
    """
    run_id = run_id or runs.new_run_id(started)
    stem = backup_stem(run_id)
    items_upload = MultipartUpload(
        s3, bucket=bucket, key=stem + ITEMS_SUFFIX, content_type=writers.ITEMS_CONTENT_TYPE, part_size=part_size
    )
    csv_upload = MultipartUpload(
        s3, bucket=bucket, key=stem + CSV_SUFFIX, content_type=writers.CSV_CONTENT_TYPE, part_size=part_size
    )
    uploads = (items_upload, csv_upload)
    manifest_key = stem + MANIFEST_SUFFIX
    written: list[BackupObject] = []
    try:
        for upload in uploads:
            upload.start()
        count = writers.write_backup(
            scan.scan_items(dynamodb, table_name, segments=segments),
            items_out=items_upload.write,
            csv_out=csv_upload.write,
        )
        for upload in uploads:
            upload.complete()
        data_objects = (
            BackupObject(key=items_upload.key, bytes=items_upload.size, sha256=items_upload.sha256, items=count),
            BackupObject(key=csv_upload.key, bytes=csv_upload.size, sha256=csv_upload.sha256, items=count),
        )
        document = manifest(
            run_id=run_id, table_name=table_name, started=started, items=count, objects=data_objects
        ).encode("utf-8")
        s3.put_object(
            Bucket=bucket,
            Key=manifest_key,
            Body=document,
            ContentType=encoding.JSON_CONTENT_TYPE,
            ChecksumAlgorithm="SHA256",
        )
        written = [
            *data_objects,
            BackupObject(key=manifest_key, bytes=len(document), sha256=hashlib.sha256(document).hexdigest()),
        ]
    finally:
        if not written:
            _discard(s3, uploads)
    return BackupResult(
        table=table_name, bucket=bucket, items=count, started=started, objects=tuple(written), run_id=run_id
    )


def manifest(*, run_id: str, table_name: str, started: datetime, items: int, objects: Sequence[BackupObject]) -> str:
    """The manifest of a run: what ``make restore`` checks before it writes (counts, sizes, SHA-256)."""
    document = {
        "format": MANIFEST_FORMAT,
        "formatVersion": MANIFEST_VERSION,
        "runId": run_id,
        "table": table_name,
        "startedAt": started.astimezone(UTC).isoformat(timespec="seconds"),
        "completedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "itemCount": items,
        "objects": [
            {
                "key": obj.key,
                "role": "items" if obj.key.endswith(ITEMS_SUFFIX) else "csv",
                "bytes": obj.bytes,
                "itemCount": obj.items,
                "sha256": obj.sha256,
            }
            for obj in objects
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def backup_stem(run_id: str) -> str:
    """The key of a run's objects without the suffix: under the backup prefix, in time order."""
    # The run id starts with the UTC start time, so keys sort by it, and its
    # random part keeps a run started in the same second as another from
    # ever writing over (or, cleaning up, deleting) that run's objects.
    return f"{names.BACKUP_PREFIX}backup-{run_id}"


def _discard(s3: S3Client, uploads: Iterable[MultipartUpload]) -> None:
    # Best effort: the original error is the one to raise. Parts of an upload
    # whose abort fails are removed by the bucket's abort-incomplete lifecycle rule.
    # Only this run's uploads come here, and their keys carry its run id: a
    # delete can only ever hide an object this run wrote.
    for upload in uploads:
        try:
            if upload.completed:
                # In the versioned bucket this leaves a delete marker over the
                # version, which the noncurrent-version lifecycle rule expires;
                # deleting the version itself would need s3:DeleteObjectVersion,
                # too strong a right for a function that writes backups.
                s3.delete_object(Bucket=upload.bucket, Key=upload.key)
            else:
                upload.abort()
        except (ClientError, BotoCoreError):
            logger.exception("could not discard a partial backup object", extra={"key": upload.key})
