"""What the system watches and searches (issue 12), declared once: names, saved queries, alarm rules.

``modules/monitoring/alarms.py`` builds the topic, queues, alarms and saved queries
from these; the tests and the emulator's read-back use the same names. Like
``modules/functions/catalog.py``, this module imports only the standard library, so
tests read it without loading the provider bindings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: The SNS topic every alarm notifies; it e-mails the recipients.
TOPIC_NAME: Final = "student-management-alarms"
TOPIC_KEY_ALIAS: Final = f"alias/{TOPIC_NAME}"
#: The functions' dead-letter queue: asynchronous invocations that failed every retry.
FAILED_INVOCATIONS_QUEUE: Final = "student-management-failed-invocations"

# --- saved queries ------------------------------------------------------------

#: Saved queries appear in Logs Insights in this folder.
QUERY_FOLDER: Final = "StudentManagement"
SAVED_STUDENTS_QUERY: Final = f"{QUERY_FOLDER}/Saved students"
COMPLETED_BACKUPS_QUERY: Final = f"{QUERY_FOLDER}/Completed backups"
ERRORS_QUERY: Final = f"{QUERY_FOLDER}/Errors"
#: The messages the handlers log (lambdas/insert_student, lambdas/backup); tests/modules/test_monitoring.py
#: checks each still appears in the code of the functions whose log groups its query reads.
STUDENT_SAVED_MESSAGE: Final = "student saved"
BACKUP_WRITTEN_MESSAGE: Final = "backup written"
QUERY_STRINGS: Final = {
    SAVED_STUDENTS_QUERY: "\n".join(
        (
            "fields @timestamp, studentid, requestId",
            f'| filter message = "{STUDENT_SAVED_MESSAGE}"',
            "| sort @timestamp desc",
            "| limit 200",
        )
    ),
    COMPLETED_BACKUPS_QUERY: "\n".join(
        (
            "fields @timestamp, runId, trigger, items, emailSent, requestId",
            f'| filter message = "{BACKUP_WRITTEN_MESSAGE}"',
            "| sort @timestamp desc",
            "| limit 100",
        )
    ),
    # The handlers' own records (level ERROR, with the exception), and what the
    # runtime writes as plain text: an unhandled error ("[ERROR] ...") or a timeout.
    ERRORS_QUERY: "\n".join(
        (
            "fields @timestamp, @log, level, message, requestId, @message",
            '| filter level = "ERROR" or level = "CRITICAL"'
            " or @message like /Task timed out/ or @message like /^\\[ERROR\\]/",
            "| sort @timestamp desc",
            "| limit 200",
        )
    ),
}

# --- alarm rules ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AlarmRule:
    """When an alarm fires: ``statistic`` of each period against ``threshold``, ``periods`` periods in a row."""

    statistic: str = "Sum"
    comparison: str = "GreaterThanOrEqualToThreshold"
    threshold: float = 1
    period_seconds: int = 300
    periods: int = 1
    #: ``notBreaching``: no data point means nothing happened (no error, no message).
    missing_data: str = "notBreaching"


#: At least one occurrence in five minutes.
ANY_IN_FIVE_MINUTES: Final = AlarmRule()
#: A queue holding at least one message.
QUEUE_NOT_EMPTY: Final = AlarmRule(statistic="Maximum")
#: Fewer than one success in every hour of the last 26: no data is no backup.
BACKUP_HOURS: Final = 26
NO_BACKUP_IN_26_HOURS: Final = AlarmRule(
    comparison="LessThanThreshold", period_seconds=3600, periods=BACKUP_HOURS, missing_data="breaching"
)
