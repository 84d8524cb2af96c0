"""``BackupDynamoDBAndSendEmail``: copies the student table to S3, restorably, then e-mails a summary.

Three ways in, one run (``perform``):

Both API routes answer only staff in the ``admin`` group (the Cognito
authorizer's ``cognito:groups`` claim, ``lambdas/common/auth.py``); anyone else
signed in gets 403 and nothing runs.

- ``POST /backup`` starts a run and answers 202 with its id at once: it takes
  the run lease (``runs.RunStore``; 409 if a run holds it) and invokes this
  function again asynchronously with ``{"backupRun": <id>}``. The backup
  itself never races API Gateway's 29 s limit.
- ``GET /backup?runId=<id>`` answers that run's record (running, done with
  counts and objects, failed with why); ``GET /backup`` the latest runs.
- Any other event (the daily EventBridge Scheduler invocation, ``make
  destroy``'s final backup) runs the backup inline and returns its summary; it
  raises on failure, so the schedule's retries and dead-letter queue see it.
  While another run holds the lease the scheduled run is skipped (the running
  one writes the backup) and says so.

Every run writes ``names.METRIC_BACKUP_SUCCEEDED`` or ``METRIC_BACKUP_FAILED``,
and ``METRIC_BACKUP_EMAIL_FAILED`` when its summary could not be mailed: the
alarms watch them (``lambdas/common/metrics.py``).

The table is streamed, never held: Scan pages (1 MB each at most) are turned
into text and written to S3 multipart uploads, one part (``PART_SIZE``)
buffered per object. Memory stays flat whatever the table's size, and nothing
touches /tmp. A run's objects, named by its run id (UTC start time and random
hex, ``runs.new_run_id``):

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
partial object ever becomes visible), objects already completed are deleted
again, and no summary is mailed. The run id keeps every run's keys its own,
so that deletion can never hide another run's backup.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.backup import runs, scan
from lambdas.common import auth, aws, dynamodb_json, encoding, mail, metrics, names
from lambdas.common.config import BackupSettings
from lambdas.common.http import ProxyResponse, error_response, is_api_event, json_response, query_parameters
from lambdas.common.log import bind_request, get_logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

#: S3's minimum size of every part but the last. At 10,000 parts (S3's limit)
#: this allows objects of 48 GiB, far beyond what one Lambda run can scan.
PART_SIZE: Final = 5 * 1024 * 1024
#: The CSV starts with a UTF-8 byte-order mark: without it Excel reads the file
#: as the local code page and garbles every Vietnamese name.
CSV_BOM: Final = "\ufeff".encode()
CSV_CONTENT_TYPE: Final = "text/csv; charset=utf-8; header=present"
#: One JSON document per line (``dynamodb_json.item_line``).
ITEMS_CONTENT_TYPE: Final = "application/x-ndjson; charset=utf-8"
ITEMS_SUFFIX: Final = ".dynamodb.json"
CSV_SUFFIX: Final = ".csv"
MANIFEST_SUFFIX: Final = ".manifest.json"
#: What the manifest says the items object holds, as DynamoDB's export manifest does.
MANIFEST_FORMAT: Final = "DYNAMODB_JSON"
MANIFEST_VERSION: Final = 1
#: How the summary e-mail names what started a run.
TRIGGER_WORDS: Final = {
    "api": "requested through the API",
    "schedule": "daily schedule",
    "make-destroy": "final backup before teardown",
}
#: Lambda's longest timeout.
LAMBDA_MAX_TIMEOUT_S: Final = 900.0
#: The event of the asynchronous run that ``POST /backup`` starts.
RUN_EVENT_KEY: Final = "backupRun"
RUN_ID: Final = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{8}", re.ASCII)
#: Why a run failed, in words fit for a user (no AWS error text, which can carry ARNs).
STORAGE_FAILED: Final = "the database or the backup bucket refused a request; no backup was written"
INTERNAL_FAILED: Final = "internal error; no backup was written"
#: The answer to a signed-in caller outside the admin group.
ADMIN_ONLY: Final = "only staff in the admin group may run or read backups"

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


def lambda_handler(event: Any, context: Any) -> ProxyResponse | dict[str, Any]:
    bind_request(context)
    config = settings()
    if is_api_event(event) and not auth.in_group(event, names.ADMIN_GROUP):
        # The sub (Cognito's opaque user id), not the e-mail: no personal data in logs.
        logger.warning("backup refused: caller not in the admin group", extra={"caller": auth.claims(event).get("sub")})
        return error_response(403, ADMIN_ONLY, origin=config.allowed_origin)
    store = runs.RunStore(aws.dynamodb(), config.runs_table_name, lease_seconds=_timeout_s(context))
    if is_api_event(event):
        if event.get("httpMethod") == "GET":
            return run_status(event, store, origin=config.allowed_origin)
        return start_run(store, function_arn=context.invoked_function_arn, origin=config.allowed_origin)
    if isinstance(event, Mapping) and RUN_EVENT_KEY in event:
        return continue_run(event[RUN_EVENT_KEY], store, config)
    return scheduled_run(store, config, trigger=_trigger(event))


# --- The three ways in -----------------------------------------------------------


def start_run(store: runs.RunStore, *, function_arn: str, origin: str) -> ProxyResponse:
    """``POST /backup``: take the lease, hand the run to an asynchronous invocation, answer 202."""
    started = datetime.now(UTC)
    run_id = runs.new_run_id(started)
    try:
        busy = store.start(run_id, trigger="api", started=started)
    except (ClientError, BotoCoreError):
        logger.exception("could not record a backup run")
        return error_response(502, "the backup could not be started: the database refused a request", origin=origin)
    if busy:
        body = {"message": "a backup is already running; wait for it to finish", "runId": busy.run_id}
        return json_response(409, body, origin=origin)
    try:
        aws.lambda_().invoke(
            FunctionName=function_arn, InvocationType="Event", Payload=json.dumps({RUN_EVENT_KEY: run_id}).encode()
        )
    except (ClientError, BotoCoreError):
        logger.exception("could not start the backup run", extra={"runId": run_id})
        store.finish(run_id, state=runs.FAILED, finished=datetime.now(UTC), fields={"error": {"S": "could not start"}})
        store.release(run_id)
        return error_response(502, "the backup could not be started: Lambda refused the invocation", origin=origin)
    logger.info("backup run started", extra={"runId": run_id, "trigger": "api"})
    return json_response(
        202,
        {"runId": run_id, "state": runs.RUNNING, "startedAt": started.isoformat(timespec="seconds")},
        origin=origin,
    )


def run_status(event: Mapping[str, Any], store: runs.RunStore, *, origin: str) -> ProxyResponse:
    """``GET /backup[?runId=<id>]``: one run's record, or the latest runs."""
    parameters = query_parameters(event)
    unknown = sorted(set(parameters) - {"runId"})
    if unknown:
        return error_response(400, "unknown query parameter", origin=origin, errors={"query": "only runId is accepted"})
    now = datetime.now(UTC)
    run_id = parameters.get("runId")
    if run_id is None:
        return json_response(
            200, {"runs": [runs.describe(record, now=now) for record in store.recent()]}, origin=origin
        )
    if RUN_ID.fullmatch(run_id) is None:
        return error_response(
            400, "invalid runId", origin=origin, errors={"runId": "expected YYYYMMDD-HHMMSS-xxxxxxxx"}
        )
    record = store.get(run_id)
    if record is None:
        return error_response(404, "no such backup run", origin=origin)
    return json_response(200, runs.describe(record, now=now), origin=origin)


