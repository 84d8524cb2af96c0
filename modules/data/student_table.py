"""Tutorial section 2.4: the ``studentData`` DynamoDB table."""

from __future__ import annotations

from constructs import Construct

from engine.aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from engine.cdk import TerraformResourceLifecycle
from lambdas.common import names
from modules.shared import iam


class StudentTable(Construct):
    """On-demand table keyed by ``studentid``, protected against loss.

    Point-in-time recovery restores any second of the last 35 days; deletion
    protection makes AWS refuse DeleteTable; ``prevent_destroy`` makes Terraform
    refuse any plan that would delete the table (see docs/DEPLOYING.md for how to
    remove a test deployment). Functions get access through the ``grant_*``
    methods, each of which also tells the function the table's name.
    Attribute: ``table``.
    """

    def __init__(self, scope: Construct, id_: str, *, table_name: str) -> None:
        super().__init__(scope, id_)
        self.table = DynamodbTable(
            self,
            "table",
            name=table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=names.STUDENT_KEY,
            attribute=[DynamodbTableAttribute(name=names.STUDENT_KEY, type=names.STUDENT_KEY_TYPE)],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            # Encrypted with the AWS-managed key (aws/dynamodb) rather than the
            # default AWS-owned one, so key use shows in CloudTrail; a customer
            # managed key adds cost without a reader that needs it (CKV_AWS_119 in
            # security/checkov-skips.toml).
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True),
            deletion_protection_enabled=True,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )

    def grant_read(self, grantee: iam.Grantee) -> None:
        """Look up one student and list them all (GetItem, Scan)."""
        self._grant(grantee, "ReadStudents", ["dynamodb:GetItem", "dynamodb:Scan"])

    def grant_scan(self, grantee: iam.Grantee) -> None:
        """Stream every student (Scan), as the backup does."""
        self._grant(grantee, "ScanStudents", ["dynamodb:Scan"])

    def grant_add(self, grantee: iam.Grantee) -> None:
        """Add a student (PutItem; the handler's condition refuses to overwrite one)."""
        self._grant(grantee, "InsertStudent", ["dynamodb:PutItem"])

    def _grant(self, grantee: iam.Grantee, sid: str, actions: list[str]) -> None:
        grantee.add_to_policy(iam.statement(sid, actions, [self.table.arn]))
        grantee.add_environment(names.ENV_TABLE_NAME, self.table.name)
