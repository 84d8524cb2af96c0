"""AWS clients, created once per container, and the time budget every call of an invocation must fit.

Creating a client costs tens of milliseconds (it loads the service model), so
the handlers ask these cached factories instead of building one per call.
Tests call ``reset()`` to drop them, so each test gets clients created inside
its own ``moto.mock_aws``.

Time budgets. A call must never outlast the invocation: Lambda kills a function
at its timeout and API Gateway answers 504 after 29 s, so a call still waiting
then loses the answer the function had (a student saved, then a 5xx; the
caller retries and gets 409). A client's timeouts are fixed when it is
created, but the time an invocation has left is not, so the budget is kept in
two layers:

- each client is created with connect and read timeouts sized from the
  function's configured timeout (``client_config``): one stalled attempt costs
  a fraction of the budget and leaves time to retry on a fresh connection;
- a handler runs inside ``time_budget(context)``, which sets a deadline from
  ``context.get_remaining_time_in_millis()`` (or ``AWS_LAMBDA_FUNCTION_TIMEOUT``; neither: no deadline), at
  most API Gateway's timeout, less ``ANSWER_MARGIN_S`` to shape and send the
  answer. Two event hooks on every client enforce it per attempt: before an
  attempt, its read timeout is cut to the time left (botocore honours a
  ``read_timeout`` in the request context), or ``DeadlineExceededError`` is raised
  if not even a short attempt fits; after a failed attempt, a retry is refused
  unless the longest back-off botocore may sleep plus a short attempt still fit.

Outside ``time_budget`` (the backup function) only the client timeouts apply.
The retry is refused early, not cut short: botocore's back-off sleep cannot be
interrupted, so the longest one it may take is counted before retrying.
A read timeout bounds each wait for bytes, not a whole response: a server that
trickled a byte at a time could stretch one attempt, which AWS endpoints do not.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ConnectTimeoutError, ReadTimeoutError

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ses import SESClient

#: Retries after a failed attempt (botocore's ``max_attempts`` counts retries,
#: not attempts). "standard" retries throttling (ProvisionedThroughputExceeded,
#: SlowDown, Throttling) and transient errors with exponential backoff and
#: jitter; inside ``time_budget`` a retry happens only if it still fits.
MAX_RETRIES: Final = 4

#: API Gateway's integration timeout: past it the caller has a 504 whatever the function does.
API_GATEWAY_TIMEOUT_S: Final = 29
#: Kept back from the deadline to build the response, log and return it.
ANSWER_MARGIN_S: Final = 1.0
#: Connecting to an in-region endpoint takes milliseconds; a connection that
#: is not up in 1 s (a lost SYN) is better retried on a fresh attempt.
CONNECT_TIMEOUT_S: Final = 1.0
#: The shortest read worth attempting: DynamoDB and SES answer in tens of milliseconds.
MIN_READ_S: Final = 0.5
# botocore's standard back-off sleeps at most min(2 ** (attempt - 1), 20) s for
# throttling, plus up to 5 s more when the response carries x-amz-retry-after.
_MAX_BACKOFF_S: Final = 20
_RETRY_AFTER_EXTRA_S: Final = 5


class DeadlineExceededError(BotoCoreError):
    """No time left in the invocation's budget for another attempt."""

    fmt = "no time left for {operation}: {remaining:.2f} s before the deadline"


#: Calls that ran out of time: the service did not answer, or no time was left to ask it.
TIMEOUT_ERRORS: Final = (ConnectTimeoutError, ReadTimeoutError, DeadlineExceededError)


def configured_timeout_s() -> float | None:
    """The function's configured timeout from ``AWS_LAMBDA_FUNCTION_TIMEOUT``, if set and valid."""
    try:
        value = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", ""))
    except ValueError:
        return None
    return value if value > 0 else None


@dataclass(frozen=True)
class Timeouts:
    """One attempt's connect and read timeouts, in seconds."""

    connect_s: float
    read_s: float

    @classmethod
    def for_function(cls, function_timeout_s: float | None) -> Timeouts:
        """Sized from the function's timeout; unknown (the backup, outside a budget), a 30 s read.

        The tutorial's functions run 30/30/60 s with botocore's defaults (60 s
        connect and read, so one stalled call outlasts them all). Here connect
        is ``CONNECT_TIMEOUT_S`` and read a quarter of the timeout, 2 to 30 s:
        2.5 s for getStudentData (10 s), 3.75 s for insertStudentData (15 s),
        30 s for the backup (900 s, whose Scan pages and parts take seconds).
        """
        if function_timeout_s is None:
            return cls(connect_s=CONNECT_TIMEOUT_S, read_s=30)
        return cls(connect_s=CONNECT_TIMEOUT_S, read_s=min(max(function_timeout_s / 4, 2), 30))

    def client_config(self) -> Config:
        return Config(
            retries={"mode": "standard", "max_attempts": MAX_RETRIES},
            connect_timeout=self.connect_s,
            read_timeout=self.read_s,
        )


