"""``BackupDynamoDBAndSendEmail``: copies the student table to S3 as JSON and CSV, then e-mails a summary.

Runs for POST /backup (answers with a proxy response) and for the daily
EventBridge Scheduler invocation (any other event: returns a summary dict, and
raises on failure so the schedule's retry policy sees it).

The table is streamed, never held: Scan pages (1 MB each at most) are turned
into JSON and CSV text and written to two S3 multipart uploads, one part
(``PART_SIZE``) buffered per object. Memory stays flat whatever the table's
size, and nothing touches /tmp. Objects, named by the UTC start time and a
run id of their own (``RUN_ID_BYTES`` random bytes as hex):

- ``backups/backup-YYYYMMDD-HHMMSS-<run id>.json``: a JSON array of every item
  with every attribute (numbers as numbers, sets as sorted lists, binary as
  base64);
- ``backups/backup-YYYYMMDD-HHMMSS-<run id>.csv``: the student fields only, one
  row per item, UTF-8 with a byte-order mark so spreadsheet programs read
  Vietnamese names correctly; RFC 4180 quoting, set members joined with ';',
  and a quote before anything a spreadsheet could run as a formula.

Both or neither: if anything fails, the multipart uploads are aborted (no
partial object ever becomes visible) and an object already completed is
deleted again, and no summary is mailed. The run id keeps every run's keys its
own, so that deletion can never hide another run's backup, even one started in
the same second.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.common import aws, encoding, mail, names
from lambdas.common.config import BackupSettings
from lambdas.common.http import ProxyResponse, error_response, is_api_event, json_response
from lambdas.common.log import bind_request, get_logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import ScanInputTypeDef
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

#: S3's minimum size of every part but the last. At 10,000 parts (S3's limit)
#: this allows objects of 48 GiB, far beyond what one Lambda run can scan.
PART_SIZE: Final = 5 * 1024 * 1024
#: The CSV starts with a UTF-8 byte-order mark: without it Excel reads the file
#: as the local code page and garbles every Vietnamese name.
CSV_BOM: Final = "\ufeff".encode()
CSV_CONTENT_TYPE: Final = "text/csv; charset=utf-8; header=present"
#: Random bytes in a run id: two runs in the same second share keys with a
#: chance of one in 2**32.
RUN_ID_BYTES: Final = 4

logger = get_logger(__name__)


@functools.cache
def settings() -> BackupSettings:
    return BackupSettings.from_env(os.environ)


class BackupError(RuntimeError):
    """The backup could not be written; its partial uploads were discarded."""


@dataclass(frozen=True)
class BackupObject:
    key: str
    bytes: int


@dataclass(frozen=True)
class BackupResult:
    table: str
    bucket: str
    items: int
    started: datetime
    objects: tuple[BackupObject, ...]

    def uri(self, obj: BackupObject) -> str:
        return f"s3://{self.bucket}/{obj.key}"


def lambda_handler(event: Any, context: object) -> ProxyResponse | dict[str, Any]:
    bind_request(context)
    config = settings()
    from_api = is_api_event(event)
    trigger = "api" if from_api else "schedule"
    try:
        result = backup_table(
            dynamodb=aws.dynamodb(),
            s3=aws.s3(),
            table_name=config.table_name,
            bucket=config.bucket,
            started=datetime.now(UTC),
        )
    except Exception as error:
        logger.exception("backup failed", extra={"trigger": trigger})
        if not from_api:
            raise BackupError(f"backup of table {config.table_name} failed; no backup was written") from error
        if isinstance(error, (ClientError, BotoCoreError)):
            return error_response(
                502, "backup failed: the database or the backup bucket refused a request", origin=config.allowed_origin
            )
        return error_response(500, "internal error", origin=config.allowed_origin)

    outcome = mail.send_text(
        aws.ses(),
        sender=config.sender_email,
        to=config.recipients,
        subject=summary_subject(result),
        body=summary_text(result, region=aws.s3().meta.region_name, trigger=trigger),
    )
    summary = summarise(result, outcome)
    logger.info(
        "backup written",
        extra={"trigger": trigger, "items": result.items, "objects": summary["objects"], "emailSent": outcome.sent},
    )
    return json_response(200, summary, origin=config.allowed_origin) if from_api else summary


def summarise(result: BackupResult, outcome: mail.EmailOutcome) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "items": result.items,
        "table": result.table,
        "bucket": result.bucket,
        "startedAt": result.started.isoformat(timespec="seconds"),
        "objects": [{"key": obj.key, "bytes": obj.bytes, "uri": result.uri(obj)} for obj in result.objects],
        "emailSent": outcome.sent,
    }
    if outcome.error:
        summary["emailError"] = outcome.error
    return summary


# --- Reading the table -------------------------------------------------------


def scan_items(client: DynamoDBClient, table_name: str) -> Iterator[dict[str, Any]]:
    """Every item of the table, one Scan page in memory at a time.

    A single Scan stops at 1 MB; following LastEvaluatedKey until it is absent
    is what makes the backup complete (the tutorial's code stopped at page one).
    """
    request: ScanInputTypeDef = {"TableName": table_name}
    while True:
        page = client.scan(**request)
        last_key = page.get("LastEvaluatedKey")
        for item in page.get("Items", []):
            yield encoding.from_dynamodb(item)
        # Released before the next call, so two pages are never held at once.
        del page
        if not last_key:
            return
        request["ExclusiveStartKey"] = last_key


# --- Turning items into JSON and CSV ------------------------------------------


def write_backup(
    items: Iterable[Mapping[str, Any]], *, json_out: Callable[[bytes], None], csv_out: Callable[[bytes], None]
) -> int:
    """Write ``items`` as a JSON array to ``json_out`` and as CSV rows to ``csv_out``; returns the count."""
    csv_line = _CsvLine()
    csv_out(CSV_BOM + csv_line(names.STUDENT_FIELDS))
    json_out(b"[")
    count = 0
    for item in items:
        # One item per line keeps the file greppable and diffable.
        separator = b",\n" if count else b"\n"
        json_out(separator + encoding.dumps(encoding.ordered_item(item)).encode("utf-8"))
        csv_out(csv_line([encoding.csv_cell(item.get(field)) for field in names.STUDENT_FIELDS]))
        count += 1
    json_out(b"\n]\n")
    return count


class _CsvLine:
    """Formats one CSV record at a time with the csv module's RFC 4180 quoting."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def __call__(self, cells: Sequence[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue().encode("utf-8")


# --- Writing to S3 -------------------------------------------------------------


class MultipartUpload:
    """One S3 object written in parts, holding at most one part (plus one item) in memory.

    Nothing is visible in the bucket until ``complete``; ``abort`` discards the
    parts. Parts carry CRC32 checksums that S3 verifies on upload and combines
    into the object's checksum on completion.
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
        self.size = 0
        self.completed = False

    def start(self) -> None:
        response = self._client.create_multipart_upload(
            Bucket=self.bucket, Key=self.key, ContentType=self._content_type, ChecksumAlgorithm="CRC32"
        )
        self._upload_id = response["UploadId"]

    def write(self, data: bytes) -> None:
        self._buffer.write(data)
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
) -> BackupResult:
    """Write the whole table to ``bucket`` as JSON and CSV; both objects or, on any error, neither.

    The objects are named by ``backup_stem``; ``run_id`` defaults to a fresh random one.
    """
    stem = backup_stem(started, run_id or secrets.token_hex(RUN_ID_BYTES))
    json_upload = MultipartUpload(
        s3, bucket=bucket, key=f"{stem}.json", content_type=encoding.JSON_CONTENT_TYPE, part_size=part_size
    )
    csv_upload = MultipartUpload(
        s3, bucket=bucket, key=f"{stem}.csv", content_type=CSV_CONTENT_TYPE, part_size=part_size
    )
    uploads = (json_upload, csv_upload)
    succeeded = False
    try:
        for upload in uploads:
            upload.start()
        count = write_backup(scan_items(dynamodb, table_name), json_out=json_upload.write, csv_out=csv_upload.write)
        for upload in uploads:
            upload.complete()
        succeeded = True
    finally:
        if not succeeded:
            _discard(s3, uploads)
    return BackupResult(
        table=table_name,
        bucket=bucket,
        items=count,
        started=started,
        objects=tuple(BackupObject(key=upload.key, bytes=upload.size) for upload in uploads),
    )


def backup_stem(started: datetime, run_id: str) -> str:
    """The key of a run's objects without the extension: under the backup prefix, in time order."""
    # The run id after the stamp: keys still sort by start time, and a run
    # started in the same second as another never writes over its objects.
    return f"{names.BACKUP_PREFIX}backup-{started.astimezone(UTC):%Y%m%d-%H%M%S}-{run_id}"


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


# --- The summary e-mail ---------------------------------------------------------


def summary_subject(result: BackupResult) -> str:
    return f"Student data backup: {result.items} items ({result.started:%Y-%m-%d %H:%M} UTC)"


def summary_text(result: BackupResult, *, region: str, trigger: str) -> str:
    """The e-mail body: what was written and where, without a download link.

    A presigned GET link would be signed with this function's session
    credentials, so it stops working when that session expires (at most about
    12 hours later), and it would need s3:GetObject on the bucket, which the
    backup role deliberately lacks (the tutorial's link failed for both
    reasons). Readers open the objects in the console with their own rights.
    """
    started = result.started.astimezone(UTC)
    cause = "requested through the API" if trigger == "api" else "daily schedule"
    lines = [
        f"The backup of table {result.table} finished ({cause}).",
        "",
        f"Started: {started:%Y-%m-%d %H:%M:%S} UTC",
        f"Items: {result.items}",
        "",
        "Objects:",
        *(f"  {result.uri(obj)}  ({obj.bytes:,} bytes)" for obj in result.objects),
        "",
        "Open them in the S3 console (sign-in required):",
        f"  {console_url(result.bucket, region)}",
        f"  (S3 > Buckets > {result.bucket} > {names.BACKUP_PREFIX})",
        "",
        "or copy them with the AWS CLI, e.g.:",
        f"  aws s3 cp {result.uri(result.objects[0])} .",
    ]
    return "\n".join(lines) + "\n"


def console_url(bucket: str, region: str) -> str:
    """The S3 console page of the backup prefix."""
    return (
        f"https://{region}.console.aws.amazon.com/s3/buckets/{quote(bucket)}"
        f"?region={region}&prefix={quote(names.BACKUP_PREFIX)}"
    )
