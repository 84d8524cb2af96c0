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

The work itself is in the modules beside this one: ``upload.backup_table``
writes the run's objects to S3, all of them or none, from the rows
``writers`` makes; ``summary_mail`` words the e-mail, which is sent only when
the backup was written.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.backup import runs, summary_mail, upload
from lambdas.common import auth, aws, mail, metrics, names
from lambdas.common.config import BackupSettings
from lambdas.common.http import ProxyResponse, error_response, is_api_event, json_response, query_parameters
from lambdas.common.log import bind_request, get_logger

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
            result = upload.backup_table(
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
            subject=summary_mail.summary_subject(result),
            body=summary_mail.summary_text(result, region=aws.s3().meta.region_name, trigger=trigger),
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


def summarise(result: upload.BackupResult, outcome: mail.EmailOutcome) -> dict[str, Any]:
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
