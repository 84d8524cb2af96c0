"""Nobody left uninformed (issue 12; tutorial section 10): alarms e-mailed to the recipients, saved log queries.

The tutorial's only window on the system is reading log groups by hand. Here
every failure that has nobody waiting for its answer reaches a person:

- each function's ``Errors`` and ``Throttles``, the API stage's ``5XXError``;
- the depth of every dead-letter queue: the functions' failed asynchronous
  invocations (a scheduled backup that failed all of Lambda's retries), and
  what EventBridge Scheduler could not deliver;
- the backup function's own metrics (``lambdas/common/names.py``, written in
  CloudWatch embedded metric format): no successful backup in 26 hours (a day
  and the schedule's window and retries), a failed run, a summary e-mail that
  could not be sent (a scheduled backup nobody hears of is a failure too).

Each alarm notifies the topic when it fires and when it clears; the topic
e-mails every recipient (AWS first mails each a confirmation link). Three
CloudWatch Logs Insights queries are saved for what section 10 looks for in the
logs: saved students, completed backups, errors. They filter on the JSON fields
the handlers log (``lambdas/common/log.py``).

The topic is encrypted with a customer-managed KMS key, not the AWS-managed
``alias/aws/sns``: CloudWatch alarms cannot publish to a topic under that key
(its key policy, which nobody can edit, does not let ``cloudwatch.amazonaws.com``
use it), so every notification would fail silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from constructs import Construct

from engine.aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from engine.aws.cloudwatch_query_definition import CloudwatchQueryDefinition
from engine.aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from engine.aws.kms_alias import KmsAlias
from engine.aws.kms_key import KmsKey
from engine.aws.sns_topic import SnsTopic
from engine.aws.sns_topic_policy import SnsTopicPolicy
from engine.aws.sns_topic_subscription import SnsTopicSubscription
from lambdas.common import names
from modules.api.student_api import StudentApi
from modules.backup.schedule import BackupSchedule
from modules.functions.catalog import Access
from modules.functions.dead_letter_queue import DeadLetterQueue
from modules.functions.python_function import PythonFunction
from modules.monitoring.spec import (
    ANY_IN_FIVE_MINUTES,
    BACKUP_HOURS,
    COMPLETED_BACKUPS_QUERY,
    ERRORS_QUERY,
    FAILED_INVOCATIONS_QUEUE,
    NO_BACKUP_IN_26_HOURS,
    QUERY_FOLDER,
    QUERY_STRINGS,
    QUEUE_NOT_EMPTY,
    SAVED_STUDENTS_QUERY,
    TOPIC_KEY_ALIAS,
    TOPIC_NAME,
    AlarmRule,
)
from modules.shared import iam
from modules.shared.naming import qualified

CLOUDWATCH: Final = "cloudwatch.amazonaws.com"
#: What the account (its administrators, through their IAM policies) may do with the topic's key.
#: Listed rather than ``kms:*``: everything needed to manage, rotate and retire the key, and to
#: publish a test message to the topic (``GenerateDataKey``, ``Decrypt``).
KEY_ADMINISTRATION: Final = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GenerateDataKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)


class Monitoring(Construct):
    """The alarm topic (with its key, policy and e-mail subscriptions), the alarms, the saved queries.

    ``functions``: every function of the system (each gets its alarms; their
    log groups feed the saved queries, chosen by what each function may do).
    ``schedules``: their dead-letter queues are watched. ``api``: its stage's
    5xx answers are watched. Attributes: ``topic``, ``topic_key``,
    ``subscriptions``, ``failed_invocations`` (the functions' dead-letter
    queue: ``PythonFunction.use_dead_letter_queue`` attaches it), ``alarms``
    and ``queries`` (by construct id).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        recipients: Sequence[str],
        region: str,
        functions: Sequence[PythonFunction],
        schedules: Sequence[BackupSchedule],
        api: StudentApi,
    ) -> None:
        super().__init__(scope, id_)
        self._identity = iam.StackIdentity.of(self)
        self.failed_invocations = DeadLetterQueue(
            self, "failed-invocations", queue_name=qualified(self, FAILED_INVOCATIONS_QUEUE)
        )
        self.topic_key = self._topic_key()
        self.topic = SnsTopic(
            self,
            "topic",
            name=qualified(self, TOPIC_NAME),
            display_name="Student management alarms",
            kms_master_key_id=self.topic_key.arn,
        )
        self._topic_policy(region)
        # Construct IDs are the addresses: adding a recipient leaves the others' subscriptions alone.
        self.subscriptions = [
            SnsTopicSubscription(self, f"email-{address}", topic_arn=self.topic.arn, protocol="email", endpoint=address)
            for address in dict.fromkeys(recipients)
        ]
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        for function in functions:
            self._watch_function(function)
        self._watch_api(api)
        for queue in (self.failed_invocations, *(schedule.dead_letter_queue for schedule in schedules)):
            self._watch_queue(queue)
        if any(Access.WRITE_BACKUPS in function.spec.access for function in functions):
            self._watch_backups()
        self.queries = self._saved_queries(functions)

    # --- the topic ------------------------------------------------------------

    def _topic_key(self) -> KmsKey:
        """The topic's KMS key: the account manages it, CloudWatch alarms may encrypt with it.

        In a key policy ``Resource: "*"`` is the key itself. The CloudWatch
        statement carries no condition: who may publish is decided by the topic
        policy (this account's alarms only), and a data key alone opens nothing.
        """
        account_root = f"arn:{self._identity.partition}:iam::{self._identity.account_id}:root"
        policy = DataAwsIamPolicyDocument(
            self,
            "key-policy",
            statement=[
                iam.statement(
                    "AccountAdministersKey", KEY_ADMINISTRATION, ["*"], principal=iam.Principal("AWS", account_root)
                ),
                iam.statement(
                    "CloudWatchAlarmsUseKey",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    ["*"],
                    principal=iam.Principal.service(CLOUDWATCH),
                ),
            ],
        )
        key = KmsKey(
            self,
            "topic-key",
            description=f"Encrypts the SNS topic {qualified(self, TOPIC_NAME)}; CloudWatch alarms may publish with it.",
            enable_key_rotation=True,
            policy=policy.json,
        )
        KmsAlias(self, "topic-key-alias", name=qualified(self, TOPIC_KEY_ALIAS), target_key_id=key.key_id)
        return key

    def _topic_policy(self, region: str) -> None:
        """Only this account's CloudWatch alarms may publish, and nobody without TLS."""
        identity = self._identity
        alarms = f"arn:{identity.partition}:cloudwatch:{region}:{identity.account_id}:alarm:*"
        document = DataAwsIamPolicyDocument(
            self,
            "topic-policy-document",
            statement=[
                iam.statement(
                    "CloudWatchAlarmsPublish",
                    ["sns:Publish"],
                    [self.topic.arn],
                    principal=iam.Principal.service(CLOUDWATCH),
                    conditions=[
                        iam.Condition("ArnLike", "aws:SourceArn", alarms),
                        iam.Condition("StringEquals", "aws:SourceAccount", identity.account_id),
                    ],
                ),
                iam.statement(
                    "DenyInsecureTransport",
                    ["sns:Publish"],
                    [self.topic.arn],
                    effect="Deny",
                    principal=iam.Principal.anyone(),
                    conditions=[iam.Condition("Bool", "aws:SecureTransport", "false")],
                ),
            ],
        )
        SnsTopicPolicy(self, "topic-policy", arn=self.topic.arn, policy=document.json)

    # --- the alarms ---------------------------------------------------------------

    def _alarm(
        self,
        id_: str,
        *,
        name: str,
        description: str,
        namespace: str,
        metric: str,
        rule: AlarmRule,
        dimensions: Mapping[str, str] | None = None,
    ) -> None:
        """An alarm that notifies the topic when it fires and again when it clears."""
        self.alarms[id_] = CloudwatchMetricAlarm(
            self,
            id_,
            alarm_name=name,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dict(dimensions) if dimensions else None,
            statistic=rule.statistic,
            period=rule.period_seconds,
            evaluation_periods=rule.periods,
            datapoints_to_alarm=rule.periods,
            comparison_operator=rule.comparison,
            threshold=rule.threshold,
            treat_missing_data=rule.missing_data,
            actions_enabled=True,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
        )

    def _watch_function(self, function: PythonFunction) -> None:
        name = function.function_name
        dimensions = {"FunctionName": function.function.function_name}
        self._alarm(
            f"{function.spec.key}-errors",
            name=f"{name}-errors",
            description=(
                f"{name} failed (an unhandled error or a timeout) at least once in 5 minutes."
                f" Logs Insights, saved query '{self._query_name(ERRORS_QUERY)}', shows which and why."
            ),
            namespace="AWS/Lambda",
            metric="Errors",
            dimensions=dimensions,
            rule=ANY_IN_FIVE_MINUTES,
        )
        self._alarm(
            f"{function.spec.key}-throttles",
            name=f"{name}-throttles",
            description=(
                f"Lambda turned away an invocation of {name} for lack of concurrency at least once in 5 minutes:"
                " an API caller got an error, or an asynchronous invocation (a backup) waits to be retried."
            ),
            namespace="AWS/Lambda",
            metric="Throttles",
            dimensions=dimensions,
            rule=ANY_IN_FIVE_MINUTES,
        )

    def _watch_api(self, api: StudentApi) -> None:
        self._alarm(
            "api-5xx",
            name=f"{api.api.name}-{api.stage.stage_name}-5xx",
            description=(
                "The API answered 5xx at least once in 5 minutes: a function failed or timed out, or API Gateway"
                f" could not reach it. Logs Insights, saved query '{self._query_name(ERRORS_QUERY)}',"
                " shows the functions' errors."
            ),
            namespace="AWS/ApiGateway",
            metric="5XXError",
            dimensions={"ApiName": api.api.name, "Stage": api.stage.stage_name},
            rule=ANY_IN_FIVE_MINUTES,
        )

    def _watch_queue(self, queue: DeadLetterQueue) -> None:
        self._alarm(
            f"{queue.name}-depth",
            name=f"{queue.name}-not-empty",
            description=(
                f"The dead-letter queue {queue.name} holds an event that failed every retry: read it in the SQS"
                " console (Send and receive messages), fix the cause, then delete it. Kept 14 days."
            ),
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue.queue.name},
            rule=QUEUE_NOT_EMPTY,
        )

    def _watch_backups(self) -> None:
        """The backup function's own metrics: namespace and names from ``lambdas/common/names.py``."""
        self._alarm(
            "backup-missing",
            name=qualified(self, f"backup-missing-{BACKUP_HOURS}h"),
            description=(
                f"No backup succeeded in the last {BACKUP_HOURS} hours (the schedule runs daily at 00:00 UTC)."
                " Right after the first deploy it stays on until a first backup succeeds."
            ),
            namespace=qualified(self, names.METRIC_NAMESPACE, separator="/"),
            metric=names.METRIC_BACKUP_SUCCEEDED,
            rule=NO_BACKUP_IN_26_HOURS,
        )
        self._alarm(
            "backup-failed",
            name=qualified(self, "backup-failed"),
            description=(
                "A backup run failed: it wrote nothing (its objects were discarded)."
                f" Logs Insights, saved query '{self._query_name(ERRORS_QUERY)}', shows why."
            ),
            namespace=qualified(self, names.METRIC_NAMESPACE, separator="/"),
            metric=names.METRIC_BACKUP_FAILED,
            rule=ANY_IN_FIVE_MINUTES,
        )
        self._alarm(
            "backup-email-failed",
            name=qualified(self, "backup-email-failed"),
            description=(
                "A backup was written but its summary e-mail could not be sent: its recipients were not told."
                " SES may have refused the sender or a recipient (sandbox, unverified identity)."
            ),
            namespace=qualified(self, names.METRIC_NAMESPACE, separator="/"),
            metric=names.METRIC_BACKUP_EMAIL_FAILED,
            rule=ANY_IN_FIVE_MINUTES,
        )

    # --- saved queries ----------------------------------------------------------------

    def _query_name(self, name: str) -> str:
        """A saved query's name in the environment's folder (``StudentManagement-staging/Errors``)."""
        return qualified(self, QUERY_FOLDER) + name.removeprefix(QUERY_FOLDER)

    def _saved_queries(self, functions: Sequence[PythonFunction]) -> dict[str, CloudwatchQueryDefinition]:
        """Each query over the log groups of the functions that log what it looks for.

        The functions are chosen by what they may do (adding students, writing
        backups), never by name, so a function added to the table is searched.
        """
        sources = {
            "saved-students": (SAVED_STUDENTS_QUERY, [f for f in functions if Access.ADD_STUDENTS in f.spec.access]),
            "completed-backups": (
                COMPLETED_BACKUPS_QUERY,
                [f for f in functions if Access.WRITE_BACKUPS in f.spec.access],
            ),
            "errors": (ERRORS_QUERY, list(functions)),
        }
        return {
            id_: CloudwatchQueryDefinition(
                self,
                f"query-{id_}",
                name=self._query_name(name),
                query_string=QUERY_STRINGS[name],
                log_group_names=[function.log_group.name for function in searched],
            )
            for id_, (name, searched) in sources.items()
            if searched
        }
