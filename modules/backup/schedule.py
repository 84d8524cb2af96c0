"""Tutorial section 8.2: ``DailyDynamoDBBackup``, the EventBridge Scheduler schedule.

EventBridge Scheduler invokes a Lambda target asynchronously: once Lambda has
accepted the event, a failing backup is retried by Lambda and then kept in the
function's own dead-letter queue (``PythonFunction.use_dead_letter_queue``).
What Scheduler itself could not deliver (the function missing, throttled past
the event's age, the role refused) goes to the schedule's dead-letter queue
here, instead of being dropped after the retries.
"""

from __future__ import annotations

import json

from constructs import Construct

from engine.aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from engine.aws.lambda_function import LambdaFunction
from engine.aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetDeadLetterConfig,
    SchedulerScheduleTargetRetryPolicy,
)
from modules.functions.dead_letter_queue import DeadLetterQueue
from modules.shared import iam
from modules.shared.naming import qualified

#: 00:00 UTC every day, as in the tutorial.
DAILY_AT_MIDNIGHT_UTC = "cron(0 0 * * ? *)"


def scheduler_role_name(schedule_name: str) -> str:
    """The role a schedule runs as (the delivery identity passes it to EventBridge Scheduler by this name)."""
    return f"{schedule_name}SchedulerRole"


def undelivered_queue_name(schedule_name: str) -> str:
    """The dead-letter queue of what a schedule could not deliver."""
    return f"{schedule_name}-undelivered"


class BackupSchedule(Construct):
    """Invokes the backup function daily, within a 5-minute window, retrying failures.

    The schedule runs as a role that may invoke only that function and send
    only to the schedule's dead-letter queue (``<schedule>-undelivered``), and
    only EventBridge Scheduler of this account may assume it. Attributes:
    ``schedule``, ``role``, ``dead_letter_queue``.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        schedule_name: str,
        function: LambdaFunction,
        flexible_window_minutes: int = 5,
        maximum_retry_attempts: int = 2,
    ) -> None:
        super().__init__(scope, id_)
        # Confused-deputy guard: only this account's schedules may assume the role.
        self.role = iam.service_role(
            self,
            service="scheduler.amazonaws.com",
            name=qualified(self, scheduler_role_name(schedule_name)),
            description=(
                f"Lets EventBridge Scheduler's {schedule_name} invoke the backup function"
                " and keep what it could not deliver, nothing else."
            ),
            source_account=iam.StackIdentity.of(self).account_id,
        )
        self._statements = [iam.statement("InvokeBackupFunction", ["lambda:InvokeFunction"], [function.arn])]
        self._policy_document, _ = iam.inline_policy(
            self, role=self.role, name=f"{schedule_name}-invoke", statements=self._statements
        )
        self.dead_letter_queue = DeadLetterQueue(
            self, "undelivered", queue_name=qualified(self, undelivered_queue_name(schedule_name))
        )
        self.dead_letter_queue.grant_send(self)
        self.schedule = SchedulerSchedule(
            self,
            "schedule",
            name=qualified(self, schedule_name),
            description="Daily backup of the student table to S3, with an e-mailed summary.",
            schedule_expression=DAILY_AT_MIDNIGHT_UTC,
            schedule_expression_timezone="UTC",
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(
                mode="FLEXIBLE", maximum_window_in_minutes=flexible_window_minutes
            ),
            target=SchedulerScheduleTarget(
                arn=function.arn,
                role_arn=self.role.arn,
                input=json.dumps({"source": "scheduler", "schedule": schedule_name}),
                retry_policy=SchedulerScheduleTargetRetryPolicy(
                    maximum_retry_attempts=maximum_retry_attempts, maximum_event_age_in_seconds=3600
                ),
                dead_letter_config=SchedulerScheduleTargetDeadLetterConfig(arn=self.dead_letter_queue.queue.arn),
            ),
        )

    def add_to_policy(self, statement: DataAwsIamPolicyDocumentStatement) -> None:
        """Allows the schedule's role what ``statement`` allows (through its inline policy)."""
        self._statements.append(statement)
        self._policy_document.put_statement(self._statements)
