"""AWS clients, created once per container and reused by every invocation.

Creating a client costs tens of milliseconds (it loads the service model), so
the handlers ask these cached factories instead of building one per call.
Tests call ``reset()`` to drop them, so each test gets clients created inside
its own ``moto.mock_aws``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ses import SESClient

#: Retries after a failed attempt (botocore's ``max_attempts`` counts retries,
#: not attempts). "standard" retries throttling (ProvisionedThroughputExceeded,
#: SlowDown, Throttling) and transient errors with exponential backoff and
#: jitter: at most 1+2+4+8 s of waiting, inside API Gateway's 29 s timeout.
MAX_RETRIES: Final = 4

CLIENT_CONFIG: Final = Config(
    retries={"mode": "standard", "max_attempts": MAX_RETRIES},
    connect_timeout=5,
    read_timeout=30,
)


@functools.cache
def session() -> boto3.session.Session:
    """The session every client below comes from (region and credentials from the Lambda environment)."""
    return boto3.session.Session()


@functools.cache
def dynamodb() -> DynamoDBClient:
    return session().client("dynamodb", config=CLIENT_CONFIG)


@functools.cache
def s3() -> S3Client:
    return session().client("s3", config=CLIENT_CONFIG)


@functools.cache
def ses() -> SESClient:
    return session().client("ses", config=CLIENT_CONFIG)


def reset() -> None:
    """Forget every cached client and the session (for tests)."""
    for factory in (session, dynamodb, s3, ses):
        factory.cache_clear()
