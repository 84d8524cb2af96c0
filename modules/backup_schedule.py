"""Tutorial section 8.2: ``DailyDynamoDBBackup``, the EventBridge Scheduler schedule."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetRetryPolicy,
)
from constructs import Construct

from modules import iam

#: 00:00 UTC every day, as in the tutorial.
DAILY_AT_MIDNIGHT_UTC = "cron(0 0 * * ? *)"


class BackupSchedule(Construct):
    """Invokes the backup function daily, within a 5-minute window, retrying failures.

    The schedule runs as a role that may invoke only that function, and only
    EventBridge Scheduler of this account may assume it. Attributes:
    ``schedule``, ``role``.
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
            name=f"{schedule_name}SchedulerRole",
            description=f"Lets EventBridge Scheduler's {schedule_name} invoke the backup function, nothing else.",
            source_account=iam.StackIdentity.of(self).account_id,
        )
        iam.inline_policy(
            self,
            role=self.role,
            name=f"{schedule_name}-invoke",
            statements=[iam.statement("InvokeBackupFunction", ["lambda:InvokeFunction"], [function.arn])],
        )
        self.schedule = SchedulerSchedule(
            self,
            "schedule",
            name=schedule_name,
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
            ),
        )
