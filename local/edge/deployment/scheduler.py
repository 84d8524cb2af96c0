"""EventBridge Scheduler's part of the deployment: a schedule's target, as ``GetSchedule`` gives it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from local.edge.deployment.errors import NotDeployed, error_code


@dataclass(frozen=True)
class Schedule:
    """An EventBridge Scheduler schedule's target: what it invokes, as whom, with what, and where undelivered go."""

    name: str
    target_arn: str
    role_arn: str
    input: str
    #: The SQS queue for events the scheduler could not deliver, empty for none.
    dead_letter_arn: str = ""
    #: Deliveries after the first before an event counts as undelivered.
    max_retries: int = 185


def read_schedule(client: Any, name: str, group: str) -> Schedule:
    """A deployed schedule's target (``NotDeployed`` when there is no such schedule)."""
    try:
        target = client.get_schedule(Name=name, GroupName=group)["Target"]
    except ClientError as error:
        raise NotDeployed(f"schedule {group}/{name}: {error_code(error)}") from None
    return Schedule(
        name=name,
        target_arn=target["Arn"],
        role_arn=target.get("RoleArn", ""),
        input=target.get("Input") or "{}",
        dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn", ""),
        max_retries=int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185)),
    )
