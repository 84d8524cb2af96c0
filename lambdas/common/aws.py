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
  function's timeout, as the first invocation's clock gives it
  (``client_config``): one stalled attempt costs a fraction of the budget and
  leaves time to retry on a fresh connection;
- a handler runs inside ``time_budget(context)``, which sets a deadline from
  the runtime's clock, ``context.get_remaining_time_in_millis()`` (no clock:
  no deadline), at most API Gateway's timeout, less ``ANSWER_MARGIN_S`` to
  shape and send the answer. Two event hooks on every client enforce it per
  attempt: before an attempt, its read timeout is cut to the time left, or
  ``DeadlineExceededError`` is raised if not even a short attempt fits; after a
  failed attempt, the retry is made only if its back-off plus a short attempt
  still fit.

Outside ``time_budget`` (the backup function) only the client timeouts apply.

One SDK or another. The zips carry no SDK: in AWS the functions run on the
boto3/botocore the python3.13 runtime bundles, which is older than the one
pinned here, and the tests run this module under both. Two botocore behaviours
this used to lean on are recent, so neither is relied on:

- a ``needs-retry`` handler answering ``False`` to mean "do not retry" (boto/
  botocore#3678, 1.43.3; before it, ``False`` is a zero-second sleep and a
  retry, and the event also fires after successful calls). Here botocore makes
  one attempt (``total_max_attempts=1``) and the retries are this module's:
  its handler answers a back-off in seconds or ``None``, which every botocore
  reads the same way, and decides with botocore's own standard retry
  conditions (throttling, transient errors, modeled retryable errors);
