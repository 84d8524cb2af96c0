"""Time budgets: an AWS service that accepts the connection and never answers cannot outlast the function.

The stalled service is a real TCP server on loopback that accepts every
connection and never writes a byte. The functions' client for that service is
pointed at it with ``AWS_ENDPOINT_URL_<SERVICE>`` (moto's ``before-send``
stubber only answers URLs of AWS domains, so it lets this request through to
the socket), while every other service stays on moto.

Each invocation runs in a thread joined with a limit, so a function that
ignores its budget fails the test at that limit instead of holding the suite
for minutes.

As in Lambda, the function learns its time only from the context's clock
(``LambdaContext``): no variable carries the configured timeout. ``make test``
runs this file under the SDK pinned in ``requirements.lock`` and under the
older one the Lambda runtime bundles (``requirements-runtime.lock``); the
retry and read-timeout mechanics differ between the two (``lambdas/common/aws.py``).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final
from unittest import mock

import pytest

from lambdas.common import aws
from lambdas.get_students import handler as get_students
from lambdas.insert_student import handler as insert_student
from modules.functions.catalog import FUNCTIONS, INSERT, READ
from tests.lambdas.scenarios import STUDENT, FakeContext, LambdaContext, World, api_event, response_json

#: `make check` leaves this module to `make test`: each waits out a function's budget.
pytestmark = pytest.mark.slow

TIMEOUTS: Final = {spec.key: spec.timeout_seconds for spec in FUNCTIONS}
#: API Gateway gives up on the integration after this long.
API_GATEWAY_TIMEOUT_S: Final = 29


class StalledEndpoint:
    """Accepts connections on 127.0.0.1 and never answers; closes them all on ``close()``."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        # accept() wakes up now and then to see close(): closing a socket does not interrupt it.
        self._listener.settimeout(0.1)
        self._connections: list[socket.socket] = []
        self._closed = threading.Event()
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()
        return f"http://{host}:{port}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._connections.append(connection)
            self.accepted += 1

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for connection in self._connections:
            connection.close()


@pytest.fixture
def stalled() -> Iterator[StalledEndpoint]:
    endpoint = StalledEndpoint()
    try:
        yield endpoint
    finally:
        endpoint.close()


@dataclass
class Timed:
    response: Any
    seconds: float


def invoke_within(module: Any, event: dict[str, Any], context: object, *, limit_s: float) -> Timed:
    """Invoke the handler; fail if it has not answered after ``limit_s`` seconds (it is left running)."""
    result: list[Any] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.append(module.lambda_handler(event, context)), daemon=True)
    worker.start()
    worker.join(timeout=limit_s)
    elapsed = time.monotonic() - started
    assert result, f"no answer after {elapsed:.1f} s (the limit is {limit_s} s)"
    return Timed(result[0], elapsed)


def insert_event() -> dict[str, Any]:
    return api_event("POST", "/students", body=json.dumps(STUDENT, ensure_ascii=False))


class AttemptCounter:
    """Counts the attempts sent per operation, by every client the functions create from now on."""

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}
        # Clients copy their session's handlers when created: attach before the function creates any.
        aws.session().events.register("request-created", self._count)

    def _count(self, operation_name: str, **_: Any) -> None:
        self.attempts[operation_name] = self.attempts.get(operation_name, 0) + 1


def test_healthy_insert_with_three_seconds_left_makes_each_call_once_and_answers_201(world: World) -> None:
    """The defect botocore < 1.43.3 hid: a refused retry read as a zero-second sleep and a retry, even after success."""
    counter = AttemptCounter()
    # The case: 3.2 s left, of which 2.2 s for the calls (the first creates the clients).
    context = LambdaContext.starting_now(3.2)
    timed = invoke_within(insert_student, insert_event(), context, limit_s=3.2)

    assert timed.response["statusCode"] == 201, timed.response
    assert response_json(timed.response)["emailSent"] is True
    assert counter.attempts == {"PutItem": 1, "SendEmail": 1}
    assert world.item_count() == 1
    assert len(world.sent_messages()) == 1