@dataclass(frozen=True)
class Deadline:
    """The ``time.monotonic()`` instant by which the invocation's last AWS call must be over."""

    at: float
    #: The whole budget when it was set (the function's timeout, on a first invocation).
    budget_s: float

    def remaining_s(self) -> float:
        return self.at - time.monotonic()


_deadline: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("deadline", default=None)


def deadline_for(context: object) -> Deadline | None:
    """The invocation's deadline: its remaining time (at most API Gateway's), less ``ANSWER_MARGIN_S``.

    None when the time is unknown: a context without the runtime's clock (not
    in Lambda) and no ``AWS_LAMBDA_FUNCTION_TIMEOUT``. Only the clients'
    timeouts bound the calls then; guessing Lambda's 3 s default would cut
    calls short on a slow machine for no invocation that exists.
    """
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        remaining_s = remaining_ms() / 1000
    else:
        configured = configured_timeout_s()
        if configured is None:
            return None
        remaining_s = configured
    budget_s = min(remaining_s, API_GATEWAY_TIMEOUT_S) - ANSWER_MARGIN_S
    return Deadline(at=time.monotonic() + budget_s, budget_s=budget_s)


@contextlib.contextmanager
def time_budget(context: object) -> Iterator[Deadline | None]:
    """Make every call of the functions' clients, inside this block, end before the invocation's deadline."""
    deadline = deadline_for(context)
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


def _fit_attempt(request: Any, operation_name: str, timeouts: Timeouts, **_: Any) -> None:
    deadline = _deadline.get()
    if deadline is None:
        return
    read_s = deadline.remaining_s() - timeouts.connect_s
    if read_s < MIN_READ_S:
        raise DeadlineExceededError(operation=operation_name, remaining=deadline.remaining_s())
    request.context["read_timeout"] = min(read_s, timeouts.read_s)


def _refuse_late_retry(attempts: int, response: Any, timeouts: Timeouts, **_: Any) -> bool | None:
    deadline = _deadline.get()
    if deadline is None:
        return None
    longest_sleep = min(2 ** (attempts - 1), _MAX_BACKOFF_S)
    if response is not None and "x-amz-retry-after" in response[0].headers:
        longest_sleep += _RETRY_AFTER_EXTRA_S
    needed = longest_sleep + timeouts.connect_s + MIN_READ_S
    # False, returned before the retry handler's answer, is taken as "do not retry".
    return False if deadline.remaining_s() < needed else None


def _client(service: str) -> Any:
    # Created on a first invocation: its budget is the function's timeout when the environment does not say.
    deadline = _deadline.get()
    timeouts = Timeouts.for_function(configured_timeout_s() or (deadline.budget_s if deadline else None))
    client: BaseClient = session().client(service, config=timeouts.client_config())  # type: ignore[call-overload]
    service_id = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"request-created.{service_id}", functools.partial(_fit_attempt, timeouts=timeouts))
    # First, so that its False ("do not retry") is the answer botocore takes.
    # botocore-stubs type event handlers as returning None; needs-retry handlers return an answer.
    refuse = cast("Callable[..., None]", functools.partial(_refuse_late_retry, timeouts=timeouts))
    client.meta.events.register_first(f"needs-retry.{service_id}", refuse)
    return client


@functools.cache
def session() -> boto3.session.Session:
    """The session every client below comes from (region and credentials from the Lambda environment)."""
    return boto3.session.Session()


@functools.cache
def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


@functools.cache
def s3() -> S3Client:
    client: S3Client = _client("s3")
    return client


@functools.cache
def ses() -> SESClient:
    client: SESClient = _client("ses")
    return client


@functools.cache
def lambda_() -> LambdaClient:
    client: LambdaClient = _client("lambda")
    return client


def reset() -> None:
    """Forget every cached client and the session (for tests)."""
    for factory in (session, dynamodb, s3, ses, lambda_):
        factory.cache_clear()