- a ``read_timeout`` in the request context cutting one attempt's read
  (boto/botocore#3770, 1.44.0). Older releases get the same cut from
  ``_cut_reads_before_1_44`` below.

The back-off is chosen before the retry and counted against the deadline: a
sleep cannot be interrupted. A read timeout bounds each wait for bytes, not a
whole response: a server that trickled a byte at a time could stretch one
attempt, which AWS endpoints do not.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ConnectTimeoutError, ReadTimeoutError
from botocore.retries.standard import RetryContext, StandardRetryConditions, ThrottledRetryableChecker
from urllib3.util import Timeout

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ses import SESClient

#: Retries after a failed attempt, for what botocore's standard mode retries:
#: throttling (ProvisionedThroughputExceeded, SlowDown, Throttling), transient
#: errors (5xx, timeouts, dropped connections) and errors the service model marks
#: retryable; with exponential back-off and full jitter; inside ``time_budget``
#: a retry happens only if it still fits.
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
#: The back-off before retry n is random(0, 1) * min(base * 2 ** (n - 1), 20 s), as in
#: botocore 1.44's standard mode: base 1 s after throttling, 50 ms after other errors.
THROTTLED_BACKOFF_BASE_S: Final = 1.0
TRANSIENT_BACKOFF_BASE_S: Final = 0.05
MAX_BACKOFF_S: Final = 20.0
#: The first botocore release that honours a read timeout in the request context (boto/botocore#3770).
_SDK_CUTS_READS_SINCE: Final = (1, 44, 0)


class DeadlineExceededError(BotoCoreError):
    """No time left in the invocation's budget for another attempt."""

    fmt = "no time left for {operation}: {remaining:.2f} s before the deadline"


#: Calls that ran out of time: the service did not answer, or no time was left to ask it.
TIMEOUT_ERRORS: Final = (ConnectTimeoutError, ReadTimeoutError, DeadlineExceededError)


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
        # One attempt per call for botocore: the retries are ``_retry_delay``'s.
        return Config(
            retries={"mode": "standard", "total_max_attempts": 1},
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

    None when the time is unknown: a context without the runtime's clock, which
    only happens outside Lambda (the runtime sets no variable with the
    function's timeout). Only the clients' timeouts bound the calls then;
    guessing Lambda's 3 s default would cut calls short on a slow machine for
    no invocation that exists.
    """
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining_ms):
        return None
    remaining_s = remaining_ms() / 1000
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


#: The read timeout ``_fit_attempt`` chose for the attempt about to be sent (``_cut_reads_before_1_44``).
_attempt_read_s: contextvars.ContextVar[float | None] = contextvars.ContextVar("attempt_read_s", default=None)


def _fit_attempt(request: Any, operation_name: str, timeouts: Timeouts, **_: Any) -> None:
    deadline = _deadline.get()
    if deadline is None:
        _attempt_read_s.set(None)
        return
    read_s = deadline.remaining_s() - timeouts.connect_s
    if read_s < MIN_READ_S:
        raise DeadlineExceededError(operation=operation_name, remaining=deadline.remaining_s())
    cut_s = min(read_s, timeouts.read_s)
    request.context["read_timeout"] = cut_s
    _attempt_read_s.set(cut_s)


#: HTTP's "Too Many Requests".
TOO_MANY_REQUESTS: Final = 429
#: botocore's standard retry conditions (max attempts included), applied by ``_retry_delay``.
_RETRYABLE: Final = StandardRetryConditions(max_attempts=1 + MAX_RETRIES)
_THROTTLED: Final = ThrottledRetryableChecker()


def backoff_s(attempts: int, *, throttled: bool) -> float:
    """The sleep before the retry that follows attempt ``attempts`` (1-based): full jitter, capped."""
    base = THROTTLED_BACKOFF_BASE_S if throttled else TRANSIENT_BACKOFF_BASE_S
    delay: float = random.random() * min(base * 2 ** (attempts - 1), MAX_BACKOFF_S)  # noqa: S311 - jitter, not a secret
    return delay


def _retry_delay(
    *,
    attempts: int,
    operation: Any,
    request_dict: dict[str, Any],
    timeouts: Timeouts,
    response: Any = None,
    caught_exception: Exception | None = None,
    **_: Any,
) -> float | None:
    """``needs-retry``: seconds to sleep before the retry, or None for no retry (success included)."""
    context = RetryContext(
        attempt_number=attempts,
        operation_model=operation,
        http_response=response[0] if response else None,
        parsed_response=response[1] if response else None,
        caught_exception=caught_exception,
        request_context=request_dict["context"],
    )
    # A 429 is throttling whatever its body says (botocore 1.44 reads it so; older releases only by error code).
    too_many = context.http_response is not None and context.http_response.status_code == TOO_MANY_REQUESTS
    if not (_RETRYABLE.is_retryable(context) or (too_many and attempts <= MAX_RETRIES)):
        return None
    delay = backoff_s(attempts, throttled=too_many or _THROTTLED.is_retryable(context))
    deadline = _deadline.get()
    if deadline is not None and deadline.remaining_s() < delay + timeouts.connect_s + MIN_READ_S:
        return None
    return delay


def _sdk_version() -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", botocore.__version__)[:3])


def _cut_reads_before_1_44(client: Any) -> None:
    """Give a client of botocore < 1.44.0 the per-attempt read timeout that release added.

    Those releases read the request context's ``read_timeout`` nowhere; each
    attempt reads with the timeout its connection pool was made with. So this
    client's HTTP session sets the chosen read timeout on the pool the attempt
    goes through, for that attempt. It reaches into botocore's HTTP session
    (``_endpoint``, ``_get_connection_manager``, ``_proxy_config``), which is
    why it is only done for the releases before 1.44.0: they no longer change,
    and the tests run it under one of them. The pool's ``timeout`` is urllib3's
    own attribute. A budget is per invocation and a function serves one
    invocation at a time, so no other thread shares the pool meanwhile.
    """
    http_session = client._endpoint.http_session
    send = http_session.send

    def send_with_cut(request: Any) -> Any:
        read_s = _attempt_read_s.get()
        if read_s is None:
            return send(request)
        proxy = http_session._proxy_config.proxy_url_for(request.url)
        pool = http_session._get_connection_manager(request.url, proxy).connection_from_url(request.url)
        usual = pool.timeout
        pool.timeout = Timeout(connect=usual.connect_timeout, read=read_s)
        try:
            return send(request)
        finally:
            pool.timeout = usual

    http_session.send = send_with_cut


def _client(service: str) -> Any:
    # Created on a first invocation: sized from its budget, which is then the function's timeout.
    deadline = _deadline.get()
    timeouts = Timeouts.for_function(deadline.budget_s if deadline else None)
    client: BaseClient = session().client(service, config=timeouts.client_config())  # type: ignore[call-overload]
    service_id = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"request-created.{service_id}", functools.partial(_fit_attempt, timeouts=timeouts))
    # botocore-stubs type event handlers as returning None; needs-retry handlers return an answer.
    retry = cast("Callable[..., None]", functools.partial(_retry_delay, timeouts=timeouts))
    client.meta.events.register(f"needs-retry.{service_id}", retry)
    if _sdk_version() < _SDK_CUTS_READS_SINCE:
        _cut_reads_before_1_44(client)
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