def test_insert_answers_201_with_email_not_sent_when_ses_never_answers(world: World, stalled: StalledEndpoint) -> None:
    timeout_s = TIMEOUTS[INSERT]
    context = LambdaContext.starting_now(timeout_s)
    with mock.patch.dict(os.environ, {"AWS_ENDPOINT_URL_SES": stalled.url}):
        timed = invoke_within(insert_student, insert_event(), context, limit_s=timeout_s)

    assert timed.seconds < min(timeout_s, API_GATEWAY_TIMEOUT_S) - aws.ANSWER_MARGIN_S + 0.5
    assert timed.response["statusCode"] == 201
    body = response_json(timed.response)
    assert body["emailSent"] is False
    assert body["emailError"] == "the e-mail service did not answer in time"
    assert world.item_count() == 1
    assert stalled.accepted >= 1, "the request never reached the stalled endpoint"


def test_a_stalled_call_with_little_time_left_is_cut_to_the_time_left(world: World, stalled: StalledEndpoint) -> None:
    """The read timeout of one attempt is cut to the deadline (botocore < 1.44.0 ignores the request's own)."""
    with mock.patch.dict(os.environ, {"AWS_ENDPOINT_URL_SES": stalled.url}):
        # A warm container: its clients were made on a first invocation with the whole 15 s (a 14 s budget),
        # so SES reads for 3.5 s.
        with aws.time_budget(LambdaContext.starting_now(TIMEOUTS[INSERT])):
            assert aws.ses().meta.config.read_timeout > 3.0
            aws.dynamodb()
        context = LambdaContext.starting_now(4.0)
        timed = invoke_within(insert_student, insert_event(), context, limit_s=4.0)

    # 3 s were left for the calls: a whole 3.5 s read of the stalled SES would end past them (and the deadline).
    assert timed.seconds < 4.0 - aws.ANSWER_MARGIN_S
    assert timed.response["statusCode"] == 201
    assert response_json(timed.response)["emailSent"] is False
    assert world.item_count() == 1


def test_get_answers_504_when_dynamodb_never_answers(world: World, stalled: StalledEndpoint) -> None:
    timeout_s = TIMEOUTS[READ]
    context = LambdaContext.starting_now(timeout_s)
    with mock.patch.dict(os.environ, {"AWS_ENDPOINT_URL_DYNAMODB": stalled.url}):
        timed = invoke_within(get_students, api_event("GET", "/students"), context, limit_s=timeout_s)

    assert timed.seconds < min(timeout_s, API_GATEWAY_TIMEOUT_S) - aws.ANSWER_MARGIN_S + 0.5
    assert timed.response["statusCode"] == 504
    assert response_json(timed.response) == {"message": "the database did not answer in time"}
    assert stalled.accepted >= 1, "the request never reached the stalled endpoint"


def test_insert_answers_504_when_dynamodb_never_answers(world: World, stalled: StalledEndpoint) -> None:
    timeout_s = TIMEOUTS[INSERT]
    context = LambdaContext.starting_now(timeout_s)
    with mock.patch.dict(os.environ, {"AWS_ENDPOINT_URL_DYNAMODB": stalled.url}):
        timed = invoke_within(insert_student, insert_event(), context, limit_s=timeout_s)

    assert timed.seconds < timeout_s - aws.ANSWER_MARGIN_S + 0.5
    assert timed.response["statusCode"] == 504
    assert world.sent_messages() == []


def test_only_the_runtime_clock_sets_a_deadline() -> None:
    """Outside Lambda, with no clock, only the clients' timeouts apply: no guessed 3 s budget, no variable read."""
    with mock.patch.dict(os.environ, {"AWS_LAMBDA_FUNCTION_TIMEOUT": "15"}):
        assert aws.deadline_for(FakeContext()) is None
    deadline = aws.deadline_for(LambdaContext.starting_now(15))
    assert deadline is not None
    assert 15 - aws.ANSWER_MARGIN_S - 0.1 < deadline.budget_s <= 15 - aws.ANSWER_MARGIN_S
    capped = aws.deadline_for(LambdaContext.starting_now(900))
    assert capped is not None and capped.budget_s <= API_GATEWAY_TIMEOUT_S - aws.ANSWER_MARGIN_S
