"""CloudWatch: alarm actions in the emulator: a state change notifies the alarm's SNS topics, as CloudWatch does.

moto records an alarm's state and does nothing with its actions. In AWS, when
an alarm whose actions are enabled changes state, CloudWatch publishes the
notification to each SNS topic of that state's actions, as the service
principal ``cloudwatch.amazonaws.com``: the topic's policy must let it publish
(this system's names the account's alarms as ``aws:SourceArn`` and the account
as ``aws:SourceAccount``), and for a topic encrypted with a customer managed
key, the key's policy must let it use the key (``kms:GenerateDataKey`` and
``kms:Decrypt``). Otherwise nothing is delivered, and the alarm's history says
"Failed to execute action" (moto has no alarm history to say it in).

Here ``SetAlarmState`` (the way AWS documents to try an alarm's actions, which
``make alarm-test`` calls) does the same: each policy is evaluated by
``local/edge/policies.py``; a refused delivery is recorded as an
``AccessDenied`` (``GET /_emulator/iam/denials``); a delivered one is published
to the topic (moto hands it to the topic's subscriptions).
``GET /_emulator/alarm-notifications/<region>`` answers every attempt, oldest
first: the alarm, its new state, the topic, and either the subscriptions it
reached or AWS's words for the failure. Only a change of state notifies:
setting an alarm to the state it is in does nothing, as in AWS.
"""

from __future__ import annotations

import datetime
import json
import threading
from typing import Any, Final

from moto.cloudwatch.models import Alarm, CloudWatchBackend
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.kms.models import kms_backends
from moto.sns.models import sns_backends

from local.edge.policies import Caller, Decision, Policy, decide
from local.emulator.iam.decision import DENIALS
from local.emulator.iam.stored_policies import topic_policy

#: The principal CloudWatch acts as when it runs an alarm's actions.
CLOUDWATCH: Final = "cloudwatch.amazonaws.com"
#: ``GET /_emulator/alarm-notifications/<region>``: every notification, oldest first.
NOTIFICATIONS_PATH: Final = "/_emulator/alarm-notifications/"
_NOTIFICATIONS: list[dict[str, Any]] = []
_LOCK = threading.Lock()
_REGION_NAMES: Final = {"us-east-1": "US East (N. Virginia)"}

_moto_set_alarm_state = CloudWatchBackend.set_alarm_state


def set_alarm_state(self: CloudWatchBackend, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
    alarm = self.alarms.get(alarm_name)
    previous = alarm.state_value if alarm is not None else None
    _moto_set_alarm_state(self, alarm_name, reason, reason_data, state_value)
    if alarm is None or previous == state_value or not alarm.actions_enabled:
        return
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions}.get(state_value, alarm.insufficient_data_actions)
    for arn in actions or []:
        if ":sns:" in arn:
            _notify(alarm, arn, previous or "INSUFFICIENT_DATA")


def _notify(alarm: Alarm, topic_arn: str, previous: str) -> None:
    region = topic_arn.split(":")[3]
    sns = sns_backends[DEFAULT_ACCOUNT_ID][region]
    topic = sns.topics.get(topic_arn)
    subject = f'{alarm.state_value}: "{alarm.name}" in {_REGION_NAMES.get(region, region)}'[:100]
    attempt: dict[str, Any] = {"region": region, "alarm": alarm.name, "state": alarm.state_value, "topic": topic_arn}
    if topic is None:
        error = "Topic does not exist"
    else:
        error = _refusal(alarm, topic_arn, topic_policy(topic_arn, region), topic.kms_master_key_id, region)
    if error:
        attempt |= {"delivered": False, "error": f"Failed to execute action {topic_arn}. Received error: '{error}'"}
    else:
        message = {
            "AlarmName": alarm.name,
            "AlarmArn": alarm.alarm_arn,
            "AWSAccountId": DEFAULT_ACCOUNT_ID,
            "NewStateValue": alarm.state_value,
            "NewStateReason": alarm.state_reason,
            "OldStateValue": previous,
            "StateChangeTime": datetime.datetime.now(datetime.UTC).isoformat(),
            "Region": _REGION_NAMES.get(region, region),
        }
        sns.publish(json.dumps(message), topic_arn, subject=subject)
        reached = [f"{s.protocol}:{s.endpoint}" for s in sns.subscriptions.values() if s.topic.arn == topic_arn]
        attempt |= {"delivered": True, "subject": subject, "message": message, "deliveredTo": reached}
    with _LOCK:
        _NOTIFICATIONS.append(attempt)


def _refusal(alarm: Alarm, topic_arn: str, topic_policy: Policy | None, key_id: str, region: str) -> str:
    """Why CloudWatch may not deliver to the topic ("" when it may): the topic's policy, then its key's."""
    caller = Caller(account=DEFAULT_ACCOUNT_ID, service=CLOUDWATCH)
    context = {"aws:SourceArn": alarm.alarm_arn, "aws:SourceAccount": DEFAULT_ACCOUNT_ID, "aws:SecureTransport": "true"}
    checks: list[tuple[str, str, Policy | None]] = [("sns:Publish", topic_arn, topic_policy)]
    if key_id and not key_id.startswith("alias/aws/"):  # an AWS managed key admits the service itself
        key = kms_backends[DEFAULT_ACCOUNT_ID][region].describe_key(key_id)
        checks += [(action, key.arn, json.loads(key.policy)) for action in ("kms:GenerateDataKey", "kms:Decrypt")]
    for action, resource, policy in checks:
        decision: Decision = decide(
            caller, action=action, resources=[resource], identity=(), resource_policy=policy, context=context
        )
        if not decision.allowed:
            DENIALS.record(
                principal=CLOUDWATCH, action=action, resource=resource, code="AccessDenied", message=decision.reason
            )
            if action.startswith("kms:"):
                return "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."
            return decision.reason
    return ""


def notifications(region: str) -> list[dict[str, Any]]:
    with _LOCK:
        return [dict(n) for n in _NOTIFICATIONS if n["region"] == region]


def install() -> None:
    """Patch moto (once: ``moto_server.py`` installs every correction as it starts)."""
    CloudWatchBackend.set_alarm_state = set_alarm_state  # type: ignore[method-assign]