def continue_run(run_id: object, store: runs.RunStore, config: BackupSettings) -> dict[str, Any]:
    """The asynchronous invocation ``start_run`` made: run the backup it recorded, once.

    Lambda may deliver an asynchronous event more than once (and retries one
    that failed): a run that no longer holds the lease, or has ended, is not
    run again.
    """
    if not isinstance(run_id, str) or RUN_ID.fullmatch(run_id) is None:
        logger.error("not a backup run id; ignored")
        return {"skipped": True}
    record = store.get(run_id)
    if record is None or not store.renew(run_id, now=datetime.now(UTC)):
        logger.warning("backup run already ended or not leased; not run again", extra={"runId": run_id})
        return {"runId": run_id, "skipped": True}
    started = datetime.fromisoformat(record["startedAt"]["S"])
    summary = perform(store, config, run_id=run_id, started=started, trigger="api")
    return summary


def scheduled_run(store: runs.RunStore, config: BackupSettings, *, trigger: str) -> dict[str, Any]:
    """The schedule (or ``make destroy``): run inline, return the summary, raise on failure."""
    started = datetime.now(UTC)
    run_id = runs.new_run_id(started)
    busy = store.start(run_id, trigger=trigger, started=started)
    if busy:
        logger.warning("a backup is already running; this run is skipped", extra={"runningRunId": busy.run_id})
        return {"skipped": True, "runningRunId": busy.run_id}
    summary = perform(store, config, run_id=run_id, started=started, trigger=trigger)
    if summary["state"] == runs.FAILED:
        raise BackupError(f"backup of table {config.table_name} failed; no backup was written")
    return summary


