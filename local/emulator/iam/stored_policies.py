"""The policies as moto stores them, parsed: a role's identity policies, and the resource policies of a bucket,
a queue, a topic or a function. Apart because every side of IAM reads them: what a request asks names its
resource's policy (``operations.py``), the decisions read them (``decision.py``), and so do CloudWatch's alarm
notifications (``local/emulator/corrections/cloudwatch.py``).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from local.edge.policies import Policy


def identity_policies(role_arn: str) -> tuple[Policy, ...]:
    """The role's inline policies and the default versions of its attached managed policies (none: it is gone)."""
    try:
        role = iam_backends[DEFAULT_ACCOUNT_ID]["aws"].get_role_by_arn(role_arn)
    except Exception:
        return ()
    documents = list(role.policies.values())
    for managed in role.managed_policies.values():
        documents += [version.document for version in managed.versions if version.is_default]
    return tuple(parsed(document) for document in documents)


def parsed(document: Any) -> Policy:
    """A policy document as moto keeps it: already parsed, JSON text, or URL-encoded JSON."""
    if isinstance(document, Mapping):
        return document
    text = str(document)
    policy: Policy = json.loads(text if text.lstrip().startswith("{") else urllib.parse.unquote(text))
    return policy


def bucket_policy(bucket: str) -> Policy | None:
    found = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets.get(bucket)
    return parsed(found.policy.decode()) if found is not None and found.policy else None


def queue_policy(name: str, region: str) -> Policy | None:
    queue = sqs_backends[DEFAULT_ACCOUNT_ID][region].queues.get(name)
    return parsed(queue.policy) if queue is not None and queue.policy else None


def topic_policy(arn: str, region: str) -> Policy | None:
    """An SNS topic's access policy (None when there is no such topic)."""
    topic = sns_backends[DEFAULT_ACCOUNT_ID][region].topics.get(arn)
    return parsed(topic.policy) if topic is not None else None


def function_policy(arn: str) -> Policy | None:
    """A function's resource policy (None when it has none, or when there is no such function)."""
    region = arn.split(":")[3]
    try:
        return parsed(lambda_backends[DEFAULT_ACCOUNT_ID][region].get_policy(arn))
    except Exception:
        return None


def policy_of(arn: str) -> Policy | None:
    """The resource policy of a function, an S3 bucket or object, or a topic (None for any other resource)."""
    if arn.startswith("arn:aws:lambda:"):
        return function_policy(arn)
    if arn.startswith("arn:aws:s3:::"):
        return bucket_policy(arn.removeprefix("arn:aws:s3:::").split("/", 1)[0])
    if arn.startswith("arn:aws:sns:"):
        return topic_policy(arn, arn.split(":")[3])
    return None
