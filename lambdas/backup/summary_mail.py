"""The summary e-mail of a written backup: its subject and plain-text body.

Only a backup that was written completely is summarised (``handler.perform``):
a failed run mails nobody.
"""

from __future__ import annotations

from datetime import UTC
from typing import Final
from urllib.parse import quote

from lambdas.backup import upload
from lambdas.common import names

#: How the summary e-mail names what started a run.
TRIGGER_WORDS: Final = {
    "api": "requested through the API",
    "schedule": "daily schedule",
    "make-destroy": "final backup before teardown",
}


def summary_subject(result: upload.BackupResult) -> str:
    return f"Student data backup: {result.items} items ({result.started:%Y-%m-%d %H:%M} UTC)"


def summary_text(result: upload.BackupResult, *, region: str, trigger: str) -> str:
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
        f"  make restore BACKUP={upload.backup_stem(result.run_id).removeprefix(names.BACKUP_PREFIX)}",
    ]
    return "\n".join(lines) + "\n"


def console_url(bucket: str, region: str) -> str:
    """The S3 console page of the backup prefix."""
    return (
        f"https://{region}.console.aws.amazon.com/s3/buckets/{quote(bucket)}"
        f"?region={region}&prefix={quote(names.BACKUP_PREFIX)}"
    )
