"""The ``studentBackupRuns`` table: each backup run's state, and the lease that keeps two from racing.

Not in the tutorial, which ran the backup inside the API call: here
``POST /backup`` answers 202 with a run id and the run goes on in an
asynchronous invocation, so its state has to live somewhere the page can ask
(``GET /backup?runId=...``). The function's side is ``lambdas/backup/runs.py``.
"""

from __future__ import annotations

from constructs import Construct

from engine.aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from lambdas.backup import runs
from lambdas.common import names
from modules.shared import iam


class BackupRuns(Construct):
    """On-demand table keyed by ``runId``; records expire through TTL after ``runs.RUN_RETENTION_DAYS``.

    Operational records, not student data: no deletion protection, so a
    teardown removes it with the rest, but point-in-time recovery and the
    AWS-managed key like the student table. Attribute: ``table``.
    """

    def __init__(self, scope: Construct, id_: str, *, table_name: str) -> None:
        super().__init__(scope, id_)
        self.table = DynamodbTable(
            self,
            "table",
            name=table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=runs.KEY,
            attribute=[DynamodbTableAttribute(name=runs.KEY, type="S")],
            ttl=DynamodbTableTtl(attribute_name=runs.TTL_ATTRIBUTE, enabled=True),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True),
        )

    def grant_track(self, grantee: iam.Grantee) -> None:
        """Record runs and hold the lease: conditional puts and updates, reads, the lease's delete, the list."""
        grantee.add_to_policy(
            iam.statement(
                "TrackBackupRuns",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
                [self.table.arn],
            )
        )
        grantee.add_environment(names.ENV_RUNS_TABLE_NAME, self.table.name)
