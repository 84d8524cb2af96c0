"""Dead-letter queues: where an event goes when it could not be delivered or handled.

Without one, a failure with nobody waiting for the answer is dropped: Lambda
retries a failed asynchronous invocation twice and then discards it (the
schedule invokes the backup function asynchronously, and so will ``POST
/backup``), and EventBridge Scheduler discards an invocation it could not
deliver once its retries are spent. A dead-letter queue keeps each such event
(its payload, and why it failed in the message attributes) for someone to
read; the alarms of ``modules/monitoring/alarms.py`` tell them it is there.
"""

from __future__ import annotations

from typing import Final, Protocol

from constructs import Construct

from engine.aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from engine.aws.sqs_queue import SqsQueue
from modules.shared import iam

#: SQS's longest retention, 14 days: a failure on a Friday night is still there after a long weekend.
RETENTION_SECONDS: Final = 14 * 24 * 60 * 60
#: The statement that lets a sender (a function's or a schedule's role) put failed events into its queue.
SEND_SID: Final = "SendToDeadLetterQueue"


class Sender(Protocol):
    """Whatever sends to the queue as its role: a function (Lambda, for failed
    asynchronous invocations) or a schedule (EventBridge Scheduler)."""

    def add_to_policy(self, statement: DataAwsIamPolicyDocumentStatement) -> None: ...


class DeadLetterQueue(Construct):
    """An SQS queue, encrypted at rest with SQS-managed keys, that keeps what it receives for 14 days.

    SSE-SQS rather than a KMS key: Lambda and EventBridge Scheduler send to it
    with their roles' ``sqs:SendMessage`` alone, and no key policy is needed.
    Attributes: ``queue``, ``name`` (the literal queue name).
    """

    def __init__(self, scope: Construct, id_: str, *, queue_name: str) -> None:
        super().__init__(scope, id_)
        self.name = queue_name
        self.queue = SqsQueue(
            self,
            "queue",
            name=queue_name,
            sqs_managed_sse_enabled=True,
            message_retention_seconds=RETENTION_SECONDS,
        )

    def grant_send(self, sender: Sender) -> None:
        """Lets ``sender``'s role put messages into this queue, and into no other."""
        sender.add_to_policy(iam.statement(SEND_SID, ["sqs:SendMessage"], [self.queue.arn]))