def perform(
    store: runs.RunStore, config: BackupSettings, *, run_id: str, started: datetime, trigger: str
) -> dict[str, Any]:
    """Write the backup of a leased run, mail its summary, record the outcome, give the lease back."""
    try:
        try:
            result = backup_table(
                dynamodb=aws.dynamodb(),
                s3=aws.s3(),
                table_name=config.table_name,
                bucket=config.bucket,
                started=started,
                run_id=run_id,
            )
        except Exception as error:
            logger.exception("backup failed", extra={"trigger": trigger, "runId": run_id})
            metrics.emit(names.METRIC_BACKUP_FAILED)
            reason = STORAGE_FAILED if isinstance(error, (ClientError, BotoCoreError)) else INTERNAL_FAILED
            store.finish(run_id, state=runs.FAILED, finished=datetime.now(UTC), fields={"error": {"S": reason}})
            return {"runId": run_id, "state": runs.FAILED, "error": reason}
        outcome = mail.send_text(
            aws.ses(),
            sender=config.sender_email,
            to=config.recipients,
            subject=summary_subject(result),
            body=summary_text(result, region=aws.s3().meta.region_name, trigger=trigger),
        )
        metrics.emit(names.METRIC_BACKUP_SUCCEEDED)
        if not outcome.sent:
            metrics.emit(names.METRIC_BACKUP_EMAIL_FAILED)
        summary = summarise(result, outcome)
        store.finish(run_id, state=runs.DONE, finished=datetime.now(UTC), fields=_record_fields(summary))
        logger.info(
            "backup written",
            extra={"trigger": trigger, "runId": run_id, "items": result.items, "emailSent": outcome.sent},
        )
        return {"state": runs.DONE, **summary}
    finally:
        store.release(run_id)


def summarise(result: BackupResult, outcome: mail.EmailOutcome) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "runId": result.run_id,
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


def _record_fields(summary: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "items": {"N": str(summary["items"])},
        "objects": {
            "L": [
                {"M": {"key": {"S": obj["key"]}, "bytes": {"N": str(obj["bytes"])}, "uri": {"S": obj["uri"]}}}
                for obj in summary["objects"]
            ]
        },
        "emailSent": {"BOOL": summary["emailSent"]},
    }
    if "emailError" in summary:
        fields["emailError"] = {"S": summary["emailError"]}
    return fields


def _timeout_s(context: Any) -> float:
    """How long a run of this function can last: the lease must outlive it.

    At the start of an invocation the time left is the function's timeout, the
    same for the asynchronous run ``POST /backup`` starts; without a context
    (a test calling the handler bare) Lambda's 15-minute maximum.
    """
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else LAMBDA_MAX_TIMEOUT_S


def _trigger(event: object) -> str:
    if isinstance(event, Mapping) and event.get("source") == "make-destroy":
        return "make-destroy"
    return "schedule"


# --- Reading the table -------------------------------------------------------

#: Scan segments read in parallel. One: ``bench/backup.py`` measured the backup
#: at 1.24, 1.17 and 1.00 times a raw paginated scan of the same table with one
#: segment (10k, 100k, 300k students), within the 1.5 goal, at a peak of 94 MiB;
#: two or four segments were no faster against the emulator and peaked at 112
#: and 125 MiB (a malloc arena per thread), too near the function's 128 MB. At
#: 128 MB the function has 7 % of a vCPU, so its own work, not DynamoDB, sets the
#: pace there too (docs/BENCHMARKS.md).
SCAN_SEGMENTS: Final = 1


# --- Turning items into DynamoDB JSON and CSV -----------------------------------


def write_backup(
    items: Iterable[Mapping[str, Any]], *, items_out: Callable[[bytes], None], csv_out: Callable[[bytes], None]
) -> int:
    """Write low-level ``items`` as DynamoDB JSON lines to ``items_out`` and CSV rows to ``csv_out``.

    Returns how many items were written.
    """
    csv_line = _CsvLine()
    csv_out(CSV_BOM + csv_line(names.STUDENT_FIELDS))
    count = 0
    for item in items:
        items_out(dynamodb_json.item_line(item))
        plain = encoding.from_dynamodb(item)
        csv_out(csv_line([encoding.csv_cell(plain.get(field)) for field in names.STUDENT_FIELDS]))
        count += 1
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
        s3, bucket=bucket, key=stem + ITEMS_SUFFIX, content_type=ITEMS_CONTENT_TYPE, part_size=part_size
    )
    csv_upload = MultipartUpload(
        s3, bucket=bucket, key=stem + CSV_SUFFIX, content_type=CSV_CONTENT_TYPE, part_size=part_size
    )
    uploads = (items_upload, csv_upload)
    manifest_key = stem + MANIFEST_SUFFIX
    written: list[BackupObject] = []
    try:
        for upload in uploads:
            upload.start()
        count = write_backup(
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
    cause = TRIGGER_WORDS.get(trigger, trigger)
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
        "",
        "Restore it into a table (the project's restore command):",
        f"  make restore BACKUP={backup_stem(result.run_id).removeprefix(names.BACKUP_PREFIX)}",
    ]
    return "\n".join(lines) + "\n"


def console_url(bucket: str, region: str) -> str:
    """The S3 console page of the backup prefix."""
    return (
        f"https://{region}.console.aws.amazon.com/s3/buckets/{quote(bucket)}"
        f"?region={region}&prefix={quote(names.BACKUP_PREFIX)}"
    )
