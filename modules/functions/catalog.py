"""The system's Lambda functions, declared once.

Each row says what a function is (name, handler package, sizes, timeout), what
it may do (``Access``, granted by the construct that owns the resource) and
what invokes it (API routes, a schedule). The application stack
(``modules/stacks/student_management.py``) builds every function, role, log
group, grant, route and schedule from this table; the tests and scripts read
names from it. Adding a function means one row here and its
package under ``lambdas/``.

This module imports only the standard library and ``modules/api/routes.py``,
so tests and scripts read it without loading the provider bindings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NewType

from modules.api.routes import Route

#: How tests, scripts and the API's fingerprint refer to a function; also the
#: prefix of its construct IDs (``read-function``, ``read-role``). A NewType, not
#: an enum, so a test can declare a table with a function of its own.
FunctionKey = NewType("FunctionKey", str)
READ: Final = FunctionKey("read")
INSERT: Final = FunctionKey("insert")
BACKUP: Final = FunctionKey("backup")


class Access(StrEnum):
    """What a function may do. Each grant adds the IAM statement and the environment variables it needs."""

    #: ``StudentTable.grant_read``: GetItem and Scan on the table.
    READ_STUDENTS = "read-students"
    #: ``StudentTable.grant_scan``: Scan only (the backup streams the table).
    SCAN_STUDENTS = "scan-students"
    #: ``StudentTable.grant_add``: PutItem.
    ADD_STUDENTS = "add-students"
    #: ``BackupStorage.grant_write``: write and clean up objects under ``backups/``.
    WRITE_BACKUPS = "write-backups"
    #: ``EmailIdentities.grant_send_to_anyone``: from the sender to any identity of the account.
    MAIL_STUDENTS = "mail-students"
    #: ``EmailIdentities.grant_send_to_recipients``: from the sender to the configured recipients.
    MAIL_RECIPIENTS = "mail-recipients"
    #: ``BackupRuns.grant_track``: record backup runs and hold the lease that keeps two from racing.
    TRACK_BACKUP_RUNS = "track-backup-runs"
    #: ``PythonFunction.grant_invoke_itself``: invoke itself asynchronously (``lambda:InvokeFunction`` on its own
    #: ARN): ``POST /backup`` starts a run.
    INVOKE_ITSELF = "invoke-itself"


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    """One Lambda function of the system and everything that is decided about it."""

    key: FunctionKey
    name: str  #: the function's name in AWS (the tutorial's)
    package: str  #: its handler package under ``lambdas/``
    description: str
    role_name: str  #: the tutorial's role name
    role_description: str
    timeout_seconds: int
    memory_mb: int = 128
    ephemeral_storage_mb: int = 512
    reserved_concurrency: int | None = None
    access: tuple[Access, ...] = ()
    routes: tuple[Route, ...] = ()  #: API methods proxied to it
    schedule: str | None = None  #: the EventBridge Scheduler schedule that invokes it daily

    @property
    def construct_id(self) -> str:
        return f"{self.key}-function"

    @property
    def role_construct_id(self) -> str:
        return f"{self.key}-role"

    @property
    def schedule_construct_id(self) -> str:
        return f"daily-{self.key}"

    @property
    def handler(self) -> str:
        return f"lambdas.{self.package}.handler.lambda_handler"

    @property
    def policy_name(self) -> str:
        return f"{self.name}-permissions"


#: Timeouts differ from the tutorial's 30/30/60 s on purpose (docs/TUTORIAL.md):
#: the API functions stay well inside API Gateway's 29 s, and the backup streams
#: a table of any size within Lambda's 15-minute maximum.
FUNCTIONS: Final[tuple[FunctionSpec, ...]] = (
    FunctionSpec(
        key=READ,
        name="getStudentData",
        package="get_students",
        description="GET /students: lists students page by page, or returns one by studentid.",
        role_name="LambdaGetStudentRole",
        role_description="Runs getStudentData: reads studentData.",
        timeout_seconds=10,
        access=(Access.READ_STUDENTS,),
        routes=(Route("/students", "GET", query_parameters=("limit", "nextToken", "studentid")),),
    ),
    FunctionSpec(
        key=INSERT,
        name="insertStudentData",
        package="insert_student",
        description="POST /students: validates and saves a student, e-mails a confirmation.",
        role_name="LambdaInsertStudentRole",
        role_description="Runs insertStudentData: adds a student, e-mails a confirmation.",
        timeout_seconds=15,
        access=(Access.ADD_STUDENTS, Access.MAIL_STUDENTS),
        routes=(Route("/students", "POST", body_model=True),),
    ),
    FunctionSpec(
        key=BACKUP,
        name="BackupDynamoDBAndSendEmail",
        package="backup",
        description="POST /backup (async, 202), GET /backup and daily: streams studentData to S3, e-mails a summary.",
        role_name="DynamoDBBackupRole",
        role_description="Runs BackupDynamoDBAndSendEmail: reads studentData, writes backups, e-mails a notice.",
        # The tutorial's sizes: streaming keeps memory flat whatever the table size.
        timeout_seconds=900,
        # No reserved concurrency: the runs table's lease keeps two backups
        # from racing, and a reservation of 1 would throttle GET /backup (the
        # page's polling) for as long as a run lasts.
        access=(
            Access.SCAN_STUDENTS,
            Access.WRITE_BACKUPS,
            Access.MAIL_RECIPIENTS,
            Access.TRACK_BACKUP_RUNS,
            Access.INVOKE_ITSELF,
        ),
        routes=(Route("/backup", "POST"), Route("/backup", "GET", query_parameters=("runId",))),
        schedule="DailyDynamoDBBackup",
    ),
)


def spec(key: FunctionKey, table: Sequence[FunctionSpec] = FUNCTIONS) -> FunctionSpec:
    """The row of ``key``."""
    for row in table:
        if row.key == key:
            return row
    raise KeyError(key)


def routes(table: Sequence[FunctionSpec] = FUNCTIONS) -> tuple[tuple[FunctionKey, Route], ...]:
    """Every API route with the key of the function it invokes, in table order."""
    return tuple((row.key, route) for row in table for route in row.routes)
